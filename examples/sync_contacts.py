"""A nightly-style sync job written against ResilientClient.

It reads every Contact of a set of Accounts (paging through query_all_iter),
normalises their e-mail addresses, and writes back the ones that changed.
Lock contention, expired sessions and 5xx bursts are handled by the client;
the job only decides what to do with errors that need a person.

Run it against your org (credentials from SF_USERNAME / SF_PASSWORD /
SF_SECURITY_TOKEN, or SF_ACCESS_TOKEN + SF_INSTANCE_URL)::

    python examples/sync_contacts.py

or against the embedded fake org, with faults switched on::

    python examples/sync_contacts.py --fake
"""

from __future__ import annotations

import argparse
import dataclasses
import logging

from simple_salesforce import SalesforceError

from sfresilience import ErrorCategory, ResilientClient
from sfresilience.testing import FakeSalesforce


@dataclasses.dataclass
class Summary:
    read: int = 0
    updated: int = 0
    rejected: list[str] = dataclasses.field(default_factory=list)


def normalise(email: str | None) -> str | None:
    return email.strip().lower() if email else email


def sync(client: ResilientClient) -> Summary:
    """Normalise every Contact's e-mail; skip records Salesforce rejects."""
    summary = Summary()
    for contact in client.query_all_iter("SELECT Id, Email FROM Contact ORDER BY Id"):
        summary.read += 1
        wanted = normalise(contact["Email"])
        if wanted == contact["Email"]:
            continue
        try:
            client.Contact.update(contact["Id"], {"Email": wanted})
        except SalesforceError as error:
            # Data problems are this record's, not the job's: note and go on.
            if error.classification.category is not ErrorCategory.DATA_REJECTED:  # type: ignore[attr-defined]
                raise
            summary.rejected.append(contact["Id"])
            continue
        summary.updated += 1
    return summary


def _fake_run() -> Summary:
    with FakeSalesforce(contacts=2500, lock_hold=0.01, lock_wait=0.002) as org:
        for contact in org.org.records("Contact")[::50]:
            org.org.update(
                "Contact",
                contact["Id"],
                {"Email": f"  MIXED.Case{contact['Id'][-4:]}@Example.COM "},
            )
        client = ResilientClient(org.client())
        org.faults.server_errors(probability=0.05, seed=7)
        org.faults.expire_sessions(count=1)
        return sync(client)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake", action="store_true", help="run against the embedded fake org")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    summary = _fake_run() if arguments.fake else sync(ResilientClient.from_env())
    print(f"read {summary.read}, updated {summary.updated}, rejected {len(summary.rejected)}")


if __name__ == "__main__":
    main()

"""The lock storm: many writers of Contacts under a few Accounts, side by side in one run.

16 threads each update one Contact 10 times; the Contacts belong to 4 Accounts,
and Salesforce locks the parent Account for every Contact write. The fake org
holds each lock 10 ms and fails a waiter after 2 ms with UNABLE_TO_LOCK_ROW, the
message naming the Account it waited for. The locks alone need
160 x 10 ms / 4 = 0.40 s; each approach is measured against that.
"""

from __future__ import annotations

import dataclasses
import statistics
import threading
import time
from collections.abc import Callable

import stamina
import tenacity
from _redis import private_redis
from _report import Report
from simple_salesforce.exceptions import SalesforceError

from sfresilience import ResilientClient, Settings
from sfresilience.testing import FakeSalesforce


THREADS = 16
UPDATES = 10
ACCOUNTS = 4
LOCK_HOLD = 0.010
LOCK_WAIT = 0.002


def _is_lock_error(error: BaseException) -> bool:
    return isinstance(error, SalesforceError) and "UNABLE_TO_LOCK_ROW" in str(error.content)


Update = Callable[[str, dict[str, object]], object]


@dataclasses.dataclass
class Outcome:
    name: str
    applied: int
    makespan: float
    requests: int
    waits: list[float]
    errors: int


def _contacts(org: FakeSalesforce) -> list[str]:
    """THREADS Contacts, THREADS / ACCOUNTS under each of ACCOUNTS Accounts."""
    accounts = [str(record["Id"]) for record in org.org.records("Account")][:ACCOUNTS]
    per_account = THREADS // ACCOUNTS
    chosen: list[str] = []
    for account in accounts:
        children = [
            str(record["Id"])
            for record in org.org.records("Contact")
            if record.get("AccountId") == account
        ]
        chosen += children[:per_account]
    if len(chosen) != THREADS:
        raise RuntimeError("the seeded org has too few Contacts per Account")
    return chosen


def _storm(name: str, make_update: Callable[[FakeSalesforce], Callable[[int], Update]]) -> Outcome:
    """Run the storm; *make_update* gives each thread (by number) its update function."""
    with FakeSalesforce(
        accounts=ACCOUNTS, contacts=80, lock_hold=LOCK_HOLD, lock_wait=LOCK_WAIT
    ) as org:
        contacts = _contacts(org)
        updates = make_update(org)
        for number in range(THREADS):
            updates(number)(contacts[number], {"Title": "warm-up"})  # connections, logins
        before = len(org.request_log)
        waits: list[float] = []
        errors: list[BaseException] = []
        start_line = threading.Barrier(THREADS + 1)

        def writer(thread: int) -> None:
            update, contact = updates(thread), contacts[thread]
            start_line.wait()
            for number in range(UPDATES):
                began = time.perf_counter()
                try:
                    update(contact, {"Title": f"v{number}"})
                except Exception as error:  # noqa: BLE001 - counted, reported
                    errors.append(error)
                waits.append(time.perf_counter() - began)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        start_line.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        makespan = time.perf_counter() - began
        requests = len(org.request_log) - before
        final = {str(record["Id"]): record.get("Title") for record in org.org.records("Contact")}
        last = f"v{UPDATES - 1}"
        complete = sum(1 for contact in contacts if final[contact] == last)
        applied = THREADS * UPDATES - len(errors) if complete == THREADS else 0
        return Outcome(name, applied, makespan, requests, waits, len(errors))


def _one(update: Update) -> Callable[[int], Update]:
    return lambda _thread: update


def _stamina(org: FakeSalesforce) -> Callable[[int], Update]:
    sf = org.client()

    @stamina.retry(on=_is_lock_error, attempts=10)
    def update(contact: str, data: dict[str, object]) -> object:
        return sf.Contact.update(contact, data)

    return _one(update)


def _tenacity(org: FakeSalesforce) -> Callable[[int], Update]:
    sf = org.client()

    @tenacity.retry(
        retry=tenacity.retry_if_exception(_is_lock_error),
        wait=tenacity.wait_exponential_jitter(initial=0.1, max=5.0, jitter=0.1),
        stop=tenacity.stop_after_attempt(10),
        reraise=True,
    )
    def update(contact: str, data: dict[str, object]) -> object:
        return sf.Contact.update(contact, data)

    return _one(update)


def _resilient(org: FakeSalesforce) -> Callable[[int], Update]:
    client = ResilientClient(org.client(), settings=Settings())
    update: Update = client.Contact.update
    return _one(update)


def _fleet(redis_url: str) -> Callable[[FakeSalesforce], Callable[[int], Update]]:
    """Two clients with nothing in common but Redis, as two processes would be."""

    def make(org: FakeSalesforce) -> Callable[[int], Update]:
        settings = Settings(redis_url=redis_url)
        clients = [ResilientClient(org.client(), settings=settings) for _ in range(2)]
        return lambda thread: clients[thread % 2].Contact.update

    return make


def _serial_floor() -> Outcome:
    """Not a retry strategy: one thread per Account sends its Contacts' writes in turn.

    No lock is ever contended, so this is what this machine needs for the locks
    plus the HTTP round trips: the best any retry strategy could do here.
    """
    with FakeSalesforce(
        accounts=ACCOUNTS, contacts=80, lock_hold=LOCK_HOLD, lock_wait=LOCK_WAIT
    ) as org:
        contacts = _contacts(org)
        per_account = THREADS // ACCOUNTS
        clients = [org.client() for _ in range(ACCOUNTS)]
        for sf in clients:
            sf.Contact.update(contacts[0], {"Title": "warm-up"})
        waits: list[float] = []

        def account_writer(account: int) -> None:
            mine = contacts[account * per_account : (account + 1) * per_account]
            for number in range(UPDATES):
                for contact in mine:
                    began = time.perf_counter()
                    clients[account].Contact.update(contact, {"Title": f"v{number}"})
                    waits.append(time.perf_counter() - began)

        threads = [threading.Thread(target=account_writer, args=(n,)) for n in range(ACCOUNTS)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        makespan = time.perf_counter() - began
        total = THREADS * UPDATES
        return Outcome("floor: each Account's writes in turn, no retries", total, makespan,
                       total, waits, 0)  # fmt: skip


def run(report: Report) -> None:
    lock_time = THREADS * UPDATES * LOCK_HOLD / ACCOUNTS
    report.section(
        "Lock storm",
        f"{THREADS} threads x {UPDATES} updates, each thread its own Contact, "
        f"{THREADS // ACCOUNTS} Contacts under each of {ACCOUNTS} Accounts; the fake holds "
        f"each lock {LOCK_HOLD * 1e3:g} ms and fails a waiter after {LOCK_WAIT * 1e3:g} ms. "
        f"The locks alone need {lock_time:.2f} s. stamina: `@stamina.retry(on=<lock error>, "
        "attempts=10)` (its defaults: 0.1 s initial wait, x2, 1 s jitter, 5 s cap); tenacity: "
        "`wait_exponential_jitter(initial=0.1, max=5, jitter=0.1)`, 10 attempts.",
    )
    outcomes = [
        _storm("stamina", _stamina),
        _storm("tenacity", _tenacity),
        _storm("ResilientClient", _resilient),
    ]
    with private_redis() as redis_url:
        outcomes.append(_storm("ResilientClient, 2 clients sharing Redis", _fleet(redis_url)))
    floor = _serial_floor()
    outcomes.append(floor)
    total = THREADS * UPDATES
    rows = [
        [
            outcome.name,
            f"{outcome.applied}/{total}",
            f"{outcome.makespan:.2f} s",
            f"{outcome.makespan / lock_time:.2f}x",
            f"{outcome.requests / total:.2f}",
            f"{statistics.median(outcome.waits) * 1e3:.0f} ms",
            f"{max(outcome.waits) * 1e3:.0f} ms",
        ]
        for outcome in outcomes
    ]
    report.table(
        (
            "approach",
            "applied",
            "makespan",
            "x lock time",
            "requests/update",
            "median update",
            "slowest update",
        ),
        rows,
    )
    ours = outcomes[2]
    report.target("lock storm: updates applied", 100 * ours.applied / total, 100, "%",
                  lower_is_better=False)  # fmt: skip
    report.target("lock storm: makespan / lock time", ours.makespan / lock_time, 1.5, "x")
    report.target("lock storm: requests per update", ours.requests / total, 1.3, "requests")
    report.note(
        f"- slowest single update (starvation check): {max(ours.waits) * 1e3:.0f} ms, "
        f"against a makespan of {ours.makespan * 1e3:.0f} ms\n"
        f"- the floor row sends each Account's writes in turn from one thread per Account "
        f"with plain simple-salesforce (no lock ever contended): what this machine needs for "
        f"the locks plus HTTP; ResilientClient took {ours.makespan / floor.makespan:.2f}x the floor"
    )

"""The deterministic sample data a new org is seeded with."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Final

from .schema import Record


_COMPANY_WORDS: Final = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Gringotts",
    "Oceanic",
    "Massive",
    "Aperture",
)
_COMPANY_KINDS: Final = (
    "Corporation",
    "Industries",
    "Holdings",
    "Labs",
    "Systems",
    "Partners",
    "Group",
    "Logistics",
)
_INDUSTRIES: Final = (
    "Technology",
    "Finance",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Energy",
    "Education",
    None,
)
_CITIES: Final = (
    ("San Francisco", "USA"),
    ("New York", "USA"),
    ("London", "United Kingdom"),
    ("Paris", "France"),
    ("Berlin", "Germany"),
    ("Tokyo", "Japan"),
    ("Sydney", "Australia"),
    (None, None),
)
_RATINGS: Final = ("Hot", "Warm", "Cold", None)
_FIRST_NAMES: Final = (
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Guido",
    None,
)
_LAST_NAMES: Final = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "van Rossum",
)
_TITLES: Final = ("CEO", "CTO", "VP Sales", "Engineer", "Buyer", "Analyst", None)
_STAGES: Final = (
    ("Prospecting", 10.0),
    ("Qualification", 20.0),
    ("Needs Analysis", 20.0),
    ("Value Proposition", 50.0),
    ("Proposal/Price Quote", 75.0),
    ("Negotiation/Review", 90.0),
    ("Closed Won", 100.0),
    ("Closed Lost", 0.0),
)


_ORPHAN_EVERY: Final = 10


def round_robin(ids: list[str], *, skip_every: int) -> Iterator[str | None]:
    """Cycle through ids, yielding None every `skip_every`-th time.

    The Nones make private contacts, so queries meet empty lookups.
    """
    position = 0
    while True:
        for index in range(skip_every):
            if index == skip_every - 1 or not ids:
                yield None
            else:
                yield ids[position % len(ids)]
                position += 1


def account_rows(rng: random.Random, count: int) -> Iterator[Record]:
    """Accounts with unique names, all fields filled from fixed word lists."""
    seen: set[str] = set()
    for index in range(count):
        name = f"{rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_KINDS)}"
        if name in seen:
            name = f"{name} {index + 1}"
        seen.add(name)
        city, country = rng.choice(_CITIES)
        values: Record = {
            "Name": name,
            "Industry": rng.choice(_INDUSTRIES),
            "AnnualRevenue": float(rng.randrange(1, 1000) * 100_000),
            "NumberOfEmployees": rng.randrange(1, 50_000),
            "BillingCity": city,
            "BillingCountry": country,
            "Rating": rng.choice(_RATINGS),
            "External_Id__c": f"ACC-{index + 1:06d}",
        }
        yield values


def contact_rows(rng: random.Random, count: int, account_ids: list[str]) -> Iterator[Record]:
    """Contacts spread over the accounts; every tenth one is private (no account)."""
    parents = round_robin(account_ids, skip_every=_ORPHAN_EVERY)
    for index in range(count):
        first = rng.choice(_FIRST_NAMES)
        last = rng.choice(_LAST_NAMES)
        handle = f"{first or 'x'}.{last}".lower().replace(" ", "")
        values: Record = {
            "FirstName": first,
            "LastName": last,
            "Email": f"{handle}{index + 1}@example.com",
            "Phone": f"+1 415 555 {index % 10_000:04d}",
            "Title": rng.choice(_TITLES),
            "AccountId": next(parents),
            "External_Id__c": f"CON-{index + 1:06d}",
        }
        yield values


def opportunity_rows(rng: random.Random, count: int, account_ids: list[str]) -> Iterator[Record]:
    """Opportunities in every stage, spread over the accounts."""
    for index in range(count):
        stage, probability = rng.choice(_STAGES)
        account = account_ids[index % len(account_ids)] if account_ids else None
        close = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(365))
        values: Record = {
            "Name": f"Deal {index + 1}",
            "StageName": stage,
            "Amount": float(rng.randrange(1, 500) * 1000),
            "CloseDate": close.isoformat(),
            "Probability": probability,
            "AccountId": account,
        }
        yield values

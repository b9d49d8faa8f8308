"""Lock storms over real HTTP: the unmodified simple-salesforce client, the fake org holding
record locks, and ResilientClient queueing behind the record each lock error names."""

from __future__ import annotations

import copy
import json
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sfresilience import ErrorCategory, Event, EventKind, ResilientClient, Settings
from sfresilience._events import describe
from sfresilience._lockqueue import lock_queue_for
from sfresilience._store import MemoryStore
from sfresilience.exceptions import LockWaitTimeout
from sfresilience.testing import FakeSalesforce


HOLD = 0.4  # seconds the fake keeps a write's locks: long enough to be met by another write


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def until(condition: Callable[[], bool]) -> None:
    """Wait for the fake to reach a state (never for time to pass)."""
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "the fake never got there"
        time.sleep(0.001)  # sleep-ok: polling another thread's progress


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    # lock_wait=0: a write that meets a held lock fails at once, naming the record.
    with FakeSalesforce(accounts=2, contacts=40, lock_hold=HOLD, lock_wait=0.0) as org:
        yield org


def siblings(fake: FakeSalesforce, count: int) -> tuple[str, list[str]]:
    """An Account and *count* of its Contacts."""
    contacts = fake.org.records("Contact")
    for account in fake.org.records("Account"):
        children = [str(c["Id"]) for c in contacts if c.get("AccountId") == account["Id"]]
        if len(children) >= count:
            return str(account["Id"]), children[:count]
    raise AssertionError("no Account with enough Contacts")


def title(fake: FakeSalesforce, contact: str) -> Any:
    return next(c.get("Title") for c in fake.org.records("Contact") if c["Id"] == contact)


def statuses(fake: FakeSalesforce, contact: str) -> list[int]:
    return [r.status for r in fake.request_log if r.method == "PATCH" and r.path.endswith(contact)]


class Client:
    def __init__(self, fake: FakeSalesforce, **settings: Any) -> None:
        self.events: list[Event] = []
        self.sleeps = Sleeps()
        # A long backoff: any blind wait would show in `sleeps`.
        self.client = ResilientClient(
            fake.client(),
            settings=Settings(backoff_initial=4.0, backoff_max=4.0, **settings),
            on_event=self.events.append,
            sleep=self.sleeps,
        )

    def update(self, contact: str, value: str) -> None:
        self.client.Contact.update(contact, {"Title": value})

    def in_background(self, fake: FakeSalesforce, contact: str, value: str) -> threading.Thread:
        """Start an update and return once the fake has applied it and holds its locks."""
        thread = threading.Thread(target=self.update, args=(contact, value))
        thread.start()
        until(lambda: title(fake, contact) == value)
        return thread


def learn(fake: FakeSalesforce, client: Client, holder: str, learner: str) -> None:
    """*learner*'s write meets *holder*'s lock on their Account once, and learns it."""
    thread = client.in_background(fake, holder, f"held-for-{learner}")
    client.update(learner, f"learned-{learner}")
    thread.join()


def test_a_lock_error_queues_behind_the_write_in_flight(fake: FakeSalesforce) -> None:
    """The lock error names the Account; the waiter goes when the holder's answer is back."""
    account, (holder, waiter) = siblings(fake, 2)
    client = Client(fake)
    learn(fake, client, holder, waiter)
    assert [500, 204] == statuses(fake, waiter)
    assert f"learned-{waiter}" == title(fake, waiter)
    assert [] == client.sleeps.calls  # it waited for the holder, not for a backoff
    queued = [e for e in client.events if e.kind is EventKind.RETRY]
    assert [f"queued behind {account[:15]}"] == [e.reason for e in queued]
    assert describe(queued[0]).endswith(f"retrying, queued behind {account[:15]}")


def test_a_learned_write_queues_before_it_is_sent(fake: FakeSalesforce) -> None:
    """Once two Contacts are known to lock their Account, neither is sent while the other's
    write is in flight: no lock error, no request spent."""
    _, (first, second, third) = siblings(fake, 3)
    client = Client(fake)
    learn(fake, client, third, first)
    learn(fake, client, third, second)
    thread = client.in_background(fake, first, "again")
    client.update(second, "after")
    thread.join()
    assert [500, 204, 204] == statuses(fake, second)
    assert [] == client.sleeps.calls


def test_writes_of_one_record_are_never_sent_side_by_side(fake: FakeSalesforce) -> None:
    """Two writes of the same record in one process go one after the other, in order."""
    _, (contact,) = siblings(fake, 1)
    client = Client(fake)
    thread = client.in_background(fake, contact, "first")
    client.update(contact, "second")
    thread.join()
    assert [204, 204] == statuses(fake, contact)
    assert "second" == title(fake, contact)


@pytest.mark.redis
def test_processes_queue_behind_each_other_through_redis(
    fake: FakeSalesforce, redis_url: str
) -> None:
    """Two clients of their own (two processes' worth of state) share only Redis: once each
    knows the Account is contended, one waits for the other's write without a lock error."""
    _, (a, b, c, d) = siblings(fake, 4)
    here = Client(fake, redis_url=redis_url)
    there = Client(fake, redis_url=redis_url)
    learn(fake, here, c, a)
    learn(fake, there, d, b)
    thread = here.in_background(fake, a, "here")
    there.update(b, "there")
    thread.join()
    assert [500, 204, 204] == statuses(fake, b)
    assert [] == here.sleeps.calls + there.sleeps.calls


def test_a_write_queued_past_its_deadline_is_not_sent(fake: FakeSalesforce) -> None:
    """Waiting in line counts against the deadline; a write whose deadline passes in line
    raises LockWaitTimeout (classified ROW_LOCK) and is never sent."""
    _, (contact,) = siblings(fake, 1)
    sf = fake.client()
    patient = ResilientClient(sf, settings=Settings())
    hurried = ResilientClient(sf, settings=Settings(retry_deadline=0.05))
    thread = threading.Thread(target=patient.Contact.update, args=(contact, {"Title": "slow"}))
    thread.start()
    until(lambda: title(fake, contact) == "slow")
    with pytest.raises(LockWaitTimeout) as caught:
        hurried.Contact.update(contact, {"Title": "hurried"})
    thread.join()
    assert ErrorCategory.ROW_LOCK is caught.value.classification.category  # type: ignore[attr-defined]
    assert [204] == statuses(fake, contact)
    assert "slow" == title(fake, contact)


def test_a_write_of_no_known_record_backs_off_with_jitter(fake: FakeSalesforce) -> None:
    """A raw `restful` PATCH carries no record id to queue under: its lock error falls back
    to the jittered backoff."""
    _, (holder, other) = siblings(fake, 2)
    client = Client(fake)
    thread = client.in_background(fake, holder, "holding the Account")
    slept: list[float] = []

    def backoff(seconds: float) -> None:  # the holder finishing stands in for the time passing
        slept.append(seconds)
        thread.join()

    raw = ResilientClient(
        fake.client(), settings=Settings(backoff_initial=4.0, backoff_max=4.0), sleep=backoff
    )
    raw.restful(f"sobjects/Contact/{other}", method="PATCH", data=json.dumps({"Title": "raw"}))
    assert [500, 204] == statuses(fake, other)
    assert 1 == len(slept)
    assert 2.0 <= slept[0] <= 4.0  # equal jitter under the 4 s ceiling


def test_wrappers_of_one_client_share_one_lock_queue_and_copies_get_their_own(
    fake: FakeSalesforce,
) -> None:
    """Lines are per client: every wrapper of it waits in the same ones; a deep copy or an
    unpickled client (another process's worth of state) starts its own."""
    sf = fake.client()
    first, second = ResilientClient(sf), ResilientClient(sf)
    assert lock_queue_for(first.wrapped, None) is lock_queue_for(second.wrapped, None)
    copied = copy.deepcopy(first)
    restored = pickle.loads(pickle.dumps(first))  # noqa: S301  (our own object, in a test)
    queues = {id(lock_queue_for(c.wrapped, None)) for c in (first, copied, restored)}
    assert 3 == len(queues)


def test_the_lock_queue_shares_the_store_the_budget_uses(fake: FakeSalesforce) -> None:
    """``ResilientClient(store=...)`` reaches the lock queue too, not only the budget."""
    shared = MemoryStore(namespace="fleet")
    client = ResilientClient(fake.client(), store=shared)
    fleet = lock_queue_for(client.wrapped, None)._fleet
    assert fleet is not None
    assert shared is fleet._store

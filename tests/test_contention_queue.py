"""The lock queue: writes of one record (or parent) go one after another, in order,
in this process and across processes through the shared store."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from sfresilience._lockqueue import CallLocks, LockQueue
from sfresilience._store import FailoverStore, MemoryStore, RedisStore, Store


ACCOUNT = "0017y00000AbCdE"
CONTACTS = [f"0037y00000Cont{n}" for n in range(4)]


def until(condition: Callable[[], bool]) -> None:
    """Wait for another thread to reach a state (never for time to pass)."""
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.001)  # sleep-ok: polling another thread's progress


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@contextlib.contextmanager
def holding(locks: CallLocks, sleep: Callable[[float], None] | None = None) -> Iterator[None]:
    with locks.attempt(30.0, sleep or Sleeps()) as timed_out:
        assert timed_out is None
        yield


class Writer:
    """A thread that makes one attempt through *locks* and holds it until told to finish."""

    def __init__(self, locks: CallLocks, order: list[str], name: str) -> None:
        self.entered = threading.Event()
        self.finish = threading.Event()
        self._locks = locks
        self._order = order
        self._name = name
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        with holding(self._locks):
            self._order.append(self._name)
            self.entered.set()
            self.finish.wait(5)

    def done(self) -> None:
        self.finish.set()
        self.thread.join(5)


def waiting_is(queue: LockQueue, count: int) -> bool:
    return queue.waiting(ACCOUNT) == count


def learned(queue: LockQueue, *contacts: str) -> LockQueue:
    for contact in contacts:
        queue.contention.learn(contact, [ACCOUNT])
    return queue


def test_writes_of_one_record_go_one_after_another() -> None:
    """A second write of a record waits for the first one's attempt to end."""
    queue = LockQueue()
    order: list[str] = []
    first = Writer(queue.for_call(CONTACTS[0]), order, "first")
    assert first.entered.wait(5)
    second = Writer(queue.for_call(CONTACTS[0]), order, "second")
    until(lambda: queue.waiting(CONTACTS[0]) == 1)
    assert ["first"] == order
    first.done()
    assert second.entered.wait(5)
    second.done()
    assert ["first", "second"] == order


def test_children_of_a_contended_parent_queue_in_arrival_order() -> None:
    """Contacts known to lock their Account line up behind each other, first come first served."""
    queue = learned(LockQueue(), *CONTACTS)
    order: list[str] = []
    writers = [Writer(queue.for_call(CONTACTS[0]), order, "0")]
    assert writers[0].entered.wait(5)
    for number in (1, 2, 3):
        writers.append(Writer(queue.for_call(CONTACTS[number]), order, str(number)))
        until(functools.partial(waiting_is, queue, number))
    for writer in writers:
        writer.done()
    assert ["0", "1", "2", "3"] == order


def test_children_not_known_to_contend_do_not_wait() -> None:
    """Until a lock error says so, writes of different records run side by side."""
    queue = LockQueue()
    with holding(queue.for_call(CONTACTS[0])), holding(queue.for_call(CONTACTS[1])):
        assert 0 == queue.waiting(ACCOUNT)


def test_a_wait_that_runs_out_names_the_record() -> None:
    queue = learned(LockQueue(), CONTACTS[0], CONTACTS[1])
    with holding(queue.for_call(CONTACTS[0])):
        with queue.for_call(CONTACTS[1]).attempt(0.01, Sleeps()) as timed_out:
            assert ACCOUNT == timed_out
        assert 0 == queue.waiting(ACCOUNT)


class TestUnknownHolder:
    def test_nobody_here_holds_it_so_the_backoff_is_slept(self) -> None:
        """The holder is another process or Salesforce itself: fall back to the backoff."""
        locks = LockQueue().for_call(CONTACTS[0])
        locks.queue_behind([ACCOUNT], 0.25)
        sleeps = Sleeps()
        with holding(locks, sleeps):
            pass
        assert [0.25] == sleeps.calls

    def test_queued_behind_the_holder_no_backoff(self) -> None:
        """Waiting behind the write that holds the lock is the wait; nothing is slept on top."""
        queue = learned(LockQueue(), CONTACTS[0])
        order: list[str] = []
        holder = Writer(queue.for_call(CONTACTS[0]), order, "holder")
        assert holder.entered.wait(5)
        waiter = queue.for_call(CONTACTS[1])
        waiter.queue_behind([ACCOUNT], 0.25)
        sleeps = Sleeps()

        def release_once_queued() -> None:
            until(lambda: queue.waiting(ACCOUNT) == 1)
            holder.done()

        threading.Thread(target=release_once_queued).start()
        with holding(waiter, sleeps):
            assert ["holder"] == order
        assert [] == sleeps.calls

    def test_a_write_in_flight_that_may_hold_it_is_waited_for(self) -> None:
        """A write whose parent is not known yet may be the holder: wait for it to answer."""
        queue = LockQueue()
        order: list[str] = []
        unknown = Writer(queue.for_call(CONTACTS[0]), order, "unknown")
        assert unknown.entered.wait(5)
        waiter = queue.for_call(CONTACTS[1])
        waiter.queue_behind([ACCOUNT], 5.0)
        sleeps = Sleeps()
        threading.Timer(0.01, unknown.done).start()
        with holding(waiter, sleeps):
            assert unknown.finish.is_set()  # it went only once the unknown write had answered
        assert [] == sleeps.calls


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def shared(request: pytest.FixtureRequest) -> Store:
    if request.param == "memory":
        return MemoryStore(namespace="fleet")
    client: redis.Redis = request.getfixturevalue("redis_client")
    return RedisStore(client, namespace="fleet")


def test_processes_queue_through_the_shared_store(shared: Store) -> None:
    """Two processes (two queues) knowing the Account is contended take turns via the store."""
    here = learned(LockQueue(shared), CONTACTS[0])
    there = learned(LockQueue(shared), CONTACTS[1])
    order: list[str] = []
    holder = Writer(here.for_call(CONTACTS[0]), order, "here")
    assert holder.entered.wait(5)
    waiter = Writer(there.for_call(CONTACTS[1]), order, "there")
    assert not waiter.entered.wait(0.05)  # it waits on the store, not in this queue
    holder.done()
    assert waiter.entered.wait(5)
    waiter.done()
    assert ["here", "there"] == order


class CountingRedisStore(RedisStore):
    """The real Redis store, counting how often a lock is asked for."""

    calls = 0

    def acquire(self, key: str, token: bytes, *, ttl: float) -> bool:
        self.calls += 1
        return super().acquire(key, token, ttl=ttl)


def test_a_store_that_is_down_lets_writes_go_and_is_left_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Queueing across the fleet is an optimisation: without Redis the write still goes,
    it is said once, and the next writes do not knock on the dead store again (the
    budget's failover store, which the lock queue shares, leaves it alone)."""
    down = CountingRedisStore(redis.Redis(port=9, socket_connect_timeout=1), url="redis://:9")
    queue = learned(LockQueue(FailoverStore(down)), CONTACTS[0])
    for _ in range(3):
        with holding(queue.for_call(CONTACTS[0])):
            pass
    assert 1 == down.calls
    assert 1 == sum("local view" in r.getMessage() for r in caplog.records)


def test_no_two_writers_are_ever_inside_one_key_at_once() -> None:
    """Eight threads writing Contacts of two Accounts: one at a time per key; all finish."""
    accounts = ["0017y00000Acct1", "0017y00000Acct2"]
    contacts = [f"0037y00000Con{n:02d}" for n in range(8)]
    queue = LockQueue()
    for number, contact in enumerate(contacts):
        queue.contention.learn(contact, [accounts[number % 2]])
    inside: dict[str, int] = dict.fromkeys(accounts, 0)
    overlaps: list[str] = []
    mutex = threading.Lock()

    def writer(contact: str, account: str) -> None:
        for _ in range(50):
            with holding(queue.for_call(contact)):
                with mutex:
                    inside[account] += 1
                    if inside[account] > 1:
                        overlaps.append(account)
                with mutex:
                    inside[account] -= 1

    threads = [
        threading.Thread(target=writer, args=(contact, accounts[number % 2]))
        for number, contact in enumerate(contacts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert [] == overlaps

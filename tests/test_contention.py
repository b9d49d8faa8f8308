"""Contention, the pure part: which records a lock error names, what a write is known to lock,
and the core's decision to queue behind them."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfresilience import ErrorCategory, classify
from sfresilience._core import (
    Attempt,
    ContentionMap,
    GiveUp,
    QueueBehind,
    Retry,
    RetryPolicy,
    contended_records,
    decide,
    record_key,
)


ACCOUNT = "0017y00000AbCdEAAZ"
ACCOUNT_15 = "0017y00000AbCdE"
CONTACT = "0037y00000XyZabAAB"
POLICY = RetryPolicy(attempts=5, deadline=10.0, backoff_initial=0.2, backoff_max=5.0)


def lock_error(message: str, status: int = 500) -> bytes:
    return (f'[{{"message":"{message}","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}}]').encode()


def named(message: str) -> tuple[str, ...]:
    return contended_records(classify(status=500, body=lock_error(message)))


class TestContendedRecords:
    def test_the_record_a_lock_error_names(self) -> None:
        """Salesforce's message names the record the write waited for; its 15-character key."""
        message = f"unable to obtain exclusive access to this record or 1 records: {ACCOUNT}"
        assert (ACCOUNT_15,) == named(message)

    def test_several_records_in_order_without_repeats(self) -> None:
        """A batch's lock error can name several records; each once, in order."""
        other = "0017y00000QqQqQAAA"
        message = (
            "unable to obtain exclusive access to this record or 3 records: "
            f"{ACCOUNT},{other}, {ACCOUNT}"
        )
        assert (ACCOUNT_15, other[:15]) == named(message)

    def test_a_15_character_id_is_its_own_key(self) -> None:
        message = f"unable to obtain exclusive access to this record or 1 records: {ACCOUNT_15}"
        assert (ACCOUNT_15,) == named(message)

    def test_a_lock_error_naming_no_record(self) -> None:
        """Without an id there is nothing to queue behind (jittered backoff instead)."""
        assert () == named("unable to obtain exclusive access to this record")

    def test_an_id_cut_by_the_trimmed_message_is_not_taken(self) -> None:
        """A classification's message is trimmed; a half id must not become a queue key."""
        message = (
            "unable to obtain exclusive access to this record or 1 records: 0017y00000AbCdEAA…"
        )
        assert () == named(message)

    def test_only_lock_errors_name_records(self) -> None:
        """An id in another error's message is no lock to wait for."""
        body = (
            f'[{{"message":"exclusive access to this record or 1 records: {ACCOUNT}",'
            '"errorCode":"MALFORMED_ID","fields":[]}]'
        )
        assert () == contended_records(classify(status=400, body=body.encode()))

    @given(st.text(max_size=300))
    def test_any_message_parses_into_valid_keys(self, text: str) -> None:
        """Whatever the message, every key is a 15-character alphanumeric id."""
        prefix = "unable to obtain exclusive access to this record or 1 records: "
        classification = dataclasses.replace(
            classify(status=500, body=lock_error("x")), message=prefix + text
        )
        for key in contended_records(classification):
            assert len(key) == 15
            assert key.isalnum()


def test_record_key_folds_the_18_character_form() -> None:
    assert ACCOUNT_15 == record_key(ACCOUNT)
    assert ACCOUNT_15 == record_key(ACCOUNT_15)
    assert "Email__c/a@b.c" == record_key("Email__c/a@b.c")


class TestContentionMap:
    def test_unknown_records_lock_nothing_known(self) -> None:
        assert frozenset() == ContentionMap().contended(CONTACT)

    def test_learning_accumulates(self) -> None:
        """A Contact seen waiting for its Account, then for itself, is known to lock both."""
        contention = ContentionMap()
        contention.learn(CONTACT, [ACCOUNT_15])
        contention.learn(CONTACT[:15], [CONTACT[:15]])
        assert {ACCOUNT_15, CONTACT[:15]} == contention.contended(CONTACT)

    def test_bounded_least_recently_used_goes_first(self) -> None:
        contention = ContentionMap(remembered=2)
        contention.learn("0030000000000A1", ["001000000000001"])
        contention.learn("0030000000000A2", ["001000000000002"])
        contention.contended("0030000000000A1")  # used: kept
        contention.learn("0030000000000A3", ["001000000000003"])
        assert 2 == len(contention)
        assert frozenset() == contention.contended("0030000000000A2")
        assert {"001000000000001"} == contention.contended("0030000000000A1")


def _attempt(body: bytes, **overrides: object) -> Attempt:
    fields: dict[str, object] = {
        "classification": classify(status=500, body=body),
        "attempts_made": 1,
        "elapsed": 0.0,
        "may_have_been_applied": False,
        "repeatable": True,
        "refreshed": False,
        "can_refresh": False,
    }
    fields.update(overrides)
    return Attempt(**fields)  # type: ignore[arg-type]


NAMING = lock_error(f"unable to obtain exclusive access to this record or 1 records: {ACCOUNT}")


class TestDecideQueueBehind:
    def test_a_lock_error_naming_a_record_queues_behind_it(self) -> None:
        """The named record is what to wait for; the backoff is the fallback bound."""
        decision = decide(_attempt(NAMING), POLICY, jitter=0.0)
        assert QueueBehind((ACCOUNT_15,), 0.1) == decision

    def test_a_lock_error_naming_nothing_backs_off(self) -> None:
        body = lock_error("unable to obtain exclusive access to this record")
        assert Retry(0.1) == decide(_attempt(body), POLICY, jitter=0.0)

    def test_the_attempt_cap_still_ends_it(self) -> None:
        decision = decide(_attempt(NAMING, attempts_made=5), POLICY, jitter=0.0)
        assert isinstance(decision, GiveUp)
        assert ErrorCategory.ROW_LOCK is decision.classification.category

    @pytest.mark.parametrize("elapsed", [10.0, 12.5])
    def test_no_time_left_ends_it(self, elapsed: float) -> None:
        decision = decide(_attempt(NAMING, elapsed=elapsed), POLICY, jitter=0.0)
        assert isinstance(decision, GiveUp)
        assert "deadline" in decision.reason

    def test_a_non_repeatable_write_refused_by_a_lock_queues_too(self) -> None:
        """A lock error proves nothing was written, so even a create may go again."""
        attempt = _attempt(NAMING, repeatable=False, may_have_been_applied=False)
        assert isinstance(decide(attempt, POLICY, jitter=0.0), QueueBehind)

"""The sans-I/O core: backoff and the decision table, as pure functions."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfresilience import Classification, ErrorCategory, classify
from sfresilience._core import (
    Attempt,
    GiveUp,
    Refresh,
    Retry,
    RetryPolicy,
    backoff_delay,
    decide,
)


def _classification(category: ErrorCategory, *, retryable: bool) -> Classification:
    return Classification(
        category=category,
        error_code=None,
        message="boom",
        http_status=None,
        retryable=retryable,
        action="do something",
        severity="P3",
    )


ROW_LOCK = _classification(ErrorCategory.ROW_LOCK, retryable=True)
EXPIRED = _classification(ErrorCategory.SESSION_EXPIRED, retryable=True)
MALFORMED = _classification(ErrorCategory.INVALID_REQUEST, retryable=False)
UNAVAILABLE = _classification(ErrorCategory.UNAVAILABLE, retryable=True)

POLICY = RetryPolicy(attempts=4, deadline=10.0, backoff_initial=0.5, backoff_max=4.0)


def _attempt(classification: Classification = ROW_LOCK, **changes: object) -> Attempt:
    attempt = Attempt(
        classification=classification,
        attempts_made=1,
        elapsed=0.0,
        may_have_been_applied=False,
        repeatable=True,
        refreshed=False,
        can_refresh=True,
    )
    return dataclasses.replace(attempt, **changes)  # type: ignore[arg-type]


class TestBackoff:
    @pytest.mark.parametrize(
        ("retry", "ceiling"),
        [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (60, 4.0)],
    )
    def test_ceiling_doubles_up_to_the_cap(self, retry: int, ceiling: float) -> None:
        """The delay's ceiling doubles each retry and stops at the maximum."""
        assert ceiling == backoff_delay(retry, initial=0.5, maximum=4.0, jitter=1.0)

    def test_jitter_survives_the_cap(self) -> None:
        """At the cap, delays still spread over the upper half instead of all equal."""
        delays = {backoff_delay(50, initial=0.5, maximum=4.0, jitter=j / 10) for j in range(10)}
        assert 10 == len(delays)
        assert min(delays) == 2.0
        assert max(delays) < 4.0

    @given(
        retry=st.integers(min_value=-5, max_value=10_000),
        jitter=st.floats(min_value=0.0, max_value=0.999999),
    )
    def test_delay_is_bounded_and_never_zero(self, retry: int, jitter: float) -> None:
        """Any retry number yields a delay in [initial/2, maximum], never zero or inf."""
        delay = backoff_delay(retry, initial=0.1, maximum=5.0, jitter=jitter)
        assert 0.05 <= delay <= 5.0


class TestDecide:
    def test_retryable_error_retries_with_backoff(self) -> None:
        """A retryable failure within bounds is retried after the backoff delay."""
        assert Retry(0.25) == decide(_attempt(), POLICY, jitter=0.0)

    def test_non_retryable_error_gives_up_at_once(self) -> None:
        """A code bug is never retried."""
        decision = decide(_attempt(MALFORMED), POLICY, jitter=0.0)
        assert GiveUp(MALFORMED, "not retryable") == decision

    def test_attempt_cap_ends_retries(self) -> None:
        """The last allowed attempt failing ends the call."""
        decision = decide(_attempt(attempts_made=4), POLICY, jitter=0.0)
        assert isinstance(decision, GiveUp)
        assert "after 4 attempts" in decision.reason

    def test_deadline_ends_retries_before_overshooting(self) -> None:
        """A retry whose wait would cross the deadline is not attempted."""
        decision = decide(_attempt(elapsed=9.9), POLICY, jitter=0.0)
        assert isinstance(decision, GiveUp)
        assert "deadline" in decision.reason

    def test_ambiguous_non_repeatable_write_is_not_retried(self) -> None:
        """A create that may have reached Salesforce is not sent twice."""
        attempt = _attempt(UNAVAILABLE, may_have_been_applied=True, repeatable=False)
        decision = decide(attempt, POLICY, jitter=0.0)
        assert isinstance(decision, GiveUp)
        assert "may have been applied" in decision.reason

    def test_ambiguous_write_is_retried_when_the_caller_opts_in(self) -> None:
        """retry_ambiguous_writes lets a caller accept the duplicate risk."""
        attempt = _attempt(UNAVAILABLE, may_have_been_applied=True, repeatable=False)
        policy = dataclasses.replace(POLICY, retry_ambiguous_writes=True)
        assert isinstance(decide(attempt, policy, jitter=0.0), Retry)

    def test_write_refused_by_salesforce_is_retried(self) -> None:
        """A create that Salesforce answered with a lock error provably wrote nothing."""
        attempt = _attempt(ROW_LOCK, may_have_been_applied=False, repeatable=False)
        assert isinstance(decide(attempt, POLICY, jitter=0.0), Retry)

    def test_expired_session_refreshes(self) -> None:
        """The first expiry of a call asks for a refresh."""
        assert Refresh() == decide(_attempt(EXPIRED), POLICY, jitter=0.0)

    def test_expired_session_refreshes_even_at_the_attempt_cap(self) -> None:
        """A refresh is not a retry of a failing operation, so the cap does not stop it."""
        attempt = _attempt(EXPIRED, attempts_made=POLICY.attempts)
        assert Refresh() == decide(attempt, POLICY, jitter=0.0)

    def test_expiry_right_after_refresh_is_an_auth_failure(self) -> None:
        """No refresh loops: a 401 after a fresh login surfaces as AUTH_FAILED."""
        decision = decide(_attempt(EXPIRED, refreshed=True), POLICY, jitter=0.0)
        assert isinstance(decision, GiveUp)
        assert ErrorCategory.AUTH_FAILED is decision.classification.category
        assert decision.classification.retryable is False

    def test_expiry_without_a_login_gives_up(self) -> None:
        """A session-id client with no refresh callable cannot log in again."""
        decision = decide(_attempt(EXPIRED, can_refresh=False), POLICY, jitter=0.0)
        assert isinstance(decision, GiveUp)
        assert ErrorCategory.SESSION_EXPIRED is decision.classification.category

    @pytest.mark.parametrize(
        ("status", "code", "message", "category"),
        [
            (400, "MALFORMED_QUERY", "unexpected token: FROM", ErrorCategory.INVALID_REQUEST),
            (
                400,
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing",
                ErrorCategory.DATA_REJECTED,
            ),
            (404, "NOT_FOUND", "The requested resource does not exist", ErrorCategory.NOT_FOUND),
            (
                403,
                "INSUFFICIENT_ACCESS_OR_READONLY",
                "insufficient access",
                ErrorCategory.PERMISSION_DENIED,
            ),
            (400, "INVALID_LOGIN", "Invalid username, password", ErrorCategory.AUTH_FAILED),
            (
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
                ErrorCategory.API_LIMIT_EXCEEDED,
            ),
        ],
    )
    def test_never_retried_categories(
        self, status: int, code: str, message: str, category: ErrorCategory
    ) -> None:
        """Real bodies of the categories the runbook never retries give up at once."""
        body = [{"message": message, "errorCode": code}]
        classification = classify(status=status, body=body)
        assert category is classification.category
        decision = decide(_attempt(classification), POLICY, jitter=0.5)
        assert GiveUp(classification, "not retryable") == decision

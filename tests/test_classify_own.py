"""classify() knows the library's own refusals; tenacity never retries them."""

from __future__ import annotations

import pytest
import tenacity

from sfresilience import ErrorCategory, classify
from sfresilience.exceptions import (
    BudgetExhausted,
    CircuitOpen,
    CriticalOnlyBlocked,
    FallbackUnavailable,
    WriteRefused,
)
from sfresilience.tenacity import retry_if_salesforce


_CASES = [
    (CircuitOpen("not sent: breaker open"), ErrorCategory.UNAVAILABLE),
    (WriteRefused("not sent", mode="breaker"), ErrorCategory.UNAVAILABLE),
    (WriteRefused("not sent", mode="maintenance"), ErrorCategory.MAINTENANCE),
    (WriteRefused("not sent", mode="fallback"), ErrorCategory.UNAVAILABLE),
    (FallbackUnavailable("not sent: fallback mode"), ErrorCategory.UNAVAILABLE),
    (CriticalOnlyBlocked("not critical"), ErrorCategory.API_LIMIT_EXCEEDED),
    (BudgetExhausted("allocation spent"), ErrorCategory.API_LIMIT_EXCEEDED),
]


@pytest.mark.parametrize(("error", "category"), _CASES)
def test_own_errors_are_classified_and_not_retryable(
    error: Exception, category: ErrorCategory
) -> None:
    found = classify(error)
    assert found.category is category
    assert not found.retryable
    assert error.classification == found  # type: ignore[attr-defined]


@pytest.mark.parametrize(("error", "category"), _CASES)
def test_tenacity_never_retries_a_refusal(error: Exception, category: ErrorCategory) -> None:
    calls = []

    @tenacity.retry(
        retry=retry_if_salesforce(category, retryable=None),
        stop=tenacity.stop_after_attempt(3),
        sleep=lambda _: None,
        reraise=True,
    )
    def refused() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        refused()
    assert len(calls) == 1

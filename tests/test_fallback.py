"""The fallback decision: forced mode, outages, the breaker, writes (not wired to the client)."""

from __future__ import annotations

import pytest
import requests

from sfresilience._cache import FallbackCache, LruBackend, Scope
from sfresilience._core._breaker import BreakerPolicy
from sfresilience._fallback import BreakerCell, Fallback
from sfresilience._freshness import freshness
from sfresilience.exceptions import CircuitOpen, FallbackUnavailable, WriteRefused


class Calls:
    def __init__(self) -> None:
        self.made = 0
        self.down = False

    def __call__(self) -> dict[str, object]:
        self.made += 1
        if self.down:
            raise requests.ConnectionError("connection refused")
        return {"records": [{"Id": "001"}], "done": True}


def _fallback(forced: list[str]) -> Fallback:
    cache = FallbackCache(LruBackend(), scope=Scope("00D000000000001", "59.0"))
    cache.writer.flush()
    breaker = BreakerCell(BreakerPolicy(threshold=2, open_for=30))
    return Fallback(cache, breaker, forced=lambda: forced)


def _warm(fallback: Fallback, calls: Calls) -> None:
    assert freshness(fallback.read("k", calls)) is None  # live
    assert fallback.cache is not None
    assert fallback.cache.writer.flush(5)


def test_forced_fallback_serves_the_cache_and_sends_nothing() -> None:
    forced: list[str] = []
    fallback, calls = _fallback(forced), Calls()
    _warm(fallback, calls)
    forced.append("env: SF_FALLBACK_MODE=true")
    served = fallback.read("k", calls)
    assert served == {"records": [{"Id": "001"}], "done": True}
    found = freshness(served)
    assert found is not None
    assert found.stale
    assert "SF_FALLBACK_MODE" in found.reason
    assert calls.made == 1
    with pytest.raises(FallbackUnavailable, match="nothing usable cached"):
        fallback.read("other", calls)
    with pytest.raises(WriteRefused, match="fallback mode") as refused:
        fallback.write(calls, operation="Account.create")
    assert refused.value.mode == "fallback"
    assert calls.made == 1


def test_an_outage_serves_the_cache_and_the_breaker_stops_calls() -> None:
    fallback, calls = _fallback([]), Calls()
    _warm(fallback, calls)
    calls.down = True
    for _ in range(2):
        found = freshness(fallback.read("k", calls))
        assert found is not None
        assert "UNAVAILABLE" in found.reason
    assert calls.made == 3
    found = freshness(fallback.read("k", calls))  # open: not called
    assert found is not None
    assert "breaker open" in found.reason
    assert calls.made == 3
    with pytest.raises(CircuitOpen):
        fallback.read("nothing-cached", calls)
    with pytest.raises(WriteRefused) as refused:
        fallback.write(calls, operation="Account.update")
    assert refused.value.mode == "breaker"
    assert calls.made == 3


def test_an_outage_with_nothing_cached_raises_the_calls_own_error() -> None:
    fallback, calls = _fallback([]), Calls()
    calls.down = True
    with pytest.raises(requests.ConnectionError):
        fallback.read("k", calls)

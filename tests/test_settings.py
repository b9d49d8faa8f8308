"""Which environment variables Settings reads."""

from __future__ import annotations

import pytest

from sfresilience import Settings


def test_a_bare_field_name_in_the_environment_is_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``REDIS_URL`` belongs to other programs; only ``SFRESILIENCE_REDIS_URL`` counts."""
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:1")
    monkeypatch.setenv("RETRY_ATTEMPTS", "9")
    monkeypatch.setenv("SFRESILIENCE_RETRY_ATTEMPTS", "3")

    settings = Settings()

    assert (None, 3) == (settings.redis_url, settings.retry_attempts)

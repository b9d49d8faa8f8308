"""Every knob, read from the environment at call time (never at import time)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._redact import redact
from .exceptions import ConfigurationError


Fraction = Annotated[float, Field(gt=0.0, le=1.0)]
Seconds = Annotated[float, Field(gt=0.0)]


class Settings(BaseSettings):
    """sfresilience's configuration; each field documents its environment variable.

    Build it with keywords to override the environment (``Settings(retry_attempts=3)``);
    a malformed value raises :class:`~sfresilience.exceptions.ConfigurationError`
    naming the variable and what is wrong with it.
    """

    model_config = SettingsConfigDict(
        frozen=True, populate_by_name=True, extra="forbid", env_ignore_empty=True
    )

    fallback_mode: bool = Field(default=False, validation_alias="SF_FALLBACK_MODE")
    """``SF_FALLBACK_MODE``: serve reads from the fallback cache, call nothing."""
    critical_only: bool = Field(default=False, validation_alias="SF_CRITICAL_ONLY")
    """``SF_CRITICAL_ONLY``: only work marked critical reaches Salesforce."""
    redis_url: str | None = Field(None, validation_alias="SFRESILIENCE_REDIS_URL")
    """``SFRESILIENCE_REDIS_URL``: shared state in Redis; unset keeps it in-process."""
    cache_ttl: Seconds = Field(3600.0, validation_alias="SFRESILIENCE_CACHE_TTL")
    """``SFRESILIENCE_CACHE_TTL``: seconds a cached result may be served."""
    budget_warn: Fraction = Field(0.80, validation_alias="SFRESILIENCE_BUDGET_WARN")
    """``SFRESILIENCE_BUDGET_WARN``: share of the daily allocation that warns."""
    budget_critical: Fraction = Field(0.95, validation_alias="SFRESILIENCE_BUDGET_CRITICAL")
    """``SFRESILIENCE_BUDGET_CRITICAL``: share that switches critical-only on."""
    status_url: str = Field(
        "https://api.status.salesforce.com",
        validation_alias="SFRESILIENCE_STATUS_URL",
    )
    """``SFRESILIENCE_STATUS_URL``: base URL of the Trust status API."""

    retry_attempts: Annotated[int, Field(ge=1, le=100)] = Field(
        5, validation_alias="SFRESILIENCE_RETRY_ATTEMPTS"
    )
    """``SFRESILIENCE_RETRY_ATTEMPTS``: most attempts one call may make."""
    retry_deadline: Seconds = Field(30.0, validation_alias="SFRESILIENCE_RETRY_DEADLINE")
    """``SFRESILIENCE_RETRY_DEADLINE``: seconds one call may take, retries included."""
    backoff_initial: Seconds = Field(0.2, validation_alias="SFRESILIENCE_BACKOFF_INITIAL")
    """``SFRESILIENCE_BACKOFF_INITIAL``: ceiling of the first backoff, seconds."""
    backoff_max: Seconds = Field(5.0, validation_alias="SFRESILIENCE_BACKOFF_MAX")
    """``SFRESILIENCE_BACKOFF_MAX``: ceiling of any backoff, seconds."""
    connect_timeout: Seconds = Field(5.0, validation_alias="SFRESILIENCE_CONNECT_TIMEOUT")
    """``SFRESILIENCE_CONNECT_TIMEOUT``: seconds to open a connection."""
    read_timeout: Seconds = Field(60.0, validation_alias="SFRESILIENCE_READ_TIMEOUT")
    """``SFRESILIENCE_READ_TIMEOUT``: seconds to wait for a response."""
    retry_ambiguous_writes: bool = Field(
        default=False, validation_alias="SFRESILIENCE_RETRY_AMBIGUOUS_WRITES"
    )
    """``SFRESILIENCE_RETRY_AMBIGUOUS_WRITES``: re-send writes after a failure that
    may have reached Salesforce (risks duplicate creates, and updates overwritten
    by their own late first copy)."""

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> Self:
        if self.budget_warn > self.budget_critical:
            msg = (
                f"SFRESILIENCE_BUDGET_WARN ({self.budget_warn}) must not exceed "
                f"SFRESILIENCE_BUDGET_CRITICAL ({self.budget_critical})"
            )
            raise ValueError(msg)
        if self.backoff_initial > self.backoff_max:
            msg = "SFRESILIENCE_BACKOFF_INITIAL must not exceed SFRESILIENCE_BACKOFF_MAX"
            raise ValueError(msg)
        if self.redis_url is not None and not self.redis_url.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            msg = "SFRESILIENCE_REDIS_URL must start with redis://, rediss:// or unix://"
            raise ValueError(msg)
        return self


def load_settings(**overrides: object) -> Settings:
    """Read the environment now; turn pydantic's error into a ConfigurationError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigurationError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    problems = []
    for issue in error.errors(include_url=False):
        where = ".".join(str(part) for part in issue["loc"]) or "settings"
        problems.append(f"{where}: {issue['msg']} (got {issue.get('input')!r})")
    return redact("invalid sfresilience configuration: " + "; ".join(problems))

"""Every knob, read from the environment at call time (never at import time)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ._cache._envelope import cipher_from
from ._redact import redact
from .exceptions import ConfigurationError


# Bounded so that every duration fits the clocks, locks and sockets it ends up
# in (threading's TIMEOUT_MAX is ~9.2e9 s): a day for anything a call waits on,
# a year for how long data may be kept.
_DAY = 86_400.0
_YEAR = 365 * _DAY
Fraction = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
Seconds = Annotated[float, Field(gt=0.0, le=_DAY, allow_inf_nan=False)]
LongSeconds = Annotated[float, Field(gt=0.0, le=_YEAR, allow_inf_nan=False)]
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+cluster://", "rediss+cluster://")


class Settings(BaseSettings):
    """sfresilience's configuration; each field documents its environment variable.

    Build it with keywords to override the environment (``Settings(retry_attempts=3)``);
    a malformed value raises :class:`~sfresilience.exceptions.ConfigurationError`
    naming the variable and what is wrong with it, however the settings are
    built. Its ``repr()`` never shows a secret.
    """

    model_config = SettingsConfigDict(
        frozen=True, populate_by_name=True, extra="forbid", env_ignore_empty=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,  # noqa: ARG003  (see _Environment)
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _Environment(settings_cls), dotenv_settings, file_secret_settings)

    critical_only: bool = False
    """Set in code only: critical-only mode stays on for the client's life. The
    ``SF_CRITICAL_ONLY`` variable is read at every call instead, never into this field."""
    fallback_mode: bool = False
    """Set in code only: fallback mode stays on for the client's life. The
    ``SF_FALLBACK_MODE`` variable is read at every call instead, never into this field."""
    redis_url: str | None = Field(None, validation_alias="SFRESILIENCE_REDIS_URL")
    """``SFRESILIENCE_REDIS_URL``: shared state in Redis; unset keeps it in-process."""
    cache_ttl: LongSeconds = Field(3600.0, validation_alias="SFRESILIENCE_CACHE_TTL")
    """``SFRESILIENCE_CACHE_TTL``: seconds a cached result may be served."""
    cache_key: SecretStr | None = Field(None, validation_alias="SFRESILIENCE_CACHE_KEY")
    """``SFRESILIENCE_CACHE_KEY``: Fernet key(s), comma-separated, the first encrypting
    (rotation: put the new key first, keep the old ones after it); unset: not encrypted."""
    cache_max_entries: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        10_000, validation_alias="SFRESILIENCE_CACHE_MAX_ENTRIES"
    )
    """``SFRESILIENCE_CACHE_MAX_ENTRIES``: most results the embedded cache keeps."""
    cache_max_bytes: Annotated[int, Field(ge=1024, le=2**40)] = Field(
        64 * 1024 * 1024, validation_alias="SFRESILIENCE_CACHE_MAX_BYTES"
    )
    """``SFRESILIENCE_CACHE_MAX_BYTES``: most bytes the embedded cache keeps (stored form)."""
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
    query_all_deadline: Seconds | None = Field(
        None, validation_alias="SFRESILIENCE_QUERY_ALL_DEADLINE"
    )
    """``SFRESILIENCE_QUERY_ALL_DEADLINE``: seconds ``query_all`` may take for all its
    pages together (each page is one call); unset: no bound beyond each page's."""
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

    bulk_job_deadline: Seconds = Field(3600.0, validation_alias="SFRESILIENCE_BULK_JOB_DEADLINE")
    """``SFRESILIENCE_BULK_JOB_DEADLINE``: seconds a Bulk 2.0 job may stay ``UploadComplete``
    / ``InProgress`` before it is aborted and its unprocessed records resubmitted (once)."""

    bulk_query_threshold: Annotated[int, Field(ge=1)] | None = Field(
        None, validation_alias="SFRESILIENCE_BULK_QUERY_THRESHOLD"
    )
    """``SFRESILIENCE_BULK_QUERY_THRESHOLD``: ``query_all`` of more records than this (by
    its first page's ``totalSize``) reads them from a Bulk 2.0 query job; unset: never."""

    slack_webhook_url: SecretStr | None = Field(
        None, validation_alias="SFRESILIENCE_SLACK_WEBHOOK_URL"
    )
    """``SFRESILIENCE_SLACK_WEBHOOK_URL``: the Slack incoming webhook ``sfresilience incident
    --post`` sends the update to; a secret (its path is the credential), never shown."""

    if not TYPE_CHECKING:  # keep the typed signature pydantic's mypy plugin writes

        def __init__(self, **values: Any) -> None:
            try:
                super().__init__(**values)
            except ValidationError as error:
                raise ConfigurationError(_describe(error)) from None

    @classmethod
    def model_validate(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(*args, **kwargs)
        except ValidationError as error:
            raise ConfigurationError(_describe(error)) from None

    @classmethod
    def model_validate_json(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(*args, **kwargs)
        except ValidationError as error:
            raise ConfigurationError(_describe(error)) from None

    @classmethod
    def model_validate_strings(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_strings(*args, **kwargs)
        except ValidationError as error:
            raise ConfigurationError(_describe(error)) from None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, _shown(value)

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
        if self.redis_url is not None and not self.redis_url.startswith(_REDIS_SCHEMES):
            msg = (
                "SFRESILIENCE_REDIS_URL must start with redis://, rediss://, unix://, "
                "redis+cluster:// or rediss+cluster://"
            )
            raise ValueError(msg)
        if self.cache_key is not None:
            cipher_from(self.cache_key.get_secret_value())  # a bad key names the variable
        return self

    @model_validator(mode="after")
    def _webhook_is_http(self) -> Self:
        # Checked here, not on the field, so that the message never repeats the URL.
        url = self.slack_webhook_url
        if url is not None and not url.get_secret_value().startswith(("https://", "http://")):
            msg = (
                "SFRESILIENCE_SLACK_WEBHOOK_URL must be an https:// URL (Slack's incoming webhook)"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _status_url_is_http(self) -> Self:
        if not self.status_url.startswith(("https://", "http://")):
            msg = "SFRESILIENCE_STATUS_URL must be an https:// or http:// URL (Trust status API)"
            raise ValueError(msg)
        return self


# Fields set in code only: the environment never fills them (SF_CRITICAL_ONLY and
# SF_FALLBACK_MODE are read at every call by the modes, and must not be captured
# when the client is built).
_CODE_ONLY = frozenset({"critical_only", "fallback_mode"})


class _Environment(EnvSettingsSource):
    """The documented variables only: never a field's bare name (``REDIS_URL``, say,
    which hosts often set for other programs), never the fields set in code only."""

    def __call__(self) -> dict[str, Any]:
        names = {
            field.validation_alias
            for name, field in self.settings_cls.model_fields.items()
            if isinstance(field.validation_alias, str) and name not in _CODE_ONLY
        }
        return {k: v for k, v in super().__call__().items() if k in names}


def load_settings(**overrides: object) -> Settings:
    """Read the environment now; a bad value raises ConfigurationError."""
    return Settings(**overrides)  # type: ignore[arg-type]


def _shown(value: object) -> object:
    """*value* as a repr may show it: secrets in text masked."""
    return redact(value) if isinstance(value, str) else value


def _variable(field: str) -> str:
    """The environment variable of *field* (or *field* when it has none)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    return alias if isinstance(alias, str) else field


def _describe(error: ValidationError) -> str:
    problems = []
    for issue in error.errors(include_url=False):
        location = [str(part) for part in issue["loc"]]
        if not location:  # a check across fields: its message names them
            problems.append(str(issue["msg"]).removeprefix("Value error, "))
            continue
        where = ".".join([_variable(location[0]), *location[1:]])
        problems.append(f"{where}: {issue['msg']} (got {issue.get('input')!r})")
    return redact("invalid sfresilience configuration: " + "; ".join(problems))

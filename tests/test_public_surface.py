"""The public surface: exports, version, settings, testing mode and the command line."""

from __future__ import annotations
import __future__

import importlib.metadata
import types

import pytest
from typer.testing import CliRunner

import sfresilience
import sfresilience.exceptions
import sfresilience.metrics
import sfresilience.testing
from sfresilience import Settings, set_testing
from sfresilience._settings import load_settings
from sfresilience._testing_mode import current_testing_mode
from sfresilience.cli import app
from sfresilience.exceptions import ConfigurationError, SFResilienceError


# Neither is an export: public subpackages are imported as modules, and
# `from __future__ import annotations` leaves a feature object behind.
_NOT_EXPORTS = (types.ModuleType, type(__future__.annotations))


@pytest.mark.parametrize(
    "module",
    [sfresilience, sfresilience.exceptions, sfresilience.testing, sfresilience.metrics],
    ids=lambda m: m.__name__,
)
def test_all_is_sorted_and_exact(module: types.ModuleType) -> None:
    """__all__ is sorted and names exactly the module's public attributes."""
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, _NOT_EXPORTS)
    }
    assert sorted(module.__all__) == module.__all__
    assert public == set(module.__all__)


def test_version_matches_the_installed_metadata() -> None:
    """__version__ is what the package metadata says."""
    assert importlib.metadata.version("sfresilience") == sfresilience.__version__


def test_library_errors_share_one_base() -> None:
    """Every error of the library derives from SFResilienceError."""
    from sfresilience import exceptions  # noqa: PLC0415

    for name in exceptions.__all__:
        assert issubclass(getattr(exceptions, name), SFResilienceError)


class TestSettings:
    def test_defaults_match_the_product_contract(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Unset variables give the documented defaults."""
        for name in ("SFRESILIENCE_BUDGET_WARN", "SFRESILIENCE_BUDGET_CRITICAL"):
            monkeypatch.delenv(name, raising=False)
        settings = load_settings()
        assert (0.80, 0.95) == (
            settings.budget_warn,
            settings.budget_critical,
        )

    def test_environment_is_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Variables from the product contract set their fields."""
        monkeypatch.setenv("SFRESILIENCE_BUDGET_WARN", "0.5")
        monkeypatch.setenv("SFRESILIENCE_RETRY_ATTEMPTS", "7")
        settings = load_settings()
        assert (0.5, 7) == (settings.budget_warn, settings.retry_attempts)

    def test_keywords_override_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A keyword wins over the variable."""
        monkeypatch.setenv("SFRESILIENCE_RETRY_ATTEMPTS", "7")
        assert 2 == Settings(retry_attempts=2).retry_attempts

    @pytest.mark.parametrize(
        ("variable", "value", "named"),
        [
            pytest.param(
                "SFRESILIENCE_RETRY_DEADLINE",
                "soon",
                "SFRESILIENCE_RETRY_DEADLINE",
                id="not-a-number",
            ),
            pytest.param(
                "SFRESILIENCE_BUDGET_WARN", "1.5", "SFRESILIENCE_BUDGET_WARN", id="over-one"
            ),
            pytest.param(
                "SFRESILIENCE_BUDGET_WARN", "0.99", "BUDGET_CRITICAL", id="warn-above-critical"
            ),
            pytest.param(
                "SFRESILIENCE_REDIS_URL", "http://x", "SFRESILIENCE_REDIS_URL", id="bad-scheme"
            ),
            pytest.param(
                "SFRESILIENCE_RETRY_AMBIGUOUS_WRITES",
                "perhaps",
                "SFRESILIENCE_RETRY_AMBIGUOUS_WRITES",
                id="not-a-bool",
            ),
        ],
    )
    def test_malformed_values_name_the_variable(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
    ) -> None:
        """A malformed variable raises ConfigurationError saying which one."""
        monkeypatch.setenv(variable, value)
        with pytest.raises(ConfigurationError, match=named):
            load_settings()

    def test_configuration_error_is_a_value_error_without_secrets(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The error is a ValueError, and a password in a bad URL is not echoed."""
        monkeypatch.setenv("SFRESILIENCE_REDIS_URL", "http://:hunter2@host")
        with pytest.raises(ValueError, match="REDIS_URL") as caught:
            load_settings()
        assert "hunter2" not in str(caught.value)


class TestSetTesting:
    def test_as_a_statement_and_a_block_that_nests(self) -> None:
        """set_testing works as a call and as nesting with-blocks that restore."""
        assert current_testing_mode() is None
        with set_testing(True, attempts=3):
            assert 3 == current_testing_mode().attempts  # type: ignore[union-attr]
            with set_testing(False):
                assert current_testing_mode() is None
            assert 3 == current_testing_mode().attempts  # type: ignore[union-attr]
        assert current_testing_mode() is None
        restore = set_testing(True)
        try:
            assert 1 == current_testing_mode().attempts  # type: ignore[union-attr]
        finally:
            with restore:
                pass
        assert current_testing_mode() is None

    def test_restores_after_an_exception(self) -> None:
        """Leaving the block by an exception still restores the previous mode."""
        with pytest.raises(KeyError), set_testing(True):
            raise KeyError
        assert current_testing_mode() is None

    def test_rejects_zero_attempts(self) -> None:
        """At least one attempt is needed."""
        with pytest.raises(ValueError, match="at least 1"):
            set_testing(True, attempts=0)


class TestCommandLine:
    def test_version(self) -> None:
        """--version prints the package version."""
        result = CliRunner().invoke(app, ["--version"])
        assert (0, f"sfresilience {sfresilience.__version__}\n") == (
            result.exit_code,
            result.output,
        )

    def test_demo_runs_the_drill_and_every_step_behaves(self) -> None:
        """The demo drives the fake org through each incident and exits 0."""
        result = CliRunner().invoke(app, ["demo", "--contacts", "2100"])
        assert 0 == result.exit_code, result.output
        for step in ("Record-lock contention", "Session expiry", "Code bug", "Outage", "Recovery"):
            assert step in result.output
        assert "Every step behaved as the runbook says." in result.output
        assert "2100 contacts read across pages" in result.output


def test_fallback_names_are_exported() -> None:
    """resilient_query, freshness and Freshness are part of the public surface."""
    assert {"Freshness", "freshness", "resilient_query"} <= set(sfresilience.__all__)


def test_fallback_defaults_and_freshness_export(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback cache's documented defaults; ``freshness`` of a live value is None."""
    for name in ("SFRESILIENCE_CACHE_TTL", "SFRESILIENCE_CACHE_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (False, 3600.0, None) == (
        settings.fallback_mode,
        settings.cache_ttl,
        settings.cache_key,
    )
    assert sfresilience.freshness({"records": []}) is None
    assert sfresilience.Freshness.__name__ == "Freshness"

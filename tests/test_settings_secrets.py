"""Settings never show a secret, and every way of building them fails the same clear way."""

from __future__ import annotations

import pytest

from sfresilience import Settings
from sfresilience.exceptions import ConfigurationError


PASSWORD = "hunter2-Redis-pw"
URL = f"redis://:{PASSWORD}@cache.internal:6379/0"


class TestRepr:
    def test_repr_and_str_hide_the_redis_password(self) -> None:
        """The Redis URL shows its host, never its password."""
        settings = Settings(redis_url=URL)
        for shown in (repr(settings), str(settings)):
            assert PASSWORD not in shown
            assert "cache.internal:6379" in shown

    def test_repr_hides_the_password_read_from_the_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The same holds for a URL that came from SFRESILIENCE_REDIS_URL."""
        monkeypatch.setenv("SFRESILIENCE_REDIS_URL", URL)
        assert PASSWORD not in repr(Settings())


class TestErrors:
    def test_a_direct_constructor_raises_configuration_error(self) -> None:
        """Settings(...) with a bad value raises ConfigurationError, not pydantic's error."""
        with pytest.raises(ConfigurationError, match="SFRESILIENCE_RETRY_ATTEMPTS"):
            Settings(retry_attempts=0)

    @pytest.mark.parametrize(
        "build",
        [
            pytest.param(lambda: Settings(redis_url=f"http://:{PASSWORD}@x"), id="keywords"),
            pytest.param(
                lambda: Settings.model_validate(
                    {"SFRESILIENCE_REDIS_URL": f"http://:{PASSWORD}@x"}
                ),
                id="model_validate",
            ),
            pytest.param(
                lambda: Settings.model_validate_json(
                    f'{{"SFRESILIENCE_REDIS_URL": "http://:{PASSWORD}@x"}}'
                ),
                id="model_validate_json",
            ),
            pytest.param(
                lambda: Settings.model_validate_strings(
                    {"SFRESILIENCE_REDIS_URL": f"http://:{PASSWORD}@x"}
                ),
                id="model_validate_strings",
            ),
        ],
    )
    def test_every_way_of_building_fails_redacted(self, build: object) -> None:
        """However Settings is built, a bad value is a ConfigurationError that shows no secret."""
        with pytest.raises(ConfigurationError) as caught:
            build()  # type: ignore[operator]
        assert PASSWORD not in str(caught.value)
        assert "SFRESILIENCE_REDIS_URL" in str(caught.value)

    def test_a_bad_value_echoed_back_is_redacted(self) -> None:
        """A wrongly typed URL holding a password is echoed without the password."""
        with pytest.raises(ConfigurationError) as caught:
            Settings(redis_url=[URL])
        assert PASSWORD not in str(caught.value)
        assert "SFRESILIENCE_REDIS_URL" in str(caught.value)

    def test_a_field_given_by_name_is_named_by_its_variable(self) -> None:
        """Settings(read_timeout=-1) names SFRESILIENCE_READ_TIMEOUT, the knob users set."""
        with pytest.raises(ConfigurationError, match="SFRESILIENCE_READ_TIMEOUT"):
            Settings(read_timeout=-1)

    def test_one_line(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Two bad variables make one line naming both."""
        monkeypatch.setenv("SFRESILIENCE_RETRY_ATTEMPTS", "many")
        monkeypatch.setenv("SFRESILIENCE_READ_TIMEOUT", "-5")
        with pytest.raises(ConfigurationError) as caught:
            Settings()
        message = str(caught.value)
        assert "\n" not in message
        assert "SFRESILIENCE_RETRY_ATTEMPTS" in message
        assert "SFRESILIENCE_READ_TIMEOUT" in message

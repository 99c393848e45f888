"""Settings from BREACH_* variables: self-contained defaults, refused values named, and a secret
key generated once under var/ and kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from incident.kernel.settings import REPOSITORY, Settings, load_settings, runbooks_dir, templates_dir


@pytest.fixture(autouse=True)
def no_breach_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from an environment with no BREACH_* variable, whatever the shell has."""
    for name in list(os.environ):
        if name.startswith("BREACH_"):
            monkeypatch.delenv(name)


def test_with_nothing_set_the_service_is_self_contained(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    assert settings.embedded_database
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'breachdesk.sqlite3'}"
    assert (settings.smtp_url, settings.secret_key, settings.timezone) == ("", "", "UTC")
    assert templates_dir(settings) == REPOSITORY / "templates"
    assert runbooks_dir(settings) == REPOSITORY / "runbooks"


def test_the_environment_is_read_under_the_breach_prefix(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setenv("BREACH_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("BREACH_DATABASE_URL", "postgresql+asyncpg://db/breach")
    monkeypatch.setenv("BREACH_REMINDER_LEAD_HOURS", "24, 6,0.5")
    monkeypatch.setenv("BREACH_DEFAULT_LOCALE", "en-GB")
    monkeypatch.setenv("BREACH_TEMPLATES_DIR", str(tmp_path))
    monkeypatch.setenv("TIMEZONE", "Asia/Tokyo")  # unprefixed: not ours
    settings = Settings()
    assert settings.zone.key == "Europe/Berlin"
    assert not settings.embedded_database
    assert settings.effective_database_url == "postgresql+asyncpg://db/breach"
    assert settings.lead_hours == (24.0, 6.0, 0.5)
    assert settings.default_locale == "en_GB"
    assert templates_dir(settings) == tmp_path


@pytest.mark.parametrize(("field", "value", "message"), [
    ("timezone", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ("database_url", "mysql://db/breach", "must start with sqlite+aiosqlite:// or postgresql"),
    ("database_url", "postgresql://db/breach", "must start with sqlite+aiosqlite:// or postgresql"),
    ("reminder_lead_hours", "48,soon", "a comma-separated list of hours"),
    ("reminder_lead_hours", "48,0", "each lead time is more than 0"),
    ("reminder_lead_hours", "9000", "at most a year"),
    ("smtp_connections", "0", "greater than or equal to 1"),
    ("outbox_tick_seconds", "0", "greater than 0"),
])
def test_a_refused_value_is_named(monkeypatch: pytest.MonkeyPatch, field: str, value: str,
                                  message: str) -> None:
    monkeypatch.setenv(f"BREACH_{field.upper()}", value)
    with pytest.raises(ValidationError, match=field) as refused:
        Settings()
    assert message in str(refused.value)


def test_the_scheduler_lease_is_renewed_within_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings().scheduler_lease_seconds, Settings().scheduler_renew_seconds) == (15, 5)
    monkeypatch.setenv("BREACH_SCHEDULER_RENEW_SECONDS", "15")
    with pytest.raises(ValidationError, match="BREACH_SCHEDULER_RENEW_SECONDS must be shorter"):
        Settings()


def test_secrets_are_kept_out_of_the_repr() -> None:
    settings = Settings(secret_key="s3cret-key", smtp_url="smtp://user:hunter2@mail",
                        smtp_fallback_url="smtp://user:hunter3@backup")
    assert "s3cret-key" not in repr(settings) and "hunter2" not in repr(settings)
    assert "hunter3" not in repr(settings)


def test_a_secret_key_is_generated_once_owner_only_and_then_kept(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    first = load_settings(var_dir=var_dir)
    stored = var_dir / "secret_key"
    assert len(first.secret_key) >= 64
    assert stored.read_text() == first.secret_key + "\n"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert load_settings(var_dir=var_dir).secret_key == first.secret_key
    assert load_settings(var_dir=tmp_path / "other").secret_key != first.secret_key


def test_a_given_secret_key_wins_and_nothing_is_written(tmp_path: Path) -> None:
    settings = load_settings(var_dir=tmp_path, secret_key="given")
    assert settings.secret_key == "given"
    assert not (tmp_path / "secret_key").exists()

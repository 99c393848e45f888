"""Settings from `BREACH_*` environment variables; built by the entry points, never at import."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from incident.kernel.vocabulary import normalise_locale

DEFAULT_VAR_DIR = Path("var")


class Settings(BaseSettings):
    """Everything the service and the CLI read from the environment.

    With nothing set, Breachdesk runs self-contained: an SQLite database and a
    secret key under `./var/`, mail kept in an embedded capture.
    """

    model_config = SettingsConfigDict(env_prefix="BREACH_", extra="ignore", frozen=True)

    var_dir: Path = DEFAULT_VAR_DIR
    database_url: str = ""
    secret_key: str = Field(default="", repr=False)
    timezone: str = "UTC"
    smtp_url: str = Field(default="", repr=False)
    mail_from: str = "Breachdesk <breachdesk@localhost>"
    runbooks_dir: Path | None = None
    # The organisation's own regime files, merged with the shipped ones (see
    # notifications/obligations/regime_loader.py for the rule): a new id adds a regime,
    # a shipped id replaces that regime wholly.
    regimes_dir: Path | None = None
    templates_dir: Path | None = None
    # Requests whose timestamps lie further than this in the future are refused.
    clock_skew_seconds: int = 300
    max_body_bytes: int = 1_048_576
    evidence_max_bytes: int = 26_214_400
    # Inventory files are streamed to disk and imported a chunk at a time.
    import_max_bytes: int = 4_294_967_296
    # The language of people whose inventory record names none.
    default_locale: str = "en"
    # The outbox: persistent SMTP connections, messages per second (0: no limit), how often
    # due deliveries are claimed and how many at a time; the ticker can be switched off.
    smtp_connections: int = Field(default=8, ge=1, le=64)
    smtp_rate: float = Field(default=0, ge=0)
    outbox_tick_seconds: float = Field(default=2, gt=0)
    outbox_batch: int = Field(default=200, ge=1, le=10_000)
    # `breach serve` sends from processes of its own: "auto" is one per core up to two on
    # SQLite and on PostgreSQL one per core (up to four); 0 sends from the web process.
    outbox_processes: Annotated[int, Field(ge=0, le=16)] | Literal["auto"] = "auto"
    # A claimed delivery whose worker died is resent (same Message-ID) after this long; at
    # once when that worker is known to be dead (its presence ended, or its process is gone).
    outbox_lease_seconds: float = Field(default=300, gt=0)
    scheduler: bool = True
    # The scheduler's lease on SQLite and each sending process's presence: held this long,
    # renewed this often; after a crash another process takes over within that time.
    scheduler_lease_seconds: float = Field(default=15, gt=0)
    scheduler_renew_seconds: float = Field(default=5, gt=0)
    # On Ctrl-C or SIGTERM, messages on the wire get this long to be answered and recorded.
    shutdown_grace_seconds: float = Field(default=3, ge=0)
    # While deliveries wait for an unreachable relay, it is tried this often; the first
    # connection that works makes them all due. A second relay, for escalations only.
    smtp_probe_seconds: float = Field(default=5, gt=0)
    smtp_fallback_url: str = Field(default="", repr=False)
    # Bounces: each delivery's envelope sender is this address tagged with the delivery
    # (bounces+b4711-…@example.com), so a bounce names it. Empty: bounces are not tracked.
    bounce_address: str = ""
    # Reminders before each obligation's due time, in hours (comma-separated).
    reminder_lead_hours: str = "48,24,6,1"
    # A notice to more people than this is sent only when the sender types their number.
    confirm_send_above: int = Field(default=50, ge=0)
    # Where people reach this service: links in reminders and escalations. Empty: where
    # `breach serve` listens (`served_at`; http://127.0.0.1:8000 without --host and --port).
    base_url: str = ""
    # The Ed25519 key that signs timeline checkpoints (made on first use), and where the
    # checkpoint log is kept: both outside the database. A witness address gets each one.
    signing_key: Path | None = None
    checkpoint_dir: Path | None = None
    checkpoint_witness: str = ""
    # While anything changed, a checkpoint at least this often (a send or an obligation's
    # change makes one at the next tick).
    checkpoint_every_seconds: float = Field(default=3600, gt=0)
    # Bounces (see bounce_address above): the SMTP listener `breach serve` runs too
    # ("host:port", empty: none); a mailbox they are read from
    # (imap:// or imaps://user:password@host:port/MAILBOX), and how often.
    bounce_listen: str = ""
    bounce_imap_url: str = Field(default="", repr=False)
    bounce_imap_seconds: float = Field(default=60, gt=0)

    @field_validator("bounce_listen")
    @classmethod
    def _bounce_listen(cls, value: str) -> str:
        host, colon, port = value.strip().rpartition(":")
        if value.strip() and (not colon or not host or not port.isdigit()
                              or not 0 < int(port) < 65536):
            raise ValueError("host:port, such as 127.0.0.1:2525")
        return value.strip()

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip()
        scheme, _, rest = value.partition("://")
        if value and (scheme not in ("http", "https") or not rest.split("/")[0]
                      or any(c.isspace() for c in value)):
            raise ValueError("an http(s) address such as https://breach.example.com")
        return value.rstrip("/")

    @property
    def links_to(self) -> str:
        """The address links in messages start with: BREACH_BASE_URL, else `breach serve`'s
        own default address."""
        return self.base_url or served_at(SERVE_HOST, SERVE_PORT)

    @field_validator("bounce_imap_url")
    @classmethod
    def _bounce_imap_url(cls, value: str) -> str:
        if value and not value.startswith(("imap://", "imaps://")):
            raise ValueError("BREACH_BOUNCE_IMAP_URL must start with imap:// or imaps://")
        return value

    @field_validator("reminder_lead_hours")
    @classmethod
    def _lead_hours(cls, value: str) -> str:
        try:
            hours = [float(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise ValueError("a comma-separated list of hours, such as 48,24,6,1") from None
        if any(h <= 0 or h > 24 * 365 for h in hours):
            raise ValueError("each lead time is more than 0 and at most a year, in hours")
        return value

    @field_validator("bounce_address")
    @classmethod
    def _bare_address(cls, value: str) -> str:
        value = value.strip()
        local, at, domain = value.rpartition("@")
        if value and (not at or not local or "." not in domain
                      or any(c.isspace() or c in '<>"(),;:[]\\' for c in value)):
            raise ValueError("a bare e-mail address, such as bounces@example.com")
        return value

    @model_validator(mode="after")
    def _renewed_within_the_lease(self) -> Settings:
        if self.scheduler_renew_seconds >= self.scheduler_lease_seconds:
            raise ValueError("BREACH_SCHEDULER_RENEW_SECONDS must be shorter than "
                             "BREACH_SCHEDULER_LEASE_SECONDS")
        return self

    @property
    def lead_hours(self) -> tuple[float, ...]:
        return tuple(float(part) for part in self.reminder_lead_hours.split(",") if part.strip())
    secure_cookies: bool = False
    session_hours: int = 12
    # Roles whose people must sign in on the web with a second factor (a TOTP code), comma-
    # separated, such as admin,approver; whoever has none is asked to set it up at sign-in.
    require_totp_for: str = ""

    @field_validator("require_totp_for")
    @classmethod
    def _totp_roles(cls, value: str) -> str:
        # incident.kernel.auth.Role's values (not imported: auth loads argon2).
        unknown = {part.strip() for part in value.split(",") if part.strip()} - {
            "admin", "responder", "approver", "auditor"}
        if unknown:
            raise ValueError(f"unknown role {', '.join(sorted(unknown))}: use admin, "
                             "responder, approver or auditor, comma-separated")
        return value

    @property
    def totp_roles(self) -> frozenset[str]:
        """The roles that must use a second factor at the web sign-in."""
        return frozenset(part.strip() for part in self.require_totp_for.split(",")
                         if part.strip())
    # Single sign-on with an OpenID Connect provider (off while the issuer is empty): the
    # provider's issuer URL (discovery at /.well-known/openid-configuration), this service's
    # client there, the claim whose values give roles, and the mapping from its values to
    # roles (value:role, comma-separated; a person none of whose values is mapped has no
    # access). The name the sign-in button shows.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = Field(default="", repr=False)
    oidc_role_claim: str = "groups"
    oidc_roles: str = ""
    oidc_provider_name: str = "single sign-on"
    # Passwords at the web sign-in: "off" leaves them to the break-glass admin alone.
    local_sign_in: Literal["on", "off"] = "on"
    break_glass: str = ""

    @model_validator(mode="after")
    def _single_sign_on(self) -> Settings:
        if self.oidc_issuer:
            scheme, _, rest = self.oidc_issuer.partition("://")
            if scheme not in ("http", "https") or not rest:
                raise ValueError("BREACH_OIDC_ISSUER must be an https:// address")
            if not self.oidc_client_id:
                raise ValueError("BREACH_OIDC_CLIENT_ID is needed with BREACH_OIDC_ISSUER")
            for part in self.oidc_roles.split(","):
                value, colon, role = part.strip().rpartition(":")
                if part.strip() and (not colon or not value.strip() or role.strip() not in {
                        "admin", "responder", "approver", "auditor"}):
                    raise ValueError(f"BREACH_OIDC_ROLES: {part.strip()!r} is not value:role "
                                     "with a role of admin, responder, approver or auditor")
        elif self.local_sign_in == "off":
            raise ValueError("BREACH_LOCAL_SIGN_IN=off needs single sign-on: set "
                             "BREACH_OIDC_ISSUER too")
        return self

    @property
    def single_sign_on(self) -> bool:
        return bool(self.oidc_issuer)
    log_level: str = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from exc
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        return normalise_locale(value)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "BREACH_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key or self.var_dir / "signing" / "ed25519.pem"

    @property
    def checkpoint_log(self) -> Path:
        """The append-only log of checkpoints, outside the database."""
        return (self.checkpoint_dir or self.var_dir / "checkpoints") / "checkpoints.jsonl"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def embedded_database(self) -> bool:
        """True when no database was configured and the SQLite file under var/ is used."""
        return not self.database_url

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'breachdesk.sqlite3').resolve()}"


SERVE_HOST, SERVE_PORT = "127.0.0.1", 8000
"""Where `breach serve` listens unless --host and --port say otherwise."""


def served_at(host: str, port: int) -> str:
    """The address of a service listening on `host`:`port`, as a link: a wildcard host
    (every interface) is this machine's name, an IPv6 address is bracketed."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - names every interface, binds nothing
        import socket

        host = socket.getfqdn()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def serving(settings: Settings, host: str, port: int) -> Settings:
    """`settings` of `breach serve --host HOST --port PORT`: links go where it listens,
    unless BREACH_BASE_URL says otherwise (a proxy in front of it, HTTPS...)."""
    if settings.base_url:
        return settings
    return settings.model_copy(update={"base_url": served_at(host, port)})


def load_settings(*, secret: bool = True, **overrides: object) -> Settings:
    """Read the environment, then fill in a generated secret key kept under var/ (unless
    `secret` is False: a command that only reads files needs none, and creates nothing)."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if settings.secret_key or not secret:
        return settings
    return settings.model_copy(update={"secret_key": _stored_secret(settings.var_dir)})


def _stored_secret(var_dir: Path) -> str:
    """The secret kept in var/secret_key, created with owner-only permissions on first use."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


REPOSITORY = Path(__file__).resolve().parents[2]
"""The source checkout the packages run from: its templates/ and runbooks/ are the defaults."""


def templates_dir(settings: Settings) -> Path:
    """BREACH_TEMPLATES_DIR, else the templates/ folder beside the packages (a source checkout)."""
    return settings.templates_dir or REPOSITORY / "templates"


def runbooks_dir(settings: Settings) -> Path:
    """BREACH_RUNBOOKS_DIR, else the runbooks/ folder beside the packages (a source checkout)."""
    return settings.runbooks_dir or REPOSITORY / "runbooks"

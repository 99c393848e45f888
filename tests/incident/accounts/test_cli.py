"""Who acts at the command line: `--as EMAIL`, BREACH_USER or BREACH_TOKEN name a Breachdesk
user whose role is checked as over the API; only the first admin is created by nobody."""

from __future__ import annotations

import asyncio
import getpass
import json

from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine, session_factory
from incident.kernel.settings import Settings
from incident.timeline import service as journal
from incident.timeline.models import ORGANISATION_CHAIN, TimelineEvent
from tests.cli_support import ADMIN, Breach, breach  # noqa: F401  (fixture)

NAME_SOMEONE = ("breach: error: name the Breachdesk user you act as: `breach --as EMAIL …`, or "
                "set BREACH_USER=EMAIL (or BREACH_TOKEN to one of your API tokens)")


def organisation_events(settings: Settings) -> list[TimelineEvent]:
    """The organisation's timeline chain, read through the timeline service."""

    async def read() -> list[TimelineEvent]:
        engine = create_engine(settings.effective_database_url)
        try:
            async with session_factory(engine)() as db:
                return await journal.events(db, ORGANISATION_CHAIN)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_the_first_admin_needs_nobody_and_says_so_on_the_timeline(settings: Settings,
                                                                  clock: FixedClock) -> None:
    cli = Breach(settings, clock, user=None)
    # Someone must be able to create the others: the first user can only be an admin.
    assert cli.error("users", "create", ADMIN, "--role", "responder") == (
        "breach: error: the first user must be an admin: add `--role admin`")
    assert organisation_events(settings) == []
    created = cli("users", "create", ADMIN, "--role", "admin")
    assert created.stdout.startswith(f"created {ADMIN} (admin)")
    (event,) = organisation_events(settings)
    assert (event.kind, event.actor, event.at) == ("user_created", f"bootstrap:{getpass.getuser()}",
                                                   clock.now())

    # From now on someone must be named, even to create users.
    assert cli.error("users", "create", "dana@example.com", "--role", "responder") == NAME_SOMEONE
    cli("--as", ADMIN, "users", "create", "dana@example.com", "--role", "responder")
    assert [e.actor for e in organisation_events(settings)][1:] == [ADMIN]


def test_commands_on_data_need_a_named_user(breach: Breach) -> None:  # noqa: F811
    for args in (["incidents", "list"], ["incidents", "create", "--title", "t", "--kind", "other"],
                 ["users", "list"], ["tokens", "list"], ["audit", "verify"],
                 ["organisation", "show"], ["steps", "overdue"], ["systems", "list"]):
        assert breach.error(*args, user=None) == NAME_SOMEONE, args
    # Pure computations and the service processes need nobody.
    assert breach("runbooks", "check", user=None).stdout.endswith("all valid\n")
    assert "database:" in breach("db", "current", user=None).stdout
    assert breach("outbox", "run", "--once", user=None).stdout == "0 deliveries handled\n"
    assert "jobs:" in breach("scheduler", "list", user=None).stdout


def test_as_breach_user_and_breach_token_name_the_actor_on_the_timeline(
        breach: Breach) -> None:  # noqa: F811
    dana = breach.person("responder", "dana@example.com")
    token = breach("tokens", "create", dana, "--name", "laptop").stdout.splitlines()[-1]

    reference = breach("--as", dana, "incidents", "create", "--title", "Lost phone",
                       "--kind", "lost_device", user=None).stdout.strip()
    breach("incidents", "note", reference, "Named by BREACH_USER.", user=dana)
    breach("incidents", "note", reference, "Named by a token.", user=None,
           env={"BREACH_TOKEN": token})
    breach("--as", "DANA@example.com", "incidents", "note", reference, "Same token, same user.",
           user=None, env={"BREACH_TOKEN": token})
    events = [json.loads(line) for line in
              breach("audit", "export", reference, user=dana).stdout.splitlines()]
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("incident_created", dana), ("note", dana), ("note", dana), ("note", dana)]
    # --as wins over BREACH_USER, as a command line does over the environment.
    assert breach("--as", ADMIN, "users", "list", user=dana).exit_code == 0

    assert breach.error("incidents", "list", user=None, env={"BREACH_TOKEN": "bd_not-a-token"}
                        ) == ("breach: error: BREACH_TOKEN is not a valid API token (unknown, "
                              "revoked, expired, or its user is disabled)")
    assert breach.error("--as", ADMIN, "incidents", "list", user=None,
                        env={"BREACH_TOKEN": token}) == (
        f"breach: error: BREACH_TOKEN belongs to {dana}, not to {ADMIN}")
    assert breach.error("incidents", "list", user="ghost@example.com") == (
        "breach: error: no user with the e-mail ghost@example.com")


def test_roles_are_checked_as_over_the_api(breach: Breach) -> None:  # noqa: F811
    auditor, responder = breach.person("auditor"), breach.person("responder")
    reference = breach("incidents", "create", "--title", "t", "--kind", "other",
                       user=responder).stdout.strip()
    refused = breach("incidents", "note", reference, "an auditor writes", user=auditor, ok=False)
    assert refused.exit_code == 1
    assert refused.stderr == "breach: error: the role auditor may not write incidents\n"
    assert reference in breach("incidents", "list", user=auditor).stdout  # reading is allowed
    assert "may not manage users" in breach.error("users", "create", "x@example.com",
                                                  "--role", "admin", user=responder)
    assert "may not manage users" in breach.error("tokens", "create", auditor, user=responder)


def test_a_disabled_user_is_refused_by_name_and_by_token(breach: Breach) -> None:  # noqa: F811
    dana = breach.person("responder", "dana@example.com")
    token = breach("tokens", "create", dana).stdout.splitlines()[-1]
    breach("users", "disable", dana)
    assert breach.error("incidents", "list", user=dana) == (
        f"breach: error: the user {dana} is disabled")
    assert "BREACH_TOKEN is not a valid API token" in breach.error(
        "incidents", "list", user=None, env={"BREACH_TOKEN": token})


def test_roles_password_resets_and_second_factors_at_the_command_line(
        breach: Breach) -> None:  # noqa: F811
    dana = breach.person("responder", "dana@example.com")
    assert breach("users", "role", dana, "approver").stdout == f"{dana} is now approver\n"
    assert "approver" in breach("users", "list").stdout
    assert breach.error("users", "role", ADMIN, "auditor") == (
        f"breach: error: {ADMIN} is the last active admin: make someone else an admin first")
    assert breach.error("users", "disable", ADMIN) == (
        f"breach: error: {ADMIN} is the last active admin: make someone else an admin first")
    reset = breach("users", "reset-password", dana).stdout.splitlines()
    assert reset[0] == (f"reset the password of {dana}; one-time password (to be changed at "
                        "next sign-in):")
    assert len(reset[-1]) >= 12
    assert "may not manage users" in breach.error("users", "reset-password", ADMIN, user=dana)
    assert breach("users", "reset-second-factor", dana).stdout == (
        f"reset the second factor of {dana}\n")
    breach("users", "disable", dana)
    assert breach("users", "enable", dana).stdout == f"enabled {dana}\n"
    kinds = [e.kind for e in organisation_events(breach.settings)]
    assert kinds[-4:] == ["user_role_changed", "password_reset", "user_disabled", "user_enabled"]

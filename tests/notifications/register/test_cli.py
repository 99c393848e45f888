"""`breach audit register` and `breach audit compliance`, as an auditor runs them: in-process on
both lanes, against the incidents of samples.py, as JSON (the API's own), CSV and PDF."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from click.testing import Result

from incident.kernel.clock import FixedClock
from tests.cli_support import Breach, breach  # noqa: F401  (fixture)
from tests.factories import Person
from tests.notifications.register.samples import (
    DISMISSAL,
    DISMISSED,
    FIRST,
    LATE,
    OVERDUE,
    assert_not_blank,
    csv_rows,
    pdf_text,
    seed,
)


async def test_the_reports_as_json_csv_and_pdf(
        breach: Breach, client: httpx.AsyncClient, people: dict[str, Person],  # noqa: F811
        clock: FixedClock, tmp_path: Path) -> None:
    await seed(client, people, clock)
    auditor = await asyncio.to_thread(breach.person, "auditor")

    async def run(*args: str) -> Result:
        """`breach …` as the auditor; in a thread of its own, since it runs its own event loop."""
        return await asyncio.to_thread(breach, *args, user=auditor)

    shown = json.loads((await run("audit", "register")).stdout)
    api = (await client.get("/api/v1/register", headers=people["auditor"].headers)).json()
    assert shown == api  # the command prints what the API answers
    assert shown["total"] == 5

    dismissed = csv_rows((await run("audit", "register", "--format", "csv", "--status",
                                    "dismissed")).stdout)
    assert [(r["reference"], r["dismissal_reason"]) for r in dismissed] == [(DISMISSED, DISMISSAL)]

    done = await run("audit", "register", "--format", "pdf", "-o", "register.pdf")
    assert done.stderr.strip() == "register of 5 incidents written to register.pdf"
    text = pdf_text(tmp_path / "register.pdf")
    assert "Breach register" in text and DISMISSAL in text and OVERDUE in text
    assert_not_blank(tmp_path / "register.pdf")
    piped = await run("audit", "register", "--format", "pdf")  # to a pipe, not a terminal
    assert piped.stdout_bytes.startswith(b"%PDF-")

    # Times without an offset are in BREACH_TIMEZONE: January in Berlin.
    january = csv_rows((await run("audit", "compliance", "--from", "2026-01-01", "--to",
                                  "2026-02-01", "--format", "csv")).stdout)
    assert [(r["reference"], r["obligation"], r["outcome"]) for r in january] == [
        (FIRST, "gdpr/authority", "on_time"), (FIRST, "gdpr/data-subjects", "waived"),
        (LATE, "gdpr/authority", "late"), (LATE, "gdpr/data-subjects", "on_time")]
    quarters = json.loads((await run("audit", "compliance", "--per", "quarter")).stdout)
    assert [p["period"] for p in quarters["periods"]] == ["2026-Q1"]
    assert quarters["overall"]["share_on_time"] == 0.5

    done = await run("audit", "compliance", "--format", "pdf", "--output", "compliance.pdf")
    assert done.stderr.strip() == "compliance of 6 duties written to compliance.pdf"
    text = pdf_text(tmp_path / "compliance.pdf")
    assert "Deadline compliance" in text and "overdue by 2 d" in text and "67 %" in text
    assert_not_blank(tmp_path / "compliance.pdf")

    await run("audit", "register", "--format", "json", "-o", "register.json")
    assert json.loads((tmp_path / "register.json").read_text())["total"] == 5


def test_bad_input_is_one_line_and_a_failure(breach: Breach) -> None:  # noqa: F811
    assert "from must be before to" in breach.error(
        "audit", "register", "--from", "2026-03-01", "--to", "2026-02-01")
    assert "must be between 1970-01-01 and 9998-12-31" in breach.error(
        "audit", "compliance", "--from", "0001-01-01T00:00:00+00:00")
    assert "9999-01-01" in breach.error("audit", "register", "--to", "9999-01-01")
    assert "not an ISO 8601" in breach.error("audit", "register", "--from", "last week")
    refused = breach("audit", "register", "--status", "archived", ok=False)
    assert refused.exit_code == 2 and "--status" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "--per" in breach.error("audit", "compliance", "--per", "week")
    assert "cannot write" in breach.error("audit", "register", "-o", "missing/dir/r.json")
    assert "name the Breachdesk user" in breach.error("audit", "register", user=None)


def test_the_commands_sit_in_the_audit_group_and_their_choices_are_the_rules(
        breach: Breach) -> None:  # noqa: F811
    from incident.lifecycle.rules import Status
    from notifications.register.cli import PERIODS, STATUSES
    from notifications.register.rules import Per

    assert tuple(s.value for s in Status) == STATUSES
    assert tuple(p.value for p in Per) == PERIODS
    listed = breach("audit", "--help").stdout
    for command in ("register", "compliance", "verify", "export"):
        assert f"  {command} " in listed, listed

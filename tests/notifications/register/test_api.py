"""The register and the compliance report over the API, on both lanes, against five incidents
whose every line is worked out by hand (see samples.py): JSON, CSV and PDF, the filters, and
bad input refused with problem details naming the parameter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from incident.kernel.clock import FixedClock
from tests.factories import Person
from tests.notifications.register.samples import (
    DISMISSAL,
    DISMISSED,
    EVIDENCE,
    EVIDENCE_SHA256,
    FIRST,
    HARMLESS,
    HOW_LETTERS,
    HOW_PORTAL,
    LATE,
    LATE_REASON,
    OVERDUE,
    WAIVER,
    assert_not_blank,
    csv_rows,
    pdf_text,
    seed,
)

HOUR = 3600
DAY = 24 * HOUR


@pytest.fixture
async def seeded(client: httpx.AsyncClient, people: dict[str, Person],
                 clock: FixedClock) -> dict[str, Person]:
    await seed(client, people, clock)
    return people


def by_ref(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["ref"]: item for item in items}


async def test_the_register_documents_every_incident_with_its_facts_effects_action_and_duties(
        client: httpx.AsyncClient, seeded: dict[str, Person]) -> None:
    auditor, approver = seeded["auditor"], seeded["approver"]
    found = await client.get("/api/v1/register", headers=auditor.headers)
    assert found.status_code == 200, found.text
    register = found.json()
    assert register["organisation"] == "Example GmbH"
    assert register["time_zone"] == "Europe/Berlin"
    assert register["total"] == 5
    entries = {e["reference"]: e for e in register["incidents"]}
    assert [e["reference"] for e in register["incidents"]] == [FIRST, LATE, DISMISSED, HARMLESS,
                                                              OVERDUE]

    first = entries[FIRST]
    assert first["facts"]["aware_at"] == "2026-01-05T09:00:00Z"
    assert first["facts"]["detected_at"] == "2026-01-05T08:30:00Z"
    assert first["facts"]["occurred_from"] == "2026-01-04T23:00:00Z"
    assert first["facts"]["data_categories"] == ["contact", "financial"]
    assert first["facts"]["estimated_records"] == 3600
    assert first["people"] == {"count": 3, "basis": "snapshot", "snapshot": 1}
    assert first["dismissal"] is None and first["effects"] is None
    assert first["remedial_action"]["measures"] == ["The device was locked or wiped remotely."]
    assert first["remedial_action"]["steps_done"] == 1
    [kept] = first["evidence"]
    assert (kept["sha256"], kept["filename"], kept["size"]) == (
        EVIDENCE_SHA256, "wipe-log.txt", len(EVIDENCE))
    assert kept["step"] == "lost-device/remote-lock-wipe"
    download = await client.get(kept["url"], headers=auditor.headers)
    assert download.status_code == 200 and download.content == EVIDENCE
    duties = by_ref(first["duties"])
    authority = duties["gdpr/authority"]
    assert (authority["decision"], authority["due_at"], authority["met_at"], authority["how"],
            authority["late_by_seconds"]) == (
        "notified", "2026-01-08T09:00:00Z", "2026-01-07T09:00:00Z", HOW_PORTAL, None)
    waived = duties["gdpr/data-subjects"]
    assert (waived["decision"], waived["reason"], waived["decided_by"], waived["decided_at"]) == (
        "waived", WAIVER, approver.email, "2026-01-07T09:00:00Z")
    timeline = first["timeline"]
    assert timeline["url"] == f"/incidents/{FIRST}"
    events = (await client.get(f"/api/v1/incidents/{FIRST}/timeline", headers=auditor.headers)
              ).json()
    # The register's own read of the evidence above is the last event; it is counted now.
    assert timeline["events"] == len(events) - 1
    assert timeline["head_hash"] == events[-2]["hash"]

    late = entries[LATE]
    assert late["people"] == {"count": 250, "basis": "estimate", "snapshot": None}
    duties = by_ref(late["duties"])
    assert (duties["gdpr/authority"]["decision"], duties["gdpr/authority"]["late_by_seconds"],
            duties["gdpr/authority"]["reason"]) == ("notified", DAY + 2 * HOUR + 30 * 60,
                                                    LATE_REASON)
    assert (duties["gdpr/data-subjects"]["decision"], duties["gdpr/data-subjects"]["met_at"],
            duties["gdpr/data-subjects"]["how"], duties["gdpr/data-subjects"]["late_by_seconds"]
            ) == ("notified", "2026-01-25T08:00:00Z", HOW_LETTERS, None)

    dismissed = entries[DISMISSED]
    assert dismissed["status"] == "dismissed"
    assert dismissed["dismissal"] == {"at": "2026-02-02T09:00:00Z", "by": approver.email,
                                      "reason": DISMISSAL}
    assert {d["decision"] for d in dismissed["duties"]} == {"not_owed"}

    harmless = entries[HARMLESS]
    assert (harmless["effects"]["severity"], harmless["effects"]["recommendation"]) == (
        "low", "document")
    assert harmless["effects"]["reasons"]
    assert {d["decision"] for d in harmless["duties"]} == {"not_applicable"}
    assert all(d["why_not"] for d in harmless["duties"])

    overdue = by_ref(entries[OVERDUE]["duties"])
    assert (overdue["gdpr/authority"]["decision"], overdue["gdpr/authority"]["overdue"]) == (
        "open", True)
    assert (overdue["gdpr/data-subjects"]["decision"],
            overdue["gdpr/data-subjects"]["overdue"]) == ("open", False)
    assert entries[OVERDUE]["remedial_action"] == {"measures": [], "steps_done": 0,
                                                   "steps_skipped": 0, "steps_total": 0}


async def test_the_register_is_filtered_by_awareness_and_status(
        client: httpx.AsyncClient, seeded: dict[str, Person]) -> None:
    headers = seeded["approver"].headers

    async def references(**query: str) -> list[str]:
        found = await client.get("/api/v1/register", params=query, headers=headers)
        assert found.status_code == 200, found.text
        return [e["reference"] for e in found.json()["incidents"]]

    february = {"from": "2026-02-01T00:00:00+01:00", "to": "2026-03-01T00:00:00+01:00"}
    assert await references(**february) == [DISMISSED, HARMLESS]
    assert await references(status="dismissed") == [DISMISSED]
    assert await references(**february, status="open") == [HARMLESS]
    # `from` is included, `to` excluded: the instant LATE became known.
    assert await references(**{"from": "2026-01-20T10:00:00Z"}) == [LATE, DISMISSED, HARMLESS,
                                                                     OVERDUE]
    assert await references(**{"to": "2026-01-20T10:00:00Z"}) == [FIRST]
    assert await references(status="closed") == []


@pytest.mark.parametrize(("query", "status", "field"), [
    ({"from": "2026-03-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, 422, "from"),
    ({"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, 422, "from"),
    ({"from": "0001-01-01T00:00:00Z"}, 422, "from"),
    ({"to": "9999-01-01T00:00:00Z"}, 422, "to"),
    ({"from": "2026-03-01"}, 422, "from"),
    ({"to": "yesterday"}, 422, "to"),
    ({"status": "archived"}, 400, "status"),
])
async def test_bad_filters_are_problems_naming_the_parameter(
        client: httpx.AsyncClient, people: dict[str, Person], query: dict[str, str], status: int,
        field: str) -> None:
    for path in ("/api/v1/register", "/api/v1/register.csv", "/api/v1/compliance.pdf"):
        if field == "status" and "compliance" in path:
            continue
        found = await client.get(path, params=query, headers=people["auditor"].headers)
        assert found.status_code == status, (path, found.text)
        assert found.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in found.json()["errors"]], found.json()


async def test_unknown_period_grouping_and_missing_credentials_are_refused(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    wrong = await client.get("/api/v1/compliance", params={"per": "week"},
                             headers=people["auditor"].headers)
    assert wrong.status_code == 400 and "per" in wrong.text
    for path in ("/api/v1/register", "/api/v1/compliance", "/api/v1/register.pdf"):
        assert (await client.get(path)).status_code == 401


async def test_the_compliance_report_measures_each_duty_and_sums_up_each_period(
        client: httpx.AsyncClient, seeded: dict[str, Person]) -> None:
    found = await client.get("/api/v1/compliance", headers=seeded["auditor"].headers)
    assert found.status_code == 200, found.text
    report = found.json()
    assert report["per"] == "month"
    incidents = {i["reference"]: i for i in report["incidents"]}
    first = by_ref(incidents[FIRST]["duties"])
    assert (first["gdpr/authority"]["outcome"], first["gdpr/authority"]["due_at"],
            first["gdpr/authority"]["met_at"]) == ("on_time", "2026-01-08T09:00:00Z",
                                                   "2026-01-07T09:00:00Z")
    assert (first["gdpr/data-subjects"]["outcome"], first["gdpr/data-subjects"]["reason"],
            first["gdpr/data-subjects"]["decided_by"]) == ("waived", WAIVER,
                                                           seeded["approver"].email)
    assert incidents[FIRST]["notice_seconds"] == 2 * DAY
    late = by_ref(incidents[LATE]["duties"])["gdpr/authority"]
    assert (late["outcome"], late["late_by_seconds"], late["reason"]) == (
        "late", DAY + 2 * HOUR + 30 * 60, LATE_REASON)
    assert incidents[LATE]["notice_seconds"] == 4 * DAY + 2 * HOUR + 30 * 60
    # Nothing is owed for a dismissed incident, nor where no duty applies.
    assert incidents[DISMISSED]["duties"] == [] and incidents[HARMLESS]["duties"] == []
    open_ = by_ref(incidents[OVERDUE]["duties"])
    assert (open_["gdpr/authority"]["outcome"], open_["gdpr/authority"]["overdue"],
            open_["gdpr/authority"]["overdue_by_seconds"]) == ("open", True, 2 * DAY)
    assert (open_["gdpr/data-subjects"]["overdue"], open_["gdpr/data-subjects"]["seconds_left"]
            ) == (False, None)
    assert [m["name"] for m in incidents[OVERDUE]["milestones"]] == ["occurred", "detected",
                                                                    "aware"]

    periods = {p["period"]: p["summary"] for p in report["periods"]}
    assert list(periods) == ["2026-01", "2026-02", "2026-03"]
    # January: FIRST and LATE. On time: FIRST's authority, LATE's people; late: LATE's
    # authority; waived: FIRST's people. Awareness to the authority: 48 h and 4 d 2 h 30 min.
    assert periods["2026-01"] == {
        "incidents": 2, "duties": 4, "on_time": 2, "late": 1, "waived": 1, "open": 0,
        "overdue": 0, "share_on_time": 2 / 3, "notices": 2,
        "median_notice_seconds": (2 * DAY + 4 * DAY + 2 * HOUR + 30 * 60) // 2,
        "worst_notice_seconds": 4 * DAY + 2 * HOUR + 30 * 60, "worst_notice_incident": LATE}
    assert periods["2026-02"] == {
        "incidents": 2, "duties": 0, "on_time": 0, "late": 0, "waived": 0, "open": 0,
        "overdue": 0, "share_on_time": None, "notices": 0, "median_notice_seconds": None,
        "worst_notice_seconds": None, "worst_notice_incident": None}
    assert (periods["2026-03"]["open"], periods["2026-03"]["overdue"],
            periods["2026-03"]["share_on_time"]) == (2, 1, 0.0)
    assert report["overall"]["share_on_time"] == 0.5
    assert (report["overall"]["duties"], report["overall"]["incidents"]) == (6, 5)

    quarters = (await client.get("/api/v1/compliance", params={"per": "quarter"},
                                 headers=seeded["auditor"].headers)).json()
    assert [(p["period"], p["start"], p["end"]) for p in quarters["periods"]] == [
        ("2026-Q1", "2025-12-31T23:00:00Z", "2026-03-31T22:00:00Z")]  # Berlin's calendar


async def test_csv_exports_hold_what_the_json_holds(
        client: httpx.AsyncClient, seeded: dict[str, Person]) -> None:
    headers = seeded["auditor"].headers
    register = await client.get("/api/v1/register.csv", headers=headers)
    assert register.status_code == 200, register.text
    assert register.headers["content-type"].startswith("text/csv")
    rows = {r["reference"]: r for r in csv_rows(register.text)}
    assert list(rows) == [FIRST, LATE, DISMISSED, HARMLESS, OVERDUE]
    assert (rows[FIRST]["people"], rows[FIRST]["people_basis"]) == ("3", "snapshot 1")
    assert rows[FIRST]["evidence"] == f"{EVIDENCE_SHA256}  wipe-log.txt"
    assert rows[LATE]["duties"].splitlines()[0] == (
        f"gdpr/authority: notified 2026-01-24T12:30:00Z ({HOW_PORTAL}), late by 1 d 2 h 30 min: "
        f"{LATE_REASON}")
    assert rows[DISMISSED]["dismissal_reason"] == DISMISSAL

    compliance = await client.get("/api/v1/compliance.csv", headers=headers)
    lines = csv_rows(compliance.text)
    assert [(r["reference"], r["obligation"], r["outcome"]) for r in lines] == [
        (FIRST, "gdpr/authority", "on_time"), (FIRST, "gdpr/data-subjects", "waived"),
        (LATE, "gdpr/authority", "late"), (LATE, "gdpr/data-subjects", "on_time"),
        (OVERDUE, "gdpr/authority", "open"), (OVERDUE, "gdpr/data-subjects", "open")]
    assert (lines[2]["late_by_seconds"], lines[2]["late_by"], lines[2]["reason"]) == (
        str(DAY + 2 * HOUR + 30 * 60), "1 d 2 h 30 min", LATE_REASON)
    assert (lines[4]["overdue"], lines[4]["overdue_by_seconds"]) == ("yes", str(2 * DAY))


async def test_pdfs_print_the_pages(client: httpx.AsyncClient, seeded: dict[str, Person],
                                    tmp_path: Path) -> None:
    for path, words in [
            ("/api/v1/register.pdf", ["Breach register", FIRST, DISMISSAL,
                                      "late by 1 d 2 h 30 min"]),
            ("/api/v1/compliance.pdf", ["Deadline compliance", "2026-01", "67 %",
                                        "overdue by 2 d", "Bars run from each duty's trigger"])]:
        found = await client.get(path, headers=seeded["auditor"].headers)
        assert found.status_code == 200, found.text
        assert found.headers["content-type"] == "application/pdf"
        assert found.content.startswith(b"%PDF-")
        pdf = tmp_path / path.rsplit("/", 1)[1]
        pdf.write_bytes(found.content)
        text = pdf_text(pdf)
        for word in words:
            assert word in text, (path, word, text[:2000])
        if "register" in path:  # a hash may wrap in its cell
            assert EVIDENCE_SHA256 in text.replace(" ", "")
        assert_not_blank(pdf)

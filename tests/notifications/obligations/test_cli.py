"""`breach organisation` and the assessment and obligation commands, as an operator uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.incident.test_cli import Run, breach, one_line_error  # noqa: F401  (fixture)
from tests.notifications.obligations.test_service import LOW_RISK, PROFILE


# The same use cases run on PostgreSQL through the API tests; one lane is enough here.
@pytest.mark.parametrize("lane", ["sqlite"])
def test_profile_assessment_override_and_records(breach: Run, tmp_path: Path) -> None:  # noqa: F811
    assert "no organisation profile" in one_line_error(breach("organisation", "show", ok=False))
    (tmp_path / "org.json").write_text(json.dumps({**PROFILE, "country": "Germany"}))
    assert "country" in one_line_error(breach("organisation", "set", "org.json", ok=False))
    (tmp_path / "org.json").write_text(json.dumps(PROFILE))
    breach("organisation", "set", "org.json")
    assert json.loads(breach("organisation", "show", "--json").stdout)["country"] == "DE"

    reference = breach("incidents", "create", "--title", "Laptop stolen", "--kind", "lost_device",
                       "--aware-at", "2026-01-05T09:00:00+01:00").stdout.split()[0]
    listed = breach("incidents", "obligations", reference).stdout
    assert "gdpr/authority" in listed and "2026-01-08 09:00 CET" in listed  # Europe/Warsaw

    (tmp_path / "low.json").write_text(json.dumps(LOW_RISK))
    assert "recommendation document" in breach("incidents", "assess", reference, "low.json").stdout
    (tmp_path / "bad.json").write_text(json.dumps({**LOW_RISK, "subjects": -1}))
    assert "subjects" in one_line_error(breach("incidents", "assess", reference, "bad.json", ok=False))
    after = json.loads(breach("incidents", "obligations", reference, "--json").stdout)
    assert {o["ref"]: o["applies"] for o in after["obligations"]}["gdpr/authority"] is False

    assert "justification" in one_line_error(breach("incidents", "override", reference,
                                                    "notify_authority", "--justification", "x",
                                                    ok=False))
    breach("incidents", "override", reference, "notify_authority",
           "--justification", "Key custody could not be confirmed.")
    late = one_line_error(breach("incidents", "obligation", reference, "gdpr/authority", "met",
                                 "--how", "portal", ok=False))
    assert "Art. 33(1)" in late  # the incident became known in January: it is long overdue
    done = breach("incidents", "obligation", reference, "gdpr/authority", "met", "--how", "portal",
                  "--reason", "The device owner reported the theft weeks later.")
    assert "gdpr/authority: late" in done.stdout
    assert "no obligation" in one_line_error(breach("incidents", "obligation", reference,
                                                    "gdpr/nothing", "met", ok=False))
    events = [json.loads(line) for line in breach("audit", "export", reference).stdout.splitlines()]
    kinds = [e["kind"] for e in events]
    assert {"assessment_recorded", "assessment_overridden", "obligation_late"} <= set(kinds)

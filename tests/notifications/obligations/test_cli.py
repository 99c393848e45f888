"""`breach organisation` and the assessment and obligation commands, as an operator uses them:
in-process on both lanes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from notifications.obligations.regime_loader import load_regimes
from tests.cli_support import Breach, breach  # noqa: F401  (fixture)
from tests.factories import LOW_RISK, PROFILE

BREACH = str(Path(sys.executable).with_name("breach"))


def test_profile_assessment_override_and_records(breach: Breach, tmp_path: Path) -> None:  # noqa: F811
    assert "no organisation profile" in breach.error("organisation", "show")
    (tmp_path / "org.json").write_text(json.dumps({**PROFILE, "country": "Germany"}))
    assert "country" in breach.error("organisation", "set", "org.json")
    (tmp_path / "org.json").write_text(json.dumps(PROFILE))
    breach("organisation", "set", "org.json")
    assert json.loads(breach("organisation", "show", "--json").stdout)["country"] == "DE"

    reference = breach("incidents", "create", "--title", "Laptop stolen", "--kind", "lost_device",
                       "--aware-at", "2026-01-05T09:00:00+01:00").stdout.split()[0]
    listed = breach("incidents", "obligations", reference).stdout
    assert "gdpr/authority" in listed and "2026-01-08 09:00 CET" in listed  # BREACH_TIMEZONE

    (tmp_path / "low.json").write_text(json.dumps(LOW_RISK))
    assessed = breach("incidents", "assess", reference, "low.json").stdout
    assert "recommendation document" in assessed
    assert "pending: it would end gdpr/authority" in assessed  # the duty stays until confirmed
    (tmp_path / "bad.json").write_text(json.dumps({**LOW_RISK, "subjects": -1}))
    assert "subjects" in breach.error("incidents", "assess", reference, "bad.json")
    before = json.loads(breach("incidents", "obligations", reference, "--json").stdout)
    assert {o["ref"]: o["applies"] for o in before["obligations"]}["gdpr/authority"] is True

    approver, responder = breach.person("approver"), breach.person("responder")
    # Four eyes: neither the author (the default admin) nor a responder confirms it.
    assert "another approver must confirm it" in breach.error("incidents", "confirm", reference, "1")
    assert "may not approve" in breach.error("incidents", "confirm", reference, "1", user=responder)
    assert "no assessment 9" in breach.error("incidents", "confirm", reference, "9", user=approver)
    confirmed = breach("incidents", "confirm", reference, "1", user=approver).stdout
    assert "assessment 1 confirmed: document in force; no longer due: gdpr/authority" in confirmed
    after = json.loads(breach("incidents", "obligations", reference, "--json").stdout)
    assert {o["ref"]: o["applies"] for o in after["obligations"]}["gdpr/authority"] is False

    assert "justification" in breach.error("incidents", "override", reference,
                                           "notify_authority", "--justification", "x")
    justified = ("incidents", "override", reference, "notify_authority",
                 "--justification", "Key custody could not be confirmed.")
    assert "the role responder may not approve" in breach.error(*justified, user=responder)
    breach(*justified, user=approver)
    late = breach.error("incidents", "obligation", reference, "gdpr/authority", "met",
                        "--how", "portal")
    assert "Art. 33(1)" in late  # the incident became known in January: it is long overdue
    done = breach("incidents", "obligation", reference, "gdpr/authority", "met", "--how", "portal",
                  "--reason", "The device owner reported the theft weeks later.")
    assert "gdpr/authority: late" in done.stdout
    assert "no obligation" in breach.error("incidents", "obligation", reference,
                                           "gdpr/nothing", "met")
    events = [json.loads(line) for line in breach("audit", "export", reference).stdout.splitlines()]
    actors = {e["kind"]: e["actor"] for e in events}
    assert actors["assessment_overridden"] == approver  # the timeline names who acted
    assert {"assessment_recorded", "obligation_late"} <= set(actors)
    assert actors["assessment_confirmed"] == approver


def test_recommendation_choices_are_the_assessments() -> None:
    from notifications.obligations.assessment import Recommendation
    from notifications.obligations.cli import RECOMMENDATIONS

    assert tuple(r.value for r in Recommendation) == RECOMMENDATIONS


def test_stored_line_breaks_in_names_stay_on_one_line(breach: Breach, tmp_path: Path) -> None:  # noqa: F811
    """Rows written before the input checks existed cannot split or colour a line."""
    from tests.incident.kernel.test_bad_input import store

    (tmp_path / "org.json").write_text(json.dumps(PROFILE))
    breach("organisation", "set", "org.json")
    reference = breach("incidents", "create", "--title", "Laptop stolen", "--kind", "lost_device",
                       "--aware-at", "2026-01-05T09:00:00+01:00").stdout.split()[0]
    breach("incidents", "obligations", reference)
    store(breach, "UPDATE organisation_profile SET name = :v WHERE name = :k", "Example\n\x1b[2J",
          PROFILE["name"])
    store(breach, "UPDATE incident_obligations SET recipient_name = :v WHERE ref = :k",
          "BlnBDI\nforged line", "gdpr/authority")
    shown = breach("organisation", "show").stdout
    assert "Example\\x0a\\x1b[2J" in shown and "\x1b" not in shown
    listed = breach("incidents", "obligations", reference).stdout
    authority = [line for line in listed.splitlines() if line.startswith("gdpr/authority")]
    assert len(authority) == 1 and authority[0].endswith("BlnBDI\\x0aforged line"), listed


def test_the_catalogue_is_listed_shown_and_a_folder_validated(
        breach: Breach, tmp_path: Path) -> None:  # noqa: F811
    listed = breach.json("regimes", "list", user=None)
    assert len(listed) == len(load_regimes()) and {"id": "gdpr", "jurisdiction": "EU"}.items() <= listed[
        [row["id"] for row in listed].index("gdpr")].items()
    assert all(row["confidence"] in ("high", "medium", "low") and row["reviewed"]
               for row in listed)
    shown = breach("regimes", "show", "jp-appi", user=None).stdout
    assert "jp-appi/final: to Personal Information Protection Commission" in shown
    assert "moves to the next day that is none of these" in shown
    assert "citation: APPI Art. 26(1); PPC Enforcement Rules Art. 8(2)" in shown
    texas = breach("regimes", "show", "us-tx", user=None).stdout
    assert "  in force from 2020-01-01\n  current wording: SB 768 (88th Leg., 2023)" in texas
    assert "  until 2023-08-31: HB 4 (86th Leg., 2019): not later than the 60th day" in texas
    unknown = breach.error("regimes", "show", "atlantis", user=None)
    assert unknown.startswith("breach: error: no regime 'atlantis'; there are: al-pdp, au-ndb, ")
    own = tmp_path / "own"
    own.mkdir()
    regime = (Path(__file__).parents[3] / "notifications" / "regimes" / "us-ca.yaml").read_text()
    (own / "us-ca.yaml").write_text(regime)
    valid = breach("regimes", "validate", str(own), user=None).stdout
    assert valid == f"{own}: 1 regime, 3 duties, valid\n"
    (own / "us-ca.yaml").write_text(regime.replace("calendar_days: 30", "calendar_dayz: 30"))
    refused = breach("regimes", "validate", str(own), user=None, ok=False)
    assert refused.exit_code == 1
    assert (f"{own / 'us-ca.yaml'}: obligations[individuals].deadline.calendar_dayz: Extra "
            "inputs are not permitted") in refused.stdout
    assert refused.stderr == f"breach: error: 2 problem(s) in the regime files of {own}\n"


def test_the_catalogue_commands_leave_nothing_behind(tmp_path: Path) -> None:
    # They read regime files only: no secret key is generated under var/.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREACH_")}
    env["BREACH_VAR_DIR"] = str(tmp_path / "var")
    for args in (["regimes", "list"], ["regimes", "show", "us-tx"]):
        done = subprocess.run([BREACH, *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
    assert not (tmp_path / "var").exists()

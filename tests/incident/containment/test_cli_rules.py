"""`breach runbooks|assess|obligations`: pure rules over files, run in-process with no user
named (they read no incident data) and no database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from incident.cli import cli
from incident.kernel.console import Runtime
from incident.kernel.settings import Settings

Run = Callable[..., tuple[int, str, str]]
"""`run(*args, runbooks_dir=None)` -> (exit status, stdout, stderr)."""


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """`breach ARGS` with the shipped runbooks (or `runbooks_dir=`), as nobody in particular."""

    def invoke(*args: str, runbooks_dir: Path | None = None) -> tuple[int, str, str]:
        settings = Settings(var_dir=tmp_path / "var", secret_key="test", runbooks_dir=runbooks_dir)
        done = CliRunner().invoke(cli, list(args), obj=Runtime(settings=settings),
                                  env={"BREACH_USER": None, "BREACH_TOKEN": None},
                                  catch_exceptions=False)
        return done.exit_code, done.stdout, done.stderr

    return invoke


def test_shipped_runbooks_check_list_and_show(run: Run) -> None:
    code, out, _ = run("runbooks", "check")
    assert code == 0 and out.strip() == "8 runbooks, all valid"
    code, out, _ = run("runbooks", "list", "--json")
    ids = {r["id"] for r in json.loads(out)}
    assert {"ransomware", "lost-device"} <= ids
    code, out, _ = run("runbooks", "show", "ransomware", "--json")
    shown = json.loads(out)
    assert shown["id"] == "ransomware" and len(shown["digest"]) == 64
    code, _, err = run("runbooks", "show", "nope")
    assert code == 1 and err.startswith("breach: error: no runbook 'nope'")


def test_a_broken_runbook_folder_is_reported_and_fails(run: Run, tmp_path: Path) -> None:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "mine.yaml").write_text("id: mine\nversion: 1\ntitle: t\napplies_to: [other]\n"
                                      "description: d\nsteps:\n  - id: s\n    title: t\n"
                                      "    phase: contaiment\n    role: responder\n    due: 4h\n"
                                      "    evidence_required: false\n    guidance: g\n")
    code, out, err = run("runbooks", "check", runbooks_dir=folder)
    assert code == 1
    assert "mine.yaml" in out and "steps[0].phase" in out
    assert len(err.strip().splitlines()) == 1
    code, _, err = run("serve", "--port", "1", runbooks_dir=folder)
    assert code == 1 and "problem(s) in the runbooks" in err


def test_assess_prints_the_result(run: Run, tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({
        "data_categories": ["contact", "identity"], "subjects": 2400,
        "vulnerable_subjects": False, "identifiability": "maximum", "confidentiality": "at_risk",
        "integrity": "altered_no_misuse", "availability": "temporary", "malicious": True,
        "exfiltration": "ruled_out"}))
    code, out, _ = run("assess", str(facts))
    result = json.loads(out)
    assert code == 0 and result["recommendation"] == "notify_authority"
    assert result["score"] == pytest.approx(result["dpc"] * result["ei"] + result["cb"])
    facts.write_text(json.dumps({"data_categories": ["gossip"]}))
    code, _, err = run("assess", str(facts))
    assert code == 1 and "data_categories" in err and len(err.strip().splitlines()) == 1


def test_obligations_prints_duties_and_explains(run: Run,
                                                tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({
        "organisation": {"country": "DE", "timezone": "Europe/Berlin", "flags": []},
        "incident": {"aware_at": "2026-03-27T10:00:00+01:00", "risk": "high",
                     "data_categories": ["contact", "financial"]},
        "affected": {"DE": 1200, "US-CA": 650}}))
    code, out, _ = run("obligations", str(facts))
    duties = {(d["regime"], d["obligation"]): d for d in json.loads(out)}
    assert code == 0
    # 72 elapsed hours across the switch to summer time (29 March 2026 in Berlin).
    assert duties[("gdpr", "authority")]["due_at"] == "2026-03-30T09:00:00Z"
    assert duties[("gdpr", "data-subjects")]["due_at"] is None
    assert ("us-ca", "individuals") in duties
    assert all(d["applies"] for d in duties.values())
    code, out, _ = run("obligations", "--explain", str(facts))
    explained = json.loads(out)
    assert any(not d["applies"] and d["why"] for d in explained)
    facts.write_text("{}")
    code, _, err = run("obligations", str(facts))
    assert code == 1 and "organisation" in err
    code, _, err = run("obligations", str(tmp_path / "missing.json"))
    assert code == 2 and "does not exist" in err

"""`breach runbooks|assess|obligations`: pure rules over files, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incident.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BREACH_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("BREACH_RUNBOOKS_DIR", raising=False)


def test_shipped_runbooks_check_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "runbooks", "check")
    assert code == 0 and out.strip() == "8 runbooks, all valid"
    code, out, _ = run(capsys, "runbooks", "list", "--json")
    ids = {r["id"] for r in json.loads(out)}
    assert {"ransomware", "lost-device"} <= ids
    code, out, _ = run(capsys, "runbooks", "show", "ransomware", "--json")
    shown = json.loads(out)
    assert shown["id"] == "ransomware" and len(shown["digest"]) == 64
    code, _, err = run(capsys, "runbooks", "show", "nope")
    assert code == 1 and err.startswith("breach: error: no runbook 'nope'")


def test_a_broken_runbook_folder_is_reported_and_fails(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "mine.yaml").write_text("id: mine\nversion: 1\ntitle: t\napplies_to: [other]\n"
                                      "description: d\nsteps:\n  - id: s\n    title: t\n"
                                      "    phase: contaiment\n    role: responder\n    due: 4h\n"
                                      "    evidence_required: false\n    guidance: g\n")
    monkeypatch.setenv("BREACH_RUNBOOKS_DIR", str(folder))
    code, out, err = run(capsys, "runbooks", "check")
    assert code == 1
    assert "mine.yaml" in out and "steps[0].phase" in out
    assert len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "serve", "--port", "1")
    assert code == 1 and "problem(s) in the runbooks" in err


def test_assess_prints_the_result(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({
        "data_categories": ["contact", "identity"], "subjects": 2400,
        "vulnerable_subjects": False, "identifiability": "maximum", "confidentiality": "at_risk",
        "integrity": "altered_no_misuse", "availability": "temporary", "malicious": True,
        "exfiltration": "ruled_out"}))
    code, out, _ = run(capsys, "assess", str(facts))
    result = json.loads(out)
    assert code == 0 and result["recommendation"] == "notify_authority"
    assert result["score"] == pytest.approx(result["dpc"] * result["ei"] + result["cb"])
    facts.write_text(json.dumps({"data_categories": ["gossip"]}))
    code, _, err = run(capsys, "assess", str(facts))
    assert code == 1 and "data_categories" in err and len(err.strip().splitlines()) == 1


def test_obligations_prints_duties_and_explains(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({
        "organisation": {"country": "DE", "timezone": "Europe/Berlin", "flags": []},
        "incident": {"aware_at": "2026-03-27T10:00:00+01:00", "risk": "high",
                     "data_categories": ["contact", "financial"]},
        "affected": {"DE": 1200, "US-CA": 650}}))
    code, out, _ = run(capsys, "obligations", str(facts))
    duties = {(d["regime"], d["obligation"]): d for d in json.loads(out)}
    assert code == 0
    # 72 elapsed hours across the switch to summer time (29 March 2026 in Berlin).
    assert duties[("gdpr", "authority")]["due_at"] == "2026-03-30T09:00:00Z"
    assert duties[("gdpr", "data-subjects")]["due_at"] is None
    assert ("us-ca", "individuals") in duties
    assert all(d["applies"] for d in duties.values())
    code, out, _ = run(capsys, "obligations", "--explain", str(facts))
    explained = json.loads(out)
    assert any(not d["applies"] and d["why"] for d in explained)
    facts.write_text("{}")
    code, _, err = run(capsys, "obligations", str(facts))
    assert code == 1 and "organisation" in err
    code, _, err = run(capsys, "obligations", str(tmp_path / "missing.json"))
    assert code == 2 and "does not exist" in err

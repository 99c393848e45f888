"""Runbook schema, loading, error reports, suggestions, due times and digests."""

from __future__ import annotations

import copy
import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from incident.containment.runbooks import (
    DECIDE_NOTIFIABLE,
    LEGAL_CLOCK,
    MAX_DUE,
    NOTIFY_AUTHORITY,
    Phase,
    Problem,
    Runbook,
    RunbookError,
    Step,
    StepRole,
    load_catalogue,
    load_runbook,
    parse_due,
    parse_runbook,
    runbook_digest,
    runbook_to_dict,
    step_due_at,
    suggest_runbooks,
)
from incident.lifecycle.rules import Kind

SHIPPED = Path(__file__).resolve().parents[3] / "runbooks"
SHIPPED_FILES = sorted(SHIPPED.glob("*.yaml"))
LONDON = ZoneInfo("Europe/London")


# --- factories ---------------------------------------------------------------------------------


def a_step(step_id: str = "contain-it", **overrides: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"id": step_id, "title": "Do the thing", "phase": "contain",
                            "role": "responder", "due": "4h", "evidence_required": True,
                            "guidance": "Do it carefully. Record what you did."}
    step.update(overrides)
    return step


def a_runbook(**overrides: Any) -> dict[str, Any]:
    runbook: dict[str, Any] = {
        "id": "test-runbook", "version": 1, "title": "Test runbook", "applies_to": ["other"],
        "description": "A runbook for tests.",
        "steps": [a_step(),
                  a_step(DECIDE_NOTIFIABLE, phase="notify", role="approver", due="48h"),
                  a_step(NOTIFY_AUTHORITY, phase="notify", role="approver", due="72h")],
        "references": [{"title": "GDPR", "url": "https://eur-lex.europa.eu/eli/reg/2016/679/oj"}],
    }
    runbook.update(overrides)
    return runbook


def write(folder: Path, name: str, content: dict[str, Any] | str) -> Path:
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> tuple[Problem, ...]:
    with pytest.raises(RunbookError) as caught:
        load_runbook(path)
    return caught.value.problems


def only_problem(path: Path) -> Problem:
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0]


# --- the shipped runbooks ----------------------------------------------------------------------


def test_shipped_catalogue_loads_with_the_eight_scenarios() -> None:
    catalogue = load_catalogue(SHIPPED)
    assert len(catalogue) == len(SHIPPED_FILES) >= 8
    assert {"ransomware", "lost-device", "misdirected-communication", "account-takeover",
            "intrusion-exfiltration", "insider-misuse", "vendor-breach",
            "accidental-publication"} <= set(catalogue.runbooks)
    for runbook_id, source in catalogue.sources.items():
        assert source.parent == SHIPPED
        assert catalogue[runbook_id].id == runbook_id


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.stem)
def test_each_shipped_runbook_is_complete(path: Path) -> None:
    runbook = load_runbook(path)
    assert runbook.id == path.stem
    assert runbook.references and all(ref.title for ref in runbook.references)
    assert len({step.id for step in runbook.steps}) == len(runbook.steps)
    # Every shipped plan covers the life cycle, so progress per phase means something.
    assert {Phase.IDENTIFY, Phase.CONTAIN, Phase.NOTIFY, Phase.REVIEW} <= {
        step.phase for step in runbook.steps}
    ids = {step.id for step in runbook.steps}
    assert {DECIDE_NOTIFIABLE, NOTIFY_AUTHORITY} <= ids


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.stem)
def test_legal_duty_steps_are_due_within_72_hours(path: Path) -> None:
    runbook = load_runbook(path)
    aware_at = datetime(2026, 3, 28, 22, 30, tzinfo=LONDON)  # the clock crosses a DST change
    due = {step.id: step_due_at(step, aware_at) for step in runbook.steps
           if step.id in (DECIDE_NOTIFIABLE, NOTIFY_AUTHORITY)}
    for at in due.values():
        assert at.astimezone(UTC) - aware_at.astimezone(UTC) <= timedelta(hours=72)
    if len(due) == 2:
        assert due[DECIDE_NOTIFIABLE] <= due[NOTIFY_AUTHORITY]


def test_every_kind_has_a_runbook_and_suggestions_match_applies_to() -> None:
    catalogue = load_catalogue(SHIPPED)
    for kind in Kind:
        suggested = suggest_runbooks(catalogue, kind)
        assert suggested, f"no shipped runbook applies to {kind}"
        assert [rb.id for rb in suggested] == sorted(
            rb.id for rb in catalogue if kind in rb.applies_to)
        assert suggest_runbooks(catalogue, kind.value) == suggested


def test_suggestion_of_an_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        suggest_runbooks(load_catalogue(SHIPPED), "alien_invasion")


# --- bad files, one kind at a time -------------------------------------------------------------


def test_unknown_top_level_field(tmp_path: Path) -> None:
    path = write(tmp_path, "rb.yaml", a_runbook(colour="red"))
    problem = only_problem(path)
    assert (problem.path, problem.field) == (path, "colour")
    assert problem.message.startswith("unknown field") and "applies_to" in problem.message


def test_unknown_step_field_names_the_step(tmp_path: Path) -> None:
    data = a_runbook()
    data["steps"][1]["evidence_requried"] = True
    problems = problems_of(write(tmp_path, "rb.yaml", data))
    assert {(p.field, p.message.split(" (")[0]) for p in problems} == {
        ("steps[1].evidence_requried", "unknown field")}
    assert "evidence_required" in problems[0].message


@pytest.mark.parametrize(("remove", "field"), [
    ((), "version"), ((0,), "steps[0].guidance"), ((2,), "steps[2].role")])
def test_missing_field(tmp_path: Path, remove: tuple[int, ...], field: str) -> None:
    data = a_runbook()
    if remove:
        del data["steps"][remove[0]][field.rsplit(".", 1)[1]]
    else:
        del data[field]
    problem = only_problem(write(tmp_path, "rb.yaml", data))
    assert (problem.field, problem.message) == (field, "missing field")


@pytest.mark.parametrize(("step_field", "value"), [
    ("phase", "containment"), ("role", "auditor"), ("evidence_required", "maybe")])
def test_bad_step_values(tmp_path: Path, step_field: str, value: str) -> None:
    data = a_runbook()
    data["steps"][2][step_field] = value
    path = write(tmp_path, "rb.yaml", data)
    problem = only_problem(path)
    assert (problem.path, problem.field) == (path, f"steps[2].{step_field}")
    assert repr(value) in problem.message


def test_bad_enum_lists_the_allowed_values(tmp_path: Path) -> None:
    data = a_runbook()
    data["steps"][0]["phase"] = "containment"
    problem = only_problem(write(tmp_path, "rb.yaml", data))
    assert all(phase.value in problem.message for phase in Phase)


def test_bad_incident_kind(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, "rb.yaml", a_runbook(applies_to=["other", "pirates"])))
    assert problem.field == "applies_to[1]" and "'pirates'" in problem.message


def test_kind_listed_twice(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, "rb.yaml", a_runbook(applies_to=["other", "other"])))
    assert problem.field == "applies_to" and "more than once" in problem.message


@pytest.mark.parametrize("value", [True, 1.5, 0, "2"])
def test_bad_version(tmp_path: Path, value: object) -> None:
    problem = only_problem(write(tmp_path, "rb.yaml", a_runbook(version=value)))
    assert problem.field == "version"


@pytest.mark.parametrize("value", ["Ransomware", "two words", "under_score", "-lead", ""])
def test_ids_must_be_slugs(tmp_path: Path, value: str) -> None:
    data = a_runbook(id=value)
    data["steps"][0]["id"] = value
    fields = {p.field for p in problems_of(write(tmp_path, "rb.yaml", data))}
    assert fields == {"id", "steps[0].id"}


def test_duplicate_step_id(tmp_path: Path) -> None:
    data = a_runbook()
    data["steps"].append(a_step("contain-it", title="Again"))
    problem = only_problem(write(tmp_path, "rb.yaml", data))
    assert problem.field == "steps[3].id"
    assert "duplicate step id 'contain-it'" in problem.message and "steps[0]" in problem.message


@pytest.mark.parametrize("due", ["4 hours", "4", 4, "h4", "4h2d", "0h", "366d", "", "1.5h",
                                 "4H", "2w"])
def test_bad_due_notation(tmp_path: Path, due: object) -> None:
    data = a_runbook()
    data["steps"][0]["due"] = due
    problem = only_problem(write(tmp_path, "rb.yaml", data))
    assert problem.field == "steps[0].due"
    assert "due" in problem.message


@pytest.mark.parametrize(("step_id", "due"), [(DECIDE_NOTIFIABLE, "4d"),
                                              (NOTIFY_AUTHORITY, "72h1m")])
def test_legal_duty_step_after_72_hours_is_rejected(tmp_path: Path, step_id: str,
                                                    due: str) -> None:
    data = a_runbook()
    index = next(i for i, s in enumerate(data["steps"]) if s["id"] == step_id)
    data["steps"][index]["due"] = due
    problems = problems_of(write(tmp_path, "rb.yaml", data))
    assert f"steps[{index}].due" in {p.field for p in problems}
    assert any("72h" in p.message and "Art. 33" in p.message for p in problems)


def test_deciding_after_notifying_is_rejected(tmp_path: Path) -> None:
    data = a_runbook()
    data["steps"][1]["due"] = "60h"
    data["steps"][2]["due"] = "24h"
    problem = only_problem(write(tmp_path, "rb.yaml", data))
    assert problem.field == "steps[1].due" and "decide before notifying" in problem.message


def test_empty_steps(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, "rb.yaml", a_runbook(steps=[])))
    assert problem.field == "steps" and "at least 1" in problem.message


def test_yaml_syntax_error_reports_the_line(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        id: broken
        version: 1
        title: Broken
        applies_to: [other
        description: unclosed list above
        """)
    path = write(tmp_path, "broken.yaml", text)
    problem = only_problem(path)
    assert problem.path == path and problem.line == 5
    assert problem.message.startswith("YAML syntax error")
    assert str(problem).startswith(f"{path}:5: YAML syntax error")


@pytest.mark.parametrize(("text", "found"), [("- a\n- b\n", "a list"), ("just words\n", "a string"),
                                             ("42\n", "a int")])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, found: str) -> None:
    problem = only_problem(write(tmp_path, "rb.yaml", text))
    assert problem.field == "" and "top level must be a mapping" in problem.message
    assert found in problem.message


def test_empty_file(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, "rb.yaml", "# only a comment\n"))
    assert "empty" in problem.message


def test_duplicate_key_is_reported_with_both_lines(tmp_path: Path) -> None:
    text = yaml.safe_dump(a_runbook(), sort_keys=False).replace(
        "  guidance: Do it carefully. Record what you did.\n",
        "  guidance: Do it carefully. Record what you did.\n  guidance: again\n", 1)
    problem = only_problem(write(tmp_path, "rb.yaml", text))
    assert problem.field == "steps[0].guidance"
    assert problem.line is not None and f"first at line {problem.line - 1}" in problem.message


def test_field_problems_carry_the_line_of_the_field(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        id: lines
        version: 1
        title: Lines
        applies_to: [other]
        description: Where things are.
        steps:
          - id: first
            title: First
            phase: contian
            role: responder
            due: 1h
            evidence_required: false
            guidance: Go.
          - id: second
            title: Second
            phase: review
            due: 2h
            evidence_required: false
            guidance: Go.
            owner: me
        """)
    problems = {p.field: p.line for p in problems_of(write(tmp_path, "rb.yaml", text))}
    assert problems == {"steps[0].phase": 9, "steps[1].role": 14, "steps[1].owner": 20}


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    data = a_runbook(colour="red", version=0)
    data["steps"][0]["phase"] = "later"
    data["steps"][1]["due"] = "soon"
    del data["steps"][2]["title"]
    fields = {p.field for p in problems_of(write(tmp_path, "rb.yaml", data))}
    assert fields == {"colour", "version", "steps[0].phase", "steps[1].due", "steps[2].title"}


def test_folder_reports_problems_from_every_file(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", a_runbook(id="good"))
    bad_one = write(tmp_path, "bad-one.yaml", a_runbook(id="bad-one", steps=[]))
    bad_two = write(tmp_path, "bad-two.yml", "id: a: b\n")
    with pytest.raises(RunbookError) as caught:
        load_catalogue(tmp_path)
    paths = {p.path for p in caught.value.problems}
    assert paths == {bad_one, bad_two} and good not in paths
    report = str(caught.value)
    assert report.splitlines()[0] == "2 problems in runbooks"
    assert f"{bad_one}:" in report and f"{bad_two}:1: YAML syntax error" in report


def test_duplicate_runbook_id_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", a_runbook(id="same"))
    second = write(tmp_path, "b.yaml", a_runbook(id="same", title="Other"))
    with pytest.raises(RunbookError) as caught:
        load_catalogue(tmp_path)
    (problem,) = caught.value.problems
    assert (problem.path, problem.field, problem.line) == (second, "id", 1)
    assert "'same'" in problem.message and str(first) in problem.message


def test_duplicate_id_is_caught_even_when_the_second_file_is_broken(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", a_runbook(id="same"))
    write(tmp_path, "b.yaml", a_runbook(id="same", steps=[]))
    with pytest.raises(RunbookError) as caught:
        load_catalogue(tmp_path)
    assert {p.field for p in caught.value.problems} == {"id", "steps"}


def test_missing_and_empty_folders_are_errors(tmp_path: Path) -> None:
    for folder, words in ((tmp_path / "nowhere", "does not exist"), (tmp_path, "no runbook files")):
        with pytest.raises(RunbookError) as caught:
            load_catalogue(folder)
        assert caught.value.problems[0].path == folder
        assert words in caught.value.problems[0].message


def test_other_files_in_the_folder_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "one.yaml", a_runbook(id="one"))
    write(tmp_path, "README.md", "not a runbook: [")
    assert list(load_catalogue(tmp_path).runbooks) == ["one"]


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "rb.yaml"
    path.write_bytes(b"id: caf\xe9\n")
    assert "UTF-8" in only_problem(path).message


# --- due notation and due times ----------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", timedelta(minutes=30)), ("4h", timedelta(hours=4)), ("2d", timedelta(days=2)),
    ("1d12h", timedelta(hours=36)), ("72h", LEGAL_CLOCK), ("1d2h3m", timedelta(minutes=1563)),
    (" 5d ", timedelta(days=5)), ("365d", MAX_DUE)])
def test_parse_due(text: str, expected: timedelta) -> None:
    assert parse_due(text) == expected


@given(st.integers(0, 364), st.integers(0, 23), st.integers(0, 59))
def test_parse_due_reads_every_well_formed_offset(days: int, hours: int, minutes: int) -> None:
    offset = timedelta(days=days, hours=hours, minutes=minutes)
    if offset > timedelta(0):
        assert parse_due(f"{days}d{hours}h{minutes}m") == offset


def _step(due: str) -> Step:
    return Step(id="s", title="S", phase=Phase.CONTAIN, role=StepRole.RESPONDER, due=due,
                evidence_required=False, guidance="Go.")


def test_due_across_spring_forward_is_elapsed_time() -> None:
    aware_at = datetime(2026, 3, 28, 12, 0, tzinfo=LONDON)  # GMT; BST starts 29 March 01:00
    due = step_due_at(_step("24h"), aware_at)
    assert due.astimezone(UTC) - aware_at.astimezone(UTC) == timedelta(hours=24)
    assert due == datetime(2026, 3, 29, 13, 0, tzinfo=LONDON)  # one hour later on the wall
    assert due.tzinfo is LONDON


def test_due_across_fall_back_is_elapsed_time() -> None:
    aware_at = datetime(2026, 10, 24, 12, 0, tzinfo=LONDON)  # BST; GMT from 25 October 02:00
    due = step_due_at(_step("3d"), aware_at)
    assert due.astimezone(UTC) - aware_at.astimezone(UTC) == timedelta(days=3)
    assert (due.day, due.hour) == (27, 11)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.sampled_from([ZoneInfo("Europe/London"),
                                               ZoneInfo("America/New_York"),
                                               ZoneInfo("Australia/Lord_Howe"), UTC])),
       st.sampled_from(["30m", "4h", "24h", "2d", "1d12h", "30d"]))
def test_due_is_always_aware_and_exactly_the_offset_later(aware_at: datetime, due: str) -> None:
    at = step_due_at(_step(due), aware_at)
    assert at.tzinfo is aware_at.tzinfo
    assert at.astimezone(UTC) - aware_at.astimezone(UTC) == parse_due(due)


def test_naive_aware_at_is_refused() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        step_due_at(_step("4h"), datetime(2026, 1, 1, 12, 0))


# --- pinning: serialisation and digest ---------------------------------------------------------


def test_dict_is_json_ready_and_round_trips() -> None:
    for runbook in load_catalogue(SHIPPED):
        as_dict = runbook_to_dict(runbook)
        assert json.loads(json.dumps(as_dict)) == as_dict
        assert Runbook.model_validate(as_dict) == runbook
        assert runbook_digest(Runbook.model_validate(as_dict)) == runbook_digest(runbook)


def test_digest_is_stable_and_ignores_yaml_layout(tmp_path: Path) -> None:
    data = a_runbook()
    plain = write(tmp_path, "plain.yaml", data)
    reordered = {key: data[key] for key in reversed(list(data))}
    other_layout = write(tmp_path, "other.yaml", "# a comment\n" + yaml.safe_dump(
        reordered, default_flow_style=True, width=40))
    digest = runbook_digest(load_runbook(plain))
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert runbook_digest(load_runbook(plain)) == digest
    assert runbook_digest(load_runbook(other_layout)) == digest


def test_digest_changes_with_any_content(tmp_path: Path) -> None:
    base = runbook_digest(load_runbook(write(tmp_path, "base.yaml", a_runbook())))
    changed = copy.deepcopy(a_runbook())
    changed["steps"][0]["guidance"] = "Do it carefully. Record what you did!"
    assert runbook_digest(parse_runbook(yaml.safe_dump(changed), path="x.yaml")) != base
    assert runbook_digest(parse_runbook(yaml.safe_dump(a_runbook(version=2)),
                                        path="x.yaml")) != base


def test_loaded_runbooks_cannot_be_changed_in_place() -> None:
    runbook = load_runbook(SHIPPED / "ransomware.yaml")
    with pytest.raises(ValueError):
        runbook.version = 99  # type: ignore[misc]
    assert runbook.step(NOTIFY_AUTHORITY).offset == LEGAL_CLOCK

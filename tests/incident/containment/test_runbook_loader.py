"""Loading runbook files: every problem in every file, with its path, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from incident.containment.due_offsets import DECIDE_NOTIFIABLE, NOTIFY_AUTHORITY
from incident.containment.runbook_loader import Problem, RunbookError, load_catalogue, load_runbook
from incident.containment.runbooks import Phase
from tests.incident.containment.samples import a_runbook, a_step, write


def problems_of(path: Path) -> tuple[Problem, ...]:
    with pytest.raises(RunbookError) as caught:
        load_runbook(path)
    return caught.value.problems


def only_problem(path: Path) -> Problem:
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0]


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


def test_titles_refuse_escapes_and_guidance_refuses_overrides(tmp_path: Path) -> None:
    title = write(tmp_path, "title.yaml", a_runbook(title="Lost \x1b[31mlaptop"))
    problem = only_problem(title)
    assert problem.field == "title" and "U+001B" in problem.message
    data = a_runbook()
    data["steps"][0]["guidance"] = "first line\nthen \u202eexe.pdf"
    guidance = only_problem(write(tmp_path, "guidance.yaml", data))
    assert guidance.field == "steps[0].guidance" and "U+202E" in guidance.message
    data["steps"][0]["guidance"] = "first line\n\tthen the second"
    assert load_runbook(write(tmp_path, "fine.yaml", data)).steps[0].guidance.startswith("first")

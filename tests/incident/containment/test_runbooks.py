"""Runbook schema: the shipped runbooks, suggestions by incident kind, and pinning by digest."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from incident.containment.due_offsets import DECIDE_NOTIFIABLE, LEGAL_CLOCK, NOTIFY_AUTHORITY
from incident.containment.runbook_loader import load_catalogue, load_runbook, parse_runbook
from incident.containment.runbooks import Phase, Runbook, runbook_digest, runbook_to_dict, suggest_runbooks
from incident.lifecycle.rules import Kind
from tests.incident.containment.samples import SHIPPED, SHIPPED_FILES, a_runbook, write

# --- factories ---------------------------------------------------------------------------------








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

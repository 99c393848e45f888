"""Sample contexts: one per shipped kind, each a fresh copy a test may change."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifications.drafting.contexts import sample_context
from notifications.drafting.environment import RenderError
from notifications.drafting.render import renderer

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


def test_every_shipped_kind_has_a_sample() -> None:
    for kind in renderer(TEMPLATES).kinds():
        assert sample_context(kind)


def test_each_call_gives_a_fresh_context() -> None:
    first = sample_context("reminder")
    first["incident_reference"] = "changed"
    first["due_at"] = None
    assert sample_context("reminder")["incident_reference"] == "BR-2026-0007"
    assert sample_context("reminder")["due_at"] is not None


def test_an_unknown_kind_has_no_sample() -> None:
    with pytest.raises(RenderError, match="no sample context for 'memo'; there are: subject_notice"):
        sample_context("memo")

"""Sample inputs shared by this folder's test modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from incident.containment.due_offsets import DECIDE_NOTIFIABLE, NOTIFY_AUTHORITY

SHIPPED = Path(__file__).resolve().parents[3] / "runbooks"


SHIPPED_FILES = sorted(SHIPPED.glob("*.yaml"))


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

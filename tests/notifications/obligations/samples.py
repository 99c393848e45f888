"""Sample inputs shared by this folder's test modules."""

from __future__ import annotations

from typing import Any

SAFE_KEY = {"state_of_the_art": True, "key_compromised": False}


def facts(**overrides: Any) -> dict[str, Any]:
    """Raw facts of a small, accidental, contained breach of contact data."""
    raw: dict[str, Any] = {
        "data_categories": ["contact"],
        "subjects": 10,
        "vulnerable_subjects": False,
        "identifiability": "maximum",
        "confidentiality": "none",
        "integrity": "none",
        "availability": "none",
        "malicious": False,
    }
    return raw | overrides


def facts_data(**changes: Any) -> dict[str, Any]:
    """Valid FACTS: a Berlin SaaS company, aware on Friday 27 March 2026, 10:00 local."""
    data: dict[str, Any] = {
        "organisation": {"country": "DE", "timezone": "Europe/Berlin", "flags": []},
        "incident": {
            "aware_at": "2026-03-27T10:00:00+01:00",
            "risk": "risk",
            "data_categories": ["contact"],
        },
        "affected": {"DE": 1200, "FR": 40},
    }
    for path, value in changes.items():
        section, _, key = path.partition("__")
        if key:
            data[section][key] = value
        else:
            data[section] = value
    return data

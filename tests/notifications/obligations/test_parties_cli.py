"""`breach incidents parties` and a profile with counterparties, as an operator uses them: in
process, on both lanes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_support import Breach, breach  # noqa: F401  (fixture)
from tests.factories import PROFILE

ACME = {"id": "acme-health", "name": "Acme Health Ltd", "role": "controller", "hours": 24,
        "trigger": "aware_at", "contract": "DPA s. 7.2"}


def test_roles_and_a_contract_clock_from_the_command_line(breach: Breach, tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "org.json").write_text(json.dumps({**PROFILE, "counterparties": [ACME, ACME]}))
    assert "appears twice" in breach.error("organisation", "set", "org.json")
    (tmp_path / "org.json").write_text(json.dumps({**PROFILE, "counterparties": [ACME]}))
    breach("organisation", "set", "org.json")
    reference = breach("incidents", "create", "--title", "Client database exposed", "--kind",
                       "unauthorized_access", "--aware-at", "2026-01-05T09:00:00+01:00"
                       ).stdout.split()[0]

    (tmp_path / "parties.json").write_text(json.dumps({"roles": ["lawyer"]}))
    assert "roles" in breach.error("incidents", "parties", reference, "parties.json")
    (tmp_path / "parties.json").write_text(json.dumps({"counterparties": ["globex"]}))
    assert "not a counterparty" in breach.error("incidents", "parties", reference, "parties.json")
    (tmp_path / "parties.json").write_text(json.dumps(
        {"roles": ["processor"], "counterparties": ["acme-health"]}))
    said = breach("incidents", "parties", reference, "parties.json").stdout
    assert said == (f"{reference}: acts as processor; counterparties: acme-health; "
                    "obligations recomputed\n")
    duties = {o["ref"]: o for o in breach.json("incidents", "obligations", reference)["obligations"]}
    # DPA s. 7.2: 24 hours after awareness (08:00 UTC).
    assert duties["contract/acme-health"]["due_at"] == "2026-01-06T08:00:00Z"
    assert duties["gdpr/controller"]["applies"] is True
    assert "gdpr/authority" not in duties or duties["gdpr/authority"]["applies"] is False

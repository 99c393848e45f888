"""`breach systems|subjects|affected` as an operator uses them: in-process, on both lanes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from tests.cli_support import Breach, breach  # noqa: F401  (fixture)

PEOPLE = (
    "external_id,email,name,locale,country,region,system,categories,first_seen,last_seen\n"
    "c-1,anna@example.com,Anna,pl,PL,,crm,,2025-01-01,\n"
    "c-2,ben@example.com,\"Smith, Ben\",en,US,US-CA,shop,financial,2025-01-01,2025-03-01\n"
    "c-3,bad-address,X,en,US,,shop,,,\n"
)


def test_inventory_import_scope_compute_summary_and_export(breach: Breach,  # noqa: F811
                                                           tmp_path: Path) -> None:
    breach("systems", "add", "crm", "--name", "Customer CRM", "--categories", "contact,identity")
    breach("systems", "add", "shop", "--name", "Shop", "--categories", "contact,financial")
    assert "lower-case" in breach.error("systems", "add", "Bad Key", "--name", "x")
    assert "gossip" in breach.error("systems", "add", "x", "--name", "x",
                                    "--categories", "gossip")

    (tmp_path / "people.csv").write_text(PEOPLE)
    partial = breach("subjects", "import", "people.csv", ok=False)
    assert partial.exit_code == 1
    assert "people.csv:4: invalid email 'bad-address'" in partial.stderr
    assert partial.stderr.strip().splitlines()[-1].startswith("breach: error: 1 of 3 lines rejected")
    assert "2 of 3 lines imported" in partial.stdout
    assert hashlib.sha256(PEOPLE.encode()).hexdigest() in partial.stdout

    strict = breach("subjects", "import", "people.csv", "--strict", "--json", ok=False)
    assert "with strict, nothing was imported" in strict.stderr
    listed = json.loads(breach("systems", "list", "--json").stdout)
    assert {s["key"]: s["subjects"] for s in listed} == {"crm": 1, "shop": 1}

    (tmp_path / "more.jsonl").write_text(json.dumps(
        {"external_id": "c-4", "email": "dana@example.com", "country": "DE"}) + "\n")
    assert "1 of 1 lines imported" in breach("subjects", "import", "more.jsonl",
                                             "--system", "crm").stdout
    assert "unknown system 'ghost'" in breach.error("subjects", "import", "people.csv",
                                                    "--format", "csv", "--system", "ghost")
    (tmp_path / "people.txt").write_text(PEOPLE)
    assert "cannot tell the format" in breach.error("subjects", "import", "people.txt")

    reference = breach("incidents", "create", "--title", "Shop database copied",
                       "--kind", "unauthorized_access", "--aware-at", "2026-01-01T10:00:00Z",
                       "--detected-at", "2026-01-01T09:00:00Z").stdout.split()[0]
    assert "no scope" in breach.error("affected", "compute", reference)
    (tmp_path / "scope.json").write_text(json.dumps({
        "systems": ["crm", "shop"], "exposure_from": "2025-06-01T00:00:00Z",
        "include": ["ben@example.com", "nobody@example.com"], "exclude": ["c-4"]}))
    breach("affected", "scope", reference, "scope.json")
    (tmp_path / "bad-scope.json").write_text(json.dumps({"systems": ["crm"], "colour": "red"}))
    assert "colour" in breach.error("affected", "scope", reference, "bad-scope.json")

    computed = breach("affected", "compute", reference)
    assert "2 people affected" in computed.stdout
    assert "nobody@example.com" in computed.stderr
    summary = json.loads(breach("affected", "summary", reference, "--json").stdout)
    assert summary["total"] == 2 and summary["by_jurisdiction"] == {"PL": 1, "US-CA": 1}
    assert summary["by_source"] == {"scope": 1, "include": 1}

    exported = breach("affected", "export", reference).stdout
    people = list(csv.DictReader(io.StringIO(exported)))
    assert [(p["external_id"], p["name"]) for p in people] == [("c-1", "Anna"), ("c-2", "Smith, Ben")]
    lines = "".join(f"{p['external_id']}\t{p['jurisdiction']}\t{p['locale']}\t{p['categories']}\n"
                    for p in people)
    assert hashlib.sha256(lines.encode()).hexdigest() == summary["digest"]
    breach("affected", "export", reference, "-o", "affected.csv")
    assert (tmp_path / "affected.csv").read_text() == exported
    assert "exists" in breach.error("affected", "export", reference, "-o", "affected.csv")
    assert "number 7" in breach.error("affected", "summary", reference, "--snapshot", "7")
    events = [json.loads(line) for line in breach("audit", "export", reference).stdout.splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds.count("affected_exported") == 2 and "affected_computed" in kinds

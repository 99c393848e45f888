"""A report to an authority names the authority and how it takes reports (the regime file's
`authority` block), wherever a duty is described: the engine's results and so the obligations
API and `breach obligations`, the coverage and its command, `breach regimes show`, and
`breach incidents obligations` beside the contact the organisation profile names for it.

The regime used is the organisation's own, written to the test's folder
(tests/notifications/obligations/authorities.py): its report goes to a demo authority that
takes reports only through its portal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.app import create_app
from incident.containment.runbooks import Catalogue as Runbooks
from incident.kernel.clock import FixedClock
from incident.kernel.settings import Settings
from notifications.obligations.coverage import as_data, coverage, select
from notifications.obligations.engine import compute_obligations, results_to_json
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_catalogue
from notifications.obligations.service import configure_regimes
from tests.cli_support import Breach
from tests.factories import PROFILE, Person, client_for, new_incident
from tests.notifications.obligations.authorities import (
    AUTHORITY,
    FILING,
    REGIME_ID,
    REPORT,
    regime_folder,
)
from tests.notifications.obligations.samples import facts_data


@pytest.fixture(autouse=True)
def catalogue_restored() -> Iterator[None]:
    """The tests point the catalogue in use at their own folder; the shipped one returns."""
    yield
    configure_regimes(Settings(secret_key="restore", regimes_dir=None))


# --- the catalogue's own descriptions (pure) --------------------------------------------------


def test_the_engine_gives_an_applying_report_its_authority(tmp_path: Path) -> None:
    catalogue = load_catalogue(regime_folder(tmp_path)).catalogue
    facts = facts_from_json(facts_data(organisation__country="DE"))
    data = {f"{o['regime']}/{o['obligation']}": o
            for o in results_to_json(compute_obligations(facts, catalogue))}
    assert data[REPORT]["authority"] == AUTHORITY
    assert data[f"{REGIME_ID}/board"]["authority"] is None  # an internal duty names none
    json.dumps(data)  # plain data all the way down
    outside = facts_from_json(facts_data(organisation__country="FR"))
    explained = {f"{o['regime']}/{o['obligation']}": o for o in results_to_json(
        compute_obligations(outside, catalogue, explain=True), explain=True)}
    assert explained[REPORT]["applies"] is False and "authority" not in explained[REPORT]


def test_the_coverage_names_each_reports_authority_and_how_to_file(tmp_path: Path) -> None:
    catalogue = load_catalogue(regime_folder(tmp_path)).catalogue
    rows = as_data(select(coverage(catalogue), "DE"))["jurisdictions"]
    duties = {d["ref"]: d for j in rows for r in j["regimes"] for d in r["duties"]}
    assert duties[REPORT]["authority"] == AUTHORITY
    assert duties[f"{REGIME_ID}/board"]["authority"] is None


# --- the commands ---------------------------------------------------------------------------------


@pytest.fixture
def own(settings: Settings, clock: FixedClock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Breach:
    """`breach` under BREACH_REGIMES_DIR holding the demo regime, a first admin created."""
    monkeypatch.chdir(tmp_path)
    runner = Breach(settings.model_copy(update={"regimes_dir": regime_folder(tmp_path)}), clock)
    runner.bootstrap()
    return runner


def test_regimes_show_and_coverage_say_who_takes_the_report_and_how(own: Breach) -> None:
    shown = own("regimes", "show", REGIME_ID, user=None).stdout
    block = shown[shown.index(f"{REPORT}: to"):shown.index(f"{REGIME_ID}/board: to")]
    assert (f"  authority: {AUTHORITY['name']}\n"
            f"    address: {AUTHORITY['address']}\n"
            f"    website: {AUTHORITY['website']}\n"
            f"    how to file: {FILING}\n"
            f"    phone: {AUTHORITY['phone']}\n"
            f"    checked on 2026-12-01: {AUTHORITY['source']}\n") in block
    assert "authority:" not in shown[shown.index(f"{REGIME_ID}/board: to"):]
    data = own.json("regimes", "show", REGIME_ID, user=None)
    assert data["obligations"][0]["authority"] == {
        key: value for key, value in AUTHORITY.items() if value is not None}

    table = own("regimes", "coverage", "--place", "DE", user=None,
                env={"COLUMNS": "400"}).stdout
    assert f"to {AUTHORITY['name']}: {FILING}" in table
    covered = own.json("regimes", "coverage", "--place", "DE", user=None)
    duties = {d["ref"]: d for j in covered["jurisdictions"] for r in j["regimes"]
              for d in r["duties"]}
    assert duties[REPORT]["authority"]["filing"] == FILING


def test_the_incidents_duties_name_the_contact_used_and_the_catalogues_authority(
        own: Breach, tmp_path: Path) -> None:
    (tmp_path / "org.json").write_text(json.dumps(PROFILE))
    own("organisation", "set", "org.json")
    reference = own("incidents", "create", "--title", "Laptop stolen", "--kind", "lost_device",
                    "--aware-at", "2026-01-05T09:00:00+01:00").stdout.split()[0]
    listed = own("incidents", "obligations", reference, env={"COLUMNS": "400"}).stdout
    lines = listed.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(REPORT))
    assert lines[at + 1].startswith("  no e-mail address in the organisation profile: not sent "
                                    "from here; file it as the authority asks")
    assert lines[at + 2] == (
        f"  authority: {AUTHORITY['name']}, {AUTHORITY['address']}; how to file: {FILING}; "
        f"{AUTHORITY['website']} (checked on 2026-12-01: {AUTHORITY['source']})")
    board = next(i for i, line in enumerate(lines) if line.startswith(f"{REGIME_ID}/board"))
    assert not lines[board + 1].startswith("  ")  # no authority, nothing under it

    contact = {"name": "Demo authority, breach desk", "email": "breach@authority.example.org"}
    (tmp_path / "org.json").write_text(json.dumps(
        {**PROFILE, "authorities": {**PROFILE["authorities"], REGIME_ID: contact}}))
    own("organisation", "set", "org.json")
    lines = own("incidents", "obligations", reference, env={"COLUMNS": "400"}).stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(REPORT))
    assert lines[at + 1] == (f"  sent to: {contact['name']}, {contact['email']} (the "
                             "organisation profile's contact)")
    assert lines[at + 2].startswith(f"  authority: {AUTHORITY['name']}")
    shown = json.loads(own("incidents", "obligations", reference, "--json").stdout)
    assert {o["ref"]: o["authority"] for o in shown["obligations"]}[REPORT] == AUTHORITY

    # Filed by hand through the portal and recorded: nothing more is listed under it.
    own("incidents", "obligation", reference, REPORT, "met", "--how",
        "the authority's portal, receipt 2026-118", "--reason", "Found out weeks later.")
    lines = own("incidents", "obligations", reference, env={"COLUMNS": "400"}).stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(REPORT))
    assert "LATE" in lines[at] and not lines[at + 1].startswith("  ")


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def own_app(tmp_path: Path, settings: Settings, clock: FixedClock, engine: AsyncEngine,
            catalogue: Runbooks) -> Litestar:
    return create_app(settings.model_copy(update={"regimes_dir": regime_folder(tmp_path)}),
                      clock=clock, engine=engine, catalogue=catalogue)


async def test_the_obligations_api_describes_each_reports_authority(
        own_app: Litestar, people: dict[str, Person]) -> None:
    async with client_for(own_app) as client:
        saved = await client.put("/api/v1/organisation", json=PROFILE,
                                 headers=people["admin"].headers)
        assert saved.status_code == 200, saved.text
        reference = await new_incident(client, people["responder"])
        found = await client.get(f"/api/v1/incidents/{reference}/obligations",
                                 headers=people["auditor"].headers)
        assert found.status_code == 200, found.text
        duties = {o["ref"]: o for o in found.json()["obligations"]}
        assert duties[REPORT]["authority"] == AUTHORITY
        assert duties[f"{REGIME_ID}/board"]["authority"] is None
        assert duties["gdpr/data-subjects"]["authority"] is None  # a notice to people: never
        schema = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
        described = schema["ObligationPublic"]["properties"]["authority"]
        assert any(option.get("$ref", "").endswith("/AuthorityPublic")
                   for option in described.get("oneOf", described.get("anyOf", [described])))
        assert set(schema["AuthorityPublic"]["required"]) == {
            "name", "address", "website", "filing", "source", "reviewed"}

        # Once the duty no longer applies, it no longer names whom to file with.
        gone = {**PROFILE, "country": "FR", "timezone": "Europe/Paris"}
        assert (await client.put("/api/v1/organisation", json=gone,
                                 headers=people["admin"].headers)).status_code == 200
        found = await client.get(f"/api/v1/incidents/{reference}/obligations",
                                 headers=people["auditor"].headers)
        duty = next(o for o in found.json()["obligations"] if o["ref"] == REPORT)
        assert duty["applies"] is False and duty["authority"] is None

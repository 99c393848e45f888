"""An organisation's own regimes (BREACH_REGIMES_DIR): merged with the shipped catalogue under
the same validation, listed with their origin, refused at every start while invalid, and used
end to end; each duty's confidence and last review, its own or its regime's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.app import create_app
from incident.cli import cli
from incident.containment.runbooks import Catalogue as Runbooks
from incident.kernel.clock import FixedClock
from incident.kernel.console import Runtime
from incident.kernel.settings import Settings
from notifications.obligations.engine import compute_obligations, results_to_json
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import (
    REGIMES_DIR,
    RegimeError,
    load_catalogue,
    load_regimes,
)
from notifications.obligations.service import configure_regimes, shipped_regimes
from tests.factories import PROFILE, Person, client_for, new_incident
from tests.notifications.obligations.samples import facts_data

CONTRACT = """\
id: acme-clients
name: Acme master services agreement - incident notice to clients
jurisdiction: DE
sources: [https://contracts.example.com/msa]
applies:
  affected_in: [DE]
confidence: medium
reviewed: 2026-10-01
obligations:
  - id: notice
    recipient: internal
    recipient_name: Key clients under the master services agreement
    trigger: aware_at
    deadline: {hours: 48}
    content: [what happened, which client data was involved]
    citation: Master services agreement, clause 12.3
    source: https://contracts.example.com/msa#12.3
    confidence: high
    reviewed: 2026-11-30
  - id: follow-up
    recipient: internal
    recipient_name: Key clients under the master services agreement
    trigger: {met: acme-clients/notice}
    deadline: {calendar_days: 14}
    content: [root cause and remediation]
    citation: Master services agreement, clause 12.4
    source: https://contracts.example.com/msa#12.4
"""

NIS2_ONLY_EARLY_WARNING = """\
id: nis2
name: NIS2 as transposed by our Member State - early warning only
jurisdiction: EU
sources: [https://eur-lex.europa.eu/eli/dir/2022/2555/oj]
applies:
  established_in: [EU]
  flags: [nis2_essential]
confidence: low
reviewed: 2026-12-01
obligations:
  - id: early-warning
    recipient: regulator
    recipient_name: National CSIRT
    trigger: aware_at
    deadline: {hours: 12}
    content: [early warning]
    citation: National transposing act, s. 32
    source: https://example.org/nis2-act#s32
"""


@pytest.fixture(autouse=True)
def catalogue_restored() -> Iterator[None]:
    """Each test may point the catalogue in use at its own folder; the shipped one returns."""
    yield
    configure_regimes(Settings(secret_key="restore", regimes_dir=None))


def folder_with(tmp_path: Path, name: str = "regimes", **files: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for stem, text in files.items():
        (folder / f"{stem.replace('_', '-')}.yaml").write_text(text, encoding="utf-8")
    return folder


def problems(organisation: Path) -> list[str]:
    with pytest.raises(RegimeError) as caught:
        load_catalogue(organisation)
    return [str(p) for p in caught.value.problems]


# --- the merge rule ------------------------------------------------------------------------------


def test_an_organisation_file_with_a_new_id_adds_a_regime(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, acme_clients=CONTRACT)
    loaded = load_catalogue(folder)
    shipped = load_regimes()
    assert len(loaded.catalogue) == len(shipped) + 1
    assert loaded.catalogue.obligation("acme-clients/notice") is not None
    assert loaded.origins["acme-clients"].kind == "organisation"
    assert loaded.origins["acme-clients"].path == str(folder / "acme-clients.yaml")
    assert loaded.origins["acme-clients"].replaces is None
    assert loaded.origins["gdpr"].kind == "shipped"
    assert loaded.origins["gdpr"].path == str(REGIMES_DIR / "gdpr.yaml")
    ids = [r.id for r in loaded.catalogue]
    assert ids == sorted(ids)


def test_an_organisation_file_with_a_shipped_id_replaces_that_regime_wholly(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, nis2=NIS2_ONLY_EARLY_WARNING)
    loaded = load_catalogue(folder)
    nis2 = loaded.catalogue.get("nis2")
    assert nis2 is not None and [o.id for o in nis2.obligations] == ["early-warning"]
    assert loaded.catalogue.obligation("nis2/final-report") is None  # nothing of the shipped one
    assert loaded.origins["nis2"].kind == "organisation"
    assert loaded.origins["nis2"].replaces == str(REGIMES_DIR / "nis2.yaml")
    assert len(loaded.catalogue) == len(load_regimes())
    results = compute_obligations(
        facts_from_json(facts_data(organisation__flags=["nis2_essential"])), loaded.catalogue)
    early = next(r for r in results if r.ref == "nis2/early-warning")
    assert early.trigger is not None and early.trigger.at is not None and not early.assumed
    assert early.due_at == early.trigger.at + timedelta(hours=12)


def test_a_follow_up_that_does_not_resolve_in_the_merged_catalogue_is_an_error(tmp_path: Path) -> None:
    board = CONTRACT.replace("acme-clients", "acme-board").replace(
        "trigger: {met: acme-board/notice}", "trigger: {met: nis2/notification}")
    assert load_catalogue(folder_with(tmp_path, "ok", acme_board=board))  # resolves: shipped
    folder = folder_with(tmp_path, "replaced", acme_board=board, nis2=NIS2_ONLY_EARLY_WARNING)
    assert problems(folder) == [
        f"{folder / 'acme-board.yaml'}: obligations[follow-up].trigger.met: 'nis2/notification' "
        "is not an obligation of any loaded regime"]


def test_an_invalid_organisation_file_is_reported_with_file_field_and_problem(tmp_path: Path) -> None:
    broken = CONTRACT.replace("deadline: {hours: 48}", "deadline: {hourz: 48}").replace(
        "confidence: high", "confidence: certain")
    folder = folder_with(tmp_path, acme_clients=broken)
    (folder / "extra.yml").write_text(CONTRACT)
    found = problems(folder)
    file = folder / "acme-clients.yaml"
    assert any(p.startswith(f"{file}: obligations[notice].deadline: ") for p in found), found
    assert any(p.startswith(f"{file}: obligations[notice].confidence: ") for p in found), found
    assert f"{folder / 'extra.yml'}: (file): a regime file's name ends in .yaml" in found
    assert problems(tmp_path / "absent") == [f"{tmp_path / 'absent'}: (folder): is not a folder"]


def test_the_catalogue_in_use_is_the_configured_folders_read_once(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, acme_clients=CONTRACT)
    configure_regimes(Settings(secret_key="s", regimes_dir=folder))
    assert shipped_regimes().get("acme-clients") is not None
    # A running service keeps what it validated at start; the next start reads the edit.
    (folder / "acme-clients.yaml").write_text(CONTRACT.replace("confidence: high", "confidence: x"))
    assert shipped_regimes().get("acme-clients") is not None
    with pytest.raises(RegimeError):
        load_catalogue(folder)
    configure_regimes(Settings(secret_key="s", regimes_dir=None))
    assert shipped_regimes().get("acme-clients") is None


# --- each duty's confidence and last review ----------------------------------------------------


def test_a_duty_has_its_own_confidence_and_review_date_else_its_regimes(tmp_path: Path) -> None:
    loaded = load_catalogue(folder_with(tmp_path, acme_clients=CONTRACT))
    regime = loaded.catalogue.get("acme-clients")
    assert regime is not None
    notice, follow_up = regime.obligations
    assert regime.sourcing(notice) == ("high", date(2026, 11, 30))
    assert regime.sourcing(follow_up) == ("medium", date(2026, 10, 1))
    facts = facts_from_json(facts_data(incident__met={"acme-clients/notice": "2026-03-28T09:00:00Z"}))
    data = {o["regime"] + "/" + o["obligation"]: o
            for o in results_to_json(compute_obligations(facts, loaded.catalogue, explain=True),
                                     explain=True)}
    assert (data["acme-clients/notice"]["confidence"], data["acme-clients/notice"]["reviewed"]) \
        == ("high", "2026-11-30")
    assert (data["acme-clients/follow-up"]["confidence"],
            data["acme-clients/follow-up"]["reviewed"]) == ("medium", "2026-10-01")
    gdpr = load_regimes().get("gdpr")
    assert gdpr is not None
    assert (data["gdpr/authority"]["confidence"], data["gdpr/authority"]["reviewed"]) == (
        gdpr.confidence, gdpr.reviewed.isoformat())
    assert all(o["confidence"] in ("high", "medium", "low") and o["reviewed"]
               for o in data.values())


# --- the commands ----------------------------------------------------------------------------------

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """`breach ARGS` in-process with BREACH_REGIMES_DIR (`regimes_dir=`), as nobody in particular."""

    def invoke(*args: str, regimes_dir: Path | None = None) -> tuple[int, str, str]:
        settings = Settings(var_dir=tmp_path / "var", secret_key="test", regimes_dir=regimes_dir)
        done = CliRunner().invoke(cli, list(args), obj=Runtime(settings=settings),
                                  env={"BREACH_USER": None, "BREACH_TOKEN": None},
                                  catch_exceptions=False)
        return done.exit_code, done.stdout, done.stderr

    return invoke


def test_regimes_list_and_show_include_the_organisations_marked_with_their_origin(
        run: Run, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, acme_clients=CONTRACT, nis2=NIS2_ONLY_EARLY_WARNING)
    code, out, _ = run("regimes", "list", "--json", regimes_dir=folder)
    rows = {row["id"]: row for row in json.loads(out)}
    assert code == 0 and len(rows) == len(load_regimes()) + 1  # the shipped ones and acme-clients
    assert {k: rows["acme-clients"][k] for k in ("origin", "file", "replaces")} == {
        "origin": "organisation", "file": str(folder / "acme-clients.yaml"), "replaces": None}
    assert rows["nis2"]["origin"] == "organisation"
    assert rows["nis2"]["replaces"] == str(REGIMES_DIR / "nis2.yaml")
    assert rows["gdpr"]["origin"] == "shipped"
    assert rows["acme-clients"]["duties"] == [
        {"ref": "acme-clients/notice", "confidence": "high", "reviewed": "2026-11-30"},
        {"ref": "acme-clients/follow-up", "confidence": "medium", "reviewed": "2026-10-01"}]

    code, out, _ = run("regimes", "list", regimes_dir=folder)
    assert f"organisation's own: {folder / 'nis2.yaml'}, replaces the shipped regime wholly " \
           f"({REGIMES_DIR / 'nis2.yaml'})" in out
    assert "acme-clients/notice: high, reviewed 2026-11-30" in out
    code, out, _ = run("regimes", "list")
    assert "acme-clients" not in out and "organisation's own" not in out

    code, out, _ = run("regimes", "show", "acme-clients", regimes_dir=folder)
    assert code == 0
    assert f"the organisation's own regime, from {folder / 'acme-clients.yaml'}" in out
    assert "acme-clients/notice: to Key clients" in out
    assert "confidence high, sources last checked 2026-11-30" in out
    shown = json.loads(run("regimes", "show", "nis2", "--json", regimes_dir=folder)[1])
    assert shown["origin"] == "organisation" and shown["replaces"] == str(REGIMES_DIR / "nis2.yaml")
    assert shown["obligations"][0]["confidence"] == "low"


def test_validate_checks_a_folder_as_it_would_be_merged(run: Run, tmp_path: Path) -> None:
    board = CONTRACT.replace("acme-clients", "acme-board").replace(
        "trigger: {met: acme-board/notice}", "trigger: {met: nis2/notification}")
    folder = folder_with(tmp_path, acme_board=board)
    code, out, _ = run("regimes", "validate", str(folder))
    assert (code, out) == (0, f"{folder}: 1 regime, 2 duties, valid\n")
    (folder / "nis2.yaml").write_text(NIS2_ONLY_EARLY_WARNING)
    code, out, err = run("regimes", "validate", str(folder))
    assert code == 1
    assert f"{folder / 'acme-board.yaml'}: obligations[follow-up].trigger.met: " in out
    assert err == f"breach: error: 1 problem(s) in the regime files of {folder}\n"


def test_the_obligations_command_uses_the_organisations_regimes(run: Run, tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(facts_data()))
    folder = folder_with(tmp_path, acme_clients=CONTRACT)
    code, out, _ = run("obligations", str(facts), regimes_dir=folder)
    notice = next(o for o in json.loads(out) if o["regime"] == "acme-clients")
    assert code == 0 and notice["due_at"] == "2026-03-29T09:00:00Z"  # 48 h after aware_at
    assert (notice["confidence"], notice["reviewed"]) == ("high", "2026-11-30")
    code, out, _ = run("obligations", str(facts))
    assert all(o["regime"] != "acme-clients" for o in json.loads(out))


# --- refusing to start ----------------------------------------------------------------------------


def broken_folder(tmp_path: Path) -> tuple[Path, list[str]]:
    """A folder with two problems in one file; the lines each start must print."""
    folder = folder_with(tmp_path, "broken", acme_clients=CONTRACT.replace(
        "deadline: {hours: 48}", "deadline: {hours: -1}").replace(
        "confidence: high", "confidence: certain"))
    file = folder / "acme-clients.yaml"
    return folder, [f"  {file}: obligations[notice].deadline.hours: ",
                    f"  {file}: obligations[notice].confidence: "]


def assert_names_every_problem(stderr: str, expected: list[str]) -> None:
    lines = stderr.strip().splitlines()
    assert lines[0] == "breach: error: 2 problem(s) in regime files:", stderr
    assert len(lines) == 3 and all(any(line.startswith(e) for line in lines[1:]) for e in expected), \
        stderr


def test_serve_and_the_scheduler_refuse_to_start_naming_file_field_and_problem(
        run: Run, tmp_path: Path) -> None:
    folder, expected = broken_folder(tmp_path)
    code, _, err = run("serve", "--port", "1", regimes_dir=folder)
    assert code == 1
    assert_names_every_problem(err, expected)
    code, _, err = run("scheduler", "run", "--once", regimes_dir=folder)
    assert code == 1
    assert_names_every_problem(err, expected)
    code, _, err = run("regimes", "list", regimes_dir=folder)
    assert code == 1
    assert_names_every_problem(err, expected)


def test_a_real_breach_serve_process_refuses_an_invalid_regimes_dir(tmp_path: Path) -> None:
    folder, expected = broken_folder(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREACH_")}
    env.update(BREACH_VAR_DIR=str(tmp_path / "var"), BREACH_SECRET_KEY="test",
               BREACH_REGIMES_DIR=str(folder))
    breach = str(Path(sys.executable).with_name("breach"))
    done = subprocess.run([breach, "serve", "--port", "1"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert_names_every_problem(done.stderr, expected)
    assert not (tmp_path / "var" / "breachdesk.sqlite3").exists()  # refused before the database


def test_the_app_factory_refuses_an_invalid_regimes_dir(tmp_path: Path, settings: Settings,
                                                      catalogue: Runbooks) -> None:
    folder, _ = broken_folder(tmp_path)
    with pytest.raises(RegimeError) as caught:
        create_app(settings.model_copy(update={"regimes_dir": folder}), catalogue=catalogue)
    assert [p.field for p in caught.value.problems] == [
        "obligations[notice].deadline.hours", "obligations[notice].confidence"]
    assert all(p.path == str(folder / "acme-clients.yaml") for p in caught.value.problems)


def test_a_command_that_computes_obligations_refuses_an_invalid_regimes_dir(
        tmp_path: Path, settings: Settings, clock: FixedClock) -> None:
    from tests.cli_support import Breach

    breach = Breach(settings, clock)
    breach.bootstrap()
    (tmp_path / "org.json").write_text(json.dumps(PROFILE))
    breach("organisation", "set", str(tmp_path / "org.json"))
    reference = breach("incidents", "create", "--title", "Laptop stolen", "--kind", "lost_device",
                       "--aware-at", "2026-03-10T09:30:00+00:00").stdout.split()[0]
    folder, expected = broken_folder(tmp_path)
    refused = breach("incidents", "obligations", reference, ok=False,
                     settings=settings.model_copy(update={"regimes_dir": folder}))
    assert refused.exit_code == 1
    assert_names_every_problem(refused.stderr, expected)


# --- end to end: an incident whose duties include the organisation's ------------------------------


@pytest.fixture
def organisation_app(tmp_path: Path, settings: Settings, clock: FixedClock, engine: AsyncEngine,
                     catalogue: Runbooks) -> Litestar:
    folder = folder_with(tmp_path, acme_clients=CONTRACT)
    return create_app(settings.model_copy(update={"regimes_dir": folder}), clock=clock,
                      engine=engine, catalogue=catalogue)


async def test_an_incidents_obligations_include_the_organisations_duty(
        organisation_app: Litestar, people: dict[str, Person], clock: FixedClock) -> None:
    async with client_for(organisation_app) as client:
        admin, responder = people["admin"], people["responder"]
        saved = await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
        assert saved.status_code == 200, saved.text
        reference = await new_incident(client, responder)  # aware at 09:30 UTC, people in DE
        found = (await client.get(f"/api/v1/incidents/{reference}/obligations",
                                  headers=responder.headers)).json()
        duties = {o["ref"]: o for o in found["obligations"]}
        notice = duties["acme-clients/notice"]
        aware = datetime.fromisoformat("2026-03-10T09:30:00+00:00")
        assert datetime.fromisoformat(notice["due_at"]) == aware + timedelta(hours=48)
        assert (notice["confidence"], notice["reviewed"]) == ("high", "2026-11-30")
        assert notice["basis"]["citation"] == "Master services agreement, clause 12.3"
        assert duties["gdpr/authority"]["confidence"] in ("high", "medium", "low")
        # Met: its follow-up (the organisation's own met: reference) starts its clock.
        clock.set(clock.now() + timedelta(hours=1))
        met = await client.post(
            f"/api/v1/incidents/{reference}/obligations/acme-clients/notice",
            json={"status": "met", "how": "e-mail to the clients' security contacts"},
            headers=responder.headers)
        assert met.status_code in (200, 201), met.text
        found = (await client.get(f"/api/v1/incidents/{reference}/obligations",
                                  headers=responder.headers)).json()
        follow = next(o for o in found["obligations"] if o["ref"] == "acme-clients/follow-up")
        assert follow["due_at"] is not None and follow["confidence"] == "medium"

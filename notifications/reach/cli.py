"""`breach notifications not-reached`, `reached` and `letters`: the people a notice did not
reach, recording how they were reached another way, and their postal letters.

The same use cases as the API's `…/not-reached`, `…/other-contacts` and
`…/not-reached/letters.{csv,pdf}`, with the same checks and permissions: the people are
listed only to a role that may read personal data, a public communication is recorded only
by an approver naming, for each duty, the condition of its law that held.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from incident.kernel.bounds import ROW_ID_MAX
from incident.kernel.console import (
    Failure,
    Runtime,
    echo,
    err,
    parse_time,
    pass_runtime,
    print_json,
)
from incident.kernel.text import visible

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings
    from notifications.reach.letters import PostalBatch
    from notifications.reach.schemas import DutyReachPublic

CHANNELS = ("postal", "call", "public")
"""notifications.reach.rules.Channel's values, written out so `--help` imports nothing heavy;
tests/notifications/reach/test_cli.py keeps them equal."""
OUTCOMES = ("reached", "failed")
"""notifications.reach.rules.Outcome's values (kept equal by the same test)."""
CHANNEL_WORDS = {"email": "e-mail", "postal": "letter", "call": "call",
                 "public": "public communication"}

Id = click.IntRange(1, ROW_ID_MAX)


def _duty_line(duty: DutyReachPublic) -> str:
    reached = ", ".join(f"{count} by {CHANNEL_WORDS.get(channel, channel)}"
                        for channel, count in duty.reached.items()) or "nobody"
    why = ", ".join(f"{name.replace('_', ' ')} {count}"
                    for name, count in duty.why.model_dump().items() if count) or "-"
    public = "allowed" if duty.public_communication_allowed else "not allowed"
    sending = f"\tstill sending {duty.still_sending}" if duty.still_sending else ""
    return (f"{duty.ref}\t{duty.status}\treached: {reached}\tnot reached: {duty.not_reached} "
            f"({why})\tpublic communication: {public}{sending}")


@click.command("not-reached")
@click.argument("reference")
@click.argument("notification_id", type=Id)
@click.option("--all", "everyone", is_flag=True,
              help="list those already reached another way too, with what was recorded")
@click.option("--after", type=click.IntRange(0, ROW_ID_MAX), default=0,
              help="list the people from after this delivery id (the next page)")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def not_reached(runtime: Runtime, reference: str, notification_id: int, everyone: bool,
                after: int, limit: int, as_json: bool) -> None:
    """Whom a notice did not reach, and why.

    For each duty notice NOTIFICATION_ID meets: the people reached (by e-mail, letter, call,
    public communication), those not reached and why, and the conditions under which its law
    allows a public communication instead (numbered for `reached --condition`); then, for a
    role that may read personal data, the people not reached themselves (delivery id,
    external id, name, language, why, what was recorded)."""
    from notifications.reach import service
    from notifications.reach.schemas import NotReachedPublic, not_reached_public

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[NotReachedPublic, list[service.Duty]]:
        read = await service.not_reached(db, actor=actor, key=reference,
                                         notification_id=notification_id, after=after,
                                         limit=limit, missing_only=not everyone)
        return not_reached_public(read), read.duties

    found, duties = runtime.run(work)
    if as_json:
        print_json(found.model_dump(mode="json"))
        return
    missing = sum(d.not_reached for d in found.duties)
    echo(f"notification {notification_id}: {missing} "
         f"{'person' if missing == 1 else 'people'} not reached")
    for duty, rule in zip(found.duties, duties, strict=True):
        echo(_duty_line(duty))
        if missing and rule.substitute_notice is not None:
            notice = rule.substitute_notice
            echo(f"  {notice.citation} (confidence: {notice.confidence}) allows a public "
                 "communication when one of these held:")
            for index, condition in enumerate(notice.conditions):
                echo(f"  --condition {duty.ref}={index}: {condition}")
    if found.people is None:
        echo("(the people are listed only to a role that may read personal data)")
        return
    if not found.people:
        echo("nobody to list" if everyone or after else "everyone was reached")
        return
    zone = runtime.settings.zone
    echo("delivery\texternal id\tname\tlanguage\twhy\trecorded")
    for person in found.people:
        recorded = "; ".join(
            f"{c.channel} {c.outcome} {c.at.astimezone(zone):%Y-%m-%d %H:%M}"
            for c in person.contacts) or "-"
        echo(f"{person.delivery_id}\t{visible(person.external_id)}\t{visible(person.name) or '-'}"
             f"\t{person.locale}\t{person.why.replace('_', ' ')}\t{visible(recorded)}")
    if found.next_after is not None:
        echo(f"more: --after {found.next_after}")


def _conditions(given: tuple[str, ...]) -> dict[str, int] | None:
    """`--condition REF=INDEX` options as the API's `conditions` (None when none given)."""
    if not given:
        return None
    chosen: dict[str, int] = {}
    for item in given:
        ref, equals, index = item.rpartition("=")
        if not equals or not ref or not index.isascii() or not index.isdigit():
            raise Failure(f"--condition {item!r}: write DUTY=INDEX, e.g. "
                          "gdpr/data-subjects=0 (the number of the law's condition that held, "
                          "as `breach notifications not-reached` lists them)")
        chosen[ref] = int(index)
    return chosen


def _validated(raw: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    from notifications.reach.schemas import OtherContactOrder

    try:
        return OtherContactOrder.model_validate(raw)
    except ValidationError as exc:
        raise Failure("; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
                                for e in exc.errors()[:5])) from None


@click.command("reached")
@click.argument("reference")
@click.argument("notification_id", type=Id)
@click.option("--channel", required=True, type=click.Choice(CHANNELS),
              help="a postal letter, a call, or a public communication (approvers, where each "
                   "law allows one)")
@click.option("--outcome", type=click.Choice(OUTCOMES), default="reached", show_default=True,
              help="failed: the letter came back, nobody answered (kept; still not reached)")
@click.option("--at", "at", required=True, metavar="TIME",
              help="when the letter was posted, the call made, the communication published: "
                   "ISO 8601, without an offset in BREACH_TIMEZONE")
@click.option("--delivery", "deliveries", multiple=True, type=Id,
              help="a person not reached, by delivery id (`not-reached` lists them); repeat")
@click.option("--all", "everyone", is_flag=True,
              help="everyone the notice did not reach and nothing reached yet")
@click.option("--note", default="", help="what was sent where, who answered, where it appeared")
@click.option("--condition", "conditions", multiple=True, metavar="DUTY=INDEX",
              help="a public communication: for each duty, the number of its law's condition "
                   "that held (`not-reached` lists them); repeat")
@pass_runtime
def reached(runtime: Runtime, reference: str, notification_id: int, channel: str,
            outcome: str, at: str, deliveries: tuple[int, ...], everyone: bool, note: str,
            conditions: tuple[str, ...]) -> None:
    """Record how people a notice did not reach were reached.

    People notice NOTIFICATION_ID did not reach, reached another way (or an attempt that
    failed). A duty is met once everyone it is owed to is reached, at the time the last of
    them was."""
    settings = runtime.settings
    order = _validated({"channel": channel, "outcome": outcome,
                        "at": parse_time(at, settings), "deliveries": list(deliveries),
                        "all_not_reached": everyone, "note": note,
                        "conditions": _conditions(conditions)})

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        from notifications.reach import service
        from notifications.reach.schemas import recorded_public

        return recorded_public(await service.record_other_contact(
            db, clock=runtime.clock, actor=actor, key=reference,
            notification_id=notification_id, channel=order.channel, outcome=order.outcome,
            at=order.at, note=order.note, deliveries=order.deliveries,
            all_not_reached=order.all_not_reached, conditions=order.conditions,
            skew_seconds=settings.clock_skew_seconds))

    done = runtime.run(work)
    people = f"{done.people} {'person' if done.people == 1 else 'people'}"
    echo(f"notification {notification_id}: {people} recorded as {done.outcome} by "
         f"{CHANNEL_WORDS[done.channel]} ({done.batch})")
    if done.basis:
        echo(f"legal basis: {done.basis}")
    for duty in done.duties:
        echo(_duty_line(duty))


def _write(content: bytes, output: Path | None, *, what: str) -> None:
    """The letters to `output`, or to standard output (a PDF only where it is not a
    terminal)."""
    if output is not None:
        try:
            output.write_bytes(content)
        except OSError as exc:
            raise Failure(f"cannot write {output}: {exc.strerror or exc}") from None
        err().print(f"{what} written to {output}")
        return
    if content.startswith(b"%PDF") and sys.stdout.isatty():
        raise Failure("a PDF is not for the terminal: give --output FILE")
    sys.stdout.buffer.write(content)
    sys.stdout.flush()


@click.command("letters")
@click.argument("reference")
@click.argument("notification_id", type=Id)
@click.option("--format", "fmt", type=click.Choice(("csv", "pdf")), default="pdf",
              show_default=True, help="print-ready A4 letters, or a CSV for a mail merge")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="write to this file (default: standard output)")
@click.option("--delivery", "deliveries", multiple=True, type=Id,
              help="only this person, by delivery id; repeat (default: everyone still not "
                   "reached)")
@click.option("--after", type=click.IntRange(0, ROW_ID_MAX), default=0,
              help="from after this delivery id (the next batch)")
@pass_runtime
def letters(runtime: Runtime, reference: str, notification_id: int, fmt: str,
            output: Path | None, deliveries: tuple[int, ...], after: int) -> None:
    """Postal letters for the people a notice did not reach.

    For the people notice NOTIFICATION_ID did not reach (at most 1,000 at a time), each in
    the person's language and from the same texts as the e-mail, with their postal address
    from the inventory. People with no postal address on record are named on standard
    error."""
    import asyncio

    from incident.kernel.settings import templates_dir
    from notifications.drafting.render import renderer
    from notifications.obligations.service import get_profile
    from notifications.reach import letters as postal
    from notifications.reach import service

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[PostalBatch, bytes]:
        templates = templates_dir(settings)
        batch = await service.letters_for(db, clock=runtime.clock, actor=actor, key=reference,
                                          notification_id=notification_id,
                                          renderer=renderer(templates), file_format=fmt,
                                          deliveries=list(deliveries), after=after)
        if fmt == "csv":
            return batch, postal.letters_csv(batch)
        profile = await get_profile(db)
        assert profile is not None  # a notice was drafted: the profile exists
        return batch, await asyncio.to_thread(postal.letters_pdf, batch, profile,
                                              templates=templates)

    batch, content = runtime.run(work)
    count = len(batch.letters)
    _write(content, output, what=f"{count} letter{'' if count == 1 else 's'}")
    for person in batch.without_address:
        echo(f"no postal address: delivery {person.delivery_id} {visible(person.name)}",
             err=True)
    if batch.next_after is not None:
        echo(f"more people are not reached: the next batch with --after {batch.next_after}",
             err=True)

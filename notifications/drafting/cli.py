"""`breach notifications`: an incident's notifications and the progress of their sending."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from incident.kernel.bounds import ROW_ID_MAX
from incident.kernel.commands import PluginGroup
from incident.kernel.console import Runtime, err, out, pass_runtime, print_json

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings


@click.group("notifications", cls=PluginGroup,
             registered=lambda plugin: plugin.notification_commands)
def notifications_group() -> None:
    """Notifications of an incident and their deliveries."""


@notifications_group.command("list")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def notifications_list(runtime: Runtime, reference: str, as_json: bool) -> None:
    """Every notification of the incident with its state and delivery counts."""
    from notifications.drafting import service as drafts
    from notifications.drafting.schemas import notification_public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return [await notification_public(db, n)
                for n in await drafts.notifications_of(db, actor=actor, key=reference)]

    found = runtime.run(work)
    if as_json:
        print_json([n.model_dump(mode="json") for n in found])
        return
    console = out()
    if not found:
        console.print(f"{reference}: no notifications yet")
    for n in found:
        counts = ", ".join(f"{state} {count}" for state, count in sorted(n.deliveries.items()))
        console.print(f"{n.id:>4}  {n.ref:24} {n.kind:17} {n.status:9} v{n.version}  "
                      f"{counts or '-'}", markup=False)


@notifications_group.command("status")
@click.argument("reference")
@click.argument("notification_id", type=click.IntRange(1, ROW_ID_MAX))
@click.option("--watch", is_flag=True, help="follow the sending with a progress bar until it ends")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def notifications_status(runtime: Runtime, reference: str, notification_id: int, watch: bool,
                         as_json: bool) -> None:
    """Counts of a notification's deliveries by state (sent, retry, failed, in doubt…)."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from notifications.drafting import sending

    async def read(db: AsyncSession, actor: Actor) -> tuple[Any, dict[str, int]]:
        notification, counts = await sending.progress(db, actor=actor, key=reference,
                                                      notification_id=notification_id)
        await db.commit()
        return notification, counts

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> tuple[Any, dict[str, int]]:
        notification, counts = await read(db, actor)
        if not watch or notification.status not in ("sending", "paused"):
            return notification, counts
        total = max(notification.recipients, 1)
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeRemainingColumn(), console=err()) as bar:
            task = bar.add_task(f"notification {notification_id}", total=total)
            while True:
                ended = counts.get("sent", 0) + counts.get("failed", 0)
                bar.update(task, completed=ended, description=_states(counts))
                if notification.status not in ("sending", "paused") or ended >= total:
                    return notification, counts
                await asyncio.sleep(1)
                notification, counts = await read(db, actor)

    notification, counts = runtime.run(work)
    if as_json:
        print_json({"notification": notification_id, "status": notification.status,
                    "recipients": notification.recipients, "deliveries": counts})
        return
    out().print(f"notification {notification_id} ({notification.ref}): {notification.status}; "
                f"{notification.recipients} recipients; {_states(counts)}", markup=False)


def _states(counts: dict[str, int]) -> str:
    return ", ".join(f"{state} {count}" for state, count in sorted(counts.items())) or "no deliveries"


@notifications_group.command("send")
@click.argument("reference")
@click.argument("notification_id", type=click.IntRange(1, ROW_ID_MAX))
@click.option("--fallback", metavar="LOCALE",
              help="the language recipients get whose own language has no text")
@click.option("--yes", is_flag=True,
              help="send without typing the number of recipients (above "
                   "BREACH_CONFIRM_SEND_ABOVE of them it is asked for)")
@pass_runtime
def notifications_send(runtime: Runtime, reference: str, notification_id: int,
                       fallback: str | None, yes: bool) -> None:
    """Send an approved notification: shows whom it reaches (by language, by channel, who
    has no e-mail address), then, above BREACH_CONFIRM_SEND_ABOVE recipients, asks for their
    number (or takes --yes)."""
    import sys

    from incident.kernel.console import Failure
    from incident.kernel.settings import templates_dir
    from notifications.drafting import queuing, sending, trial
    from notifications.drafting.render import renderer

    async def count(settings: Settings, db: AsyncSession, actor: Actor) -> trial.SendPreview:
        return await trial.send_preview(db, actor=actor, key=reference,
                                        notification_id=notification_id,
                                        renderer=renderer(templates_dir(settings)),
                                        confirm_above=settings.confirm_send_above,
                                        fallback=fallback)

    preview = runtime.run(count)
    counts, console = preview.counts, err()
    console.print(f"notification {notification_id} reaches {counts.recipients} "
                  f"{'recipient' if counts.recipients == 1 else 'recipients'}", markup=False)
    console.print("  by language: " + (", ".join(
        f"{row.locale} {row.recipients}" for row in preview.languages) or "-"), markup=False)
    console.print(f"  by channel: e-mail {counts.channels.get('email', 0)}, "
                  f"none (no e-mail address) {counts.channels.get('none', 0)}", markup=False)
    for person in preview.unreachable or []:
        console.print(f"  no e-mail address: {person.external_id} {person.name} "
                      f"({person.locale})", markup=False)
    confirm: int | None = None
    if preview.confirm_required:
        if yes:
            confirm = counts.recipients
        elif not sys.stdin.isatty():
            raise Failure(f"not sent: {counts.recipients} recipients; type their number at a "
                          "terminal, or send with --yes")
        else:
            confirm = click.prompt(f"{preview.instruction} (anything else cancels)", type=int,
                                   default=0, show_default=False, err=True)
            if confirm != counts.recipients:
                raise Failure(f"not sent: {confirm} is not {counts.recipients}")

    async def send(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        sent = await sending.send(db, clock=runtime.clock, actor=actor, key=reference,
                                  notification_id=notification_id,
                                  message_domain=sending.message_domain(settings.mail_from),
                                  renderer=renderer(templates_dir(settings)), fallback=fallback,
                                  confirm=confirm, confirm_above=settings.confirm_send_above)
        queuing.announce(settings.var_dir)
        return sent.status, sent.recipients

    status, recipients = runtime.run(send)
    out().print(f"notification {notification_id}: {status}; {recipients} recipients queued",
                markup=False)

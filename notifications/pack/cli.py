"""`breach audit pack REF --out FILE.zip`: an incident's evidence pack, for an auditor."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from incident.kernel.console import Failure, Runtime, echo, pass_runtime

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings
    from notifications.pack.service import Pack


@click.command("pack")
@click.argument("reference")
@click.option("--out", "output", required=True,
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="the zip file to write")
@pass_runtime
def pack(runtime: Runtime, reference: str, output: Path) -> None:
    """Write an incident's evidence pack: its timeline, signed checkpoint, evidence files,
    notifications, messages sent and obligations, with verify.py to check it offline."""
    from incident.audit.checkpoints import CheckpointLogLost
    from notifications.pack.service import build_pack

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Pack:
        try:
            return await build_pack(db, actor=actor, settings=settings, key=reference,
                                    now=runtime.clock.now())
        except CheckpointLogLost as exc:
            raise Failure(str(exc)) from exc

    made = runtime.run(work)
    try:
        output.write_bytes(made.data)
    except OSError as exc:
        raise Failure(f"cannot write {output}: {exc.strerror or exc}") from None
    echo(f"{output}: {made.files} files, {len(made.data)} bytes; check it with "
         f"`python3 verify.py` in the unzipped {made.name.removesuffix('.zip')}/")

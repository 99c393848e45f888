"""`breach evidence`: files on incidents and their steps, stored by SHA-256, each download
recorded on the incident's timeline."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from incident.containment.cli import find_step
from incident.kernel.console import Failure, Runtime, echo, local_text, pass_runtime, print_json
from incident.kernel.text import visible

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.containment.schemas import EvidencePublic
    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings


@click.group()
def evidence() -> None:
    """Evidence files on incidents, stored by SHA-256; every download is on the timeline."""


def _read_evidence_file(path: Path, limit: int) -> bytes:
    """The file's bytes, refused without reading it when it is larger than `limit`."""
    refused = (f"{path} is larger than the evidence limit of {limit} bytes "
               "(BREACH_EVIDENCE_MAX_BYTES); nothing was stored")
    try:
        if os.stat(path).st_size > limit:
            raise Failure(refused)
        with path.open("rb") as handle:
            content = handle.read(limit + 1)
    except OSError as exc:
        raise Failure(f"cannot read {path}: {exc.strerror}") from None
    if len(content) > limit:  # it grew after the size was checked
        raise Failure(refused)
    if not content:
        raise Failure(f"{path} is empty; nothing was stored")
    return content


@evidence.command("add")
@click.argument("reference")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--step", help="the step it proves: its number or id, as for `breach steps set`")
@click.option("--note", default="", help="what the file shows")
@click.option("--json", "as_json", is_flag=True, help="the evidence, as the API returns it")
@pass_runtime
def evidence_add(runtime: Runtime, reference: str, file: Path, step: str | None, note: str,
                 as_json: bool) -> None:
    """Attach a file to an incident or one of its steps; prints its SHA-256 and size.

    Files larger than BREACH_EVIDENCE_MAX_BYTES are refused before they are read.
    """
    import mimetypes

    from incident.containment import service as containment

    content = _read_evidence_file(file, runtime.settings.evidence_max_bytes)
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> EvidencePublic:
        row_id = (await find_step(db, actor, reference, step)).row_id if step else None
        return await containment.add_evidence(
            db, clock=runtime.clock, actor=actor, key=reference, filename=file.name,
            content_type=content_type, content=content, max_bytes=settings.evidence_max_bytes,
            step_row_id=row_id, description=note)

    added = runtime.run(work)
    if as_json:
        print_json(added.model_dump(mode="json"))
        return
    to = f" for step {added.step}" if added.step else ""
    echo(f"evidence {added.id} on {reference.upper()}{to}: {added.filename}, "
         f"{added.size} bytes, sha256 {added.sha256}")


@evidence.command("list")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def evidence_list(runtime: Runtime, reference: str, as_json: bool) -> None:
    """List an incident's evidence, oldest first."""
    from incident.containment import service as containment

    rows = runtime.run(lambda s, db, actor: containment.list_evidence(db, actor=actor,
                                                                      key=reference))
    if as_json:
        print_json([e.model_dump(mode="json") for e in rows])
        return
    zone = runtime.settings.zone
    for e in rows:
        echo(f"{e.id}\t{local_text(e.uploaded_at, zone)}\t{e.uploaded_by}\t{e.step or '—'}\t"
             f"{e.size} bytes\tsha256 {e.sha256}\t{visible(e.filename)}")


def _write_new_file(target: Path, content: bytes) -> None:
    """Write through a temporary file (owner-only) renamed at the end: never a partial file."""
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                             suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@evidence.command("get")
@click.argument("reference")
@click.argument("evidence_id", type=int)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="where to write the file (`-` for standard output). Default: its stored "
              "name in the current folder, which must not exist yet.")
@pass_runtime
def evidence_get(runtime: Runtime, reference: str, evidence_id: int, output: Path | None) -> None:
    """Download an evidence file, checked against its SHA-256.

    Evidence may hold personal data: each download is recorded on the incident's timeline.
    """
    from incident.containment import service as containment
    from incident.containment.schemas import EvidencePublic

    to_stdout = output == Path("-")
    if output is not None and not to_stdout and not output.parent.is_dir():
        raise Failure(f"{output.parent} is not a folder")

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[EvidencePublic, bytes, Path]:
        target = output
        if target is None:
            names = {e.id: e.filename for e in await containment.list_evidence(
                db, actor=actor, key=reference)}
            await db.commit()  # end the read: the download is recorded in a write
            target = Path(names.get(evidence_id, "evidence"))
            if evidence_id in names and target.exists():
                raise Failure(f"{target} already exists; choose another name with -o")
        item, content = await containment.download_evidence(
            db, clock=runtime.clock, actor=actor, key=reference, evidence_id=evidence_id)
        return EvidencePublic.model_validate(item), content, target

    item, content, target = runtime.run(work)
    if hashlib.sha256(content).hexdigest() != item.sha256:
        raise Failure(f"evidence {item.id}: the stored file does not match its SHA-256 "
                      f"{item.sha256}; nothing was written")
    if to_stdout:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    try:
        _write_new_file(target, content)
    except OSError as exc:
        raise Failure(f"cannot write {target}: {exc.strerror}") from None
    echo(f"wrote {target}: {item.size} bytes, sha256 {item.sha256} (matches)")

"""The audit's answers as the API returns them: every chain judged against the latest signed
checkpoint, and the keys that sign checkpoints."""

from __future__ import annotations

from pydantic import BaseModel

from incident.audit.checkpoints import AuditReport
from incident.audit.rules import Finding
from incident.audit.signing import PublicKey


class ChainPublic(BaseModel):
    chain: str
    name: str
    """The incident's reference, or the chain's own name (`organisation`)."""
    finding: Finding
    ok: bool
    events: int
    signed_seq: int | None
    """The events the checkpoint signed of it (None: begun after it)."""
    first_bad_seq: int | None
    detail: str


class LogProblemPublic(BaseModel):
    checkpoint: int | None
    line: int
    problem: str


class AuditPublic(BaseModel):
    """Whether every timeline still holds what the latest signed checkpoint recorded."""

    ok: bool
    checkpoint: int | None
    """The latest checkpoint the log outside the database holds and that verifies."""
    checkpoint_at: str | None
    log_problems: list[LogProblemPublic]
    """Where the checkpoint log itself does not hold (its copy outside the database)."""
    copy_problems: list[str]
    """Where the database's copy of the checkpoints differs from the log."""
    chains: list[ChainPublic]

    @classmethod
    def of(cls, report: AuditReport, names: dict[str, str]) -> AuditPublic:
        return cls(ok=report.ok, checkpoint=report.checkpoint,
                   checkpoint_at=report.checkpoint_at,
                   log_problems=[LogProblemPublic(checkpoint=p.number, line=p.line,
                                                  problem=p.problem)
                                 for p in report.log_problems],
                   copy_problems=report.copy_problems,
                   chains=[ChainPublic(chain=r.chain, name=names.get(r.chain, r.chain),
                                       finding=r.finding, ok=r.ok, events=r.events,
                                       signed_seq=r.signed_seq, first_bad_seq=r.first_bad_seq,
                                       detail=r.detail)
                           for r in sorted(report.chains,
                                           key=lambda r: names.get(r.chain, r.chain))])


class PublicKeyPublic(BaseModel):
    id: str
    public_key: str
    """The raw 32-byte Ed25519 public key, base64."""
    fingerprint: str
    """SHA-256 of the raw key, hex in groups of four: compare it out of band."""
    since: str
    until: str | None

    @classmethod
    def of(cls, key: PublicKey) -> PublicKeyPublic:
        return cls.model_validate(key.as_dict())

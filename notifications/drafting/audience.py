"""Whom a notice to people is addressed to: the people of a snapshot that the obligation's law
protects, by the law's own territorial rule (`Protects` in a regime file). Pure.

A territorial rule addresses the people whose jurisdiction lies in its territories. Someone
whose residence is unknown (no jurisdiction in the inventory) is never addressed under it,
since nobody can say the law protects them, but is counted so the draft says so; a rule
that protects everyone addresses them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from notifications.obligations.regimes import (
    CODE_PATTERN,
    TERRITORY_GROUPS,
    Protects,
    territory_matches,
)


@dataclass(frozen=True)
class Audience:
    """The people a notice goes to, those left out and why, and the basis in one sentence."""

    everyone: bool
    """Every person of the snapshot is addressed (no one is left out)."""
    jurisdictions: tuple[str, ...]
    """The jurisdiction codes addressed, sorted ("" for unknown residence when everyone is)."""
    count: int
    """People addressed."""
    total: int
    """People in the snapshot."""
    not_protected: int
    """Left out: they live outside every territory the law protects."""
    unknown: int
    """Left out: their residence is unknown, so no territorial rule can reach them."""
    territories: tuple[str, ...]
    """The territories of the rule applied; empty when everyone is addressed."""
    basis: str
    """The rule applied, for people: "People in US-CA only (Cal. Civ. Code 1798.82(a)): 12 of 51"."""
    citation: str
    confidence: str
    parts: tuple[tuple[str, Audience], ...] = ()
    """For one letter meeting several laws' notices: whom each addresses, by obligation."""

    @property
    def left_out(self) -> int:
        return self.not_protected + self.unknown

    def why_nobody(self) -> str:
        """Why nobody is addressed (for a refusal to send), or "" when somebody is."""
        if self.count:
            return ""
        if not self.total:
            return "nobody is in the affected-people snapshot"
        reasons = []
        if self.not_protected:
            reasons.append(f"{self.not_protected} {_people(self.not_protected)} elsewhere")
        if self.unknown:
            reasons.append(f"{self.unknown} of unknown residence")
        return (f"nobody in the snapshot lives in {place(self.territories)}, the only people "
                f"{self.citation} protects ({', '.join(reasons)})")

    def payload(self) -> dict[str, Any]:
        """The audience as recorded on the timeline (counts and codes, no personal data)."""
        return {"addressed": self.count, "total": self.total, "everyone": self.everyone,
                "not_protected": self.not_protected, "unknown": self.unknown,
                "jurisdictions": list(self.jurisdictions), "territories": list(self.territories),
                "basis": self.basis, "citation": self.citation, "confidence": self.confidence,
                **({"parts": {ref: part.payload() for ref, part in self.parts}}
                   if self.parts else {})}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Audience:
        """The audience recorded by `payload()`."""
        return cls(everyone=bool(data["everyone"]), jurisdictions=tuple(data["jurisdictions"]),
                   count=int(data["addressed"]), total=int(data["total"]),
                   not_protected=int(data["not_protected"]), unknown=int(data["unknown"]),
                   territories=tuple(data["territories"]), basis=str(data["basis"]),
                   citation=str(data["citation"]), confidence=str(data["confidence"]),
                   parts=tuple((str(ref), cls.from_payload(part))
                               for ref, part in dict(data.get("parts") or {}).items()))


def known(jurisdiction: str | None) -> bool:
    """Is this a place of residence (ISO 3166-1 or 3166-2), rather than none at all?"""
    return bool(jurisdiction) and CODE_PATTERN.fullmatch(str(jurisdiction)) is not None


def audience(protects: Protects, *, established_in: str | None,
             people: Mapping[str, int] | Mapping[str | None, int]) -> Audience:
    """Whom a notice under `protects` addresses among `people` (counts by jurisdiction code;
    "" or None where residence is unknown), for an organisation established in
    `established_in` (ISO 3166-1; None when not known)."""
    counts: dict[str | None, int] = {code: n for code, n in people.items() if n > 0}
    total = sum(counts.values())
    if protects.people_in is None:
        return _everyone(protects, counts, total, protects.citation,
                         f"Every affected person ({protects.citation})")
    home = protects.everyone_if_established_in
    if home is not None and established_in is not None and known(established_in) and any(
            territory_matches(established_in, t) for t in home):
        citation = protects.established_citation or protects.citation
        return _everyone(protects, counts, total, citation,
                         f"Every affected person: the organisation is established in "
                         f"{place(home)} ({citation})")
    territories = protects.people_in
    addressed = {code: n for code, n in counts.items() if code is not None and known(code)
                 and any(territory_matches(code, t) for t in territories)}
    count = sum(addressed.values())
    unknown = sum(n for code, n in counts.items() if not known(code))
    since = ""
    if home is not None:
        since = (f", since the organisation is not established in {place(home)}"
                 if established_in else ", since the organisation's country is not known")
    return Audience(everyone=False, jurisdictions=tuple(sorted(addressed)), count=count,
                    total=total, not_protected=total - count - unknown, unknown=unknown,
                    territories=tuple(territories),
                    basis=f"People in {place(territories)} only{since} ({protects.citation}): "
                          f"{count} of {total}",
                    citation=protects.citation, confidence=protects.confidence)


def _everyone(protects: Protects, counts: Mapping[str | None, int], total: int, citation: str,
              basis: str) -> Audience:
    return Audience(everyone=True, jurisdictions=tuple(sorted({code or "" for code in counts})),
                    count=total, total=total, not_protected=0, unknown=0, territories=(),
                    basis=basis, citation=citation, confidence=protects.confidence)


def place(territories: Iterable[str]) -> str:
    """Territories for people: "the EEA", "US-CA", "US-CA or US-NY", "BR, PT or the EU"."""
    names = [f"the {t}" if t in TERRITORY_GROUPS else t for t in territories]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _people(count: int) -> str:
    return "person" if count == 1 else "people"


def combined(audiences: Mapping[str, Audience], people: Mapping[str, int]) -> Audience:
    """The people one letter per person goes to when it meets several laws' notices (by
    obligation): everyone any of the laws addresses. `people` are the snapshot's counts by
    jurisdiction, as given to `audience`."""
    parts = list(audiences.values())
    if len(parts) == 1:
        return parts[0]
    each = tuple(audiences.items())
    total = parts[0].total
    basis = "; ".join(f"{ref}: {part.basis}" for ref, part in audiences.items())
    citation = "; ".join(dict.fromkeys(part.citation for part in parts))
    confidence = min((part.confidence for part in parts), key=_CONFIDENCE.index)
    if any(part.everyone for part in parts):
        return Audience(everyone=True, jurisdictions=tuple(sorted({code or "" for code, n in
                                                                   people.items() if n > 0})),
                        count=total, total=total, not_protected=0, unknown=0, territories=(),
                        basis=basis, citation=citation, confidence=confidence, parts=each)
    jurisdictions = sorted({code for part in parts for code in part.jurisdictions})
    count = sum(people.get(code, 0) for code in jurisdictions)
    unknown = max(part.unknown for part in parts)
    territories = tuple(dict.fromkeys(t for part in parts for t in part.territories))
    return Audience(everyone=False, jurisdictions=tuple(jurisdictions), count=count, total=total,
                    not_protected=total - count - unknown, unknown=unknown,
                    territories=territories, basis=basis, citation=citation,
                    confidence=confidence, parts=each)


_CONFIDENCE = ("low", "medium", "high")

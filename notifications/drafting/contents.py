"""What one letter to one person contains: every element that the laws protecting them ask
their notice to contain, each traced to its provision. Pure.

A person owed notices under several laws gets one letter, whose content is the union of
those laws' content lists (a regime file's `letter.elements`); a law whose notice must
stand alone (`letter.own_letter`, e.g. one that forbids stating what the others require)
gets a letter of its own. An element limited to some exposed data (`if_exposed`) is in the
letter only of the people whose data includes it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from notifications.drafting.audience import Audience
from notifications.obligations.regimes import Agency, Letter, LetterElement

WHERE: Mapping[LetterElement, str] = {
    "nature": "What happened: the kind of incident and the description written in the draft",
    "dates": "What happened: when the incident began and ended, and when it was found",
    "data_involved": "Which of your data is affected: the person's own data categories",
    "consequences": "What this could mean for you: per data category, and the consequences "
                    "written in the draft",
    "measures": "What we have done: the measures written in the draft",
    "advice": "What you can do: per data category, and the advice written in the draft",
    "contact": "Whom to contact: the data protection officer or contact point of the profile",
    "complaint": "Whom to contact: the authority people may complain to, from the profile",
    "delay_reason": "What happened: why the notice was not sent sooner, as written in the draft",
    "law_enforcement_delay": "What happened: whether a law enforcement investigation delayed "
                             "the notice (the delay reason written in the draft, else a "
                             "sentence saying it did not)",
    "notice_date": "What happened: the date of the notice",
    "california_format": "The whole letter: titled Notice of Data Breach, under California's "
                         "five headings",
    "credit_bureaus": "Protecting yourself: the nationwide consumer reporting agencies",
    "federal_agencies": "Protecting yourself: the Federal Trade Commission",
    "state_agencies": "Protecting yourself: the state agencies named in the regime file",
    "security_freeze": "Protecting yourself: how to request a free security freeze",
    "police_report": "Protecting yourself: the right to obtain a police report",
    "password_change": "What you can do: change the password and security question",
    "mitigation_services": "What we have done: any service offered (write it in the measures)",
}
"""Where in the letter each element appears, for the draft's content checklist."""


@dataclass(frozen=True)
class Source:
    """One law asking for an element: its obligation, provision and any data condition."""

    ref: str
    citation: str
    if_exposed: tuple[str, ...] = ()


def stands_alone(letter: Letter) -> bool:
    """Must this law's notice be a letter of its own?"""
    return letter.own_letter is not None


def covered(ref: str, candidates: Iterable[str], letters: Mapping[str, Letter]) -> list[str]:
    """The obligations one draft started for `ref` covers: `ref` first, then every other
    candidate (owed to people, pending, not in another notice) whose letter can be shared;
    only `ref` when its own letter must stand alone."""
    if ref not in letters or stands_alone(letters[ref]):
        return [ref]
    others = sorted({c for c in candidates if c != ref and c in letters
                     and not stands_alone(letters[c])})
    return [ref, *others]


def checklist(refs: Iterable[str], letters: Mapping[str, Letter]
              ) -> dict[LetterElement, list[Source]]:
    """Every element a letter covering `refs` may need, with each law asking for it."""
    found: dict[LetterElement, list[Source]] = {}
    for ref in refs:
        letter = letters.get(ref)
        for element, why in (letter.elements.items() if letter else ()):
            found.setdefault(element, []).append(Source(ref, why.citation, why.if_exposed))
    return {element: found[element] for element in WHERE if element in found}


def elements(refs: Iterable[str], letters: Mapping[str, Letter],
             categories: Collection[str]) -> list[LetterElement]:
    """The elements of the letter to one person, met by `refs`, whose exposed data is in
    `categories`: those asked for unconditionally, or on data they had exposed."""
    return [element for element, sources in checklist(refs, letters).items()
            if any(not s.if_exposed or set(s.if_exposed) & set(categories) for s in sources)]


def omitted(refs: Iterable[str], letters: Mapping[str, Letter]) -> list[str]:
    """What the letter must leave out (the laws of its own letters forbid stating it)."""
    return sorted({o for ref in refs if ref in letters for o in letters[ref].omits})


def state_agencies(refs: Iterable[str], letters: Mapping[str, Letter]) -> list[Agency]:
    """The state agencies the letter names, once each."""
    seen: dict[str, Agency] = {}
    for ref in refs:
        for agency in letters[ref].agencies if ref in letters else ():
            seen.setdefault(agency.name, agency)
    return list(seen.values())


def variants(each: Mapping[str, Audience], people: Mapping[str, int]
             ) -> list[tuple[tuple[str, ...], int]]:
    """The different letters a notice covering several laws sends: for each set of laws that
    protects some of its readers together, how many people get that letter (most first).
    `each` is whom each law addresses, `people` the snapshot's counts by jurisdiction."""
    found: dict[tuple[str, ...], int] = {}
    for code, count in people.items():
        laws = tuple(ref for ref, part in each.items()
                     if count > 0 and (part.everyone or code in part.jurisdictions))
        if laws:
            found[laws] = found.get(laws, 0) + count
    return sorted(found.items(), key=lambda item: (-item[1], item[0]))

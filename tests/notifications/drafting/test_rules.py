"""A notification's and a delivery's states, as pure rules: what may follow what, the four-eyes
approval, sending only what was approved, pausing, and the limits of a draft."""

from __future__ import annotations

import pytest

from incident.kernel.errors import Conflict, Invalid
from notifications.drafting.rules import (
    DELIVERY_TRANSITIONS,
    DUE,
    ENDED,
    FIELD_LIMIT,
    OPEN,
    TRANSITIONS,
    UNSENT,
    DeliveryState,
    FourEyes,
    NotificationStatus,
    all_ended,
    approval_refusal,
    check_editable,
    check_fields,
    content_hash,
    ended_count,
    send_refusal,
    steered,
)

S = NotificationStatus
D = DeliveryState
HASH = "a" * 64


def reachable(start: S) -> set[S]:
    seen, frontier = {start}, [start]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


def test_every_status_has_its_moves_and_done_only_sends_again_after_a_bounce() -> None:
    assert set(TRANSITIONS) == set(S)
    assert TRANSITIONS[S.DONE] == {S.SENDING}  # a soft bounce: one delivery tried again
    assert reachable(S.DRAFT) == set(S)


def test_an_edit_voids_an_approval_but_nothing_sent_becomes_a_draft_again() -> None:
    assert S.DRAFT in TRANSITIONS[S.APPROVED]
    for sent in (S.SENDING, S.PAUSED, S.DONE):
        assert S.DRAFT not in reachable(sent)


@pytest.mark.parametrize("status", list(S))
def test_only_unsent_notifications_can_be_edited(status: S) -> None:
    if status in UNSENT:
        check_editable(7, status)
    else:
        with pytest.raises(Conflict, match="can no longer change"):
            check_editable(7, status)


def approval(status: S = S.DRAFT, *, authors: frozenset[str] = frozenset({"writer@example.com"}),
             approved_hash: str = HASH) -> Conflict | FourEyes | None:
    refusal = approval_refusal(7, status, approver="dpo@example.com", authors=authors,
                               approved_hash=approved_hash, content_hash=HASH, version=2)
    assert refusal is None or isinstance(refusal, Conflict | FourEyes)
    return refusal


def test_an_approval_binds_a_second_person_to_the_exact_version() -> None:
    assert approval() is None
    own = approval(authors=frozenset({"writer@example.com", "dpo@example.com"}))
    assert isinstance(own, FourEyes) and own.status == 403
    changed = approval(approved_hash="b" * 64)
    assert isinstance(changed, Conflict) and "changed since you read it" in changed.detail
    for status in (S.APPROVED, S.SENDING, S.PAUSED, S.DONE):
        refused = approval(status)
        assert isinstance(refused, Conflict) and "not a draft" in refused.detail


def test_only_an_approved_unchanged_draft_is_sent() -> None:
    assert send_refusal(7, S.APPROVED, approved_hash=HASH, content_hash=HASH) is None
    assert isinstance(send_refusal(7, S.APPROVED, approved_hash=HASH, content_hash="b" * 64),
                      Conflict)
    for status in (S.DRAFT, S.SENDING, S.PAUSED, S.DONE):
        assert isinstance(send_refusal(7, status, approved_hash=HASH, content_hash=HASH),
                          Conflict)


def test_pausing_and_resuming() -> None:
    assert steered(7, S.SENDING, paused=True) is S.PAUSED
    assert steered(7, S.PAUSED, paused=False) is S.SENDING
    for status, paused in ((S.PAUSED, True), (S.SENDING, False), (S.DRAFT, True), (S.DONE, False)):
        with pytest.raises(Conflict):
            steered(7, status, paused=paused)


def test_fields_are_the_kinds_own_and_limited() -> None:
    check_fields("subject_notice", {"description": "x" * FIELD_LIMIT})
    with pytest.raises(Invalid) as caught:
        check_fields("subject_notice", {"description": "x" * (FIELD_LIMIT + 1),
                                        "authority_reference": "not a notice's field"})
    fields = [e["field"] for e in caught.value.extensions["errors"]]
    assert sorted(fields) == ["authority_reference", "description"]


def test_the_content_hash_covers_every_field() -> None:
    one = content_hash("subject_notice", "gdpr/data-subjects", 1, {"description": "a"})
    assert one == content_hash("subject_notice", "gdpr/data-subjects", 1, {"description": "a"})
    assert one != content_hash("subject_notice", "gdpr/data-subjects", 1, {"description": "b"})
    assert one != content_hash("subject_notice", "gdpr/data-subjects", 2, {"description": "a"})
    # A notice meeting several laws binds its approval to which ones; one law alone is the
    # notice's own, hashed as before.
    both = ["gdpr/data-subjects", "us-ca/individuals"]
    assert one != content_hash("subject_notice", "gdpr/data-subjects", 1, {"description": "a"},
                               both)
    assert one == content_hash("subject_notice", "gdpr/data-subjects", 1, {"description": "a"},
                               ["gdpr/data-subjects"])


def test_delivery_states_are_open_or_ended_and_only_a_bounce_reopens_one() -> None:
    assert set(DELIVERY_TRANSITIONS) == set(D)
    assert {D.SENT, D.FAILED, D.BOUNCED} == ENDED and set(D) == OPEN | ENDED
    assert not OPEN & ENDED
    assert DELIVERY_TRANSITIONS[D.FAILED] == DELIVERY_TRANSITIONS[D.BOUNCED] == frozenset()
    # Accepted, then bounced: for good (hard), or to be tried again (soft).
    assert DELIVERY_TRANSITIONS[D.SENT] == {D.BOUNCED, D.RETRY}
    assert DUE <= OPEN and D.SENDING not in DUE  # a claimed delivery is not handed out twice
    for state in DUE:
        assert DELIVERY_TRANSITIONS[state] - {D.BOUNCED} == {D.SENDING}


def test_a_notification_is_finished_when_no_delivery_is_open() -> None:
    assert all_ended({"sent": 3, "failed": 1}) and all_ended({})
    for state in OPEN:
        assert not all_ended({"sent": 3, state.value: 1})
    assert ended_count({"sent": 3, "failed": 1, "retry": 2, "in_doubt": 1}) == 4


def test_a_field_holds_one_text_or_one_per_locale() -> None:
    from notifications.drafting.translations import (
        complete_languages,
        gaps,
        merged,
        text_for,
        written_in,
    )

    stored = merged("Stolen.", {"pl": "Skradziono.", "de": ""}, "en")
    assert stored == {"en": "Stolen.", "pl": "Skradziono."}
    assert merged(stored, {"pl": ""}, "en") == "Stolen."  # only the default left: plain again
    assert merged(stored, "Lost.", "en") == {"en": "Lost.", "pl": "Skradziono."}
    assert text_for(stored, "pl_PL", "en") == "Skradziono."
    assert text_for(stored, "de_AT", "en") == "Stolen."  # a preview falls back; a send refuses
    assert written_in(stored, "pl_PL", "en") and not written_in(stored, "de", "en")
    assert written_in("", "de", "en")  # nothing written in any language: nothing missing
    fields = {"description": stored, "consequences": "Phishing.", "measures": ""}
    assert gaps(fields, ("description", "consequences", "measures"), {"pl": 5, "en": 2}, "en") == {
        "pl": ["consequences"]}
    assert complete_languages(fields, ("description", "consequences", "measures"), "en") == ["en"]


def test_unknown_locales_and_long_texts_are_named() -> None:
    import pytest

    from incident.kernel.errors import Invalid
    from notifications.drafting.rules import FIELD_LIMIT, check_fields

    with pytest.raises(Invalid) as refused:
        check_fields("subject_notice", {"description": {"pl": "ok", "xx-Nope": "no"},
                                        "consequences": {"de": "x" * (FIELD_LIMIT + 1)},
                                        "measures": {"pl": "  "}})
    assert [e["field"] for e in refused.value.extensions["errors"]] == [
        "description.xx-Nope", "consequences.de", "measures.pl"]

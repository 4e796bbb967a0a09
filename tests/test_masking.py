"""Personal data is masked before anything is written: measured on the labelled sets."""

from __future__ import annotations

import pytest

from bench.masking import LABELLED, misses, read_labelled, score
from chatbot.privacy.masking import contact_keys, find_personal_data, mask, normalise_contact

HELDOUT = LABELLED.with_name("masking-heldout.txt")


@pytest.mark.parametrize("path", [LABELLED, HELDOUT], ids=["labelled", "heldout"])
def test_masking_meets_the_bar_on_the_labelled_sets(path):
    lines = read_labelled(path)
    scores = score(find_personal_data, lines)
    report = "\n".join(misses(lines))
    for kind in ("ic", "phone", "email", "card"):
        assert scores[kind].recall >= 0.98, f"{kind} recall {scores[kind].recall}\n{report}"
        assert scores[kind].precision >= 0.95, f"{kind} precision\n{report}"


def test_the_labelled_sets_hold_at_least_200_lines_with_look_alikes():
    lines = read_labelled(LABELLED) + read_labelled(HELDOUT)
    assert len(lines) >= 200
    assert sum(1 for line in lines if not line.spans) >= 60  # lines where nothing may change


def test_mask_replaces_each_kind_and_keeps_the_rest():
    text = (
        "IC 900101-14-5678, call 012-345 6789 or alice@example.com, card 4111 1111 1111 1111,"
        " passport A12345678; order ORD-2024-0012345 of RM1,299.00 on 2024-01-15"
    )
    assert mask(text) == (
        "IC [IC-NUMBER], call [PHONE] or [EMAIL], card [CARD-NUMBER], passport [PASSPORT];"
        " order ORD-2024-0012345 of RM1,299.00 on 2024-01-15"
    )


def test_a_card_number_failing_luhn_stays():
    assert mask("part 4111 1111 1111 1112") == "part 4111 1111 1111 1112"


def test_contacts_typed_differently_find_the_same_customer():
    typed = contact_keys("I'm Siti, +60 12-345 6789 or Siti.A@Example.com")
    assert normalise_contact("0123456789") in typed
    assert normalise_contact("siti.a@example.com") in typed
    assert normalise_contact("not a contact") is None


def test_contacts_typed_with_unusual_characters_are_found_by_what_staff_type() -> None:
    """Review #15: what a phone's keyboard sends (no-break spaces, full-width digits,
    zero-width characters) is masked, and found again by `privacy export --contact`."""
    staff_typed = normalise_contact("012-345 6789")
    for written in (
        "call 012\u00a0345\u00a06789",
        "电话 \uff10\uff11\uff12-\uff13\uff14\uff15 \uff16\uff17\uff18\uff19",
        "WhatsApp 01\u200b2-345\u200d6789",
    ):
        assert contact_keys(written) == {staff_typed}, written
        assert "[PHONE]" in mask(written) and "345" not in mask(written)
    assert contact_keys("siti\u200b@example.my") == {normalise_contact("siti@example.my")}
    assert normalise_contact("\uff10\uff11\uff12-\uff13\uff14\uff15 \uff16\uff17\uff18\uff19") == (
        staff_typed
    )


# In one process, no server or browser: part of the fast tier.
pytestmark = pytest.mark.contract

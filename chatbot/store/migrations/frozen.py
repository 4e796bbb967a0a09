"""Code as it stood when a migration was written, copied rather than imported: a later change to
the live code (masking rules, the audit hash) must never change what an old migration does to a
database that runs it today. Do not edit; a change in behaviour is a new migration.

Frozen for 0005_privacy (masking of text stored before masking existed; the audit log's chain).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

Kind = Literal["ic", "card", "email", "phone", "passport"]

MASKS: dict[Kind, str] = {
    "ic": "[IC-NUMBER]",
    "card": "[CARD-NUMBER]",
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "passport": "[PASSPORT]",
}


@dataclass(frozen=True, slots=True)
class Found:
    kind: Kind
    start: int
    end: int
    text: str


# Not glued to other digits or Latin letters ("A1234", "12345678901234" hold no match inside);
# Chinese characters may touch a number, as Chinese writes no space around it.
_L, _R = r"(?<![A-Za-z0-9+])", r"(?![A-Za-z0-9])"
_SEP = r"[ \-.]?"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
# YYMMDD-PB-###G; place-of-birth codes 00, 17-20, 69, 70, 73, 80, 81 and 94-97 are not issued.
_IC = re.compile(_L + r"(\d{2})(\d{2})(\d{2})([ -]?)(\d{2})\4(\d{4})" + _R)
_UNUSED_PLACE_CODES = {0, 17, 18, 19, 20, 69, 70, 73, 80, 81, 94, 95, 96, 97}
# 13-19 digits, in groups separated by a space or a dash, or none.
_CARD = re.compile(_L + r"\d(?:[ -]?\d){12,18}" + _R)
# Malaysian: mobile 01x, landlines 03/04-09 and the East-Malaysian 08x, after 0, 60 or +60.
_MY_PHONE = re.compile(
    r"(?<![A-Za-z0-9+])(?:\+?6\s?0[ -]?|0)(?:"
    r"1\d[ -]?\d{3,4}[ -]?\d{3,4}"  # mobile: 012-345 6789, 011-1234 5678
    r"|[3-9]\d?[ -]?\d{3,4}[ -]?\d{3,4}"  # landline: 03-2161 1234, 04-263 1234, 082-123456
    r")" + _R + r"|(?<![A-Za-z0-9])\(0[3-9]\d?\)[ -]?\d{3,4}[ -]?\d{3,4}" + _R  # (03) 2161 1234
)
# International: a + and a country code, then 6-13 more digits in groups.
_INTL_PHONE = re.compile(r"(?<![A-Za-z0-9+])\+\d{1,3}(?:[ \-.]?\(?\d{1,5}\)?){2,6}" + _R)
# Malaysian passports: A, H or K and eight digits. Others (one or two letters and six to nine
# digits) only after the word passport, which order and tracking numbers lack.
_MY_PASSPORT = re.compile(_L + r"[AHK]\d{8}" + _R)
_OTHER_PASSPORT = re.compile(
    r"(?i:passport|pasport|paspot|护照|護照|パスポート)[^\n\d]{0,25}?"
    + _L
    + r"([A-Z]{1,2}[ -]?\d{6,9}|\d{8,9})"
    + _R
)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _emails(text: str) -> Iterator[Found]:
    for m in _EMAIL.finditer(text):
        yield Found("email", m.start(), m.end(), m.group())


def _identity_cards(text: str) -> Iterator[Found]:
    for m in _IC.finditer(text):
        month, day, place = int(m.group(2)), int(m.group(3)), int(m.group(5))
        if 1 <= month <= 12 and 1 <= day <= 31 and place not in _UNUSED_PLACE_CODES:
            yield Found("ic", m.start(), m.end(), m.group())


def _cards(text: str) -> Iterator[Found]:
    for m in _CARD.finditer(text):
        digits = _digits(m.group())
        # Issuers' numbers begin 2-6 (Mastercard, Amex, Visa, Discover, UnionPay, JCB).
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn(digits):
            yield Found("card", m.start(), m.end(), m.group())


def _phones(text: str) -> Iterator[Found]:
    for m in _MY_PHONE.finditer(text):
        if 9 <= len(_digits(m.group()).removeprefix("6")) <= 11:
            yield Found("phone", m.start(), m.end(), m.group())
    for m in _INTL_PHONE.finditer(text):
        if 8 <= len(_digits(m.group())) <= 15:
            yield Found("phone", m.start(), m.end(), m.group())


def _passports(text: str) -> Iterator[Found]:
    for m in _MY_PASSPORT.finditer(text):
        yield Found("passport", m.start(), m.end(), m.group())
    for m in _OTHER_PASSPORT.finditer(text):
        yield Found("passport", m.start(1), m.end(1), m.group(1))


# In order of precedence where matches overlap: an e-mail holds digits that look like anything;
# a MyKad is checked more strictly than a phone or a card.
_DETECTORS: tuple[Callable[[str], Iterator[Found]], ...] = (
    _emails,
    _identity_cards,
    _cards,
    _passports,
    _phones,
)


# Dashes NFKC leaves as they are (U+2011, the non-breaking hyphen, becomes U+2010).
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))


def plain(text: str) -> tuple[str, list[int] | None]:
    """`text` as the detectors read it: NFKC (full-width digits and letters, no-break and
    ideographic spaces become plain ones) with format characters (zero-width spaces and
    joiners, direction marks) removed; and, for each of its characters, where it stood in
    `text`, or None for ASCII text, which is read as it is (most messages and documents: no
    map is built for them). Without it `012\u00a0345\u00a06789` or `０１２-３４５ ６７８９` is
    no phone number."""
    if text.isascii():
        return text, None
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            continue
        for piece in unicodedata.normalize("NFKC", char).translate(_DASHES):
            out.append(piece)
            origin.append(i)
    return "".join(out), origin


def find_personal_data(text: str) -> list[Found]:
    """Every piece of personal data in `text`, in order, none overlapping another. Positions
    are `text`'s own; `Found.text` is the piece as plain() reads it."""
    read, origin = plain(text)
    taken: list[Found] = []
    for detector in _DETECTORS:
        for found in detector(read):
            if not any(found.start < t.end and t.start < found.end for t in taken):
                taken.append(found)
    if origin is not None:
        taken = [Found(f.kind, origin[f.start], origin[f.end - 1] + 1, f.text) for f in taken]
    return sorted(taken, key=lambda f: f.start)


def mask(text: str) -> str:
    """`text` with each piece of personal data replaced by a label such as [PHONE]."""
    found = find_personal_data(text)
    if not found:
        return text
    pieces, last = [], 0
    for f in found:
        pieces.append(text[last : f.start])
        pieces.append(MASKS[f.kind])
        last = f.end
    pieces.append(text[last:])
    return "".join(pieces)


GENESIS = "0" * 64


def entry_hash(
    previous: str, id: int, at: float, actor: str, action: str, target: str, detail: str
) -> str:
    fields = [previous, id, f"{at:.6f}", actor, action, target, detail]
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_existing_entries(db: sa.Connection) -> None:
    """Hash entries written before the chain existed, and start its head."""
    previous, last_id = GENESIS, 0
    rows = db.execute(
        sa.text("SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id")
    ).all()
    for id_, at, actor, action, target, detail in rows:
        digest = entry_hash(previous, id_, at, actor, action, target, detail)
        db.execute(
            sa.text("UPDATE audit_log SET hash = :hash WHERE id = :id"), {"hash": digest, "id": id_}
        )
        previous, last_id = digest, id_
    db.execute(
        sa.text("INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, :last_id, :hash)"),
        {"last_id": last_id, "hash": previous},
    )

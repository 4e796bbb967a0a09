"""Turning bytes of unknown encoding into text.

Order of trust: a byte-order mark, then what the file declares (HTML meta charset), then
detection. UTF-8 is tried before detection because detectors misjudge short UTF-8 text.
"""

from __future__ import annotations

import codecs
import re

from knowledge.errors import RejectedFile

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _bom_encoding(data: bytes) -> tuple[str, int] | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def _looks_utf16_without_bom(data: bytes) -> str | None:
    """ASCII-heavy UTF-16 has a zero in every other byte; detectors often miss it."""
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even_zeros = sample[0::2].count(0) / len(sample[0::2])
    odd_zeros = sample[1::2].count(0) / len(sample[1::2])
    if odd_zeros > 0.3 and even_zeros < 0.05:
        return "utf-16-le"
    if even_zeros > 0.3 and odd_zeros < 0.05:
        return "utf-16-be"
    return None


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode `data`; `declared` is an encoding the document names for itself, if any."""
    bom = _bom_encoding(data)
    if bom:
        name, skip = bom
        return data[skip:].decode(name, errors="replace")
    utf16 = _looks_utf16_without_bom(data)
    if utf16:
        return data.decode(utf16, errors="replace")
    if declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            codec = None
        # A page that says "utf-16" but had no BOM or zero bytes is lying: it was saved as 8-bit.
        if codec and not codec.startswith("utf-16") and not codec.startswith("utf-32"):
            # Browsers read latin-1 and ascii as windows-1252; so do we.
            if codec in ("latin_1", "ascii", "iso8859-1"):
                codec = "cp1252"
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        raise RejectedFile("the file is not text in any encoding we can recognise")
    return data.decode(best.encoding, errors="replace")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)


def declared_html_charset(data: bytes) -> str | None:
    """The charset a page declares in its first 4 KB, as browsers look for it."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", errors="ignore") if match else None

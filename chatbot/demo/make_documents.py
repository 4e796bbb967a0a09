"""Writes the demo shop's price list (PDF) and policies (Word) from the text below.

The generated files are committed; run this only after changing the text:
    .venv/bin/python chatbot/demo/make_documents.py
Gadget Care Penang is a fictional business, written for this demo.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).parent

PRICE_LIST = [
    ("title", "Gadget Care Penang - Price list 2026 / Senarai harga 2026"),
    ("text", "All prices in Ringgit (RM), parts and labour included. Harga termasuk alat ganti."),
    ("heading", "Screen replacement / Tukar skrin"),
    ("text", "iPhone 11 to iPhone 13: RM350"),
    ("text", "iPhone 14 and iPhone 15: RM480"),
    ("text", "Samsung Galaxy A series: RM180"),
    ("text", "Samsung Galaxy S series: RM520"),
    ("text", "Xiaomi, Oppo, Vivo (older Android phones): from RM120"),
    ("heading", "Battery replacement / Tukar bateri"),
    ("text", "iPhone battery: RM150, done in 45 minutes."),
    ("text", "Android battery: RM110 to RM160, depending on the model."),
    ("heading", "Other repairs / Pembaikan lain"),
    ("text", "Charging port cleaning: RM30. Charging port replacement: RM90."),
    ("text", "Water damage treatment: RM80 inspection, refunded if we cannot repair it."),
    ("text", "Data transfer to a new phone: RM50."),
    ("heading", "Accessories / Aksesori"),
    ("text", "Tempered glass screen protector, fitted free: RM25."),
    ("text", "20W USB-C charger: RM45. Phone case: from RM20."),
]

POLICIES = [
    ("title", "Gadget Care Penang: shop policies"),
    ("heading", "Returns and refunds"),
    (
        "text",
        "Accessories (cases, chargers, cables, screen protectors) can be returned within 7 days "
        "with the receipt, unopened and in their original packaging. Opened accessories are "
        "exchanged only if they are faulty.",
    ),
    (
        "text",
        "Repairs are not refundable once the work is done, but every repair is covered by our "
        "warranty. If the same fault comes back within the warranty period, we fix it again free "
        "of charge.",
    ),
    ("heading", "Data on your device"),
    (
        "text",
        "We never need your passcode for a screen or battery repair. For other repairs we may ask "
        "you to unlock the phone to test it, in front of you. Back up your phone before you bring "
        "it in: we are not responsible for data lost during a repair.",
    ),
    ("heading", "Collection"),
    (
        "text",
        "Devices not collected within 60 days of the repair being finished are recycled, after we "
        "have called you and sent a WhatsApp message twice.",
    ),
    ("heading", "Delivery"),
    (
        "text",
        "We deliver accessories anywhere on Penang Island for RM8, free for orders above RM100. "
        "Mainland (Seberang Perai) delivery costs RM12. Orders placed before 3pm arrive the same "
        "day.",
    ),
    ("heading", "Pemulangan dan bayaran balik"),
    (
        "text",
        "Aksesori boleh dipulangkan dalam tempoh 7 hari dengan resit, belum dibuka dan dalam "
        "bungkusan asal. Pembaikan tidak boleh dibayar balik, tetapi setiap pembaikan dilindungi "
        "oleh waranti kami.",
    ),
    ("heading", "Penghantaran"),
    (
        "text",
        "Kami menghantar aksesori ke seluruh Pulau Pinang dengan caj RM8, percuma untuk pesanan "
        "melebihi RM100. Penghantaran ke Seberang Perai berharga RM12.",
    ),
    ("heading", "退货和退款"),
    (
        "text",
        "配件（手机壳、充电器、数据线、屏幕保护贴）在7天内凭收据退货，须未拆封并保留原包装。维修完成后不予退款，但所有维修均享有保修。",
    ),
    ("heading", "送货"),
    ("text", "槟城岛内配件送货费为RM8，订单满RM100免运费。威省（Seberang Perai）送货费为RM12。"),
]


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(
    path: Path, lines: list[tuple[str, str]], title: str = "Gadget Care Penang price list"
) -> None:
    """A one-page PDF in the standard Helvetica fonts: no font files, text pypdf reads."""
    ops = ["BT", "72 770 Td"]
    for kind, text in lines:
        font, size, gap = {"title": ("F2", 15, 26), "heading": ("F2", 12, 22)}.get(
            kind, ("F1", 10.5, 15)
        )
        ops += [f"/{font} {size} Tf", f"0 -{gap} Td", f"({_pdf_escape(text)}) Tj"]
    ops.append("ET")
    stream = "\n".join(ops).encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (%s) >>" % _pdf_escape(title).encode("cp1252"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))


def write_docx(
    path: Path,
    lines: Sequence[tuple[str, object]],
    title: str = "Gadget Care Penang: shop policies",
) -> None:
    """Headings, paragraphs and ("table", rows) with the header row first."""
    from docx import Document  # python-docx: a dev dependency, needed only here

    document = Document()
    for kind, content in lines:
        if kind == "table":
            rows = list(content)  # type: ignore[call-overload]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        elif kind == "title":
            document.add_heading(str(content), level=0)
        elif kind == "heading":
            document.add_heading(str(content), level=1)
        else:
            document.add_paragraph(str(content))
    document.core_properties.title = title
    document.save(str(path))


if __name__ == "__main__":
    write_pdf(HERE / "documents" / "price-list.pdf", PRICE_LIST)
    write_docx(HERE / "documents" / "policies.docx", POLICIES)
    print("wrote price-list.pdf and policies.docx")

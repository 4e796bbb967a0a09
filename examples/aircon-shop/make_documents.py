"""Writes the aircon shop's price list (PDF) and warranty terms (Word) from the text below.

The second small business of the answer benchmark (bench/answer.py), beside the demo shop:
its documents are what such a shop has (a one-page price list laid out as rows, warranty terms
with a table, an FAQ in three languages, a Markdown page with a table), and questions.jsonl
asks what its customers ask. The generated files are committed; run this only after changing
the text:

    .venv/bin/python examples/aircon-shop/make_documents.py

Sejuk Aircon Services is a fictional business, written for this benchmark.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location(
    "demo_documents", HERE.parents[1] / "chatbot" / "demo" / "make_documents.py"
)
assert _spec and _spec.loader
_writers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_writers)

PRICE_LIST = [
    ("title", "Sejuk Aircon Services - Price list 2026 / Senarai harga 2026"),
    ("text", "Prices per unit in Ringgit (RM). Harga seunit dalam Ringgit."),
    ("heading", "General service / Servis biasa"),
    ("text", "Wall-mounted 1.0 HP - 1.5 HP: RM80"),
    ("text", "Wall-mounted 2.0 HP - 2.5 HP: RM100"),
    ("text", "Ceiling cassette: RM150"),
    ("heading", "Chemical wash / Cuci kimia"),
    ("text", "Wall-mounted 1.0 HP - 1.5 HP: RM150"),
    ("text", "Wall-mounted 2.0 HP - 2.5 HP: RM180"),
    ("text", "Ceiling cassette: RM250"),
    ("heading", "Installation / Pemasangan"),
    ("text", "New unit installation (pemasangan unit baru) 1.0 HP - 1.5 HP: RM350"),
    ("text", "New unit installation (pemasangan unit baru) 2.0 HP - 2.5 HP: RM450"),
    ("text", "Copper piping beyond 10 feet (paip tembaga): RM25 per foot"),
    ("text", "Gas top-up R32 (tambah gas): RM120"),
    ("heading", "Contracts / Kontrak"),
    ("text", "Office maintenance contract (kontrak penyelenggaraan pejabat): RM600 a year"),
    ("text", "Home maintenance contract (kontrak penyelenggaraan rumah): RM280 a year"),
]

WARRANTY = [
    ("title", "Sejuk Aircon Services: warranty terms"),
    ("heading", "Warranty by brand"),
    (
        "table",
        [
            ["Brand", "Compressor", "Parts", "Workmanship"],
            ["York", "3 years", "1 year", "6 months"],
            ["Daikin", "5 years", "1 year", "6 months"],
            ["Panasonic", "7 years", "1 year", "6 months"],
            ["Midea", "2 years", "1 year", "6 months"],
        ],
    ),
    ("heading", "What the warranty covers"),
    (
        "text",
        "The warranty covers parts that fail in normal use and our installation work. It does "
        "not cover damage from power surges, pests or units moved by someone else.",
    ),
    ("heading", "Making a claim"),
    (
        "text",
        "Call or WhatsApp us with your invoice number. We inspect within 3 working days; a "
        "covered repair is free of charge.",
    ),
    ("heading", "Waranti mengikut jenama"),
    (
        "text",
        "Pemampat York mempunyai waranti 3 tahun, Daikin 5 tahun, Panasonic 7 tahun dan Midea 2 "
        "tahun. Alat ganti mempunyai waranti 1 tahun dan kerja pemasangan 6 bulan.",
    ),
    ("heading", "Tuntutan waranti"),
    (
        "text",
        "Hubungi kami dengan nombor invois anda. Kami akan memeriksa dalam masa 3 hari bekerja.",
    ),
    ("heading", "保修条款"),
    (
        "text",
        "York压缩机保修3年，Daikin压缩机保修5年，Panasonic压缩机保修7年，Midea压缩机保修2年。"
        "零件保修1年，安装工艺保修6个月。",
    ),
]


if __name__ == "__main__":
    _writers.write_pdf(
        HERE / "documents" / "price-list.pdf", PRICE_LIST, title="Sejuk Aircon price list 2026"
    )
    _writers.write_docx(
        HERE / "documents" / "warranty.docx", WARRANTY, title="Sejuk Aircon warranty terms"
    )
    print("wrote price-list.pdf and warranty.docx")

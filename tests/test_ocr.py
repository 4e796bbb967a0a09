"""Scans and photos read with Tesseract, for real (Debian's tesseract-ocr with English, Malay and
Chinese data, installed by `make test`): a scanned price list, a photo of a price board, the
corpus's image-only PDFs, a PDF whose text layer is garbage, and what happens without OCR (#19)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bench.rendered_pages import image_bytes, page_image, photographed, scanned_pdf
from knowledge.errors import RejectedFile
from knowledge.loaders import load_bytes
from knowledge.ocr import installed_languages, tesseract_languages
from tests.conftest import corpus

EXTRACT = {"CHATBOT_ANSWERING__MODE": "extract"}
PRICES_EN = (
    "Cool Breeze Aircon Service price list\n"
    "Chemical wash (1.0 to 1.5 HP): RM150, about 2 hours\n"
    "General service: RM80, about 1 hour\n"
    "Gas top-up: RM90, about 30 minutes"
)
PRICES_MS = (
    "Senarai harga\nCuci kimia (1.0 hingga 1.5 HP): RM150\nServis am: RM80\nTambah gas: RM90"
)
PRICES_ZH = "价目表\n化学清洗（1.0至1.5匹）：RM150\n一般保养：RM80\n加冷气：RM90"


@pytest.fixture(scope="module", autouse=True)
def tesseract() -> None:
    have = installed_languages()
    assert {"eng", "msa", "chi_sim"} <= have, (
        "these tests need Tesseract with English, Malay and Chinese data: `make test` installs"
        f" them (tesseract-ocr, -msa, -chi-sim, -chi-tra); found {sorted(have) or 'none'}"
    )


def load(kind: str, data: bytes, languages: str = "eng+msa+chi_sim") -> str:
    loaded = load_bytes(kind, data, max_pages=5000, ocr_languages=languages)
    return "\n".join(b.text for b in loaded.blocks)


def test_a_bots_languages_choose_the_ocr_languages() -> None:
    assert tesseract_languages(["ms"]) == "msa"
    assert tesseract_languages(["en", "zh"]) == "eng+chi_sim+chi_tra"
    assert tesseract_languages([]) == "eng+msa+chi_sim+chi_tra"  # none named: all of ours


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_photo_of_a_price_board_is_read(fmt: str) -> None:
    photo = photographed(page_image(PRICES_EN, "en"))
    text = load("image", image_bytes(photo, fmt))
    assert "Chemical wash (1.0 to 1.5 HP): RM150" in text
    assert "Gas top-up: RM90" in text


def test_a_phone_photo_taken_sideways_is_turned_upright_first() -> None:
    from PIL import Image

    sideways = photographed(page_image(PRICES_MS, "ms")).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view", as a phone held upright writes
    out = io.BytesIO()
    sideways.convert("RGB").save(out, "JPEG", exif=exif.tobytes())
    assert "Cuci kimia (1.0 hingga 1.5 HP): RM150" in load("image", out.getvalue(), "msa")


def test_chinese_is_read_without_the_spaces_tesseract_puts_between_characters() -> None:
    text = load("image", image_bytes(page_image(PRICES_ZH, "zh"), "PNG"), "chi_sim")
    wash = next(line for line in text.splitlines() if "化学清洗" in line)
    assert "1.0至1.5匹" in wash and "RM150" in wash  # (its brackets may come back half-width)
    assert any(line.startswith("一般保养") and "RM80" in line for line in text.splitlines())


def test_the_corpus_scan_becomes_text_and_a_scan_with_none_is_refused_with_why() -> None:
    report = load("pdf", corpus("pdf/scanned-medical-report-image-only.pdf").read_bytes(), "eng")
    assert "Primary Physician: Dr. Elizabeth Warren" in report
    smiley = corpus("pdf/image-only-ccittfax.pdf").read_bytes()  # a 16-pixel face, no text
    with pytest.raises(RejectedFile, match=r"^the PDF is a scan and OCR found no text in it$"):
        load("pdf", smiley)


def test_garbage_that_ocr_cannot_read_reliably_is_refused_not_indexed() -> None:
    # Vertical Japanese behind a broken font: OCR in the languages we have reads nonsense,
    # with low confidence; none of it may reach the knowledge base.
    garbled = corpus("pdf/japanese-jo.pdf").read_bytes()
    with pytest.raises(RejectedFile, match=r"garbled .* OCR could not read it reliably"):
        load("pdf", garbled)


def _with_garbage_text_layer(pdf: bytes) -> bytes:
    """The scan with an invisible text layer under it whose font maps each letter to one of
    many scripts: the text a PDF with a broken character map gives."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    scripts = ["03B1", "0627", "0436", "0250", "05D0", "0E01", "10D0", "0531"]  # α ا ж ɐ א ก ა Ա
    pairs = "".join(f"<{0x41 + n:02X}> <{scripts[n % 8]}>\n" for n in range(26))
    cmap = DecodedStreamObject()
    cmap.set_data(
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        b"1 begincodespacerange <00> <FF> endcodespacerange\n"
        + f"26 beginbfchar\n{pairs}endbfchar\n".encode()
        + b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/ToUnicode"): writer._add_object(cmap),
        }
    )
    page = writer.pages[0]
    resources = page["/Resources"].get_object()
    resources[NameObject("/Font")] = DictionaryObject({NameObject("/F9"): font})
    words = " ".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 26] * 5 for n in range(40))
    layer = f"\nBT 3 Tr /F9 10 Tf 72 700 Td ({words}) Tj ET".encode()  # 3 Tr: invisible
    contents = DecodedStreamObject()  # the scan's drawing, then the layer, as OCR tools add it
    contents.set_data(page.get_contents().get_data() + layer)
    page.replace_contents(contents)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_page_with_a_text_layer_is_not_ocrd_and_one_whose_layer_is_garbage_is() -> None:
    text_pdf = corpus("pdf/google-doc-document.pdf").read_bytes()
    loaded = load_bytes("pdf", text_pdf, max_pages=5000, ocr_languages="eng")
    assert not loaded.notes  # its own text, no OCR
    scan = scanned_pdf([page_image(PRICES_EN, "en")])
    garbage = _with_garbage_text_layer(scan)
    loaded = load_bytes("pdf", garbage, max_pages=5000, ocr_languages="eng")
    text = "\n".join(b.text for b in loaded.blocks)
    assert "Chemical wash (1.0 to 1.5 HP): RM150" in text
    assert "α" not in text and "ж" not in text
    assert loaded.notes == ["page 1 read by OCR (eng): check the figures in its answers"]


def test_an_image_too_large_to_be_a_page_is_refused_before_it_is_decoded() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (12_000, 12_000), 1).save(out, "PNG")  # 144 megapixels in a small file
    with pytest.raises(RejectedFile, match="144 megapixels, over the limit of 60"):
        load("image", out.getvalue())


def test_a_damaged_image_is_refused_with_its_reason() -> None:
    good = image_bytes(page_image(PRICES_EN, "en", dpi=100), "PNG")
    with pytest.raises(RejectedFile, match=r"^the image is damaged"):
        load("image", good[: len(good) // 2])
    with pytest.raises(RejectedFile, match=r"^the file is not an image this can read"):
        load("image", b"GIF89a-not-really-an-image" * 10)


@pytest.mark.slow
def test_staff_ingest_a_scan_and_a_photo_and_customers_get_their_prices(
    run_cli, tmp_path: Path
) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "price-list-scan.pdf").write_bytes(
        scanned_pdf([page_image(PRICES_EN, "en"), page_image(PRICES_MS, "ms")])
    )
    (documents / "price-board.jpg").write_bytes(
        image_bytes(photographed(page_image(PRICES_ZH, "zh")), "JPEG")
    )
    data = tmp_path / "data"
    assert run_cli("bots", "create", "kedai", "languages=en,ms,zh", data_dir=data).code == 0
    result = run_cli("ingest", "--bot", "kedai", str(documents), data_dir=data)
    assert result.code == 0, result.err
    assert "ingested: 2" in result.out and "rejected: 0" in result.out
    assert "2 pages read by OCR (eng+msa+chi_sim+chi_tra)" in result.out
    for question, fact in (
        ("How much is a gas top-up?", "RM90"),
        ("Berapa harga cuci kimia?", "RM150"),
        ("一般保养多少钱？", "RM80"),
    ):
        asked = run_cli("ask", "--bot", "kedai", "--json", question, data_dir=data, env=EXTRACT)
        assert asked.code == 0, asked.err
        answer = json.loads(asked.out)
        assert answer["answered"] and fact in answer["answer"], (question, answer["answer"])
    # With OCR off (or no Tesseract), the same files are turned away with the reason.
    off = run_cli(
        "ingest", "--bot", "other", str(documents), data_dir=data,
        env={"CHATBOT_INGEST__OCR": "false"},
    )  # fmt: skip
    assert "rejected: 2" in off.out
    assert "no text layer (it looks like a scan) and OCR is off here" in off.out
    assert "images are read by OCR, which is off here" in off.out
    # OCR on, but no Tesseract on this machine: found out when a page needs it, and said so.
    missing = run_cli(
        "ingest", "--bot", "other", str(documents), data_dir=data, env={"PATH": str(tmp_path)}
    )  # fmt: skip
    assert "rejected: 2" in missing.out, missing.out + missing.err
    assert "no text layer (it looks like a scan) and OCR is off here" in missing.out

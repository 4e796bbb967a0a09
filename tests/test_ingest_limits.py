"""Files that are too big, too long, too slow or too hungry are stopped and rejected."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.conftest import corpus


def _reason(result, path: Path) -> str:
    for line in result.out.splitlines():
        if line.startswith(f"rejected: {path}: "):
            return line.split(": ", 2)[2]
    raise AssertionError(f"{path} was not rejected:\n{result.out}\n{result.err}")


def test_files_over_the_size_and_page_limits_are_rejected_and_the_rest_ingested(
    tmp_path: Path, run_cli
) -> None:
    big, long_pdf = corpus("html/sec-10k-filing.html"), corpus("pdf/thesis-117-pages-german.pdf")
    small = corpus("md/msia-sg-travel-faq-pca.md")
    env = {"CHATBOT_INGEST__MAX_FILE_MB": "2", "CHATBOT_INGEST__MAX_PAGES": "100"}
    result = run_cli("ingest", str(big), str(long_pdf), str(small), data_dir=tmp_path, env=env)
    assert result.code == 1
    assert _reason(result, big) == "the file is 2.3 MB, over the limit of 2 MB"
    assert _reason(result, long_pdf) == "the PDF has 117 pages, over the limit of 100"
    assert result.out.startswith("ingested: 1 ")


def test_a_file_whose_reading_takes_too_long_is_stopped_and_rejected(
    tmp_path: Path, run_cli
) -> None:
    slow = corpus("pdf/army-manual-619-pages.pdf")  # pypdf needs ~20 s for it
    small = corpus("md/msia-sg-travel-faq-pca.md")
    env = {"CHATBOT_INGEST__PARSE_TIMEOUT_S": "1"}
    result = run_cli("ingest", str(slow), str(small), data_dir=tmp_path, env=env)
    assert _reason(result, slow) == "reading the file took longer than 1 seconds"
    assert result.out.startswith("ingested: 1 ")


def test_a_file_whose_reading_exhausts_memory_is_stopped_and_rejected(
    tmp_path: Path, run_cli
) -> None:
    # A Word file of 300 MB of XML that zips to well under a megabyte: a decompression bomb.
    bomb = tmp_path / "bomb.docx"
    paragraph = "<w:p><w:r><w:t>" + "pad " * 2000 + "</w:t></w:r></w:p>"
    body = paragraph * (300 * 1024 * 1024 // len(paragraph))
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{body}</w:body></w:document>",
        )
    small = corpus("md/msia-sg-travel-faq-pca.md")
    env = {"CHATBOT_INGEST__PARSE_MEMORY_MB": "512"}
    result = run_cli("ingest", str(bomb), str(small), data_dir=tmp_path, env=env)
    assert "more than 512 MB of memory" in _reason(result, bomb)
    assert result.out.startswith("ingested: 1 ")


def test_unsupported_and_missing_files_are_rejected_with_a_reason(tmp_path: Path, run_cli) -> None:
    old_word = tmp_path / "menu.doc"
    old_word.write_bytes(b"\xd0\xcf\x11\xe0 not really")
    image = tmp_path / "logo.gif"
    image.write_bytes(b"GIF89a")
    broken = tmp_path / "price-board.png"
    broken.write_bytes(b"\x89PNG\r\n")  # the start of a photo, cut off
    fake_pdf = tmp_path / "notes.pdf"
    fake_pdf.write_text("this is not a pdf at all")
    missing = tmp_path / "nowhere.pdf"
    result = run_cli(
        "ingest", str(old_word), str(image), str(broken), str(fake_pdf), str(missing),
        data_dir=tmp_path / "data",
    )  # fmt: skip
    assert result.code == 1
    assert _reason(result, old_word) == "old Word .doc files are not read; save it as .docx"
    assert _reason(result, image).startswith("unsupported file type .gif (supported: .csv,")
    assert _reason(result, broken).startswith("the file is not an image this can read")
    assert _reason(result, fake_pdf) == "the file is not a PDF (it has no PDF header)"
    assert _reason(result, missing) == "no such file"


def test_usage_errors_exit_2(tmp_path: Path, run_cli) -> None:
    assert run_cli("ingest", data_dir=tmp_path).code == 2
    assert run_cli("search", "--k", "0", "x", data_dir=tmp_path).code == 2


def test_a_bad_bot_name_or_setting_is_a_one_line_error(tmp_path: Path, run_cli) -> None:
    bad_bot = run_cli("docs", "--bot", "Bad Name", data_dir=tmp_path)
    assert bad_bot.code == 1 and bad_bot.err.startswith("error: bot name 'Bad Name'")
    assert bad_bot.err.count("\n") == 1
    bad_setting = run_cli("docs", data_dir=tmp_path, env={"CHATBOT_RETRIEVAL__K": "zero"})
    assert bad_setting.code == 1
    assert bad_setting.err.startswith("error: setting retrieval.k:")
    assert bad_setting.err.count("\n") == 1


def test_every_refusal_is_a_plain_sentence(tmp_path: Path, run_cli) -> None:
    """A shop owner reads why a file was refused: no Python exception names, no library's
    own wording, no traceback."""
    import re
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    def png_header(width: int, height: int) -> bytes:
        """A PNG's signature, its header chunk and the start of its pixels: what is read
        before any pixel is decoded."""
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        pixels = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + pixels

    files = {
        "huge-photo.png": png_header(20_000, 20_000),  # 400 megapixels, said in its header
        "cut-off.png": png_header(800, 600),
        "prices.xlsx": _zip_with("hello.txt", "not a workbook"),
        "menu.ods": _zip_with("hello.txt", "not a spreadsheet"),
        "brochure.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage trailer",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = run_cli(
        "ingest", *(str(tmp_path / name) for name in files), data_dir=tmp_path / "data"
    )
    assert result.code == 1
    technical = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)+\b|Error\b|Exception\b|\(\w+\)$")
    reasons = {name: _reason(result, tmp_path / name) for name in files}
    for name, reason in reasons.items():
        assert not technical.search(reason), f"{name}: {reason}"
    assert "Traceback" not in result.out + result.err
    assert reasons["huge-photo.png"] == "the image is over 60 megapixels, the limit"
    assert reasons["prices.xlsx"].startswith("the workbook cannot be read: it is damaged")
    assert reasons["brochure.pdf"].startswith("the PDF is damaged beyond repair")


def _zip_with(name: str, text: str) -> bytes:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, text)
    return out.getvalue()


def test_a_document_of_too_many_passages_or_too_long_to_embed_is_refused_whole(
    tmp_path: Path, run_cli
) -> None:
    """A spreadsheet export of 600 rows against a limit of 100 passages; then one that takes
    longer to embed than allowed: each refused with its reason, nothing of it searchable,
    the other files ingested."""
    rows = "question,answer\n" + "".join(
        f"What is the price of part {n}?,Part {n} costs RM{n}.\n" for n in range(600)
    )
    parts = tmp_path / "parts.csv"
    parts.write_text(rows, encoding="utf-8")
    small = corpus("md/msia-sg-travel-faq-pca.md")
    data = tmp_path / "data"
    env = {"CHATBOT_INGEST__MAX_PASSAGES": "100"}
    result = run_cli("ingest", str(parts), str(small), data_dir=data, env=env)
    reason = _reason(result, parts)
    assert reason.startswith("the document makes ") and reason.endswith(
        "passages, over the limit of 100; split it into smaller files"
    ), reason
    assert result.out.startswith("ingested: 1 ")
    slow = {"CHATBOT_INGEST__MAX_EMBED_S": "0.001"}
    result = run_cli("ingest", str(parts), data_dir=data, env=slow)
    assert _reason(result, parts) == (
        "embedding its passages took longer than 0.001 s, the limit; split it into smaller files"
    )
    listed = run_cli("docs", "--json", data_dir=data).json_lines()[0]
    assert [d["source"] for d in listed] == [small.name]
    found = run_cli("search", "--json", "price of part 7", data_dir=data)
    assert "RM7" not in found.out


def test_a_reader_stopped_at_its_time_limit_leaves_no_files_and_no_programs_behind(
    tmp_path: Path, run_cli
) -> None:
    """A scan whose OCR runs past the time limit: the reader is stopped with Tesseract, and
    nothing it wrote stays in the temporary folder."""
    import os
    import shutil
    import subprocess

    if shutil.which("tesseract") is None:
        pytest.skip("Tesseract is not installed (make test installs it)")
    from bench.rendered_pages import page_image, scanned_pdf

    text = "Aircon chemical wash RM150. General service RM80. Gas top-up RM90. " * 12
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf([page_image(text, "en") for _ in range(16)]))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"CHATBOT_INGEST__PARSE_TIMEOUT_S": "1", "TMPDIR": str(scratch)}
    result = run_cli("ingest", str(scan), data_dir=tmp_path / "data", env=env)
    assert _reason(result, scan) == "reading the file took longer than 1 seconds"
    left = [str(p.relative_to(scratch)) for p in scratch.rglob("*")]
    assert not left, f"left in the temporary folder: {left}"
    running = subprocess.run(["pgrep", "-f", f"tesseract.*{scratch}"], capture_output=True)
    assert running.stdout == b"", "Tesseract still running after its reader was stopped"
    assert os.listdir(scratch) == []

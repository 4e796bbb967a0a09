"""The HTML a business pastes into its website to show a bot."""

from __future__ import annotations

from html import escape


def embed_snippets(base_url: str, bot: str, title: str) -> tuple[str, str]:
    """(iframe, launcher script) for the server at `base_url`."""
    base = escape(base_url.rstrip("/"), quote=True)
    name = escape(bot, quote=True)
    iframe = (
        f'<iframe src="{base}/embed/{name}" title="{escape(title, quote=True)}"'
        ' style="width:100%;max-width:420px;height:600px;border:0;border-radius:12px"'
        ' allow="clipboard-write" loading="lazy"></iframe>'
    )
    script = f'<script src="{base}/widget.js" data-bot="{name}" defer></script>'
    return iframe, script

"""The "Audit log" tab (owners): every staff action, read only."""

from __future__ import annotations

from typing import Any

import gradio as gr

from chatbot.store.accounts import Account, Role
from chatbot.web.console.common import Console, short_refs, when

AUDIT_COLUMNS = ["when", "who", "action", "what", "detail"]


def _of_bots(target: str, actor: str, account: Account, names: set[str]) -> bool:
    """An entry a shop's owner may read: about their bots alone ("shop: faq.csv", "shop",
    "shop: 3f0c…, shop: 9a1b…"), or their own login and logout."""
    assert account.bots is not None
    if not target:
        return actor == account.username
    named = {part.split(": ", 1)[0] for part in target.split(", ") if ": " in part}
    named = {n for n in named if n in names} or ({target} & names)
    return bool(named) and named <= account.bots


def audit_tab(console: Console) -> Any:
    def audit_rows(request: gr.Request) -> list[list[Any]]:
        account = console.staff(request, None, Role.OWNER)
        names = set(console.services.bot_names())
        return [
            [when(e.at), e.actor, e.action, short_refs(e.target), short_refs(e.detail)]
            for e in console.services.audit.entries()
            if account.bots is None or _of_bots(e.target, e.actor, account, names)
        ]

    with gr.Tab("Audit log", visible=False) as tab:
        reload_audit = gr.Button("Refresh")
        audit = gr.Dataframe(
            wrap=True,
            headers=AUDIT_COLUMNS,
            interactive=False,
            # Shares of the width, not pixels: the table fits a tablet as well as a laptop.
            column_widths=["16%", "12%", "16%", "28%", "28%"],
        )
    reload_audit.click(audit_rows, None, audit)
    tab.select(audit_rows, None, audit)  # shown when opened, not only on Refresh
    return tab

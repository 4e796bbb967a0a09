"""The "Audit log" tab (owners): every staff action, read only."""

from __future__ import annotations

from typing import Any

import gradio as gr

from chatbot.store.accounts import Role
from chatbot.web.console.common import Console, when

AUDIT_COLUMNS = ["when", "who", "action", "what", "detail"]


def audit_tab(console: Console) -> Any:
    def audit_rows(request: gr.Request) -> list[list[Any]]:
        console.staff(request, Role.OWNER)
        return [
            [when(e.at), e.actor, e.action, e.target, e.detail]
            for e in console.services.audit.entries()
        ]

    with gr.Tab("Audit log", visible=False) as tab:
        reload_audit = gr.Button("Refresh")
        audit = gr.Dataframe(headers=AUDIT_COLUMNS, interactive=False)
    reload_audit.click(audit_rows, None, audit)
    tab.select(audit_rows, None, audit)  # shown when opened, not only on Refresh
    return tab

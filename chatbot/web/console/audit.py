"""The "Audit log" tab (owners): every staff action, read only."""

from __future__ import annotations

from typing import Any

import gradio as gr

from chatbot.store.accounts import Account, Role
from chatbot.web.console.common import Console, short_refs, when

AUDIT_COLUMNS = ["when", "who", "action", "what", "detail"]
# Each action in an owner's words; the code after it is what `chatbot audit` and the log's
# other readers match on.
_SAID = {
    "login": "logged in",
    "login.failed": "failed to log in",
    "logout": "logged out",
    "account.create": "created an account",
    "account.bots": "changed an account's bots",
    "account.password": "changed a password",
    "account.remove": "removed an account",
    "bot.create": "created a bot",
    "bot.change": "changed a bot's settings",
    "bot.delete": "deleted a bot",
    "knowledge.upload": "added documents",
    "knowledge.upload.queued": "queued documents",
    "knowledge.upload.refused": "uploads refused",
    "knowledge.delete": "deleted a document",
    "knowledge.retitle": "retitled a document",
    "knowledge.reindex": "re-indexed",
    "knowledge.website": "read a website",
    "knowledge.website.queued": "queued a website read",
    "knowledge.website.refused": "a website read refused",
    "knowledge.website.remove": "stopped reading a website",
    "answer.pin": "pinned an answer",
    "answer.unpin": "removed a pinned answer",
    "eval.questions": "kept test questions",
    "conversation.open": "opened a conversation",
    "conversation.erase": "a customer erased their conversation",
    "inbox.reply": "replied to a customer",
    "inbox.take": "took over a conversation",
    "inbox.hand_back": "handed a conversation back",
    "inbox.close": "closed a conversation",
    "lead.create": "a customer left a contact",
    "lead.open": "opened a lead's contact",
    "lead.status": "changed a lead's status",
    "privacy.find": "looked for a customer's data",
    "privacy.export": "exported a customer's data",
    "privacy.erase": "erased a customer's data",
    "privacy.purge": "deleted conversations past retention",
    "webhook.add": "added a webhook",
    "webhook.remove": "removed a webhook",
    "whatsapp.connect": "set the WhatsApp number",
    "whatsapp.disconnect": "removed the WhatsApp number",
}


def said(action: str) -> str:
    """An action as the log shows it: "erased a customer's data (privacy.erase)"."""
    words = _SAID.get(action)
    return f"{words} ({action})" if words else action


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
            [when(e.at), e.actor, said(e.action), short_refs(e.target), short_refs(e.detail)]
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

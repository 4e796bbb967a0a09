"""The "Customer data" tab (owners): a customer's request under the PDPA. Find their
conversations, download everything held, erase it; each step audited by chatbot.actions."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import gradio as gr

from chatbot.actions.privacy import NoSuchCustomer, erase_customer, find_customer
from chatbot.store.accounts import Account, Role
from chatbot.web.console.common import Console
from chatbot.web.customer_export import EXPORT_PATH
from knowledge.errors import KnowledgeError

CUSTOMER_COLUMNS = ["bot", "conversation", "agreed at", "turns", "kept"]


def _asked_by(asked: str) -> tuple[str, str]:
    """("conversation" | "contact", what staff typed): a 32-hex text is a reference."""
    asked = asked.strip()
    if not asked:
        raise gr.Error("Type a conversation id, an e-mail address or a phone number.")
    by_id = re.fullmatch(r"[0-9a-fA-F]{32}", asked) is not None
    return ("conversation" if by_id else "contact"), asked


def customers_tab(console: Console) -> Any:
    services = console.services

    def refs_of(asked: str, account: Account) -> list[Any]:
        selector, value = _asked_by(asked)
        try:
            found: list[Any] = find_customer(
                services, account.username, bots=account.bots, **{selector: value}
            )
            return found
        except NoSuchCustomer:
            return []
        except KnowledgeError as exc:
            raise gr.Error(str(exc), duration=None) from exc

    def customer_conversations(asked: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, None, Role.OWNER)
        refs = refs_of(asked, account)
        if not refs:
            return [], "Nothing is held of this customer.", ""
        held = services.personal_data.export(refs)
        rows = [
            [
                c["bot"],
                c["conversation_id"],
                c["consent"]["at"] if c["consent"] else "",
                len(c["turns"]),
                "yes" if c["consent"] and c["consent"]["kept"] else "no",
            ]
            for c in held
        ]
        link = f"{EXPORT_PATH}?{urlencode(dict([_asked_by(asked)]))}"
        return rows, f"[Download everything held, as JSON]({link})", ""

    def erase_customer_data(asked: str, sure: bool, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, None, Role.OWNER)
        if not sure:
            raise gr.Error("Tick the box to confirm the erasure first.")
        refs = refs_of(asked, account)
        if not refs:
            return [], "", "Nothing is held of this customer.", False
        erase_customer(services, account.username, refs)
        return [], "", f"Erased {len(refs)} conversations.", False

    with gr.Tab("Customer data", visible=False) as tab:
        gr.Markdown(
            "A customer asks to see, take away or erase what you hold of them (PDPA):"
            " find their conversations by the conversation reference the chat shows them, or by"
            " an e-mail address or phone number they gave. Each search, export and erasure"
            " is written in the audit log."
        )
        with gr.Row():
            customer = gr.Textbox(label="Conversation id, e-mail address or phone number", scale=3)
            find_button = gr.Button("Find", variant="primary", scale=1)
        customer_rows = gr.Dataframe(
            wrap=True,
            headers=CUSTOMER_COLUMNS,
            column_widths=["12%", "44%", "20%", "10%", "14%"],
            label="Their conversations",
            interactive=False,
        )
        customer_export = gr.Markdown()
        with gr.Row():
            erase_sure = gr.Checkbox(label="Erase these conversations for good", scale=3)
            erase_button = gr.Button("Erase", variant="stop", scale=1)
        erase_note = gr.Markdown()

    found = [customer_rows, customer_export, erase_note]
    find_button.click(customer_conversations, customer, found)
    customer.submit(customer_conversations, customer, found)
    erase_button.click(erase_customer_data, [customer, erase_sure], [*found, erase_sure])
    return tab

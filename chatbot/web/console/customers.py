"""The "Customer data" tab (owners): a customer's request under the PDPA. Find their
conversations, download everything held, erase it; each step audited by chatbot.actions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

import gradio as gr

from chatbot.actions.privacy import NoSuchCustomer, erase_customer, find_customer
from chatbot.store.accounts import Account, Role
from chatbot.web.console.common import (
    Console,
    confirmation,
    confirmed,
    counted,
    refusal,
    told_to_staff,
    when,
)
from chatbot.web.customer_export import EXPORT_PATH

# "reference": what staff see of a conversation, not the id the customer's chat holds (a
# hash of it: docs/CONSOLE.md).
CUSTOMER_COLUMNS = ["bot", "reference", "agreed at", "turns", "kept"]


def _asked_by(asked: str) -> tuple[str, str]:
    """("conversation" | "contact", what staff typed): a 32-hex text is a reference."""
    asked = asked.strip()
    if not asked:
        raise refusal("Type a conversation id, an e-mail address or a phone number.")
    by_id = re.fullmatch(r"[0-9a-fA-F]{32}", asked) is not None
    return ("conversation" if by_id else "contact"), asked


def customers_tab(console: Console) -> Any:
    services = console.services

    def refs_of(asked: str, account: Account) -> list[Any]:
        selector, value = _asked_by(asked)
        with told_to_staff():  # what else find_customer refuses: its reason
            try:
                found: list[Any] = find_customer(
                    services, account.username, bots=account.bots, **{selector: value}
                )
                return found
            except NoSuchCustomer:
                return []

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
                # The export's ISO time (UTC), as every other table shows times.
                when(dt.datetime.fromisoformat(c["consent"]["at"]).timestamp())
                if c["consent"]
                else "",
                len(c["turns"]),
                "yes" if c["consent"] and c["consent"]["kept"] else "no",
            ]
            for c in held
        ]
        link = f"{EXPORT_PATH}?{urlencode(dict([_asked_by(asked)]))}"
        return rows, f"[Download everything held, as JSON]({link})", ""

    def ask_erase(asked: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, None, Role.OWNER)
        refs = refs_of(asked, account)
        if not refs:
            raise refusal("Nothing is held of this customer: find them first.")
        held = services.personal_data.export(refs)
        messages = sum(len(c["turns"]) for c in held)
        return erasing.ask(
            f"**Erase {counted(len(refs), 'conversation')} of this customer for good?**"
            f" {counted(messages, 'message')}, their consent and any contact they left go, on"
            f" every bot you see; it cannot be undone. Download them first if the customer"
            " asked for a copy.",
            ("", refs),
        )

    def erase_customer_data(target: Any, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, None, Role.OWNER)
        refs = confirmed(target)
        if refs is None:
            return erasing.nothing(3)
        erase_customer(services, account.username, refs)
        return erasing.done([], "", f"Erased {counted(len(refs), 'conversation')}.")

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
        erase_button = gr.Button("Erase these conversations", variant="stop")
        erasing = confirmation("Yes, erase them for good")
        erase_note = gr.Markdown()

    found = [customer_rows, customer_export, erase_note]
    find_button.click(customer_conversations, customer, found)
    customer.submit(customer_conversations, customer, found)
    erase_button.click(ask_erase, customer, erasing.asked)
    erasing.yes.click(erase_customer_data, erasing.target, [*found, *erasing.asked])
    return tab

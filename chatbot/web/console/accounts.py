"""The Accounts tab (the firm's owners): staff accounts, created, limited to some bots (a
shop's staff) or given every bot (the firm's), and removed."""

from __future__ import annotations

from typing import Any

import gradio as gr

from chatbot.actions import accounts
from chatbot.store.accounts import Role
from chatbot.web.console.common import (
    Console,
    confirmation,
    confirmed,
    md_text,
    refusal,
    told_to_staff,
)

ACCOUNT_COLUMNS = ["user name", "role", "bots", ""]


def accounts_tab(console: Console) -> Any:
    services = console.services

    def account_rows(request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, None, Role.OWNER, firm=True)
        rows = [
            [
                a.username,
                a.role.value,
                "every bot" if a.bots is None else ", ".join(sorted(a.bots)) or "none",
                "disabled" if disabled else "",
            ]
            for a, disabled in services.accounts.all()
        ]
        choices = console.bot_choices(account)
        return rows, gr.update(choices=choices), gr.update(choices=choices)

    def add_account(  # type: ignore[no-untyped-def]
        username: str, role: str, password: str, bots: list[str] | None, request: gr.Request
    ):
        account = console.staff(request, None, Role.OWNER, firm=True)
        with told_to_staff():
            accounts.create_account(
                services, username, password, Role(role), account.username, bots or None
            )
        rows = account_rows(request)[0]
        return rows, gr.update(choices=console.bot_choices(account), value=[]), "", ""

    def limit(username: str, bots: list[str] | None, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, None, Role.OWNER, firm=True)
        with told_to_staff():
            accounts.limit_account(services, username, bots or None, account.username)
        return account_rows(request)

    def ask_drop(username: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, None, Role.OWNER, firm=True)
        username = (username or "").strip()
        if username == account.username:
            raise refusal("You cannot remove your own account while logged in with it.")
        found = next((a for a, _ in services.accounts.all() if a.username == username), None)
        if found is None:
            raise refusal(f"There is no account “{username}”: type a user name from the table.")
        sees = "every bot" if found.firm_wide else ", ".join(sorted(found.bots or ())) or "no bot"
        return dropping.ask(
            f"**Remove {md_text(username)}'s account** ({found.role.value}, sees"
            f" {md_text(sees)})? They can no longer log in, and are logged out now; what they"
            " did stays in the audit log.",
            ("", username),
        )

    def drop_account(target: Any, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, None, Role.OWNER, firm=True)
        username = confirmed(target)
        if username is None:
            return dropping.nothing(2)
        with told_to_staff():
            accounts.remove_account(services, username, account.username)
        return dropping.done(account_rows(request)[0], "")

    with gr.Tab("Accounts", visible=False) as tab:
        show_accounts = gr.Button("Refresh")
        account_table = gr.Dataframe(
            wrap=True, headers=ACCOUNT_COLUMNS, label="Staff accounts", interactive=False
        )
        gr.Markdown(
            "A shop's staff see only the bots you give them (their conversations, inbox,"
            " figures, customers' data and audit entries); leave *Bots* empty for the firm's"
            " own staff, who see every bot."
        )
        with gr.Row():
            new_user = gr.Textbox(label="User name")
            new_role = gr.Radio(["editor", "owner"], value="editor", label="Role")
            new_password = gr.Textbox(label="Password (10+ characters)", type="password")
        with gr.Row():
            new_bots = gr.Dropdown([], multiselect=True, label="Bots (empty: every bot)", scale=3)
            make_account = gr.Button("Create account", scale=1)
        with gr.Row():
            which_user = gr.Textbox(label="Account to give bots", scale=2)
            its_bots = gr.Dropdown(
                [], multiselect=True, label="Its bots (empty: every bot)", scale=3
            )
            set_bots = gr.Button("Set its bots", scale=1)
        with gr.Row():
            old_user = gr.Textbox(label="User name to remove", scale=3)
            remove_account = gr.Button("Remove account", variant="stop", scale=1)
        dropping = confirmation("Yes, remove the account")

    listed = [account_table, new_bots, its_bots]
    show_accounts.click(account_rows, None, listed)
    tab.select(account_rows, None, listed)  # shown when opened, not only on Refresh
    make_account.click(
        add_account,
        [new_user, new_role, new_password, new_bots],
        [account_table, new_bots, new_user, new_password],
    )
    set_bots.click(limit, [which_user, its_bots], listed)
    remove_account.click(ask_drop, old_user, dropping.asked)
    dropping.yes.click(drop_account, dropping.target, [account_table, old_user, *dropping.asked])
    return tab

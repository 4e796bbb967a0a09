"""The Accounts tab (owners): staff accounts, created and removed."""

from __future__ import annotations

from typing import Any

import gradio as gr

from chatbot.actions import accounts
from chatbot.store.accounts import Role
from chatbot.web.console.common import Console, told_to_staff


def accounts_tab(console: Console) -> Any:
    services = console.services

    def account_rows(request: gr.Request) -> list[list[Any]]:
        console.staff(request, Role.OWNER)
        return [
            [a.username, a.role.value, "disabled" if disabled else ""]
            for a, disabled in services.accounts.all()
        ]

    def add_account(username: str, role: str, password: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, Role.OWNER)
        with told_to_staff():
            accounts.create_account(services, username, password, Role(role), account.username)
        return account_rows(request), "", ""

    def drop_account(username: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, Role.OWNER)
        if username.strip() == account.username:
            raise gr.Error("You cannot remove your own account while logged in with it.")
        with told_to_staff():
            accounts.remove_account(services, username, account.username)
        return account_rows(request), ""

    with gr.Tab("Accounts", visible=False) as tab:
        show_accounts = gr.Button("Refresh")
        account_table = gr.Dataframe(
            headers=["user name", "role", ""], label="Staff accounts", interactive=False
        )
        with gr.Row():
            new_user = gr.Textbox(label="User name")
            new_role = gr.Radio(["editor", "owner"], value="editor", label="Role")
            new_password = gr.Textbox(label="Password (10+ characters)", type="password")
            make_account = gr.Button("Create account")
        with gr.Row():
            old_user = gr.Textbox(label="User name to remove", scale=3)
            remove_account = gr.Button("Remove account", variant="stop", scale=1)

    show_accounts.click(account_rows, None, account_table)
    tab.select(account_rows, None, account_table)  # shown when opened, not only on Refresh
    make_account.click(
        add_account, [new_user, new_role, new_password], [account_table, new_user, new_password]
    )
    remove_account.click(drop_account, old_user, [account_table, old_user])
    return tab

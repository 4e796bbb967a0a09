"""Staff accounts and their sessions: create, set a password, remove; log in and out. Every
change and every login attempt is audited here, whichever front end asked."""

from __future__ import annotations

from collections.abc import Iterable

from chatbot.services import Services
from chatbot.store.accounts import Account, AccountError, LoginRefused, Role


def create_account(
    services: Services,
    username: str,
    password: str,
    role: Role,
    actor: str,
    bots: Iterable[str] | None = None,
) -> Account:
    """A staff account, for every bot (`bots` None: the firm's staff) or only for these (a
    shop's staff); bots named must exist."""
    chosen = None if bots is None else _known_bots(services, bots)
    account = services.accounts.create(username.strip(), password, role, chosen)
    services.audit.record(
        actor, "account.create", account.username, f"role={role.value}, bots={_bots(account)}"
    )
    return account


def limit_account(
    services: Services, username: str, bots: Iterable[str] | None, actor: str
) -> Account:
    """The account sees every bot from now (None) or only these."""
    chosen = None if bots is None else _known_bots(services, bots)
    account = services.accounts.limit(username.strip(), chosen)
    services.audit.record(actor, "account.bots", account.username, _bots(account))
    return account


def _known_bots(services: Services, bots: Iterable[str]) -> list[str]:
    chosen = sorted({b.strip() for b in bots if b.strip()})
    if not chosen:
        raise AccountError("name at least one bot, or give the account every bot")
    known = set(services.bot_names())
    if unknown := [b for b in chosen if b not in known]:
        raise AccountError(f"there is no bot {unknown[0]!r}")
    return chosen


def _bots(account: Account) -> str:
    return "all" if account.bots is None else ",".join(sorted(account.bots))


def set_password(services: Services, username: str, password: str, actor: str) -> None:
    """The account's new password; its open sessions end."""
    services.accounts.set_password(username, password)
    services.audit.record(actor, "account.password", username)


def remove_account(services: Services, username: str, actor: str) -> None:
    """Not the last owner (the store refuses)."""
    services.accounts.remove(username.strip())
    services.audit.record(actor, "account.remove", username.strip())


def log_in(
    services: Services, username: str, password: str, address: str, device: str | None = None
) -> tuple[Account, str, str]:
    """The account, its new session's token and the browser's device token; LoginRefused
    (audited) otherwise. `device`: the device token the browser sent, if any."""
    try:
        account, token, device = services.accounts.log_in(username, password, address, device)
    except LoginRefused as refused:
        services.audit.record(username[:64] or "-", "login.failed", "", str(refused))
        raise
    services.audit.record(account.username, "login", "", f"from {address}")
    return account, token, device


def log_out(services: Services, token: str | None) -> None:
    account = services.accounts.session(token)
    if token:
        services.accounts.log_out(token)
    if account:
        services.audit.record(account.username, "logout")

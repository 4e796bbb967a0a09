"""Staff accounts: who may use the console, with which role, and their login sessions.

Passwords are kept as scrypt hashes (memory-hard and slow on purpose; in the standard library).
There is no default account or password: the first one is made with `chatbot admin create`.
A session is a random token in a cookie; the database keeps only its SHA-256, so a copy of the
database lets no one in. Failed logins are counted per account and per address (which may fail
four times as often): past the allowance in 15 minutes, further attempts are refused until the
window has room again, which slows password guessing to a crawl without locking the real user
out for good. A browser where the account has logged in before (a known device: a cookie of
its own, kept as a hash) is not held by the account's count, only by its own address's: so
someone who knows an owner's user name cannot keep the owner out by failing on purpose.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from chatbot.store.database import inserted_id
from chatbot.store.schema import account_bots, accounts, known_devices, login_failures, sessions
from knowledge.errors import KnowledgeError

USERNAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$")
MIN_PASSWORD = 10
FAILURE_WINDOW_S = 15 * 60
DEVICE_S = 365 * 24 * 3600  # how long a browser stays known without a login from it
# scrypt cost: 2^15 x 8 x 128 bytes = 32 MiB and about 0.1 s a check on one core.
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


class Role(StrEnum):
    OWNER = "owner"  # everything, accounts and the audit log included
    EDITOR = "editor"  # knowledge and bot settings


class AccountError(KnowledgeError):
    """An account cannot be made or changed as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    role: Role
    # None: every bot (the firm's staff); else only these (a shop's staff), with `role` on each.
    bots: frozenset[str] | None = None

    @property
    def firm_wide(self) -> bool:
        return self.bots is None

    def may_see(self, bot: str) -> bool:
        return self.bots is None or bot in self.bots


class LoginRefused(Exception):
    """Wrong user name or password (never saying which), or too many attempts."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 1024 * 1024, **_SCRYPT)
    return "scrypt${n}${r}${p}${salt}${digest}".format(
        **_SCRYPT,
        salt=base64.b64encode(salt).decode(),
        digest=base64.b64encode(digest).decode(),
    )


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    # Checked against for unknown user names too, so that timing does not tell which exist.
    return hash_password(secrets.token_urlsafe(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, engine: Engine, session_hours: float, failures_allowed: int) -> None:
        self._engine = engine
        self._session_s = session_hours * 3600
        self._failures_allowed = failures_allowed

    # -- accounts ---------------------------------------------------------------------
    def create(
        self, username: str, password: str, role: Role, bots: Iterable[str] | None = None
    ) -> Account:
        """A new account, for every bot (`bots` None) or only for these."""
        if not USERNAME.match(username):
            raise AccountError(
                f"user name {username!r} is not allowed: letters, digits, '.', '_', '@', '-'"
            )
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
        with self._engine.begin() as db:
            if db.execute(select(accounts.c.id).where(accounts.c.username == username)).first():
                raise AccountError(f"there is already an account {username!r}")
            result = db.execute(
                insert(accounts).values(
                    username=username,
                    role=role.value,
                    password_hash=hash_password(password),
                    created_at=time.time(),
                    disabled=False,
                    all_bots=bots is None,
                )
            )
            account_id = inserted_id(result)
            limited = _put_bots(db, account_id, bots)
        return Account(account_id, username, role, limited)

    def limit(self, username: str, bots: Iterable[str] | None) -> Account:
        """The account sees every bot from now (None) or only these; its sessions stay (each
        request reads the account afresh). Not the last owner of every bot."""
        account = self._find(username)
        with self._engine.begin() as db:
            if bots is not None and account.role is Role.OWNER and account.firm_wide:
                _keep_a_firm_owner(db, account.id)
            db.execute(
                update(accounts).where(accounts.c.id == account.id).values(all_bots=bots is None)
            )
            db.execute(delete(account_bots).where(account_bots.c.account_id == account.id))
            limited = _put_bots(db, account.id, bots)
        return Account(account.id, account.username, account.role, limited)

    def forget_bot(self, bot: str) -> None:
        """A deleted bot: no account sees it any more (one that saw only it sees nothing)."""
        with self._engine.begin() as db:
            db.execute(delete(account_bots).where(account_bots.c.bot == bot))

    def all(self) -> list[tuple[Account, bool]]:
        """Every account, with whether it is disabled."""
        query = select(*_ACCOUNT, accounts.c.disabled)
        with self._engine.connect() as db:
            rows = db.execute(query.order_by(accounts.c.username)).all()
            return [(_account(db, row), bool(row[4])) for row in rows]

    def count(self) -> int:
        with self._engine.connect() as db:
            return int(db.execute(select(func.count()).select_from(accounts)).scalar_one())

    def set_password(self, username: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
        account = self._find(username)
        with self._engine.begin() as db:
            db.execute(
                update(accounts)
                .where(accounts.c.id == account.id)
                .values(password_hash=hash_password(password))
            )
            db.execute(delete(sessions).where(sessions.c.account_id == account.id))
            # A new password, perhaps because the old one leaked: no browser stays trusted.
            db.execute(delete(known_devices).where(known_devices.c.account_id == account.id))

    def remove(self, username: str) -> None:
        account = self._find(username)
        with self._engine.begin() as db:
            if account.role is Role.OWNER and account.firm_wide:
                _keep_a_firm_owner(db, account.id)
            db.execute(delete(sessions).where(sessions.c.account_id == account.id))
            db.execute(delete(known_devices).where(known_devices.c.account_id == account.id))
            db.execute(delete(accounts).where(accounts.c.id == account.id))

    def _find(self, username: str) -> Account:
        with self._engine.connect() as db:
            row = db.execute(select(*_ACCOUNT).where(accounts.c.username == username)).first()
            if row is None:
                raise AccountError(f"there is no account {username!r}")
            return _account(db, row)

    # -- logging in -------------------------------------------------------------------
    def log_in(
        self, username: str, password: str, address: str, device: str | None = None
    ) -> tuple[Account, str, str]:
        """The account, a new session token and the browser's device token (the one it gave,
        if known for this account, else a new one); LoginRefused otherwise. `device`: the
        device token the browser holds, if any."""
        now = time.time()
        keys = [f"user:{username.lower()}"[:128], f"addr:{address}"[:128]]
        # An address may fail more often than one account: a shop's staff share one address.
        allowances = {keys[0]: self._failures_allowed, keys[1]: 4 * self._failures_allowed}
        known = device is not None and self._known_device(username, device)
        if known:  # the account's own browser: others' failures do not hold it
            del allowances[keys[0]]
        wait = self._wait_needed(allowances, now)
        if wait:
            raise LoginRefused(
                f"too many failed logins; try again in {int(wait) + 1} seconds", wait
            )
        query = select(*_ACCOUNT, accounts.c.password_hash).where(
            accounts.c.username == username, accounts.c.disabled.is_(False)
        )
        with self._engine.connect() as db:
            row = db.execute(query).first()
            account = None if row is None else _account(db, row)
        if row is None:
            check_password(password, _dummy_hash())
            ok = False
        else:
            ok = check_password(password, row[4])
        if not ok:
            with self._engine.begin() as db:
                db.execute(insert(login_failures), [{"key": k, "at": now} for k in keys])
            raise LoginRefused("wrong user name or password")
        assert row is not None and account is not None
        token = secrets.token_urlsafe(32)
        if not known:
            device = secrets.token_urlsafe(32)
        assert device is not None
        with self._engine.begin() as db:
            db.execute(
                insert(sessions).values(
                    token_hash=_token_hash(token),
                    account_id=row[0],
                    created_at=now,
                    expires_at=now + self._session_s,
                )
            )
            if known:
                db.execute(
                    update(known_devices)
                    .where(known_devices.c.token_hash == _token_hash(device))
                    .values(last_used_at=now)
                )
            else:
                db.execute(
                    insert(known_devices).values(
                        token_hash=_token_hash(device),
                        account_id=row[0],
                        created_at=now,
                        last_used_at=now,
                    )
                )
            db.execute(delete(login_failures).where(login_failures.c.key == keys[0]))
            db.execute(delete(sessions).where(sessions.c.expires_at < now))
            # A device not used for a year is forgotten (its cookie lasts as long).
            db.execute(delete(known_devices).where(known_devices.c.last_used_at < now - DEVICE_S))
        return account, token, device

    def _known_device(self, username: str, device: str) -> bool:
        query = (
            select(known_devices.c.token_hash)
            .join(accounts, accounts.c.id == known_devices.c.account_id)
            .where(
                accounts.c.username == username,
                known_devices.c.token_hash == _token_hash(device),
                known_devices.c.last_used_at >= time.time() - DEVICE_S,
            )
        )
        with self._engine.connect() as db:
            return db.execute(query).first() is not None

    def _wait_needed(self, allowances: dict[str, int], now: float) -> float:
        since = now - FAILURE_WINDOW_S
        with self._engine.begin() as db:
            db.execute(delete(login_failures).where(login_failures.c.at < since))
            waits = []
            for key, allowed in allowances.items():
                times = (
                    db.execute(
                        select(login_failures.c.at)
                        .where(login_failures.c.key == key, login_failures.c.at >= since)
                        .order_by(login_failures.c.at)
                    )
                    .scalars()
                    .all()
                )
                if len(times) >= allowed:
                    # Room again when the oldest failure that counts leaves the window.
                    oldest = times[len(times) - allowed]
                    waits.append(oldest + FAILURE_WINDOW_S - now)
        return max(waits, default=0.0)

    def session(self, token: str | None) -> Account | None:
        """The account logged in with `token`, if the session is still valid."""
        if not token:
            return None
        query = (
            select(*_ACCOUNT)
            .join(sessions, sessions.c.account_id == accounts.c.id)
            .where(
                sessions.c.token_hash == _token_hash(token),
                sessions.c.expires_at > time.time(),
                accounts.c.disabled.is_(False),
            )
        )
        with self._engine.connect() as db:
            row = db.execute(query).first()
            return _account(db, row) if row else None

    def log_out(self, token: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.token_hash == _token_hash(token)))


_ACCOUNT = (accounts.c.id, accounts.c.username, accounts.c.role, accounts.c.all_bots)


def _account(db: Connection, row: Any) -> Account:
    """An account from a row of _ACCOUNT's columns, with the bots it is limited to."""
    bots = None
    if not row[3]:
        query = select(account_bots.c.bot).where(account_bots.c.account_id == row[0])
        bots = frozenset(db.execute(query).scalars())
    return Account(row[0], row[1], Role(row[2]), bots)


def _put_bots(db: Connection, account_id: int, bots: Iterable[str] | None) -> frozenset[str] | None:
    if bots is None:
        return None
    chosen = frozenset(b.strip() for b in bots if b.strip())
    if chosen:
        db.execute(insert(account_bots), [{"account_id": account_id, "bot": b} for b in chosen])
    return chosen


def _keep_a_firm_owner(db: Connection, account_id: int) -> None:
    """Someone must still own every bot (and manage accounts) after this account changes."""
    others = db.execute(
        select(func.count())
        .select_from(accounts)
        .where(
            accounts.c.role == Role.OWNER.value,
            accounts.c.all_bots.is_(True),
            accounts.c.id != account_id,
        )
    ).scalar_one()
    if not others:
        raise AccountError(
            "the last owner of every bot cannot be removed or limited; make another owner first"
        )

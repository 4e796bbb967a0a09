"""Secrets made on this machine at first start, never shipped with the product, kept in the data
directory readable by the service's user only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def local_secret(data_dir: Path, name: str) -> bytes:
    """The secret `name`, made (32 random bytes) the first time it is asked for."""
    folder = data_dir / "secrets"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{name}.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    value = secrets.token_bytes(32)
    # O_EXCL: if another process made it meanwhile, theirs wins and is read back.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as f:
        f.write(value.hex())
    return value


def protect_data_dir(data_dir: Path) -> None:
    """Make the data directory, and everything in it, readable by this user only, and have
    every file made from now on in this process start that way: it holds customers'
    conversations, the keys and the staff accounts."""
    os.umask(0o077)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in [data_dir, *data_dir.rglob("*")]:
        try:
            mode = path.lstat().st_mode
            if mode & 0o077 and not path.is_symlink():
                path.chmod(mode & 0o7700)
        except OSError:  # not ours (a mounted volume's files): the operator's to set
            continue


class Sealer:
    """AES-GCM with one of those secrets: a value sealed bound to what it belongs to (a
    conversation, a lead's bot and conversation, a webhook's address), so that one row's sealed
    value moved to another does not open."""

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)

    def seal(self, plain: bytes, bound: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plain, bound.encode())

    def open(self, sealed: bytes, bound: str) -> bytes | None:
        """The plain value; None when sealed with another key or bound elsewhere."""
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], bound.encode())
        except InvalidTag:
            return None

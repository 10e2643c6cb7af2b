"""The readers' key: what turns chat and user ids into hashes no one can tie back without it.

Never in the readers' database (where the hashes are): ``READERS_KEY`` when set, else a file
(``DATA_DIR/readers.key``, 64 hexadecimal characters, mode 0600) made on first use. Replicas on
one PostgreSQL must share it: a shared ``DATA_DIR`` (compose.yaml's ``data`` volume) or the same
``READERS_KEY``. The database keeps only a check value, so that a replica with another key is
refused at start instead of silently missing every chat's records.

>>> key = ReaderKey(Path("unused"), "ab" * 32)
>>> key.load(adopt=None, expected_check=None)
>>> key.chat(42) != key.voter(42), len(key.voter(42))
(True, 32)
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from index.errors import ReaderKeyError

__all__ = ["KEY_FILE", "ReaderKey"]

KEY_FILE = "readers.key"
_HEX_KEY = re.compile(r"(?:[0-9a-fA-F]{2}){32,}")


class ReaderKey:
    """The key from ``configured`` (READERS_KEY) or ``path``; ``load`` before use."""

    def __init__(self, path: Path, configured: str | None = None) -> None:
        self.path = path
        self.configured = configured.strip() if configured else None
        self._key = b""

    def load(self, adopt: str | None, expected_check: str | None) -> None:
        """Read or make the key. ``adopt``: the key an older version kept in the database,
        written to the file (when none is configured) so that its pseudonyms stay the same.
        ``expected_check``: the check value the records were written with, if any."""
        if self.configured is not None:
            text = self.configured
            where = "READERS_KEY"
        elif self.path.exists() or (adopt is None and expected_check is not None):
            text = self._read()
            where = str(self.path)
        else:
            text = self._create(adopt or secrets.token_hex(32))
            where = str(self.path)
        if not _HEX_KEY.fullmatch(text):
            raise ReaderKeyError(
                f"{where} must hold 64 or more hexadecimal characters (an even number)"
                " (python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        self._key = bytes.fromhex(text)
        if expected_check is not None and not hmac.compare_digest(self.check, expected_check):
            raise ReaderKeyError(
                f"the readers' records were written with another key than {where}: give every"
                f" replica the same READERS_KEY, or the same DATA_DIR/{KEY_FILE}"
            )

    @property
    def check(self) -> str:
        """A value that tells keys apart and says nothing of the key."""
        return self._hash(b"check")

    def voter(self, user_id: int) -> str:
        """A reader's pseudonym for votes (the formula of version 1, so adopted keys keep it)."""
        return self._hash(str(user_id).encode())

    def chat(self, chat_id: int) -> str:
        """A chat's name in the records: another hash than its user's votes (a private chat's
        id is its user's id), so that votes and questions cannot be matched."""
        return self._hash(f"chat:{chat_id}".encode())

    def _hash(self, message: bytes) -> str:
        if not self._key:
            raise ReaderKeyError("the readers' key is used before it is loaded")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            raise ReaderKeyError(
                f"the readers' records were written with a key this process does not have:"
                f" copy {KEY_FILE} from the replica that made it into {self.path.parent}, or"
                f" give every replica the same READERS_KEY"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ReaderKeyError(f"cannot read {self.path}: {exc}") from exc

    def _create(self, text: str) -> str:
        """Write the key, readable by this user only; if another process made it first, theirs."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        draft = self.path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as out:
                out.write(text + "\n")
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(draft, self.path)  # never replaces a key another process wrote
        finally:
            draft.unlink(missing_ok=True)
        return self._read()

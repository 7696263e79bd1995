"""Takes accepted MQTT messages and keeps them on disk until the broker has acknowledged them.

The outbox is a small SQLite file (WAL journal, synchronous=FULL): `put()` returns only after
the messages are committed, so an action accepted from the user survives a broker outage, a
restart and `kill -9`. Rows leave the outbox when `mark_delivered()` is called on PUBACK.

Delivery is at-least-once: if the process dies after the broker's PUBACK but before the row
is deleted, the message is sent again on the next start and a hub may see it twice. Device
commands (set state, set position) are idempotent, so a duplicate is preferred over a loss.

One running process owns an outbox at a time (an exclusive lock on `<file>.lock`, released
by the kernel even on `kill -9`); a second process opening it gets a BrokerError.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from assistant.errors import BrokerError
from assistant.structs import Message

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids never reused, so order is stable
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,                 -- JSON
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    accepted_unix_s REAL NOT NULL
)
"""


@dataclass(frozen=True)
class Pending:
    """One message waiting in the outbox."""

    id: int
    message: Message
    accepted_unix_s: float


class Outbox:
    """A durable FIFO of MQTT messages; thread-safe (the MQTT network thread deletes rows)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise BrokerError(f"{path}: cannot create the outbox: {e.strerror}") from e
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            os.close(self._lock_fd)
            raise BrokerError(
                f"{path}: outbox is in use by another running process; "
                "stop it or give this one its own mqtt.outbox_path"
            ) from e
        self._mutex = threading.Lock()
        self._closed = False
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves so a batch is one commit.
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # the commit reaches the disk first
            self._db.execute(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as e:
            os.close(self._lock_fd)
            raise BrokerError(f"{path}: outbox database is unusable ({e}); move it aside") from e

    def put(self, messages: Sequence[Message]) -> list[int]:
        """Store messages in one transaction; returns their ids once committed to disk."""
        rows = [
            (m.topic, json.dumps(m.payload, ensure_ascii=False), m.qos, int(m.retain), time.time())
            for m in messages
        ]
        ids: list[int] = []
        with self._mutex:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for row in rows:
                    cur = self._db.execute(
                        "INSERT INTO outbox (topic, payload, qos, retain, accepted_unix_s)"
                        " VALUES (?, ?, ?, ?, ?)",
                        row,
                    )
                    assert cur.lastrowid is not None  # always set after an INSERT
                    ids.append(cur.lastrowid)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return ids

    def pending(self) -> list[Pending]:
        """Every undelivered message, oldest first."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT id, topic, payload, qos, retain, accepted_unix_s FROM outbox ORDER BY id"
            ).fetchall()
        return [
            Pending(
                id=row_id,
                message=Message(topic=topic, payload=json.loads(payload), qos=qos,
                                retain=bool(retain)),
                accepted_unix_s=accepted,
            )
            for row_id, topic, payload, qos, retain, accepted in rows
        ]

    def mark_delivered(self, message_id: int) -> None:
        """Forget a message the broker has acknowledged; unknown ids are ignored."""
        with self._mutex:
            self._db.execute("DELETE FROM outbox WHERE id = ?", (message_id,))

    def count(self) -> int:
        with self._mutex:
            (n,) = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
        return int(n)

    def close(self) -> None:
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            self._db.close()
        os.close(self._lock_fd)  # releases the ownership lock

    def __enter__(self) -> Outbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

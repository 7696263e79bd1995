"""The outbox keeps accepted messages on disk, in order, until they are marked delivered."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.errors import BrokerError
from assistant.outbox import Outbox
from assistant.structs import Message


def msg(i: int) -> Message:
    return Message(topic=f"zigbee2mqtt/lamp_{i}/set", payload={"state": "ON", "n": i})


def test_put_returns_ids_and_pending_keeps_insertion_order(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as box:
        first = box.put([msg(0), msg(1)])
        second = box.put([msg(2)])
        assert first[0] < first[1] < second[0]
        assert [p.message for p in box.pending()] == [msg(0), msg(1), msg(2)]
        assert [p.id for p in box.pending()] == first + second


def test_mark_delivered_removes_only_that_message(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as box:
        ids = box.put([msg(0), msg(1), msg(2)])
        box.mark_delivered(ids[1])
        box.mark_delivered(99999)  # unknown ids are ignored
        assert [p.message for p in box.pending()] == [msg(0), msg(2)]
        assert box.count() == 2


def test_message_fields_round_trip(tmp_path: Path) -> None:
    m = Message(topic="homeassistant/x/config", payload={"ü": [1, 2.5, None, True]}, qos=0,
                retain=True)
    with Outbox(tmp_path / "o.sqlite3") as box:
        box.put([m])
        assert box.pending()[0].message == m


def test_survives_reopen_and_ids_are_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    with Outbox(path) as box:
        ids = box.put([msg(0), msg(1)])
        box.mark_delivered(ids[1])
    with Outbox(path) as box:
        assert [p.message for p in box.pending()] == [msg(0)]
        assert box.put([msg(2)])[0] > ids[1]


def test_database_uses_wal_and_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    with Outbox(path):
        pass
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_unserialisable_payload_stores_nothing(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as box:
        with pytest.raises(TypeError):
            box.put([msg(0), Message(topic="t", payload={"x": object()})])
        assert box.count() == 0


def test_committed_before_put_returns_even_on_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    script = textwrap.dedent(f"""
        import os, signal, sys
        from pathlib import Path
        from assistant.outbox import Outbox
        from assistant.structs import Message
        box = Outbox(Path({str(path)!r}))
        box.put([Message(topic="t/" + str(i), payload={{"i": i}}) for i in range(5)])
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[1],
                          timeout=30)
    assert proc.returncode == -9
    with Outbox(path) as box:
        assert [p.message.payload["i"] for p in box.pending()] == [0, 1, 2, 3, 4]


def test_second_owner_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    with Outbox(path):
        script = (f"from pathlib import Path; from assistant.outbox import Outbox; "
                  f"Outbox(Path({str(path)!r}))")
        proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[1],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode != 0
        assert "in use by another running process" in proc.stderr
    Outbox(path).close()  # free again once the owner closed it


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BrokerError, match="outbox database is unusable"):
        Outbox(path)

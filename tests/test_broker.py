"""The embedded broker starts a real loopback mosquitto, supervises it and stops it."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from assistant import broker as broker_module
from assistant.broker import EmbeddedBroker, port_accepts
from assistant.errors import BrokerError

if TYPE_CHECKING:
    from conftest import Mosquitto

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(shutil.which("mosquitto", path=f"{os.environ.get('PATH')}:/usr/sbin")
                       is None, reason="mosquitto is not installed"),
]


def process_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):  # exited; a zombie only waits for its reaper
            return True
        time.sleep(0.02)
    return False


def test_start_serves_mqtt_on_loopback_then_stop_frees_the_port(tmp_path: Path,
                                                               unused_port: int) -> None:
    port = unused_port
    with EmbeddedBroker(port, tmp_path) as embedded:
        assert port_accepts(port)
        assert f"listener {port} 127.0.0.1" in embedded.conf_path.read_text()
        received: queue.Queue[tuple[str, bytes]] = queue.Queue()
        sub = paho.Client(CallbackAPIVersion.VERSION2, client_id="probe-sub")
        sub.on_message = lambda c, u, m: received.put((m.topic, bytes(m.payload)))
        sub.connect("127.0.0.1", port)
        sub.subscribe("probe", 1)
        sub.loop_start()
        pub = paho.Client(CallbackAPIVersion.VERSION2, client_id="probe-pub")
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        time.sleep(0.2)  # let the subscription settle
        pub.publish("probe", b"hello", qos=1).wait_for_publish(5)
        assert received.get(timeout=5) == ("probe", b"hello")
        for c in (sub, pub):
            c.disconnect()
            c.loop_stop()
    assert not port_accepts(port)


def test_ensure_running_restarts_a_dead_broker(tmp_path: Path, unused_port: int) -> None:
    embedded = EmbeddedBroker(unused_port, tmp_path)
    try:
        assert embedded.ensure_running() is True  # first start
        assert embedded.ensure_running() is False
        old_pid = embedded.pid
        assert old_pid is not None
        os.kill(old_pid, signal.SIGKILL)
        assert process_gone(old_pid, 5)
        assert embedded.ensure_running() is True
        assert embedded.pid != old_pid
        assert embedded.restarts == 1
        assert port_accepts(embedded.port)
    finally:
        embedded.stop()


def test_watch_restarts_the_broker_in_the_background(tmp_path: Path, unused_port: int) -> None:
    embedded = EmbeddedBroker(unused_port, tmp_path)
    embedded.watch(interval_s=0.05)
    try:
        first = embedded.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while embedded.pid in (None, first) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert embedded.pid not in (None, first)
        deadline = time.monotonic() + 5
        while not port_accepts(unused_port) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert port_accepts(unused_port)
    finally:
        embedded.stop()
    time.sleep(0.2)  # longer than the watch interval: a live watcher would restart it
    assert not port_accepts(unused_port)


def test_port_taken_by_another_broker_is_a_clear_error(tmp_path: Path,
                                                        broker: Mosquitto) -> None:
    with pytest.raises(BrokerError, match=f"mqtt.port {broker.port} .* already taken"):
        EmbeddedBroker(broker.port, tmp_path).start()


def test_missing_mosquitto_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unused_port: int
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(broker_module, "FALLBACK_DIRS", (str(tmp_path),))
    with pytest.raises(BrokerError, match="sudo apt install mosquitto"):
        EmbeddedBroker(unused_port, tmp_path).start()


def test_takes_over_from_a_leftover_broker_of_its_own(tmp_path: Path, unused_port: int) -> None:
    port = unused_port
    leftover = EmbeddedBroker(port, tmp_path)
    leftover.start()
    old_pid = leftover.pid
    assert old_pid is not None
    fresh = EmbeddedBroker(port, tmp_path)  # same data dir: its pid file names the leftover
    try:
        fresh.start()
        assert fresh.pid != old_pid
        assert process_gone(old_pid, 5)
        assert port_accepts(port)
    finally:
        fresh.stop()
        leftover.stop()


def test_broker_dies_with_its_owner_even_on_kill_9(tmp_path: Path, unused_port: int) -> None:
    port = unused_port
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from assistant.broker import EmbeddedBroker
        b = EmbeddedBroker({port}, Path({str(tmp_path)!r}))
        b.start()
        print(b.pid, flush=True)
        time.sleep(60)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).parents[1])
    try:
        assert owner.stdout is not None
        broker_pid = int(owner.stdout.readline())
        assert port_accepts(port)
    finally:
        owner.kill()
        owner.wait()
    assert process_gone(broker_pid, 5)
    assert not port_accepts(port)


def test_bad_port_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="not a TCP port"):
        EmbeddedBroker(70000, tmp_path)

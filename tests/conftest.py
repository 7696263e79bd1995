"""Shared fixtures: a real mosquitto on a free loopback port, and MQTT helpers for tests."""

from __future__ import annotations

import json
import os
import pwd
import queue
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

START_TIMEOUT_S = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def mosquitto_path() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)),
        None,
    )


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Mosquitto:
    """A mosquitto process the tests own; stop()/start() keep the same port and sessions."""

    executable: str
    workdir: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    proc: subprocess.Popen[bytes] | None = None
    extra_conf: str = ""  # e.g. TLS files and a password_file for a secured listener

    def start(self) -> None:
        conf = self.workdir / "mosquitto.conf"
        # Persistence lets a subscriber's session (and its queued QoS 1 messages) survive
        # stop()/start(), the way a real home broker behaves across a restart.
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            + (self.extra_conf or "allow_anonymous true\n") +
            f"user {pwd.getpwuid(os.geteuid()).pw_name}\n"  # stay us: the files are ours
            f"persistence true\npersistence_location {self.workdir}/\n"
            "log_dest stdout\n"
        )
        log = open(self.workdir / "mosquitto.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen([self.executable, "-c", str(conf)], stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _accepts(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.workdir / "mosquitto.log").read_text())
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)  # SIGTERM: mosquitto saves its sessions
        self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    executable = mosquitto_path()
    if executable is None:
        pytest.skip("mosquitto is not installed (sudo apt install mosquitto)")
    broker = Mosquitto(executable=executable, workdir=tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    if broker.proc is not None:
        os.kill(broker.proc.pid, signal.SIGKILL)
        broker.proc.wait()


@pytest.fixture
def broker(mosquitto: Mosquitto) -> Mosquitto:
    """The session broker, guaranteed running (a test that stopped it may have failed)."""
    if mosquitto.proc is None or mosquitto.proc.poll() is not None:
        mosquitto.start()
    return mosquitto


class Listener:
    """A plain paho client that records what arrives on the topics it subscribes to."""

    def __init__(self, host: str, port: int, topics: list[str], *, persistent: bool = False):
        self.messages: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self.client = paho.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"test-listener-{uuid.uuid4().hex[:8]}",
                                  clean_session=not persistent)
        subscribed: queue.Queue[bool] = queue.Queue()
        self.client.on_message = lambda c, u, m: self.messages.put(
            (m.topic, bytes(m.payload), bool(m.retain)))
        self.client.on_subscribe = lambda c, u, mid, rc, p: subscribed.put(True)
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe([(t, 1) for t in topics])
        subscribed.get(timeout=5)

    def get(self, timeout_s: float = 5.0) -> tuple[str, bytes, bool]:
        return self.messages.get(timeout=timeout_s)

    def get_json(self, timeout_s: float = 5.0) -> tuple[str, Any]:
        topic, payload, _ = self.get(timeout_s)
        return topic, json.loads(payload)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def site_id() -> str:
    """A site id unique to the test, so retained messages of other tests never leak in."""
    return f"site-{uuid.uuid4().hex[:8]}"


ListenFactory = Callable[..., Listener]


@pytest.fixture
def listen(broker: Mosquitto) -> Iterator[ListenFactory]:
    """listen(topics, persistent=False) -> a Listener on the session broker, closed afterwards."""
    made: list[Listener] = []

    def make(topics: list[str], *, persistent: bool = False) -> Listener:
        listener = Listener(broker.host, broker.port, topics, persistent=persistent)
        made.append(listener)
        return listener

    yield make
    for listener in made:
        listener.close()


@pytest.fixture
def unused_port() -> int:
    """A loopback TCP port nothing listens on (at the time of asking)."""
    return free_port()


def make_certs(d: Path) -> None:
    """A throwaway CA and a server certificate for 127.0.0.1, made locally with openssl."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *a: subprocess.run(["openssl", *a], cwd=d, check=True,  # noqa: E731
                                    capture_output=True)
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=test ca",
        "-days", "2")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A mosquitto that wants TLS and a username/password, as a real home broker may."""
    executable = mosquitto_path()
    if executable is None or shutil.which("openssl") is None:
        pytest.skip("mosquitto or openssl missing")
    d = tmp_path_factory.mktemp("secure")
    make_certs(d)
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(d / "passwd"), "hub", "s3cret"],
                   check=True, capture_output=True)
    broker = Mosquitto(executable=executable, workdir=d, extra_conf=(
        f"allow_anonymous false\npassword_file {d}/passwd\n"
        f"cafile {d}/ca.pem\ncertfile {d}/server.pem\nkeyfile {d}/server.key\n"))
    broker.start()
    yield broker
    broker.stop()

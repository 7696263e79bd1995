"""Takes a loopback port and a data directory; runs and supervises a private mosquitto there.

Used for `mqtt.host: embedded`: the broker listens on 127.0.0.1 only, allows anonymous
clients (nothing off the box can reach it) and keeps no persistence (our own outbox is what
makes actions durable). We write its config, start it, wait until the port accepts
connections, restart it if it died, and stop it on exit.
"""

from __future__ import annotations

import ctypes
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType

from assistant.errors import BrokerError

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# Debian and Ubuntu install the broker in /usr/sbin, which is not on a normal user's PATH.
FALLBACK_DIRS: tuple[str, ...] = ("/usr/sbin", "/usr/local/sbin")
INSTALL_HINT = "sudo apt install mosquitto"
START_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 3.0
POLL_INTERVAL_S = 0.02
WATCH_INTERVAL_S = 2.0  # how often watch() checks that the broker is alive
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def find_mosquitto() -> str:
    """Path of the mosquitto executable, or a BrokerError saying how to install it."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for directory in FALLBACK_DIRS:
        candidate = Path(directory) / "mosquitto"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BrokerError(
        "mqtt.host is 'embedded' but the mosquitto broker is not installed "
        f"(looked on PATH and in {', '.join(FALLBACK_DIRS)}); install it with "
        f"`{INSTALL_HINT}`, or set mqtt.host to an existing broker"
    )


def port_accepts(port: int, host: str = LOOPBACK, timeout_s: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:
    # Runs in the child before exec: the kernel sends SIGTERM to the broker if we die,
    # even by kill -9, so no orphan keeps the port.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: a stale broker is then found through the pid file instead


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")  # a zombie has exited


class EmbeddedBroker:
    """A mosquitto child process bound to 127.0.0.1:<port>, with its files under data_dir.

    Call start() and ensure_running() from a long-lived thread (the main one), or let
    watch() do it: the broker is told to exit when the thread that started it goes away.
    """

    def __init__(self, port: int, data_dir: Path) -> None:
        if not 0 < port < 65536:
            raise BrokerError(f"mqtt.port: {port} is not a TCP port (1-65535)")
        self.port = port
        self.host = LOOPBACK
        self.data_dir = data_dir
        self.conf_path = data_dir / "mosquitto.conf"
        self.log_path = data_dir / "mosquitto.log"
        self.pid_path = data_dir / "mosquitto.pid"
        self._proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0  # how many times ensure_running() found it dead
        self._unwatch = threading.Event()  # set by stop() to end the watch() thread
        self._watcher: threading.Thread | None = None
        self._mutex = threading.RLock()  # one start/stop at a time (watcher vs. owner)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the broker and return once its port accepts connections."""
        with self._mutex:
            if not self.is_running():
                self._start()

    def _start(self) -> None:
        executable = find_mosquitto()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._write_conf()
        except OSError as e:
            raise BrokerError(f"{self.data_dir}: cannot write the broker config: {e}") from e
        self._stop_stale_own_broker()
        if port_accepts(self.port):
            raise BrokerError(
                f"mqtt.port {self.port} on {LOOPBACK} is already taken by another program "
                "(perhaps a system mosquitto service); set mqtt.host to 127.0.0.1 to use "
                "that broker, or choose a free mqtt.port for the embedded one"
            )
        with open(self.log_path, "ab") as log_file:
            self._proc = subprocess.Popen(
                [executable, "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # fork-safe: it only calls prctl
            )
        self.pid_path.write_text(f"{self._proc.pid}\n")
        self._wait_until_listening()
        log.info("embedded mosquitto (pid %d) listening on %s:%d", self._proc.pid, LOOPBACK,
                 self.port)

    def ensure_running(self) -> bool:
        """Restart the broker if its process has died; True when a restart happened."""
        with self._mutex:
            if self.is_running():
                return False
            if self._proc is not None:
                log.warning("embedded mosquitto exited with code %s; restarting it",
                            self._proc.returncode)
                self.restarts += 1
            self._proc = None
            self._start()
            return True

    def watch(self, interval_s: float = WATCH_INTERVAL_S) -> None:
        """Start the broker and keep it running from a background thread until stop()."""
        self.start()
        if self._watcher is not None:
            return
        self._unwatch.clear()
        self._watcher = threading.Thread(target=self._watch, args=(interval_s,),
                                         name="broker-watch", daemon=True)
        self._watcher.start()

    def _watch(self, interval_s: float) -> None:
        while not self._unwatch.wait(interval_s):
            try:
                self.ensure_running()
            except BrokerError as e:
                log.error("cannot restart the embedded broker: %s", e)  # retried next round

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after a grace period)."""
        self._unwatch.set()
        watcher, self._watcher = self._watcher, None
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join()  # before taking the mutex: the watcher may be waiting for it
        with self._mutex:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.pid_path.unlink(missing_ok=True)

    def _write_conf(self) -> None:
        self.conf_path.write_text(
            "# Written by the embedded broker supervisor; regenerated on every start.\n"
            f"listener {self.port} {LOOPBACK}\n"
            "allow_anonymous true\n"
            # Run as ourselves: a root-started broker would otherwise switch to the
            # 'mosquitto' user, and the kernel drops PDEATHSIG on that switch.
            f"user {pwd.getpwuid(os.geteuid()).pw_name}\n"
            "persistence false\n"
            "log_dest stdout\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )

    def _stop_stale_own_broker(self) -> None:
        # A broker we started in an earlier run that outlived us (e.g. on a platform
        # without PDEATHSIG): recognised by our pid file and our config path in its command.
        try:
            pid = int(self.pid_path.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        if str(self.conf_path).encode() not in cmdline:
            return
        log.warning("stopping a leftover embedded mosquitto (pid %d)", pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(POLL_INTERVAL_S)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and port_accepts(self.port):
            time.sleep(POLL_INTERVAL_S)

    def _wait_until_listening(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                raise BrokerError(
                    f"embedded mosquitto exited at start; see {self.log_path}:\n"
                    + self._log_tail()
                )
            if port_accepts(self.port):
                return
            time.sleep(POLL_INTERVAL_S)
        self.stop()
        raise BrokerError(
            f"embedded mosquitto did not listen on {LOOPBACK}:{self.port} within "
            f"{START_TIMEOUT_S:.0f} s; see {self.log_path}"
        )

    def _log_tail(self, lines: int = 5) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""Takes messages to publish and topics to watch; returns nothing: the link to the MQTT broker.

Every durable publish goes to the on-disk outbox first, then to paho-mqtt at QoS >= 1; the
broker's PUBACK deletes it from the outbox. While the broker is away paho keeps the messages
queued in order and resends them on reconnect; after a restart (or kill -9) the next
MqttLink hands everything still in the outbox to paho before it first connects. So an
accepted action is delivered at least once, in order, whatever happens in between.

Availability: `<topic_prefix>/<site_id>/status` is "online" (retained) while connected and
"offline" via the last will or on close(); Home Assistant discovery announces it as a
connectivity binary_sensor.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from assistant import __version__
from assistant.config import MqttConfig, TlsConfig
from assistant.errors import BrokerError
from assistant.outbox import Outbox
from assistant.structs import Message

log = logging.getLogger(__name__)
_paho_log = logging.getLogger(f"{__name__}.paho")

MessageCallback = Callable[[str, bytes], None]  # (topic, payload)
ONLINE = "online"
OFFLINE = "offline"
RECONNECT_MIN_DELAY_S = 1
RECONNECT_MAX_DELAY_S = 10  # a home broker back after a reboot is picked up within seconds
CLOSE_TIMEOUT_S = 2.0
DIAGNOSE_TIMEOUT_S = 2.0
_NODE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _on_paho_log(client: paho.Client, userdata: Any, level: int, text: str) -> None:
    # paho reports a routine reconnect wait as an error; keep real errors (such as an
    # exception in a callback) loud and the rest for --debug.
    if level == paho.MQTT_LOG_ERR and not text.startswith("Client is not connected"):
        _paho_log.error("%s", text)
    else:
        _paho_log.debug("%s", text)


def status_topic(topic_prefix: str, site_id: str) -> str:
    return f"{topic_prefix}/{site_id}/status"


def discovery_message(config: MqttConfig, site_id: str) -> Message:
    """Home Assistant MQTT discovery of our availability as a connectivity binary_sensor."""
    node = _NODE_UNSAFE.sub("_", f"{config.topic_prefix}_{site_id}")
    payload = {
        "name": "Status",
        "unique_id": f"{node}_status",
        "state_topic": status_topic(config.topic_prefix, site_id),
        "payload_on": ONLINE,
        "payload_off": OFFLINE,
        "device_class": "connectivity",
        "entity_category": "diagnostic",
        "device": {"identifiers": [node], "name": f"Voice control ({site_id})",
                   "model": "hey-house", "sw_version": __version__},
    }
    topic = f"{config.discovery_prefix}/binary_sensor/{node}/status/config"
    return Message(topic=topic, payload=payload, qos=1, retain=True)


def check_topic(topic: str) -> None:
    """A BrokerError unless `topic` is a valid MQTT topic name to publish to."""
    if not topic or "+" in topic or "#" in topic or "\x00" in topic:
        raise BrokerError(f"cannot publish to MQTT topic {topic!r}: topics must be non-empty "
                          "and must not contain the wildcards '+' or '#'")
    if len(topic.encode("utf-8")) > 65535:
        raise BrokerError(f"cannot publish to MQTT topic {topic[:40]!r}...: longer than 64 KiB")


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """An ssl context from mqtt.tls; a BrokerError names the file that cannot be used."""
    try:
        ctx = ssl.create_default_context(cafile=tls.ca_certs)
    except (OSError, ssl.SSLError) as e:
        raise BrokerError(f"mqtt.tls.ca_certs: cannot load {tls.ca_certs}: {e}") from e
    if tls.certfile:
        try:
            ctx.load_cert_chain(tls.certfile, tls.keyfile)
        except (OSError, ssl.SSLError) as e:
            raise BrokerError(
                f"mqtt.tls.certfile/keyfile: cannot load {tls.certfile} / {tls.keyfile}: {e}"
            ) from e
    if tls.insecure:
        ctx.check_hostname = False
    return ctx


class MqttLink:
    """One connection to the broker: durable publishing, subscriptions and availability.

    Connecting never fails at start: start() returns at once and the network thread keeps
    trying; use wait_connected() or `last_error` to report a broker that stays away.
    """

    def __init__(
        self,
        config: MqttConfig,
        site_id: str,
        outbox_path: Path,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        self.config = config
        self.site_id = site_id
        self.host = host if host is not None else config.host
        self.port = port if port is not None else config.port
        if not self.host or self.host == "embedded":
            raise BrokerError("mqtt.host 'embedded' must be resolved to a broker address first")
        if not 0 < self.port < 65536:
            raise BrokerError(f"mqtt.port: {self.port} is not a TCP port (1-65535)")
        self.status_topic = status_topic(config.topic_prefix, site_id)
        self.last_error: str | None = None
        self._tls = tls_context(config.tls) if config.tls is not None else None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified when a row is delivered
        self._order = threading.Lock()  # outbox order == order handed to paho
        self._inflight: dict[int, int | None] = {}  # paho mid -> outbox id (None: not durable)
        self._early_acks: set[int] = set()  # PUBACKs that beat _track() for their mid
        self._subscriptions: dict[str, int] = {}  # topic filter -> qos
        self._connected = threading.Event()
        self._started = False
        self._closed = False
        self._client = self._make_client(config)
        self._outbox = Outbox(outbox_path)  # last: it takes a lock that close() releases

    def _make_client(self, config: MqttConfig) -> paho.Client:
        client = paho.Client(CallbackAPIVersion.VERSION2,
                             client_id=config.client_id or f"assistant-{self.site_id}")
        client.on_log = _on_paho_log
        client.suppress_exceptions = True  # a bug in a callback must not stop the network thread
        if config.username is not None:
            client.username_pw_set(config.username, config.password)
        if config.tls is not None and self._tls is not None:
            client.tls_set_context(self._tls)
            if config.tls.insecure:
                client.tls_insecure_set(True)
        client.will_set(self.status_topic, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_DELAY_S, RECONNECT_MAX_DELAY_S)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Queue everything left in the outbox, then connect in the background."""
        with self._order:
            if self._started:
                return
            self._started = True
            left = self._outbox.pending()
            if left:
                log.info("%d accepted message(s) from the outbox will be delivered", len(left))
            for item in left:
                self._send(item.message, item.id)
        self._client.connect_async(self.host, self.port, self.config.keepalive_s)
        self._client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def publish(self, messages: Sequence[Message], *, durable: bool = True) -> None:
        """Durable: committed to the outbox before returning, then sent at QoS >= 1.

        Not durable (status chatter such as hotword events): sent now if connected, else
        dropped, since stale events are worse than none.
        """
        if self._closed:
            raise RuntimeError("publish() after close()")
        for m in messages:
            check_topic(m.topic)
        if not durable:
            if self.connected:
                for m in messages:
                    self._send(m, None)
            return
        with self._order:
            ids = self._outbox.put(messages)
            if self._started:
                for m, row_id in zip(messages, ids, strict=True):
                    self._send(m, row_id)

    def publish_bytes(self, topic: str, payload: bytes, *, qos: int = 0) -> bool:
        """A binary payload (such as a WAV file to play), sent as is, never durable: sent now
        if connected, else dropped (a reply played minutes late is worse than none).
        False when it was dropped."""
        if self._closed:
            raise RuntimeError("publish_bytes() after close()")
        check_topic(topic)
        if not self.connected:
            return False
        info = self._client.publish(topic, payload, qos=qos)
        self._track(info.mid, None)  # paho reports every publish, even at QoS 0
        return True

    def subscribe(self, topic: str, callback: MessageCallback, qos: int = 1) -> None:
        """Call `callback(topic, payload)` for messages matching `topic`, across reconnects."""

        def deliver(client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
            try:
                callback(msg.topic, bytes(msg.payload))
            except Exception:
                log.exception("handler for %s failed", msg.topic)

        self._client.message_callback_add(topic, deliver)
        with self._lock:
            self._subscriptions[topic] = qos
        if self.connected:
            self._client.subscribe(topic, qos)

    def pending_count(self) -> int:
        return self._outbox.count()

    def flush(self, timeout_s: float) -> bool:
        """Wait until the outbox is empty; False if messages are still waiting at the timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self._outbox.count() > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.1))
        return True

    def close(self) -> None:
        """Announce "offline", disconnect and close the outbox; undelivered rows stay on disk."""
        if self._closed:
            return
        self._closed = True
        if self._started:
            if self.connected:
                info = self._client.publish(self.status_topic, OFFLINE, qos=1, retain=True)
                # If the connection drops meanwhile, the last will says "offline" instead.
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(CLOSE_TIMEOUT_S)
            self._client.disconnect()
            self._client.loop_stop()
        left = self._outbox.count()
        if left:
            log.info("%d message(s) wait in the outbox for the next start", left)
        self._outbox.close()

    def _send(self, message: Message, row_id: int | None) -> None:
        qos = max(message.qos, 1) if row_id is not None else message.qos  # only PUBACK proves it
        info = self._client.publish(message.topic, json.dumps(message.payload, ensure_ascii=False),
                                    qos=qos, retain=message.retain)
        self._track(info.mid, row_id)

    def _send_text(self, topic: str, text: str, retain: bool) -> None:
        info = self._client.publish(topic, text, qos=1, retain=retain)
        self._track(info.mid, None)

    def _track(self, mid: int, row_id: int | None) -> None:
        # The PUBACK may arrive on the network thread before publish() has returned here.
        with self._lock:
            acked = mid in self._early_acks
            if acked:
                self._early_acks.discard(mid)
            else:
                self._inflight[mid] = row_id
        if acked and row_id is not None:
            self._delivered(row_id)

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int,
                    reason_code: ReasonCode, properties: Properties | None) -> None:
        with self._lock:
            if mid not in self._inflight:
                self._early_acks.add(mid)
                return
            row_id = self._inflight.pop(mid)
        if reason_code.is_failure:
            # Retrying cannot help with a refusal (e.g. not authorised for the topic).
            log.error("broker refused message %d: %s", mid, reason_code)
        if row_id is not None:
            self._delivered(row_id)

    def _delivered(self, row_id: int) -> None:
        try:
            self._outbox.mark_delivered(row_id)
        except Exception:
            log.exception("could not mark outbox message %d delivered; it may be sent again",
                          row_id)
        with self._changed:
            self._changed.notify_all()

    def _on_connect(self, client: paho.Client, userdata: Any, flags: paho.ConnectFlags,
                    reason_code: ReasonCode, properties: Properties | None) -> None:
        if reason_code.is_failure:
            self.last_error = f"broker {self.host}:{self.port} refused us: {reason_code}"
            log.error("%s", self.last_error)
            return
        self.last_error = None
        log.info("connected to MQTT broker %s:%d", self.host, self.port)
        self._send_text(self.status_topic, ONLINE, retain=True)
        if self.config.discovery:
            self._send(discovery_message(self.config, self.site_id), None)
        with self._lock:
            subscriptions = list(self._subscriptions.items())
        for topic, qos in subscriptions:
            client.subscribe(topic, qos)
        self._connected.set()

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        # paho does not say why; find out, so the user sees "certificate verify failed"
        # or "connection refused" rather than a bare retry. Runs between retries anyway.
        error = f"cannot connect to MQTT broker {self.host}:{self.port}: {self._diagnose()}"
        if error != self.last_error:
            log.warning("%s; retrying (accepted actions wait in the outbox)", error)
        self.last_error = error

    def _diagnose(self) -> str:
        try:
            with socket.create_connection((self.host, self.port), timeout=DIAGNOSE_TIMEOUT_S) as s:
                if self._tls is not None:
                    with self._tls.wrap_socket(s, server_hostname=self.host):
                        pass
        except ssl.SSLCertVerificationError as e:
            return f"TLS certificate not accepted ({e.verify_message}); check mqtt.tls"
        except ssl.SSLError as e:
            return f"TLS handshake failed ({e.reason}); check mqtt.tls"
        except OSError as e:
            return e.strerror or str(e) or type(e).__name__
        return "the broker accepted a test connection but not the MQTT one"

    def _on_disconnect(self, client: paho.Client, userdata: Any,
                       flags: paho.DisconnectFlags, reason_code: ReasonCode,
                       properties: Properties | None) -> None:
        self._connected.clear()
        if not self._closed:
            log.warning("lost the MQTT broker %s:%d (%s); reconnecting", self.host, self.port,
                        reason_code)

    def __enter__(self) -> MqttLink:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

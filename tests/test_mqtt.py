"""MqttLink against a real mosquitto: delivery, order, outages, kill -9, last will, inputs."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from assistant import hermes
from assistant.config import MqttConfig, TlsConfig
from assistant.errors import BrokerError
from assistant.mqtt import MqttLink
from assistant.structs import Action, Message, ParsedIntent, SlotValue

if TYPE_CHECKING:
    from conftest import ListenFactory, Mosquitto

pytestmark = pytest.mark.broker
REPO = Path(__file__).parents[1]


def wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def actions(n: int, prefix: str) -> list[Message]:
    return [Message(topic=f"{prefix}/lamp/set", payload={"state": "ON", "seq": i})
            for i in range(n)]


def config(port: int, **overrides: object) -> MqttConfig:
    return MqttConfig(**{"host": "127.0.0.1", "port": port, **overrides})  # type: ignore[arg-type]


def run_link_script(body: str) -> subprocess.Popen[str]:
    """A child process that runs `body` with an MqttLink and then waits to be killed."""
    script = "import sys, time\nfrom pathlib import Path\n" \
             "from assistant.config import MqttConfig\nfrom assistant.mqtt import MqttLink\n" \
             "from assistant.structs import Message\n" + textwrap.dedent(body) + \
             "\nprint('ready', flush=True)\ntime.sleep(60)\n"
    return subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                            text=True)


def kill_9(proc: subprocess.Popen[str]) -> None:
    proc.kill()  # SIGKILL: no cleanup code runs
    proc.wait()


def test_publish_reaches_a_subscriber_and_empties_the_outbox(
    broker: Mosquitto, listen: ListenFactory, site_id: str, tmp_path: Path
) -> None:
    listener = listen([f"{site_id}/#"])
    with MqttLink(config(broker.port), site_id, tmp_path / "o.sqlite3") as link:
        link.publish(actions(3, site_id))
        assert link.flush(5)
        assert link.pending_count() == 0
    got = [listener.get_json() for _ in range(3)]
    assert got == [(f"{site_id}/lamp/set", {"state": "ON", "seq": i}) for i in range(3)]


def test_status_online_retained_then_offline_on_close(
    broker: Mosquitto, listen: ListenFactory, site_id: str, tmp_path: Path
) -> None:
    status = f"assistant/{site_id}/status"
    link = MqttLink(config(broker.port), site_id, tmp_path / "o.sqlite3")
    link.start()
    assert link.wait_connected(5)
    assert link.status_topic == status
    late = listen([status])  # subscribes after the fact: sees the retained value
    assert late.get()[1:] == (b"online", True)
    link.close()
    assert late.get()[:2] == (status, b"offline")
    assert listen([status]).get()[1:] == (b"offline", True)


def test_home_assistant_discovery_announces_the_status_sensor(
    broker: Mosquitto, listen: ListenFactory, site_id: str, tmp_path: Path
) -> None:
    listener = listen([f"homeassistant/binary_sensor/assistant_{site_id}/status/config"])
    with MqttLink(config(broker.port), site_id, tmp_path / "o.sqlite3") as link:
        assert link.wait_connected(5)
        _, disco = listener.get_json()
    assert disco["state_topic"] == f"assistant/{site_id}/status"
    assert (disco["payload_on"], disco["payload_off"]) == ("online", "offline")
    assert disco["device_class"] == "connectivity"


def test_no_discovery_when_disabled(
    broker: Mosquitto, listen: ListenFactory, site_id: str, tmp_path: Path
) -> None:
    listener = listen(["homeassistant/#"])
    while not listener.messages.empty():  # retained discovery of earlier tests
        listener.get()
    cfg = config(broker.port, discovery=False)
    with MqttLink(cfg, site_id, tmp_path / "o.sqlite3") as link:
        assert link.wait_connected(5)
        link.publish(actions(1, site_id))
        assert link.flush(5)
    assert all(site_id not in topic for topic, _, _ in list(listener.messages.queue))


def test_twenty_actions_survive_a_broker_restart_in_order(
    broker: Mosquitto, listen: ListenFactory, site_id: str, tmp_path: Path
) -> None:
    listener = listen([f"{site_id}/#"], persistent=True)
    link = MqttLink(config(broker.port), site_id, tmp_path / "o.sqlite3")
    link.start()
    try:
        assert link.wait_connected(5)
        broker.stop()
        assert wait_for(lambda: not link.connected, 5)
        t0 = time.monotonic()
        link.publish(actions(20, site_id))  # accepted while the broker is away
        accept_s = time.monotonic() - t0
        assert link.pending_count() == 20
        broker.start()
        assert link.flush(15)
    finally:
        link.close()
    seqs = [listener.get_json(10)[1]["seq"] for _ in range(20)]
    assert seqs == list(range(20))
    assert accept_s < 1.0


def test_broker_down_at_start_does_not_fail_and_actions_wait(
    unused_port: int, site_id: str, tmp_path: Path
) -> None:
    link = MqttLink(config(unused_port), site_id, tmp_path / "o.sqlite3")
    link.start()
    link.publish(actions(3, site_id))
    assert not link.flush(0.3)
    assert link.pending_count() == 3
    assert wait_for(lambda: link.last_error is not None, 5)
    assert f"127.0.0.1:{unused_port}: Connection refused" in (link.last_error or "")
    link.close()


def test_actions_accepted_before_kill_9_are_delivered_by_the_next_process(
    broker: Mosquitto, listen: ListenFactory, site_id: str, tmp_path: Path, unused_port: int
) -> None:
    outbox = tmp_path / "o.sqlite3"
    child = run_link_script(f"""
        link = MqttLink(MqttConfig(host="127.0.0.1", port={unused_port}), {site_id!r},
                        Path({str(outbox)!r}))
        link.start()  # nothing listens on that port: the broker is "down"
        link.publish([Message(topic={site_id!r} + "/lamp/set", payload={{"seq": i}})
                      for i in range(5)])
    """)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    kill_9(child)

    listener = listen([f"{site_id}/#"])
    with MqttLink(config(broker.port), site_id, outbox) as link:
        assert link.flush(10)
    assert [listener.get_json()[1]["seq"] for _ in range(5)] == [0, 1, 2, 3, 4]


def test_last_will_says_offline_when_the_process_is_killed(
    broker: Mosquitto, listen: ListenFactory, site_id: str, tmp_path: Path
) -> None:
    child = run_link_script(f"""
        link = MqttLink(MqttConfig(host="127.0.0.1", port={broker.port}), {site_id!r},
                        Path({str(tmp_path / "o.sqlite3")!r}))
        link.start()
        assert link.wait_connected(5)
    """)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    listener = listen([f"assistant/{site_id}/status"])
    assert listener.get()[1] == b"online"
    kill_9(child)
    assert listener.get(5)[1] == b"offline"


def test_subscriptions_deliver_and_survive_a_broker_restart(
    broker: Mosquitto, site_id: str, tmp_path: Path
) -> None:
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    topic = f"{site_id}/hermes/nlu/query"

    def send_until_received(text: str) -> tuple[str, bytes]:
        pub = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"{site_id}-pub")
        pub.connect(broker.host, broker.port)
        pub.loop_start()
        try:
            for _ in range(50):  # the (re)subscription may still be in flight
                pub.publish(topic, json.dumps({"input": text}), qos=1).wait_for_publish(5)
                try:
                    return received.get(timeout=0.2)
                except queue.Empty:
                    continue
            raise AssertionError("subscription never delivered")
        finally:
            pub.disconnect()
            pub.loop_stop()

    link = MqttLink(config(broker.port), site_id, tmp_path / "o.sqlite3")
    link.subscribe(topic, lambda t, p: received.put((t, p)))
    link.start()
    try:
        assert link.wait_connected(5)
        t, p = send_until_received("turn on the fan")
        assert t == topic
        assert hermes.parse_nlu_query(p) == hermes.NluQuery(input="turn on the fan")
        broker.stop()
        assert wait_for(lambda: not link.connected, 5)
        broker.start()
        assert link.wait_connected(15)
        assert send_until_received("close the blinds")[1] == b'{"input": "close the blinds"}'
    finally:
        link.close()


def test_a_failing_handler_does_not_stop_the_link(
    broker: Mosquitto, listen: ListenFactory, site_id: str, tmp_path: Path
) -> None:
    def broken(topic: str, payload: bytes) -> None:
        raise RuntimeError("handler bug")

    listener = listen([f"{site_id}/lamp/set"])
    with MqttLink(config(broker.port), site_id, tmp_path / "o.sqlite3") as link:
        link.subscribe(f"{site_id}/in", broken)
        assert link.wait_connected(5)
        time.sleep(0.2)
        link.publish([Message(topic=f"{site_id}/in", payload={})], durable=False)
        time.sleep(0.2)
        link.publish(actions(1, site_id))
        assert link.flush(5)
    assert listener.get_json()[1] == {"state": "ON", "seq": 0}


def test_hermes_intent_over_the_wire_parses_with_rhasspy_hermes(
    broker: Mosquitto, listen: ListenFactory, site_id: str, tmp_path: Path
) -> None:
    rh_nlu = pytest.importorskip("rhasspyhermes.nlu")
    text = "turn off the kitchen lights"
    parsed = ParsedIntent("HassTurnOff", {"area": SlotValue("Kitchen", "kitchen", 13, 20)})
    action = Action("HassTurnOff", {"area": "Kitchen", "domain": "light"}, (), ())
    listener = listen(["hermes/intent/HassTurnOff"])
    with MqttLink(config(broker.port), site_id, tmp_path / "o.sqlite3") as link:
        link.publish([hermes.intent_message(parsed, action, text, site_id, None, 1.0)])
        assert link.flush(5)
    _, payload, _ = listener.get()
    intent = rh_nlu.NluIntent.from_json(payload)
    assert (intent.intent.intent_name, intent.site_id) == ("HassTurnOff", site_id)
    assert {s.slot_name: s.value["value"] for s in intent.slots} == {"area": "Kitchen",
                                                                     "domain": "light"}


def test_non_durable_messages_are_dropped_while_disconnected(
    unused_port: int, site_id: str, tmp_path: Path
) -> None:
    with MqttLink(config(unused_port), site_id, tmp_path / "o.sqlite3") as link:
        link.publish(actions(2, site_id), durable=False)
        assert link.pending_count() == 0


@pytest.mark.parametrize("topic", ["", "a/+/set", "a/#"])
def test_invalid_topics_are_refused_before_the_outbox(
    unused_port: int, site_id: str, tmp_path: Path, topic: str
) -> None:
    with MqttLink(config(unused_port), site_id, tmp_path / "o.sqlite3") as link:
        with pytest.raises(BrokerError, match="cannot publish to MQTT topic"):
            link.publish([*actions(1, site_id), Message(topic=topic, payload={})])
        assert link.pending_count() == 0


def test_config_errors_are_clear(tmp_path: Path, unused_port: int) -> None:
    with pytest.raises(BrokerError, match=r"mqtt\.tls\.ca_certs"):
        MqttLink(config(unused_port, tls=TlsConfig(ca_certs=str(tmp_path / "none.pem"))),
                 "s", tmp_path / "o.sqlite3")
    with pytest.raises(BrokerError, match="embedded"):
        MqttLink(MqttConfig(), "s", tmp_path / "o2.sqlite3")


def test_tls_and_password_login(secure_broker: Mosquitto, site_id: str, tmp_path: Path) -> None:
    tls = TlsConfig(ca_certs=str(secure_broker.workdir / "ca.pem"))
    received: queue.Queue[bytes] = queue.Queue()
    sub = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"{site_id}-sub")
    sub.tls_set(ca_certs=tls.ca_certs)
    sub.username_pw_set("hub", "s3cret")
    sub.on_message = lambda c, u, m: received.put(bytes(m.payload))
    sub.connect(secure_broker.host, secure_broker.port)
    sub.subscribe(f"{site_id}/#", 1)
    sub.loop_start()
    try:
        cfg = config(secure_broker.port, tls=tls, username="hub", password="s3cret")
        with MqttLink(cfg, site_id, tmp_path / "o.sqlite3") as link:
            assert link.wait_connected(5), link.last_error
            time.sleep(0.2)  # the subscriber's SUBACK
            link.publish(actions(1, site_id))
            assert link.flush(5)
        assert json.loads(received.get(timeout=5)) == {"state": "ON", "seq": 0}
    finally:
        sub.disconnect()
        sub.loop_stop()


def test_wrong_password_is_reported_and_actions_wait(
    secure_broker: Mosquitto, site_id: str, tmp_path: Path
) -> None:
    tls = TlsConfig(ca_certs=str(secure_broker.workdir / "ca.pem"))
    cfg = config(secure_broker.port, tls=tls, username="hub", password="wrong")
    with MqttLink(cfg, site_id, tmp_path / "o.sqlite3") as link:
        link.publish(actions(1, site_id))
        assert wait_for(lambda: "refused" in (link.last_error or ""), 5), link.last_error
        assert not link.connected
        assert link.pending_count() == 1


def test_untrusted_server_certificate_is_not_accepted(
    secure_broker: Mosquitto, site_id: str, tmp_path: Path
) -> None:
    cfg = config(secure_broker.port, tls=TlsConfig(), username="hub", password="s3cret")
    with MqttLink(cfg, site_id, tmp_path / "o.sqlite3") as link:  # system CAs only
        assert not link.wait_connected(1.5)
        assert wait_for(lambda: "certificate" in (link.last_error or ""), 5), link.last_error

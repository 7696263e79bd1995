"""The command line, run as a user runs it: `python -m assistant parse|run --text|check`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from assistant.outbox import Outbox

if TYPE_CHECKING:
    from conftest import Listener, ListenFactory, Mosquitto

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "config.yaml"
TIMEOUT_S = 60


def cli(*args: str, stdin: str = "", cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "assistant", *args], input=stdin, cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def home_config(tmp_path: Path, *, port: int, site_id: str = "default",
                outbox: Path | None = None) -> Path:
    """A copy of the shipped config.yaml that talks to 127.0.0.1:<port> and keeps state in tmp."""
    text = CONFIG.read_text(encoding="utf-8")
    replacements = {
        r"(?m)^site_id: .*$": f"site_id: {site_id}",
        r"(?m)^skills_dir: .*$": f"skills_dir: {REPO / 'skills'}",
        r"(?m)^  host: embedded.*$": "  host: 127.0.0.1",
        r"(?m)^  port: 1883.*$": f"  port: {port}",
        r"(?m)^  outbox_path: .*$": f"  outbox_path: {outbox or tmp_path / 'outbox.sqlite3'}",
    }
    for pattern, new in replacements.items():
        text, n = re.subn(pattern, new, text)
        assert n == 1, pattern  # the shipped file changed shape: update this helper
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- parse ---------------------------------------------------------------------------------


def test_parse_prints_one_json_line_per_text_in_order() -> None:
    texts = ["turn off the kitchen lights", "what's the weather like", "unlock the front door",
             "set the bedroom lights to fifty percent"]
    result = cli("parse", "--engine", "rules", *texts)
    assert result.returncode == 0, result.stderr
    out = lines(result.stdout)
    assert [o["input"] for o in out] == texts
    assert [o["status"] for o in out] == ["ok", "rejected", "confirm", "ok"]
    assert all(o["engine"] == "rules" and o["source"] == "text" for o in out)
    first = out[0]
    assert first["actions"] == [{
        "intent": "HassTurnOff", "slots": {"area": "Kitchen", "domain": "light"},
        "targets": ["light.kitchen_ceiling", "light.kitchen_counter"],
        "messages": [{"topic": "zigbee2mqtt/kitchen_ceiling/set", "payload": {"state": "OFF"}},
                     {"topic": "zigbee2mqtt/kitchen_counter/set", "payload": {"state": "OFF"}}]}]
    assert first["speech"] == "Turned off 2 lights." and first["reason"] is None
    assert out[1]["reason"] == "not understood" and out[1]["actions"] == []
    assert out[2]["actions"] == [] and out[2]["pending"][0]["targets"] == ["lock.front_door"]
    assert out[3]["actions"][0]["slots"]["brightness"] == 50  # a number, not "50"


def test_parse_reads_stdin_lines_skipping_blank_ones() -> None:
    result = cli("parse", "--engine", "rules",
                 stdin="turn on the floor lamp\n\n   \nwhat time is it\nclose the blinds\n")
    assert result.returncode == 0, result.stderr
    out = lines(result.stdout)
    assert [o["input"] for o in out] == ["turn on the floor lamp", "what time is it",
                                         "close the blinds"]
    assert [o["actions"][0]["intent"] for o in out] == [
        "HassTurnOn", "HassGetCurrentTime", "HassSetPosition"]


def test_parse_keeps_the_dialogue_between_lines() -> None:
    result = cli("parse", "--engine", "rules", stdin="open the garage door\nyes\n")
    out = lines(result.stdout)
    assert [o["status"] for o in out] == ["confirm", "ok"]
    assert out[1]["actions"][0]["messages"] == [
        {"topic": "zigbee2mqtt/garage_door/set", "payload": {"state": "OPEN"}}]


def test_parse_publishes_nothing_and_needs_no_broker(tmp_path: Path, unused_port: int) -> None:
    config = home_config(tmp_path, port=unused_port)
    result = cli("parse", "--config", str(config), "--engine", "rules", "turn on the floor lamp")
    assert result.returncode == 0, result.stderr
    assert lines(result.stdout)[0]["status"] == "ok"
    assert not (tmp_path / "outbox.sqlite3").exists()


# --- check ---------------------------------------------------------------------------------


def test_check_accepts_the_shipped_config() -> None:
    result = cli("check")
    assert result.returncode == 0, result.stderr
    assert "config.yaml: ok: 2 floors, 10 areas, " in result.stdout
    assert re.search(r"ok: \d+ intents in \d+ skill files", result.stdout)
    assert "Traceback" not in result.stderr


def test_check_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "floors:\n"
        "  - {id: g, name: G}\n"
        "areas:\n"
        "  - {id: kitchen, name: Kitchen, floor: basement}\n"
        "entities:\n"
        "  - {id: light.a, name: A, area: nowhere}\n"
        "  - {id: light.a, name: B}\n"
        "  - {id: Bad-Id, name: C}\n"
        "  - {id: toaster.d, name: D}\n", encoding="utf-8")
    skills = tmp_path / "skills"
    skills.mkdir()
    (skills / "s.yaml").write_text(
        "skill: s\nintents:\n  X:\n    slots: {name: entity}\n"
        "    data: [{sentences: ['frob {nolist}']}]\n", encoding="utf-8")
    result = cli("check", "--config", str(config))
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    expected = [
        f"{config}:4: areas[0].floor: no floor with id 'basement'",
        f"{config}:6: entities[0].area: no area with id 'nowhere'",
        f"{config}:7: entities[1].id: duplicate id 'light.a'",
        f"{config}:8: entities[2].id: 'Bad-Id' is not of the form domain.object_id",
        f"{skills / 's.yaml'}:5: intents.X.data[0].sentences[0]: unknown list {{nolist}}",
    ]
    for line in expected:
        assert line in errors, result.stderr
    assert any(e.startswith(f"{config}:9: entities[3].id: unknown domain 'toaster'")
               for e in errors)
    assert errors[-1] == "assistant check: 7 problem(s)"
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_check_catches_a_misspelt_intent_in_a_safety_rule(tmp_path: Path) -> None:
    # A deny rule whose intent matches nothing silently stops protecting anything.
    text = CONFIG.read_text(encoding="utf-8")
    text = text.replace("skills_dir: skills", f"skills_dir: {REPO / 'skills'}")
    text, n = re.subn(r"(?s)(\n  deny:.*?intent: \[?)HassTurnOn\b", r"\1HassTurnOnn", text, count=1)
    assert n == 1  # the shipped deny rule changed shape: update this test
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    result = cli("check", "--config", str(config))
    assert result.returncode == 1, result.stdout
    assert "safety.deny[0].intent" in result.stderr and "HassTurnOnn" in result.stderr


def test_check_names_an_adaptation_that_is_not_there(tmp_path: Path) -> None:
    text = CONFIG.read_text(encoding="utf-8")
    text = text.replace("skills_dir: skills", f"skills_dir: {REPO / 'skills'}")
    lines = text.splitlines()
    at = lines.index("asr:") + 1  # the shipped config has an asr section
    lines.insert(at, "  adaptation: voices")
    config = tmp_path / "config.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("check", "--config", str(config))
    assert result.returncode == 1, result.stdout
    assert (f"config.yaml:{at + 1}: asr.adaptation: {tmp_path / 'voices'}: no adapted means "
            "here (run `assistant adapt` first)") in result.stderr


BROKEN = [
    pytest.param("mqtt:\n  hots: x\n", "2: mqtt.hots: unknown key", id="unknown-key"),
    pytest.param("mqtt: {port: abc}\n", "1: mqtt.port: expected a whole number, got 'abc'",
                 id="bad-type"),
    pytest.param("entities:\n  - {id: light.a, name: A, area: nowhere}\n",
                 "2: entities[0].area: no area with id 'nowhere'", id="dangling-area"),
    pytest.param("a: [1, 2\nb: 3\n", "2: (syntax): invalid YAML", id="yaml-syntax"),
    pytest.param("site_id: !custom x\n", "1: ", id="yaml-tag"),
]


COMMANDS = {"check": ["check"], "parse": ["parse", "--engine", "rules", "hello"],
            "run": ["run", "--text", "--engine", "rules"]}
CASES = [pytest.param("check", *case.values, id=f"check-{case.id}") for case in BROKEN] + [
    pytest.param(command, *case.values, id=f"{command}-{case.id}")
    for command in ("parse", "run") for case in (BROKEN[0], BROKEN[-1])]


@pytest.mark.parametrize(("command", "text", "message"), CASES)
def test_a_broken_config_gives_file_line_messages_and_no_traceback(
        tmp_path: Path, command: str, text: str, message: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    name, *rest = COMMANDS[command]
    result = cli(name, "--config", str(config), *rest, stdin="turn on the lamp\n")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    assert f"{config}:{message}" in result.stderr
    assert result.stdout == ""


def test_a_missing_config_file_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = cli("parse", "--config", str(missing), "hello")
    assert result.returncode == 1
    assert result.stderr.strip() == f"{missing}:0: (file): file not found"


# --- run --text against a real mosquitto -----------------------------------------------------


def collect(listener: Listener, want: int, timeout_s: float = 10.0) -> list[tuple[str, Any]]:
    got: list[tuple[str, Any]] = []
    for _ in range(want):
        got.append(listener.get_json(timeout_s))
    return got


DEVICE_TOPICS = ["zigbee2mqtt/#", "home/#", "valetudo/#"]


@pytest.mark.broker
def test_run_text_publishes_device_commands_and_hermes_intents(
        tmp_path: Path, broker: Mosquitto, listen: ListenFactory, site_id: str) -> None:
    listener = listen([*DEVICE_TOPICS, "hermes/intent/#", "hermes/nlu/intentNotRecognized"])
    config = home_config(tmp_path, port=broker.port, site_id=site_id)
    result = cli("run", "--config", str(config), "--text", "--json", "--engine", "rules",
                 stdin="turn off the kitchen lights\nplease tell me a joke\n")
    assert result.returncode == 0, result.stderr
    assert [o["status"] for o in lines(result.stdout)] == ["ok", "rejected"]
    got = collect(listener, 4)
    # The first command's messages go through the durable outbox, the second's refusal
    # does not: the refusal may overtake them on the broker. Each keeps its own order.
    not_recognized = [m for m in got if m[0] == "hermes/nlu/intentNotRecognized"]
    got = [m for m in got if m[0] != "hermes/nlu/intentNotRecognized"] + not_recognized
    assert got[:2] == [("zigbee2mqtt/kitchen_ceiling/set", {"state": "OFF"}),
                       ("zigbee2mqtt/kitchen_counter/set", {"state": "OFF"})]
    topic, intent = got[2]
    assert topic == "hermes/intent/HassTurnOff"
    assert intent["input"] == "turn off the kitchen lights"
    assert intent["siteId"] == site_id
    assert intent["intent"] == {"intentName": "HassTurnOff", "confidenceScore": 1.0}
    slots = {s["slotName"]: s for s in intent["slots"]}
    assert slots["area"]["value"] == {"kind": "Unknown", "value": "Kitchen"}
    assert slots["area"]["range"]["start"] == 13 and slots["area"]["range"]["end"] == 20
    topic, rejected = got[3]
    assert topic == "hermes/nlu/intentNotRecognized"
    assert (rejected["input"], rejected["siteId"]) == ("please tell me a joke", site_id)
    assert Outbox(tmp_path / "outbox.sqlite3").count() == 0


@pytest.mark.broker
def test_run_text_human_output(tmp_path: Path, broker: Mosquitto, site_id: str) -> None:
    config = home_config(tmp_path, port=broker.port, site_id=site_id)
    result = cli("run", "--config", str(config), "--text", "--engine", "rules",
                 stdin="lock the front door\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "> lock the front door\n  Locked the Front Door.\n"


@pytest.mark.broker
def test_dead_broker_keeps_actions_then_a_later_run_delivers_them(
        tmp_path: Path, broker: Mosquitto, listen: ListenFactory, unused_port: int,
        site_id: str) -> None:
    outbox = tmp_path / "state" / "outbox.sqlite3"
    dead = home_config(tmp_path, port=unused_port, site_id=site_id, outbox=outbox)
    result = cli("run", "--config", str(dead), "--text", "--engine", "rules",
                 "--flush-timeout", "1", stdin="set the office blind to 30 percent\n")
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert (f"assistant: the broker did not take 2 message(s) within 1 s; they are kept in "
            f"{outbox} and will be delivered on the next start") in result.stderr
    with Outbox(outbox) as box:
        kept = [(p.message.topic, p.message.payload) for p in box.pending()]
    assert kept[0] == ("zigbee2mqtt/office_blind/set", {"position": 30})
    assert kept[1][0] == "hermes/intent/HassSetPosition"

    listener = listen([*DEVICE_TOPICS, "hermes/intent/#"])
    live = home_config(tmp_path, port=broker.port, site_id=site_id, outbox=outbox)
    result = cli("run", "--config", str(live), "--text", "--engine", "rules", stdin="")
    assert result.returncode == 0, result.stderr
    got = collect(listener, 2)
    assert got[0] == ("zigbee2mqtt/office_blind/set", {"position": 30})
    assert got[1][0] == "hermes/intent/HassSetPosition" and got[1][1]["siteId"] == site_id
    assert Outbox(outbox).count() == 0


# --- test-sentences ------------------------------------------------------------------------


def test_test_sentences_reports_each_failing_sentence(tmp_path: Path) -> None:
    cases = tmp_path / "mine.yaml"
    cases.write_text(
        "tests:\n"
        "  - sentences: ['turn off the kitchen lights', 'kitchen lights off']\n"
        "    intent: {name: HassTurnOff, slots: {area: Kitchen}}\n"
        "  - sentences: ['turn on the floor lamp']\n"
        "    intent: {name: HassTurnOff}\n", encoding="utf-8")
    result = cli("test-sentences", "--engine", "rules", "-v", str(cases))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{cases}: 2/3 passed",
        f"FAIL {cases}: 'turn on the floor lamp': intents ['HassTurnOn'], expected ['HassTurnOff']",
        "2 passed, 1 failed",
    ]


def test_test_sentences_passes_the_smoke_file() -> None:
    result = cli("test-sentences", "--engine", "rules", "tests/sentences/smoke.yaml")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith(" passed, 0 failed")


def test_test_sentences_bad_case_file_is_file_line_not_traceback(tmp_path: Path) -> None:
    cases = tmp_path / "bad.yaml"
    cases.write_text("tests:\n  - sentences: [x]\n    intnet: {name: A}\n", encoding="utf-8")
    result = cli("test-sentences", "--engine", "rules", str(cases))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{cases}:3: tests[0].intnet: unknown key")

"""Our Hermes messages are what rhasspy-hermes itself parses and re-serialises, field for field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant import hermes
from assistant.hermes import HotwordToggle, Malformed, NluQuery
from assistant.structs import Action, Message, ParsedIntent, SlotValue

rh_nlu = pytest.importorskip("rhasspyhermes.nlu")
rh_asr = pytest.importorskip("rhasspyhermes.asr")
rh_wake = pytest.importorskip("rhasspyhermes.wake")
rh_tts = pytest.importorskip("rhasspyhermes.tts")
rh_audio = pytest.importorskip("rhasspyhermes.audioserver")

TEXT = "set the kitchen lights to 40 percent"
PARSED = ParsedIntent("HassLightSet", {"area": SlotValue("Kitchen", "kitchen", 8, 15),
                                       "brightness": SlotValue(40, "40", 26, 28)})
ACTION = Action("HassLightSet", {"area": "Kitchen", "domain": "light", "brightness": 40},
                ("light.kitchen_ceiling",), ())


def reserialised(cls: Any, message: Message) -> dict[str, Any]:
    """Parse with the rhasspy-hermes class and serialise back as it would publish it."""
    parsed: dict[str, Any] = json.loads(cls.from_dict(message.payload).payload())
    return parsed


def test_intent_message_is_exactly_what_rhasspy_hermes_reproduces() -> None:
    m = hermes.intent_message(PARSED, ACTION, TEXT, "kitchen", "s-1", 0.93, request_id="q-7")
    assert m.topic == "hermes/intent/HassLightSet"
    assert rh_nlu.NluIntent.is_topic(m.topic)
    assert rh_nlu.NluIntent.get_intent_name(m.topic) == "HassLightSet"
    assert reserialised(rh_nlu.NluIntent, m) == m.payload
    intent = rh_nlu.NluIntent.from_dict(m.payload)
    assert (intent.site_id, intent.session_id, intent.id) == ("kitchen", "s-1", "q-7")
    assert intent.intent.confidence_score == pytest.approx(0.93)


def test_intent_slots_as_rhasspy_consumers_see_them() -> None:
    m = hermes.intent_message(PARSED, ACTION, TEXT, "default", None, 1.0)
    rhasspy = rh_nlu.NluIntent.from_dict(m.payload).to_rhasspy_dict()
    assert rhasspy["intent"] == {"name": "HassLightSet", "confidence": 1.0}
    assert rhasspy["slots"] == {"area": "Kitchen", "domain": "light", "brightness": 40}
    area = rhasspy["entities"][0]
    assert (area["raw_value"], area["start"], area["end"]) == ("kitchen", 8, 15)
    assert TEXT[area["start"]:area["end"]] == "kitchen"


def test_slot_kinds_and_implied_slots() -> None:
    m = hermes.intent_message(PARSED, ACTION, TEXT, "default", None, 1.0)
    slots = {s["slotName"]: s for s in m.payload["slots"]}
    assert slots["brightness"]["value"] == {"kind": "Number", "value": 40}
    assert slots["area"]["value"] == {"kind": "Unknown", "value": "Kitchen"}
    assert slots["domain"]["range"] is None  # implied by "lights", never spoken as such
    assert slots["domain"]["rawValue"] == "light"
    assert hermes.slot_value(21.5) == {"kind": "Number", "value": 21.5}


def test_asr_tokens_carry_their_character_ranges() -> None:
    [tokens] = hermes.asr_tokens("turn  on the fan")
    assert [(t["value"], t["rangeStart"], t["rangeEnd"]) for t in tokens] == [
        ("turn", 0, 4), ("on", 6, 8), ("the", 9, 12), ("fan", 13, 16)]


def test_not_recognized_round_trips() -> None:
    m = hermes.not_recognized_message("sing me a song", "den", "s-2", request_id="q-1")
    assert m.topic == rh_nlu.NluIntentNotRecognized.topic()
    assert reserialised(rh_nlu.NluIntentNotRecognized, m) == m.payload


def test_text_captured_round_trips() -> None:
    m = hermes.text_captured_message(TEXT, 0.87, 2.25, "den", wakeword_id="hey_house")
    assert m.topic == rh_asr.AsrTextCaptured.topic()
    assert reserialised(rh_asr.AsrTextCaptured, m) == m.payload
    captured = rh_asr.AsrTextCaptured.from_dict(m.payload)
    assert (captured.text, captured.seconds, captured.wakeword_id) == (TEXT, 2.25, "hey_house")


def test_hotword_detected_round_trips() -> None:
    m = hermes.hotword_detected_message("hey_house", "den", sensitivity=0.5)
    assert m.topic == rh_wake.HotwordDetected.topic(wakeword_id="hey_house")
    assert rh_wake.HotwordDetected.get_wakeword_id(m.topic) == "hey_house"
    assert reserialised(rh_wake.HotwordDetected, m) == m.payload


def test_tts_say_round_trips() -> None:
    m = hermes.tts_say_message("Turned off 2 lights.", "den", request_id="r")
    assert m.topic == rh_tts.TtsSay.topic()
    assert reserialised(rh_tts.TtsSay, m) == m.payload


def test_play_bytes_topics_are_what_rhasspy_hermes_uses() -> None:
    topic = hermes.play_bytes_topic("kitchen", "0f3a")
    assert topic == rh_audio.AudioPlayBytes.topic(site_id="kitchen", request_id="0f3a")
    assert rh_audio.AudioPlayBytes.is_topic(topic)
    assert rh_audio.AudioPlayBytes.get_site_id(topic) == hermes.play_bytes_site(topic) == "kitchen"
    assert rh_audio.AudioPlayBytes.get_request_id(topic) == "0f3a"
    assert rh_audio.AudioPlayBytes.topic(request_id="+") == hermes.PLAY_BYTES_TOPIC_FILTER
    assert hermes.play_bytes_topic("a/b", "#") == "hermes/audioServer/a_b/playBytes/_"
    for other in ("hermes/audioServer/kitchen/audioFrame", "hermes/audioServer/kitchen/playBytes",
                  "hermes/audioServer//playBytes/1", "hermes/audioServer/kitchen/playBytes/",
                  "hermes/audioServer/k/playBytes/1/2", "hermes/audioServer/k/playFinished"):
        assert hermes.play_bytes_site(other) is None, other


def test_names_never_break_topic_levels() -> None:
    assert hermes.intent_topic("a/b+#") == "hermes/intent/a_b__"
    assert hermes.hotword_topic("x/y") == "hermes/hotword/x_y/detected"


def test_parses_a_query_serialised_by_rhasspy_hermes() -> None:
    query = rh_nlu.NluQuery(input="turn on the fan", site_id="den", id="q-9",
                            intent_filter=["HassTurnOn"], session_id="s-3")
    assert hermes.parse_nlu_query(query.payload().encode()) == NluQuery(
        input="turn on the fan", site_id="den", request_id="q-9",
        intent_filter=("HassTurnOn",), session_id="s-3")


def test_minimal_query_gets_rhasspy_defaults() -> None:
    assert hermes.parse_nlu_query(b'{"input": "hi", "extra": 1}') == NluQuery(input="hi")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"", "not JSON"),
        (b"turn on the fan", "not JSON"),
        (b'["turn on"]', "must be a JSON object, not an array"),
        (b"null", "not null"),
        (b'{"siteId": "den"}', "missing 'input'"),
        (b'{"input": 42}', "'input' must be a string"),
        (b'{"input": "x", "siteId": 3}', "'siteId' must be a string"),
        (b'{"input": "x", "intentFilter": "HassTurnOn"}', "'intentFilter' must be a list"),
        (b'{"input": "x", "intentFilter": [1]}', "'intentFilter' must be a list"),
        (b'{"input": "x", "asrConfidence": "high"}', "'asrConfidence' must be a number"),
        (b"[" * 50_000, "nested too deeply"),
        (b'{"input": "' + b"a" * 70_000 + b'"}', "larger than"),
    ],
)
def test_malformed_queries_are_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    result = hermes.parse_nlu_query(payload)
    assert isinstance(result, Malformed)
    assert reason in result.reason


@given(st.one_of(st.binary(max_size=200), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["input", "siteId", "id", "intentFilter", "asrConfidence", "x"]),
        inner, max_size=5),
    max_leaves=10).map(lambda v: json.dumps(v).encode())))
def test_query_parser_never_raises(payload: bytes) -> None:
    assert isinstance(hermes.parse_nlu_query(payload), NluQuery | Malformed)


def test_hotword_toggles() -> None:
    on = rh_wake.HotwordToggleOn(site_id="den")
    assert hermes.parse_hotword_toggle(on.topic(), on.payload()) == HotwordToggle(
        on=True, site_id="den", reason="")
    off = rh_wake.HotwordToggleOff(site_id="den", reason=rh_wake.HotwordToggleReason.TTS_SAY)
    parsed = hermes.parse_hotword_toggle(off.topic(), off.payload().encode())
    assert parsed == HotwordToggle(on=False, site_id="den", reason="ttsSay")
    assert hermes.parse_hotword_toggle(off.topic(), b"") == HotwordToggle(on=False)
    assert isinstance(hermes.parse_hotword_toggle(off.topic(), b"{"), Malformed)
    assert isinstance(hermes.parse_hotword_toggle("hermes/nlu/query", b"{}"), Malformed)

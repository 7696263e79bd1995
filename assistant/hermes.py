"""Takes parses, actions and texts; returns Hermes MQTT messages (and parses incoming ones).

Field for field what rhasspy-hermes defines (camelCase keys, every optional key present as
null), so Rhasspy/Snips consumers work unchanged. Pure: no network, no clock, no globals.
Incoming payloads are parsed into small dataclasses; a malformed one becomes `Malformed`
with a reason, never an exception, because anybody on the broker can publish anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assistant.structs import Action, Message, ParsedIntent, SlotScalar

NLU_QUERY_TOPIC = "hermes/nlu/query"
NOT_RECOGNIZED_TOPIC = "hermes/nlu/intentNotRecognized"
TEXT_CAPTURED_TOPIC = "hermes/asr/textCaptured"
TTS_SAY_TOPIC = "hermes/tts/say"
HOTWORD_TOGGLE_ON_TOPIC = "hermes/hotword/toggleOn"
HOTWORD_TOGGLE_OFF_TOPIC = "hermes/hotword/toggleOff"
# Satellites stream their microphone as one small WAV file per message on this topic.
AUDIO_FRAME_TOPIC_FILTER = "hermes/audioServer/+/audioFrame"
# What a satellite plays: one whole WAV file per message, from us or anyone else.
PLAY_BYTES_TOPIC_FILTER = "hermes/audioServer/+/playBytes/+"
DEFAULT_SITE_ID = "default"  # what rhasspy-hermes assumes when siteId is absent
MAX_PAYLOAD_BYTES = 64 * 1024  # a spoken command is tiny; larger input is refused unread
_TOPIC_UNSAFE = re.compile(r"[+#/\x00]")  # MQTT wildcards and level separator
_WORD = re.compile(r"\S+")


def intent_topic(intent_name: str) -> str:
    return f"hermes/intent/{_topic_level(intent_name)}"


def hotword_topic(wakeword_id: str) -> str:
    return f"hermes/hotword/{_topic_level(wakeword_id)}/detected"


def audio_frame_topic(site_id: str) -> str:
    """`hermes/audioServer/<siteId>/audioFrame` (AudioFrame): where a satellite streams."""
    return f"hermes/audioServer/{_topic_level(site_id)}/audioFrame"


def audio_frame_site(topic: str) -> str | None:
    """The siteId of an audioFrame topic, or None for any other topic."""
    parts = topic.split("/")
    if (len(parts) == 4 and parts[:2] == ["hermes", "audioServer"] and parts[2]
            and parts[3] == "audioFrame"):
        return parts[2]
    return None


def play_bytes_topic(site_id: str, request_id: str) -> str:
    """`hermes/audioServer/<siteId>/playBytes/<requestId>` (AudioPlayBytes): the payload is a
    WAV file for that site to play; the satellite answers with playFinished and the id."""
    return f"hermes/audioServer/{_topic_level(site_id)}/playBytes/{_topic_level(request_id)}"


def play_bytes_site(topic: str) -> str | None:
    """The siteId of a playBytes topic, or None for any other topic."""
    parts = topic.split("/")
    if (len(parts) == 5 and parts[:2] == ["hermes", "audioServer"] and parts[2]
            and parts[3] == "playBytes" and parts[4]):
        return parts[2]
    return None


def slot_value(value: SlotScalar) -> dict[str, Any]:
    """Hermes `value` object: numbers as Number, names and enums as Unknown (as Rhasspy does)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"kind": "Number", "value": value}
    return {"kind": "Unknown", "value": str(value)}


def asr_tokens(text: str, confidence: float = 1.0) -> list[list[dict[str, Any]]]:
    """One hypothesis of whitespace tokens with their character ranges in `text`."""
    return [
        [
            {"value": m.group(), "confidence": confidence, "rangeStart": m.start(),
             "rangeEnd": m.end(), "time": None}
            for m in _WORD.finditer(text)
        ]
    ]


def intent_message(
    parsed: ParsedIntent,
    action: Action,
    input_text: str,
    site_id: str,
    session_id: str | None,
    confidence: float,
    *,
    request_id: str | None = None,
    custom_data: str | None = None,
    wakeword_id: str | None = None,
    lang: str | None = None,
    asr_confidence: float | None = None,
) -> Message:
    """`hermes/intent/<intentName>` (NluIntent) for one checked action.

    Slot values are the action's canonical ones; raw text and character ranges come from
    the parse. `input` is the text as heard, so `range` and `rawRange` coincide.
    """
    slots = []
    for name, value in action.slots.items():
        spoken = parsed.slots.get(name)
        raw = spoken.text if spoken is not None and spoken.text else str(value)
        rng = None
        if spoken is not None and spoken.start_char is not None and spoken.end_char is not None:
            rng = {"start": spoken.start_char, "end": spoken.end_char,
                   "rawStart": spoken.start_char, "rawEnd": spoken.end_char}
        slots.append({
            "entity": name,
            "value": slot_value(value),
            "slotName": name,
            "rawValue": raw,
            "confidence": confidence,
            "range": rng,
        })
    payload = {
        "input": input_text,
        "intent": {"intentName": action.intent, "confidenceScore": confidence},
        "siteId": site_id,
        "id": request_id,
        "slots": slots,
        "sessionId": session_id,
        "customData": custom_data,
        "asrTokens": asr_tokens(input_text),
        "asrConfidence": asr_confidence,
        "rawInput": input_text,
        "wakewordId": wakeword_id,
        "lang": lang,
    }
    return Message(topic=intent_topic(action.intent), payload=payload)


def not_recognized_message(
    input_text: str,
    site_id: str,
    session_id: str | None = None,
    *,
    request_id: str | None = None,
    custom_data: str | None = None,
) -> Message:
    """`hermes/nlu/intentNotRecognized` (NluIntentNotRecognized)."""
    payload = {"input": input_text, "siteId": site_id, "id": request_id,
               "customData": custom_data, "sessionId": session_id}
    return Message(topic=NOT_RECOGNIZED_TOPIC, payload=payload)


def text_captured_message(
    text: str,
    likelihood: float,
    duration_s: float,
    site_id: str,
    session_id: str | None = None,
    *,
    wakeword_id: str | None = None,
    lang: str | None = None,
) -> Message:
    """`hermes/asr/textCaptured` (AsrTextCaptured); `seconds` is the utterance duration."""
    payload = {"text": text, "likelihood": likelihood, "seconds": duration_s,
               "siteId": site_id, "sessionId": session_id, "wakewordId": wakeword_id,
               "asrTokens": asr_tokens(text, likelihood), "lang": lang}
    return Message(topic=TEXT_CAPTURED_TOPIC, payload=payload)


def hotword_detected_message(
    wakeword_id: str,
    site_id: str,
    session_id: str | None = None,
    *,
    sensitivity: float = 1.0,
    model_version: str = "",
    lang: str | None = None,
) -> Message:
    """`hermes/hotword/<wakewordId>/detected` (HotwordDetected)."""
    payload = {"modelId": wakeword_id, "modelVersion": model_version, "modelType": "personal",
               "currentSensitivity": sensitivity, "siteId": site_id, "sessionId": session_id,
               "sendAudioCaptured": None, "lang": lang, "customEntities": None}
    return Message(topic=hotword_topic(wakeword_id), payload=payload)


def tts_say_message(
    text: str,
    site_id: str,
    session_id: str | None = None,
    *,
    request_id: str | None = None,
    lang: str | None = None,
    volume: float | None = None,
) -> Message:
    """`hermes/tts/say` (TtsSay): the spoken reply, for a Hermes TTS service to voice."""
    payload = {"text": text, "siteId": site_id, "lang": lang, "id": request_id,
               "sessionId": session_id, "volume": volume}
    return Message(topic=TTS_SAY_TOPIC, payload=payload)


@dataclass(frozen=True)
class NluQuery:
    """An incoming `hermes/nlu/query`: text to understand, from a hub or a Hermes ASR."""

    input: str
    site_id: str = DEFAULT_SITE_ID
    request_id: str | None = None  # echoed back as `id` in the intent message
    intent_filter: tuple[str, ...] | None = None  # only these intents may be recognised
    session_id: str | None = None
    wakeword_id: str | None = None
    lang: str | None = None
    custom_data: str | None = None
    asr_confidence: float | None = None


@dataclass(frozen=True)
class HotwordToggle:
    """An incoming `hermes/hotword/toggleOn|toggleOff`."""

    on: bool
    site_id: str = DEFAULT_SITE_ID
    reason: str = ""


@dataclass(frozen=True)
class Malformed:
    """An incoming payload we refuse, and why (for the log; nothing is published)."""

    reason: str


def parse_nlu_query(payload: bytes | str) -> NluQuery | Malformed:
    """Parse a `hermes/nlu/query` payload; unknown keys are ignored, as Hermes allows."""
    obj = _json_object(payload)
    if isinstance(obj, Malformed):
        return obj
    text = obj.get("input")
    if not isinstance(text, str):
        return Malformed("'input' must be a string" if "input" in obj else "missing 'input'")
    strings = _optional_strings(obj, ("siteId", "id", "sessionId", "wakewordId", "lang",
                                      "customData"))
    if isinstance(strings, Malformed):
        return strings
    intent_filter = obj.get("intentFilter")
    if intent_filter is not None and not (
        isinstance(intent_filter, list) and all(isinstance(i, str) for i in intent_filter)
    ):
        return Malformed("'intentFilter' must be a list of intent names or null")
    confidence = obj.get("asrConfidence")
    if confidence is not None and (
        isinstance(confidence, bool) or not isinstance(confidence, int | float)
    ):
        return Malformed("'asrConfidence' must be a number or null")
    return NluQuery(
        input=text,
        site_id=strings["siteId"] or DEFAULT_SITE_ID,
        request_id=strings["id"],
        intent_filter=tuple(intent_filter) if intent_filter is not None else None,
        session_id=strings["sessionId"],
        wakeword_id=strings["wakewordId"],
        lang=strings["lang"],
        custom_data=strings["customData"],
        asr_confidence=float(confidence) if confidence is not None else None,
    )


def parse_hotword_toggle(topic: str, payload: bytes | str) -> HotwordToggle | Malformed:
    """Parse `hermes/hotword/toggleOn` or `toggleOff`; an empty payload means the default site."""
    if topic not in (HOTWORD_TOGGLE_ON_TOPIC, HOTWORD_TOGGLE_OFF_TOPIC):
        return Malformed(f"not a hotword toggle topic: {topic!r}")
    on = topic == HOTWORD_TOGGLE_ON_TOPIC
    if payload in (b"", ""):
        return HotwordToggle(on=on)
    obj = _json_object(payload)
    if isinstance(obj, Malformed):
        return obj
    strings = _optional_strings(obj, ("siteId", "reason"))
    if isinstance(strings, Malformed):
        return strings
    return HotwordToggle(on=on, site_id=strings["siteId"] or DEFAULT_SITE_ID,
                         reason=strings["reason"] or "")


def _json_object(payload: bytes | str) -> dict[str, Any] | Malformed:
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Malformed(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    except UnicodeDecodeError as e:
        return Malformed(f"payload is not UTF-8: {e.reason} at byte {e.start}")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        return Malformed(f"payload is not JSON: {e.msg} at line {e.lineno} column {e.colno}")
    except RecursionError:
        return Malformed("payload is nested too deeply")
    if not isinstance(obj, dict):
        return Malformed(f"payload must be a JSON object, not {_json_kind(obj)}")
    return obj


def _json_kind(obj: object) -> str:
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "a boolean"
    if isinstance(obj, int | float):
        return "a number"
    return "a string" if isinstance(obj, str) else "an array"


def _optional_strings(
    obj: Mapping[str, Any], keys: tuple[str, ...]
) -> dict[str, str | None] | Malformed:
    out: dict[str, str | None] = {}
    for key in keys:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            return Malformed(f"'{key}' must be a string or null")
        out[key] = value
    return out


def _topic_level(name: str) -> str:
    # Intent names and wake word ids come from config; keep them one valid topic level.
    return _TOPIC_UNSAFE.sub("_", name) or "_"

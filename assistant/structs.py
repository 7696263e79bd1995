"""Small frozen dataclasses exchanged between pipeline stages (parses, actions, outcomes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

SlotScalar = str | int | float


class Status(str, Enum):
    """How an utterance ended."""

    OK = "ok"
    REJECTED = "rejected"
    CONFIRM = "confirm"
    ERROR = "error"


class Engine(str, Enum):
    """Which understanding engine produced a parse."""

    RULES = "rules"
    LM = "lm"
    AUTO = "auto"


@dataclass(frozen=True)
class SlotValue:
    """One slot as understood: a value plus the words it came from.

    `value` is canonical where the engine knows it (a config name, a number, an enum),
    otherwise the raw words; the mapper resolves names either way. Character offsets are
    into the input text, end exclusive; None when the value was implied, not spoken.
    """

    value: SlotScalar
    text: str = ""
    start_char: int | None = None
    end_char: int | None = None


@dataclass(frozen=True)
class ParsedIntent:
    """One understood command: an intent name and its slots."""

    intent: str
    slots: dict[str, SlotValue] = field(default_factory=dict)


def moved(parsed: ParsedIntent, start: Callable[[int], int],
          end: Callable[[int], int]) -> ParsedIntent:
    """The command with each spoken slot's offsets mapped through `start` and `end` (its
    words read from another text than the one the offsets are wanted in)."""
    slots = {k: v if v.start_char is None or v.end_char is None else
             replace(v, start_char=start(v.start_char), end_char=end(v.end_char))
             for k, v in parsed.slots.items()}
    return ParsedIntent(parsed.intent, slots)


@dataclass(frozen=True)
class Parse:
    """What an engine understood from one utterance: zero or more commands, in spoken order.

    An empty `intents` tuple means "not understood"; `reason` then says why.
    """

    intents: tuple[ParsedIntent, ...]
    engine: Engine
    confidence: float  # 0..1; 1.0 for an exact template hit
    reason: str | None = None
    unknown_names: tuple[str, ...] = ()  # spoken names that matched nothing in the home
    unsure: tuple[ParsedIntent, ...] = ()  # the model's reading when below its bar


@dataclass(frozen=True)
class Message:
    """One MQTT publication: a topic and a JSON-serialisable payload."""

    topic: str
    payload: dict[str, Any]
    qos: int = 1
    retain: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "payload": self.payload}


@dataclass(frozen=True)
class Action:
    """One checked, resolved command: what will be (or was) published for one intent."""

    intent: str
    slots: dict[str, SlotScalar]
    targets: tuple[str, ...]  # entity ids
    messages: tuple[Message, ...]
    risky: bool = False
    speech: str = ""  # the reply once done ("Unlocked the Front Door."); not in the JSON

    def to_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "slots": dict(self.slots),
            "targets": list(self.targets),
            "messages": [m.to_json() for m in self.messages],
        }


@dataclass(frozen=True)
class Outcome:
    """The result of one utterance, serialised as DESIGN's outcome JSON."""

    input: str
    source: str  # "text" | "audio" | "mqtt"
    status: Status
    reason: str | None = None
    actions: tuple[Action, ...] = ()
    speech: str = ""
    heard: str | None = None
    wav: str | None = None
    question: str | None = None  # the confirmation question, when status is confirm
    pending: tuple[Action, ...] = ()  # actions waiting for that "yes"; not yet published
    engine: str | None = None
    confidence: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"input": self.input, "source": self.source}
        if self.wav is not None:
            out["wav"] = self.wav
        out["heard"] = self.heard if self.heard is not None else self.input
        out["status"] = self.status.value
        out["reason"] = self.reason
        out["actions"] = [a.to_json() for a in self.actions]
        out["speech"] = self.speech
        if self.question is not None:
            out["question"] = self.question
        if self.pending:
            out["pending"] = [a.to_json() for a in self.pending]
        if self.engine is not None:
            out["engine"] = self.engine
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 3)
        out["timings_ms"] = {k: round(v, 3) for k, v in self.timings_ms.items()}
        return out

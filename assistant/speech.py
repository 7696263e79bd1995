"""Builds the spoken replies: entities, states and slot values in, short English sentences out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from assistant.config import Area, Entity
from assistant.resolve import PLURALS

# zigbee2mqtt-style reported states -> words people use.
_STATE_WORDS = {
    "on": "on", "off": "off", "lock": "locked", "locked": "locked", "unlock": "unlocked",
    "unlocked": "unlocked", "open": "open", "opened": "open", "close": "closed",
    "closed": "closed", "stop": "stopped", "play": "playing", "playing": "playing",
    "pause": "paused", "paused": "paused", "docked": "docked", "cleaning": "cleaning",
    "idle": "idle", "returning": "returning", "heat": "heating",
}


def say(template: str, **values: Any) -> str:
    """Fill a response template; unknown placeholders are left as the plain words."""

    class _Keep(dict[str, Any]):
        def __missing__(self, k: str) -> str:
            return k

    text = template.format_map(_Keep({k: _word(v) for k, v in values.items()}))
    return text[:1].upper() + text[1:]


def _word(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def describe_targets(entities: Iterable[Entity]) -> str:
    ents = list(entities)
    if not ents:
        return "nothing"
    if len(ents) == 1:
        return f"the {ents[0].name}"
    kinds = {e.device_class or e.domain for e in ents}
    if len(kinds) == 1:
        kind = kinds.pop()
        return f"{len(ents)} {PLURALS.get(kind, kind + 's')}"
    return f"{len(ents)} devices"


def elsewhere_reason(targets: Iterable[Entity], room: Area,
                     area_by_id: Mapping[str, Area]) -> str:
    """Why devices kept in other rooms are not acted on for the room the user named: "the TV
    is in the Lounge, not the Bedroom"; for several, "no lights in the Bedroom"."""
    ents = list(targets)
    kept = area_by_id.get(ents[0].area or "") if len(ents) == 1 else None
    if kept is not None:
        return f"the {ents[0].name} is in the {kept.name}, not the {room.name}"
    kinds = {e.device_class or e.domain for e in ents}
    what = PLURALS.get(kinds.pop(), "devices") if len(kinds) == 1 else "devices"
    return f"no {what} in the {room.name}"


def state_word(state: Mapping[str, Any] | None) -> str | None:
    """The reported state in words, from a zigbee2mqtt-like JSON state message."""
    if not state:
        return None
    if "state" in state:
        return _STATE_WORDS.get(str(state["state"]).lower(), str(state["state"]).lower())
    if "contact" in state:  # door/window contact sensors report contact: true when shut
        return "closed" if state["contact"] else "open"
    if "position" in state:
        pos = state["position"]
        return "closed" if pos == 0 else "open" if pos == 100 else f"{pos} percent open"
    return None


def answer_state(targets: list[Entity], states: Mapping[str, Mapping[str, Any]],
                 asked: Any = None) -> str:
    known = [(e, w) for e in targets if (w := state_word(states.get(e.id))) is not None]
    if not known:
        return f"I don't know the state of {describe_targets(targets)} yet."
    if asked is None:
        return " ".join(f"The {e.name} is {w}." for e, w in known)
    asked = str(asked)
    matching = [e for e, w in known if w == asked]
    if len(targets) == 1:
        e, w = known[0]
        return f"Yes, the {e.name} is {w}." if w == asked else f"No, the {e.name} is {w}."
    if not matching:
        return f"No, none of them are {asked}."
    names = ", ".join(e.name for e in matching)
    return f"Yes, {len(matching)} of {len(targets)} are {asked}: {names}."


def answer_temperature(targets: list[Entity], states: Mapping[str, Mapping[str, Any]]) -> str:
    # Prefer a dedicated temperature sensor over a thermostat's own reading.
    ordered = sorted(targets, key=lambda e: e.domain != "sensor")
    for e in ordered:
        st = states.get(e.id) or {}
        for k in ("temperature", "local_temperature", "current_temperature"):
            if isinstance(st.get(k), (int, float)):
                return f"The {e.name} reads {_word(round(float(st[k]), 1))} degrees."
    return f"I don't have a temperature reading from {describe_targets(ordered)} yet."

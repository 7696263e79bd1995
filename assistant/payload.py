"""Renders skill action templates: slot values in, MQTT topic and JSON payload out.

A payload value of exactly "{slot}" or "{slot|filter}" becomes the slot's typed value
(a number stays a number); keys whose slot was not said are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from assistant.config import Entity
from assistant.errors import AssistantError
from assistant.structs import SlotScalar

DEFAULT_COMMAND_TOPIC = "zigbee2mqtt/{object_id}/set"  # zigbee2mqtt's convention
_PLACEHOLDER_RE = re.compile(r"^\{(\w+)(?:\|(\w+))?\}$")
COLOR_HEX = {
    "red": "#FF0000", "orange": "#FF8000", "yellow": "#FFD700", "green": "#00C000",
    "blue": "#0040FF", "purple": "#8000FF", "pink": "#FF60C0", "white": "#FFFFFF",
    "warm white": "#FFD8A0", "cool white": "#E0F0FF",
}


class PayloadError(AssistantError):
    """A template cannot be rendered for these slots."""


class _Missing:
    """Marks a template value whose slot was not said."""


_MISSING = _Missing()


def _pct254(v: SlotScalar) -> int:
    return round(float(v) * 254 / 100)  # zigbee2mqtt brightness is 0..254


def _hex(v: SlotScalar) -> str:
    try:
        return COLOR_HEX[str(v).lower()]
    except KeyError:
        raise PayloadError(f"no colour called {v}") from None


FILTERS: dict[str, Callable[[SlotScalar], Any]] = {
    "pct254": _pct254,
    "hex": _hex,
    "upper": lambda v: str(v).upper(),
    "lower": lambda v: str(v).lower(),
    "int": lambda v: int(float(v)),
}


def _render(value: Any, slots: Mapping[str, SlotScalar]) -> Any:
    if isinstance(value, dict):
        out = {k: _render(v, slots) for k, v in value.items()}
        out = {k: v for k, v in out.items() if v is not _MISSING}
        return out if out else _MISSING
    if isinstance(value, list):
        return [r for v in value if (r := _render(v, slots)) is not _MISSING]
    if isinstance(value, str):
        m = _PLACEHOLDER_RE.match(value)
        if m:
            name, filt = m.group(1), m.group(2)
            if name not in slots:
                return _MISSING
            if filt is None:
                return slots[name]
            if filt not in FILTERS:
                raise PayloadError(f"unknown template filter '{filt}'")
            try:
                return FILTERS[filt](slots[name])
            except (TypeError, ValueError):
                raise PayloadError(f"{name} cannot be {slots[name]!r}") from None
        if "{" in value:
            try:
                return value.format(**slots)
            except (KeyError, IndexError, ValueError):
                return _MISSING
    return value


def render_payload(template: Mapping[str, Any], slots: Mapping[str, SlotScalar]) -> dict[str, Any]:
    """The JSON payload for these slots; raises PayloadError when nothing is left to send."""
    out = _render(dict(template), slots)
    if out is _MISSING or not out:
        raise PayloadError("nothing to set")
    assert isinstance(out, dict)
    return out


def render_topic(entity: Entity, template: str | None) -> str:
    """The entity's own command topic wins, then the skill's, then zigbee2mqtt's default."""
    if entity.command_topic:
        return entity.command_topic
    return (template or DEFAULT_COMMAND_TOPIC).format(
        object_id=entity.object_id, domain=entity.domain, entity_id=entity.id)

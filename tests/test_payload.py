"""payload: action templates plus slot values in, MQTT topic and JSON payload out."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.config import Entity
from assistant.payload import (
    COLOR_HEX,
    DEFAULT_COMMAND_TOPIC,
    PayloadError,
    render_payload,
    render_topic,
)
from assistant.structs import SlotScalar

CASES: list[tuple[dict[str, Any], dict[str, SlotScalar], dict[str, Any]]] = [
    ({"state": "ON"}, {}, {"state": "ON"}),
    ({"position": "{position}"}, {"position": 30}, {"position": 30}),  # a number stays a number
    ({"current_heating_setpoint": "{temperature}"}, {"temperature": 19.5},
     {"current_heating_setpoint": 19.5}),
    ({"state": "ON", "brightness": "{brightness|pct254}"}, {"brightness": 100},
     {"state": "ON", "brightness": 254}),
    ({"brightness": "{brightness|pct254}"}, {"brightness": 50}, {"brightness": 127}),
    ({"brightness": "{brightness|pct254}"}, {"brightness": 0}, {"brightness": 0}),
    ({"brightness": "{brightness|pct254}"}, {"brightness": 1}, {"brightness": 3}),
    ({"color": {"hex": "{color|hex}"}}, {"color": "red"}, {"color": {"hex": "#FF0000"}}),
    ({"color": {"hex": "{color|hex}"}}, {"color": "Warm White"}, {"color": {"hex": "#FFD8A0"}}),
    # keys whose slot was not said are left out, and so are mappings left empty
    ({"state": "ON", "brightness": "{brightness|pct254}", "color": {"hex": "{color|hex}"}},
     {"brightness": 20}, {"state": "ON", "brightness": 51}),
    ({"state": "ON", "brightness": "{brightness|pct254}", "color": {"hex": "{color|hex}"}},
     {"color": "blue"}, {"state": "ON", "color": {"hex": "#0040FF"}}),
    ({"mode": "{m|upper}", "low": "{m|lower}", "n": "{n|int}"}, {"m": "Eco", "n": "21.7"},
     {"mode": "ECO", "low": "eco", "n": 21}),
    ({"say": "set to {level} percent"}, {"level": 40}, {"say": "set to 40 percent"}),
    ({"list": ["{a}", "{b}", "fixed"]}, {"a": 1}, {"list": [1, "fixed"]}),
    ({"flag": True, "none": None, "n": 3}, {}, {"flag": True, "none": None, "n": 3}),
]


@pytest.mark.parametrize(("template", "slots", "expected"), CASES)
def test_render_payload(template: dict[str, Any], slots: dict[str, SlotScalar],
                        expected: dict[str, Any]) -> None:
    assert render_payload(template, slots) == expected


@pytest.mark.parametrize(("template", "slots", "message"), [
    ({"position": "{position}"}, {}, "nothing to set"),
    ({"color": {"hex": "{color|hex}"}}, {}, "nothing to set"),
    ({}, {"x": 1}, "nothing to set"),
    ({"a": "{x|nope}"}, {"x": 1}, "unknown template filter 'nope'"),
    ({"color": {"hex": "{color|hex}"}}, {"color": "magenta"}, "no colour called magenta"),
    ({"brightness": "{brightness|pct254}"}, {"brightness": "bright"}, ""),
    ({"n": "{n|int}"}, {"n": "many"}, ""),
])
def test_unrenderable_templates_raise_payload_error(template: dict[str, Any],
                                                   slots: dict[str, SlotScalar],
                                                   message: str) -> None:
    # Only PayloadError: the mapper turns it into a rejection; anything else is a crash.
    with pytest.raises(PayloadError) as err:
        render_payload(template, slots)
    assert message in str(err.value)


def test_every_colour_has_a_hex_code() -> None:
    assert all(v.startswith("#") and len(v) == 7 for v in COLOR_HEX.values())
    assert {"red", "green", "blue", "white", "warm white", "cool white"} <= set(COLOR_HEX)


def test_the_template_is_not_modified() -> None:
    template = {"a": {"b": "{x}"}, "c": "{y}"}
    render_payload(template, {"x": 1})
    assert template == {"a": {"b": "{x}"}, "c": "{y}"}


@pytest.mark.parametrize(("entity", "template", "topic"), [
    (Entity(id="light.kitchen_ceiling", name="K"), None, "zigbee2mqtt/kitchen_ceiling/set"),
    (Entity(id="scene.movie_night", name="M"), "home/{domain}/{object_id}/set",
     "home/scene/movie_night/set"),
    (Entity(id="script.bedtime", name="B"), "x/{entity_id}", "x/script.bedtime"),
    # the entity's own topic always wins
    (Entity(id="media_player.tv", name="TV", command_topic="home/media/tv/set"),
     "home/{domain}/{object_id}/set", "home/media/tv/set"),
    (Entity(id="vacuum.robot", name="R", command_topic="valetudo/robot/command"), None,
     "valetudo/robot/command"),
])
def test_render_topic(entity: Entity, template: str | None, topic: str) -> None:
    assert render_topic(entity, template) == topic


def test_default_topic_is_zigbee2mqtts() -> None:
    assert DEFAULT_COMMAND_TOPIC == "zigbee2mqtt/{object_id}/set"

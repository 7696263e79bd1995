"""followup: an utterance that only continues the last command, read with the last actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import load_config
from assistant.followup import follow_up
from assistant.resolve import Resolver
from assistant.structs import Action, Engine

REPO = Path(__file__).resolve().parent.parent
KITCHEN_ON = Action("HassTurnOn", {"area": "Kitchen", "domain": "light"},
                    ("light.kitchen_ceiling", "light.kitchen_counter"), ())
DIM_LOUNGE = Action("LightDimmer", {"area": "Living Room", "domain": "light"},
                    ("light.living_room_main", "light.floor_lamp"), ())
BEDROOM_20 = Action("HassClimateSetTemperature", {"area": "Bedroom", "temperature": 20},
                    ("climate.bedroom",), ())


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver(load_config(REPO / "config.yaml"))


def slots(text: str, last: Action, resolver: Resolver) -> list[tuple[str, dict[str, object]]]:
    parse = follow_up(text, [last], resolver)
    assert parse is not None and parse.engine is Engine.RULES, text
    return [(p.intent, {k: v.value for k, v in p.slots.items()}) for p in parse.intents]


def test_and_a_place_too_is_the_last_command_there(resolver: Resolver) -> None:
    assert slots("and the hallway too", KITCHEN_ON, resolver) == [
        ("HassTurnOn", {"domain": "light", "area": "Hallway"})]
    # the setting comes along, the place changes
    assert slots("the kids room as well", BEDROOM_20, resolver) == [
        ("HassClimateSetTemperature", {"temperature": 20, "area": "Kids Room"})]


def test_and_a_device_too_is_the_last_command_on_it(resolver: Resolver) -> None:
    assert slots("and the tv too", KITCHEN_ON, resolver) == [("HassTurnOn", {"name": "TV"})]


def test_more_repeats_a_step_and_again_repeats_anything(resolver: Resolver) -> None:
    assert slots("a bit more", DIM_LOUNGE, resolver) == [
        ("LightDimmer", {"area": "Living Room", "domain": "light"})]
    assert follow_up("a bit more", [BEDROOM_20], resolver) is None  # "more" of a set point?
    assert slots("do that again", BEDROOM_20, resolver)[0][0] == "HassClimateSetTemperature"


@pytest.mark.parametrize("text", [
    "the hallway",  # a name alone may be anything: it needs "and" or "too"
    "and turn off the tv too",  # a command of its own: the engines read it
    "and the flux capacitor too",  # nothing of the home
    "and then we went to the kitchen and had tea too",
    "",
])
def test_what_is_not_a_follow_up(resolver: Resolver, text: str) -> None:
    assert follow_up(text, [KITCHEN_ON], resolver) is None


def test_nothing_before_nothing_to_follow(resolver: Resolver) -> None:
    assert follow_up("and the hallway too", [], resolver) is None

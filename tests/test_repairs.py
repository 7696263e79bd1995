"""The speaker's own repairs ("the kitchen, no, the hall") and digits that sound like words."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import load_config
from assistant.pipeline import Assistant
from assistant.repairs import Repairer, home_names, skill_words

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def repairer() -> Repairer:
    config = load_config(ROOT / "config.yaml")
    return Repairer(home_names(config), skill_words(config))


@pytest.mark.parametrize(("said", "meant"), [
    ("turn off the kitchen no the living room lights", "turn off the living room lights"),
    ("turn on the kitchen, sorry, the living room lights", "turn on the living room lights"),
    ("turn on the kitchen i mean the bedroom lights", "turn on the bedroom lights"),
    ("set the lights to thirty no forty percent", "set the lights to forty percent"),
    ("set it to 30, sorry, 40 percent", "set it to 40 percent"),
    ("put the heating on twenty won degrees", "put the heating on twenty one degrees"),
    ("volume to twenty for", "volume to twenty four"),
    ("set it to twenty too, please", "set it to twenty two, please"),
    ("open the no close the kitchen blind", "close the kitchen blind"),
    ("turn the lights on, no wait, off", "turn the lights off"),
    ("lock the back i mean the front door", "lock the front door"),  # half a name taken back
])
def test_repairs(repairer: Repairer, said: str, meant: str) -> None:
    assert repairer.repair(said).text == meant


@pytest.mark.parametrize("said", [
    "turn the heating to twenty for an hour",  # "for" starts a duration here
    "turn the volume up, no, the bedroom one",  # a command word, then a name: not a repair
    "turn the lights on, no, on",  # the same word again
    "no, turn off the lights",
    "turn on the kitchen no matter what",
    "set the kitchen no the kitchen lights",  # the same words again: nothing taken back
    "lights to twenty percent",
])
def test_no_repair(repairer: Repairer, said: str) -> None:
    repaired = repairer.repair(said)
    assert repaired.text == said and repaired.edits == ()


@pytest.mark.parametrize(("said", "meant", "heard"), [
    ("set the office lamp to thirty no forty percent", "forty", "forty"),
    ("heat to twenty won degrees", "twenty one", "twenty won"),
])
def test_offsets_point_into_what_was_said(repairer: Repairer, said: str, meant: str,
                                          heard: str) -> None:
    repaired = repairer.repair(said)
    at = repaired.text.index(meant)
    start = repaired.to_input(at)
    end = repaired.to_input(at + len(meant), end=True)
    assert said[start:end] == heard


def test_assistant_acts_on_the_repair() -> None:
    assistant = Assistant(load_config(ROOT / "config.yaml"), engine="auto", publish=False)
    said = "turn on the kitchen, no, the living room lights"
    outcome = assistant.handle_text(said)
    assert outcome.status.value == "ok"
    assert {t for a in outcome.actions for t in a.targets} == {"light.living_room_main",
                                                               "light.floor_lamp"}
    area = outcome.to_json()["actions"][0]["slots"]["area"]
    assert area == "Living Room"
    said = "set the bedroom thermostat to twenty won degrees"
    outcome = assistant.handle_text(said)
    assert [a.slots.get("temperature") for a in outcome.actions] == [21]


@pytest.mark.parametrize(("said", "meant"), [
    ("dinning room lights on please", "dining room lights on please"),
    ("switch the night lite off", "switch the night light off"),
    ("sealing fan on please", "ceiling fan on please"),
    ("lunge lights off", "lounge lights off"),
    ("is it warm in the bed room", "is it warm in the bedroom"),
    ("dim the livingroom lights", "dim the living room lights"),
    ("is the coffee make her on", "is the coffee maker on"),
    ("is the garbage door open", "is the garage door open"),
    ("switch on the christmas tr", "switch on the christmas tree"),
    ("turn off the televis", "turn off the television"),
])
def test_misheard_names(repairer: Repairer, said: str, meant: str) -> None:
    assert repairer.repair(said).text == meant


@pytest.mark.parametrize("said", [
    "lock both doors",  # not the bath doors
    "call the vacuum back",  # not the hall
    "it's stuffy in the office, put the fan on",  # not the study
    "finished eating, dining room light off",
    "knock the bedroom temperature down a notch",
    "turn on the kitchen lights",
])
def test_words_that_merely_look_like_names_stay(repairer: Repairer, said: str) -> None:
    assert repairer.repair(said).text == said


def test_a_renamed_device_is_matched_by_sound_without_retraining() -> None:
    config = load_config(ROOT / "config.yaml")
    names = [*home_names(config), "aquarium pump"]
    assert Repairer(names, skill_words(config)).repair(
        "turn off the aquarium pumb").text == "turn off the aquarium pump"

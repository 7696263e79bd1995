"""The guard: utterances that mention a command without asking for it now are refused."""

from __future__ import annotations

import pytest

from assistant.guard import DEFERRED, NARRATION, NEGATED, refusal


@pytest.mark.parametrize(("text", "reason"), [
    ("don't turn off the kitchen lights", NEGATED),
    ("please do not unlock the front door", NEGATED),
    ("never open the garage door", NEGATED),
    ("do not fully open the blinds", NEGATED),
    ("blinds down but don't fully close", NEGATED),
    ("the blinds, not fully open them", NEGATED),
    ("I turned off the kitchen lights", NARRATION),
    ("we turned the porch light on an hour ago", NARRATION),
    ("dad had the heating on all night", NARRATION),
    ("she switched the tv off an hour ago", NARRATION),
    ("we have turned the lights off", NARRATION),
    ("i have the tv on", NARRATION),
    ("the lamps in the spare room were flickering", NARRATION),
    ("the blinds upstairs were still rattling at midnight", NARRATION),
    ("the porch light was buzzing when we got home", NARRATION),
    ("the heating had been on since lunchtime", NARRATION),
    ("turn off the kitchen lights in ten minutes", DEFERRED),
    ("turn off the lights in 5 min", DEFERRED),
    ("open the blinds tomorrow", DEFERRED),
    ("turn on the porch light at 7 pm", DEFERRED),
    ("start the vacuum when I leave", DEFERRED),
    ("turn on the heating later", DEFERRED),
])
def test_refused(text: str, reason: str) -> None:
    assert refusal(text) == reason


@pytest.mark.parametrize("text", [
    "turn off the kitchen lights",
    "kill the lights in the kitchen",
    "it's too cold in the bedroom",
    "i can't hear the tv",
    "can you get the vacuum going",
    "set the thermostat to 21 degrees",
    "turn on one light",
    "lights off in the kitchen and close the blinds",
    "set the pendant light at sixty percent",
    "i'd like the lights on in the lounge",
    "can we have the lights on in the kitchen",
    "living room blinds to seventy percent, not fully open",
    "could i have the heating at 21",
    "someone left the bathroom light on, turn it off",
    "the hall light was flickering, switch it off",
    "turn off the lamps that were flickering",
    "the heating had been off all day so set it to 21 degrees",
    "is the front door locked or not",
    "actually never mind",
    "what time is it",
    "",
])
def test_plain_requests_pass(text: str) -> None:
    assert refusal(text) is None

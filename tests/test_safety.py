"""safety: actions against confirm/trust/deny rules, and the spoken yes/no dialogue around them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.config import Config, Entity, SafetyConfig, SafetyRule, load_config
from assistant.pipeline import Assistant
from assistant.safety import judge, rule_matches
from assistant.skills import SkillSet, load_skills
from assistant.structs import Outcome, Status

REPO = Path(__file__).resolve().parent.parent

LAMP = Entity(id="light.floor_lamp", name="Floor Lamp", area="living_room")
DOOR = Entity(id="lock.front_door", name="Front Door", area="hallway")
GARAGE = Entity(id="cover.garage_door", name="Garage Door", area="garage", device_class="garage")


@pytest.mark.parametrize(("rule", "intent", "entity", "slots", "matches"), [
    (SafetyRule(), "HassTurnOn", LAMP, {}, True),  # empty rule matches anything
    (SafetyRule(intent=["HassTurnOn"]), "HassTurnOn", LAMP, {}, True),
    (SafetyRule(intent=["HassTurnOn"]), "HassTurnOff", LAMP, {}, False),
    (SafetyRule(domain=["lock"]), "HassTurnOff", DOOR, {}, True),
    (SafetyRule(domain=["lock"]), "HassTurnOff", LAMP, {}, False),
    (SafetyRule(device_class=["garage"]), "HassSetPosition", GARAGE, {}, True),
    (SafetyRule(device_class=["garage"]), "HassSetPosition", LAMP, {}, False),
    (SafetyRule(entity=["lock.front_door", "lock.back_door"]), "HassTurnOff", DOOR, {}, True),
    (SafetyRule(entity=["lock.back_door"]), "HassTurnOff", DOOR, {}, False),
    (SafetyRule(area=["hallway"]), "HassTurnOff", DOOR, {}, True),
    (SafetyRule(area=["kitchen"]), "HassTurnOff", DOOR, {}, False),
    (SafetyRule(slots={"position": 100}), "HassSetPosition", GARAGE, {"position": 100}, True),
    (SafetyRule(slots={"position": 100}), "HassSetPosition", GARAGE, {"position": 50}, False),
    (SafetyRule(slots={"position": 100}), "HassSetPosition", GARAGE, {}, False),
    (SafetyRule(slots={"color": "Red"}), "HassLightSet", LAMP, {"color": "red"}, True),
    (SafetyRule(slots={"position": "100"}), "HassSetPosition", GARAGE, {"position": 100}, True),
    # every field must hold
    (SafetyRule(domain=["cover"], slots={"position": 100}), "HassSetPosition", GARAGE,
     {"position": 0}, False),
    # an action with no target matches only rules that name no target
    (SafetyRule(domain=["lock"]), "HassGetCurrentTime", None, {}, False),
    (SafetyRule(intent=["HassGetCurrentTime"]), "HassGetCurrentTime", None, {}, True),
])
def test_rule_matches(rule: SafetyRule, intent: str, entity: Entity | None,
                      slots: dict[str, object], matches: bool) -> None:
    assert rule_matches(rule, intent, entity, slots) is matches


@pytest.fixture(scope="module")
def skills() -> SkillSet:
    return load_skills(REPO / "skills")


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(REPO / "config.yaml")


def with_safety(config: Config, **changes: object) -> Config:
    return dataclasses.replace(config, safety=dataclasses.replace(config.safety, **changes))


def test_judge_deny_beats_confirm_and_trust(config: Config, skills: SkillSet) -> None:
    heater = config.entity("switch.office_heater")
    assert heater is not None
    trusting = with_safety(config, trust=[SafetyRule(entity=["switch.office_heater"])])
    verdict = judge(trusting, skills.specs["HassTurnOn"], [heater], {})
    assert verdict.denied is not None and verdict.risky is None
    assert verdict.denied.reason == "the space heater cannot be turned on by voice"
    assert judge(config, skills.specs["HassTurnOff"], [heater], {}).denied is None


def test_judge_risk_from_skill_and_config(config: Config, skills: SkillSet) -> None:
    door = config.entity("lock.front_door")
    window = config.entity("cover.bathroom_window")
    garage = config.entity("cover.garage_door")
    assert door is not None and window is not None and garage is not None
    unlock = judge(config, skills.specs["HassTurnOff"], [door], {})
    assert unlock.risky is not None and unlock.risky.reason == "unlock"
    assert judge(config, skills.specs["HassTurnOn"], [door], {}).risky is None
    pos = skills.specs["HassSetPosition"]
    assert judge(config, pos, [garage], {"position": 100}).risky is not None
    assert judge(config, pos, [garage], {"position": 0}).risky is None
    assert judge(config, pos, [window], {"position": 100}).risky is not None
    assert judge(config, pos, [window], {"position": 40}).risky is None


def test_judge_any_risky_target_makes_the_whole_action_risky(config: Config,
                                                             skills: SkillSet) -> None:
    lamp, door = config.entity("light.floor_lamp"), config.entity("lock.front_door")
    assert lamp is not None and door is not None
    assert judge(config, skills.specs["HassTurnOff"], [lamp, door], {}).risky is not None


def test_judge_trust_waives_a_confirmation(config: Config, skills: SkillSet) -> None:
    back, front = config.entity("lock.back_door"), config.entity("lock.front_door")
    assert back is not None and front is not None
    trusting = with_safety(config, trust=[SafetyRule(entity=["lock.back_door"])])
    assert judge(trusting, skills.specs["HassTurnOff"], [back], {}).risky is None
    assert judge(trusting, skills.specs["HassTurnOff"], [front], {}).risky is not None


# --- the dialogue, through the pipeline (nothing published) ------------------------------------


_SKILLS = load_skills(REPO / "skills")


def make(config: Config) -> Assistant:
    return Assistant(config, engine="rules", publish=False, skills=_SKILLS)


@pytest.fixture
def assistant(config: Config) -> Assistant:
    return make(config)


def published(outcome: Outcome) -> list[tuple[str, dict[str, object]]]:
    return [(m.topic, m.payload) for a in outcome.actions for m in a.messages]


UNLOCK = ("zigbee2mqtt/front_door/set", {"state": "UNLOCK"})


def test_unlock_asks_then_yes_unlocks(assistant: Assistant) -> None:
    asked = assistant.handle_text("unlock the front door")
    assert asked.status is Status.CONFIRM
    assert asked.question == "Do you want me to unlock the Front Door? Say yes or no."
    assert published(asked) == []
    assert [(m.topic, m.payload) for a in asked.pending for m in a.messages] == [UNLOCK]
    done = assistant.handle_text("yes")
    assert done.status is Status.OK
    assert published(done) == [UNLOCK]
    assert done.speech == "Unlocked the Front Door."
    again = assistant.handle_text("yes")  # the question was answered: nothing is left
    assert (again.status, again.reason, published(again)) == (
        Status.REJECTED, "nothing to confirm", [])


@pytest.mark.parametrize("answer", ["no", "nope", "never mind", "cancel"])
def test_no_or_never_mind_cancels(assistant: Assistant, answer: str) -> None:
    assistant.handle_text("unlock the front door")
    cancelled = assistant.handle_text(answer)
    assert (cancelled.status, published(cancelled)) == (Status.OK, [])
    assert cancelled.speech == "Okay, I won't."
    assert assistant.handle_text("yes").status is Status.REJECTED


def test_a_yes_after_the_window_is_not_an_answer(config: Config) -> None:
    assistant = make(with_safety(config, confirm_window_s=0.0))
    assert assistant.handle_text("open the garage door").status is Status.CONFIRM
    late = assistant.handle_text("yes")
    assert (late.status, late.reason, published(late)) == (
        Status.REJECTED, "nothing to confirm", [])


def test_a_new_command_replaces_the_question(assistant: Assistant) -> None:
    assistant.handle_text("unlock the front door")
    other = assistant.handle_text("turn on the floor lamp")
    assert published(other) == [("zigbee2mqtt/floor_lamp/set", {"state": "ON"})]
    assert assistant.handle_text("yes").status is Status.REJECTED


def test_a_yes_inside_a_longer_command_is_not_an_answer(assistant: Assistant) -> None:
    assistant.handle_text("unlock the front door")
    out = assistant.handle_text("yes and turn on the floor lamp")
    assert UNLOCK not in published(out)
    assert UNLOCK not in published(assistant.handle_text("yes"))


def test_the_safe_part_runs_now_and_the_risky_part_waits(assistant: Assistant) -> None:
    first = assistant.handle_text("turn on the hallway light and unlock the front door")
    assert first.status is Status.CONFIRM
    assert published(first) == [("zigbee2mqtt/hallway/set", {"state": "ON"})]
    assert first.speech == ("Turned on the Hallway Light. Do you want me to unlock the Front Door? "
                            "Say yes or no.")
    assert published(assistant.handle_text("yes")) == [UNLOCK]


def test_garage_door_opens_only_after_yes(assistant: Assistant) -> None:
    asked = assistant.handle_text("open the garage")
    assert asked.question == "Do you want me to open the Garage Door? Say yes or no."
    done = assistant.handle_text("go ahead")
    assert published(done) == [("zigbee2mqtt/garage_door/set", {"state": "OPEN"})]
    assert done.speech == "Opened the Garage Door."


def test_bathroom_window_rule_from_config(assistant: Assistant) -> None:
    asked = assistant.handle_text("open the bathroom window")
    assert asked.question == "Do you want me to open the Bathroom Window? Say yes or no."
    assert published(assistant.handle_text("yes please")) == [
        ("zigbee2mqtt/bathroom_window/set", {"state": "OPEN"})]


def test_installer_trust_rule_skips_the_question(config: Config) -> None:
    assistant = make(with_safety(config, trust=[SafetyRule(entity=["lock.back_door"])]))
    out = assistant.handle_text("unlock the back door")
    assert out.status is Status.OK
    assert published(out) == [("zigbee2mqtt/back_door/set", {"state": "UNLOCK"})]
    assert assistant.handle_text("unlock the front door").status is Status.CONFIRM


def test_installer_deny_rule_with_default_reason(config: Config) -> None:
    assistant = make(with_safety(config, deny=[SafetyRule(area=["garage"])]))
    out = assistant.handle_text("turn on the garage light")
    assert (out.status, out.reason, published(out)) == (
        Status.REJECTED, "HassTurnOn on the Garage Light is not allowed by voice", [])
    assert assistant.handle_text("close the garage door").status is Status.REJECTED
    assert assistant.handle_text("turn on the porch light").status is Status.OK


def test_installer_confirm_rule_with_slot_value(config: Config) -> None:
    rule = SafetyRule(intent=["HassLightSet"], slots={"color": "red"}, reason="turn red")
    assistant = make(with_safety(config, confirm=[rule]))
    asked = assistant.handle_text("set the floor lamp to red")
    assert asked.question == "Do you want me to turn red the Floor Lamp? Say yes or no."
    assert assistant.handle_text("set the floor lamp to blue").status is Status.OK


def test_no_rules_means_no_questions_beyond_the_skills(config: Config) -> None:
    assistant = make(dataclasses.replace(config, safety=SafetyConfig()))
    assert assistant.handle_text("open the bathroom window").status is Status.OK
    assert assistant.handle_text("turn on the space heater").status is Status.OK
    assert assistant.handle_text("unlock the front door").status is Status.CONFIRM

"""mapper: a hand-built Parse in (as either engine may produce it), checked actions out."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.config import Config, load_config
from assistant.mapper import Mapped, Mapper
from assistant.replies import rejection_speech
from assistant.skills import IntentKind, SkillSet, load_skills
from assistant.structs import Engine, Parse, ParsedIntent, SlotScalar, SlotValue, Status

REPO = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 3, 2, 7, 5)
STATES: dict[str, dict[str, Any]] = {
    "lock.front_door": {"state": "LOCK"},
    "light.kitchen_ceiling": {"state": "ON"},
    "light.kitchen_counter": {"state": "OFF"},
    "climate.living_room": {"current_heating_setpoint": 20, "local_temperature": 19.5},
    "climate.bedroom": {"current_heating_setpoint": 18},
    "climate.kids_room": {"current_heating_setpoint": 22},
    "sensor.living_room_temperature": {"temperature": 21.34},
    "cover.kitchen_blind": {"position": 40},
}
KITCHEN_LIGHTS = ("light.kitchen_ceiling", "light.kitchen_counter")
ALL_LIGHTS = ("light.kitchen_ceiling", "light.kitchen_counter", "light.living_room_main",
              "light.floor_lamp", "light.dining_pendant", "light.hallway", "light.porch",
              "light.garage", "light.bedroom_ceiling", "light.bedside_lamp",
              "light.kids_night_light", "light.kids_ceiling", "light.bathroom_mirror",
              "light.office_desk")


@pytest.fixture(scope="module")
def skills() -> SkillSet:
    return load_skills(REPO / "skills")


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(REPO / "config.yaml")


@pytest.fixture(scope="module")
def mapper(skills: SkillSet, config: Config) -> Mapper:
    return Mapper(skills, config)


Spec = tuple[str, dict[str, SlotScalar]]


def parse(*intents: Spec, engine: Engine = Engine.LM) -> Parse:
    return Parse(tuple(ParsedIntent(name, {k: SlotValue(v, str(v)) for k, v in slots.items()})
                       for name, slots in intents), engine, 0.9)


def run(mapper: Mapper, *intents: Spec) -> Mapped:
    return mapper.map(parse(*intents), STATES, NOW)


def messages(mapped: Mapped) -> list[tuple[str, dict[str, Any]]]:
    return [(m.topic, m.payload) for a in (*mapped.actions, *mapped.pending) for m in a.messages]


def targets(mapped: Mapped) -> tuple[str, ...]:
    return tuple(t for a in (*mapped.actions, *mapped.pending) for t in a.targets)


# --- accepted: raw words resolve to canonical names, the right targets and payloads ----------

ON = {"state": "ON"}
OFF = {"state": "OFF"}
ACCEPT: list[tuple[list[Spec], dict[str, Any], tuple[str, ...], list[dict[str, Any]]]] = [
    # name as the micro-LLM copies it: raw words, articles, plurals, possessives, case
    ([("HassTurnOn", {"name": "Floor Lamp"})], {"name": "Floor Lamp"}, ("light.floor_lamp",),
     [ON]),
    ([("HassTurnOn", {"name": "FLOOR LAMP"})], {"name": "Floor Lamp"}, ("light.floor_lamp",),
     [ON]),
    ([("HassTurnOn", {"name": "the reading lamps"})], {"name": "Floor Lamp"},
     ("light.floor_lamp",), [ON]),
    ([("HassTurnOn", {"name": "my reading lamp's"})], {"name": "Floor Lamp"},
     ("light.floor_lamp",), [ON]),
    ([("HassTurnOn", {"name": "ceiling light"})], {"name": "Kitchen Ceiling Light"},
     ("light.kitchen_ceiling",), [ON]),
    ([("HassTurnOff", {"name": "kitchen lights"})], {"area": "Kitchen"}, KITCHEN_LIGHTS,
     [OFF, OFF]),
    ([("HassTurnOff", {"name": "the kitchen's lights"})], {"area": "Kitchen"}, KITCHEN_LIGHTS,
     [OFF, OFF]),
    ([("HassTurnOn", {"name": "lights in the kitchen"})], {"area": "Kitchen"}, KITCHEN_LIGHTS,
     [ON, ON]),
    ([("HassTurnOff", {"area": "the kitchen's", "domain": "light"})],
     {"area": "Kitchen", "domain": "light"}, KITCHEN_LIGHTS, [OFF, OFF]),
    ([("HassTurnOff", {"area": "cooking area", "domain": "light"})], {"area": "Kitchen"},
     KITCHEN_LIGHTS, [OFF, OFF]),
    ([("HassTurnOff", {"area": "kitchen", "domain": "lights"})],
     {"area": "Kitchen", "domain": "light"}, KITCHEN_LIGHTS, [OFF, OFF]),
    ([("HassTurnOn", {"floor": "upstairs", "domain": "fan"})], {"floor": "First Floor"},
     ("fan.bedroom_fan", "fan.bathroom_extractor"), [ON, ON]),
    ([("HassTurnOn", {"floor": "the ground floor", "domain": "switch"})],
     {"floor": "Ground Floor"}, ("switch.coffee_maker", "switch.christmas_tree"), [ON, ON]),
    ([("HassTurnOn", {"domain": "light"})], {"domain": "light"}, ALL_LIGHTS, [ON] * 14),
    # locks, scenes, climate payloads
    ([("HassTurnOn", {"name": "front door"})], {"name": "Front Door"}, ("lock.front_door",),
     [{"state": "LOCK"}]),
    ([("HassTurnOn", {"name": "movie time"})], {"name": "Movie Night"}, ("scene.movie_night",),
     [ON]),
    ([("HassTurnOff", {"name": "bedroom heating"})], {"name": "Bedroom Radiator"},
     ("climate.bedroom",), [{"system_mode": "off"}]),
    # numbers: as numbers, as digit strings, with a percent sign
    ([("HassLightSet", {"name": "Floor Lamp", "brightness": 50})], {"brightness": 50},
     ("light.floor_lamp",), [{"state": "ON", "brightness": 127}]),
    ([("HassLightSet", {"name": "Floor Lamp", "brightness": "50%"})], {"brightness": 50},
     ("light.floor_lamp",), [{"state": "ON", "brightness": 127}]),
    ([("HassLightSet", {"name": "Floor Lamp", "brightness": 50.0})], {"brightness": 50},
     ("light.floor_lamp",), [{"state": "ON", "brightness": 127}]),
    ([("HassLightSet", {"name": "Floor Lamp", "brightness": "fifty"})], {"brightness": 50},
     ("light.floor_lamp",), [{"state": "ON", "brightness": 127}]),
    ([("HassLightSet", {"name": "Floor Lamp", "color": "Red"})], {"color": "red"},
     ("light.floor_lamp",), [{"state": "ON", "color": {"hex": "#FF0000"}}]),
    ([("HassLightSet", {"area": "living room", "domain": "light", "color": "warm white",
                        "brightness": 30})], {"color": "warm white", "brightness": 30},
     ("light.living_room_main", "light.floor_lamp"),
     [{"state": "ON", "brightness": 76, "color": {"hex": "#FFD8A0"}}] * 2),
    ([("HassClimateSetTemperature", {"name": "thermostat", "temperature": 21.5})],
     {"temperature": 21.5}, ("climate.living_room",), [{"current_heating_setpoint": 21.5}]),
    ([("HassSetPosition", {"name": "office blind", "position": "30"})], {"position": 30},
     ("cover.office_blind",), [{"position": 30}]),
    ([("HassSetPosition", {"area": "kitchen", "device_class": "blind", "position": 0})],
     {"device_class": "blind"}, ("cover.kitchen_blind",), [{"state": "CLOSE"}]),
    ([("HassSetPosition", {"area": "kitchen", "device_class": "blinds", "position": 0})],
     {"device_class": "blind"}, ("cover.kitchen_blind",), [{"state": "CLOSE"}]),
    ([("HassSetPosition", {"name": "garage door", "position": 0})], {"position": 0},
     ("cover.garage_door",), [{"state": "CLOSE"}]),
    ([("HassSetPosition", {"name": "sprinkler", "position": 100})], {"position": 100},
     ("valve.garden_water",), [{"state": "OPEN"}]),
    ([("HassSetVolume", {"name": "telly", "volume_level": 35})], {"volume_level": 35},
     ("media_player.living_room_tv",), [{"volume": 35}]),
    ([("HassVacuumReturnToBase", {"name": "robby"})], {"name": "Robot Vacuum"},
     ("vacuum.robot",), [{"command": "return_to_base"}]),
    # relative changes from the reported state
    ([("ClimateWarmer", {"area": "living room"})], {"temperature": 21},
     ("climate.living_room",), [{"current_heating_setpoint": 21}]),
    ([("ClimateCooler", {"domain": "climate"})], {},
     ("climate.living_room", "climate.bedroom", "climate.kids_room"),
     [{"current_heating_setpoint": 19}, {"current_heating_setpoint": 17},
      {"current_heating_setpoint": 21}]),
    # a place said once carries to the next command
    ([("HassTurnOff", {"area": "Kitchen", "domain": "light"}),
      ("HassSetPosition", {"device_class": "blind", "position": 0})], {},
     (*KITCHEN_LIGHTS, "cover.kitchen_blind"), [OFF, OFF, {"state": "CLOSE"}]),
]


@pytest.mark.parametrize(("intents", "slots", "expected_targets", "payloads"), ACCEPT,
                         ids=[repr(c[0])[:60] for c in ACCEPT])
def test_accepted(mapper: Mapper, intents: list[Spec], slots: dict[str, Any],
                  expected_targets: tuple[str, ...], payloads: list[dict[str, Any]]) -> None:
    mapped = run(mapper, *intents)
    assert (mapped.status, mapped.reason) == (Status.OK, None), mapped
    assert targets(mapped) == expected_targets
    assert [p for _, p in messages(mapped)] == payloads
    got = {k: v for a in mapped.actions for k, v in a.slots.items()}
    assert {k: got.get(k) for k in slots} == slots


# --- rejected, with the reason said to the user ------------------------------------------------

REJECT: list[tuple[list[Spec], str]] = [
    ([], "not understood"),
    ([("HassTurnOn", {})], "which device? Please name a device or a room"),
    ([("HassLightSet", {"brightness": 50})], "which device? Please name a device or a room"),
    ([("HassSetPosition", {"position": 100})], "which device? Please name a device or a room"),
    ([("NoSuchIntent", {"name": "Floor Lamp"})], "unknown intent: NoSuchIntent"),
    ([("HassTurnOn", {"name": "Floor Lamp", "brightness": 5})],
     "HassTurnOn has no slot 'brightness'"),
    ([("HassTurnOn", {"name": "flux capacitor"})], "unknown device: flux capacitor"),
    ([("HassTurnOn", {"name": "Siren"})], "unknown device: Siren"),  # expose: false
    ([("HassTurnOn", {"name": "alarm siren"})], "unknown device: alarm siren"),
    ([("HassTurnOn", {"area": "attic", "domain": "light"})], "unknown area: attic"),
    ([("HassTurnOn", {"floor": "basement", "domain": "fan"})], "unknown floor: basement"),
    ([("HassTurnOn", {"domain": "toaster"})], "unknown domain: toaster"),
    ([("HassLightSet", {"name": "Floor Lamp", "color": "magenta"})], "unknown color: magenta"),
    ([("HassGetState", {"name": "Front Door", "state": "ajar"})], "unknown state: ajar"),
    ([("HassMediaPause", {"name": "Floor Lamp"})], "Floor Lamp can't do that"),
    ([("HassVacuumStart", {"area": "kitchen", "domain": "light"})], ""),
    ([("HassTurnOn", {"area": "garage", "domain": "fan"})], "no fans in the Garage"),
    ([("HassSetPosition", {"device_class": "blind", "floor": "upstairs", "area": "kitchen",
                           "position": 0})], "no blinds in the Kitchen"),
    ([("HassLightSet", {"name": "Floor Lamp", "brightness": 101})],
     "brightness must be between 0 and 100 percent, not 101"),
    ([("HassLightSet", {"name": "Floor Lamp", "brightness": -1})],
     "brightness must be between 0 and 100 percent, not -1"),
    ([("HassLightSet", {"name": "Floor Lamp", "brightness": "lots"})],
     "brightness is not a number: lots"),
    ([("HassLightSet", {"name": "Floor Lamp", "brightness": math.nan})],
     "brightness must be between 0 and 100 percent, not nan"),
    ([("HassSetVolume", {"name": "TV", "volume_level": 250})],
     "volume level must be between 0 and 100 percent, not 250"),
    ([("HassClimateSetTemperature", {"name": "thermostat", "temperature": 4})],
     "temperature must be between 5 and 30 celsius, not 4"),
    ([("HassClimateSetTemperature", {"name": "thermostat", "temperature": 27})],
     "the Living Room Thermostat allows temperature from 10 to 26, not 27"),
    ([("HassClimateSetTemperature", {"name": "Kids Room Radiator", "temperature": 15.5})],
     "the Kids Room Radiator allows temperature from 16 to 22, not 15.5"),
    ([("ClimateWarmer", {"area": "kids room"})],
     "the Kids Room Radiator allows temperature from 16 to 22, not 23"),
    ([("ClimateWarmer", {"name": "Kids Room Radiator"})],
     "the Kids Room Radiator allows temperature from 16 to 22, not 23"),
    ([("HassSetPosition", {"name": "garage door", "position": 50})],
     "A garage door only opens or closes fully."),
    ([("HassTurnOn", {"name": "space heater"})], "the space heater cannot be turned on by voice"),
    ([("HassToggle", {"name": "space heater"})], "the space heater cannot be turned on by voice"),
    ([("HassLightSet", {"name": "Floor Lamp"})], "nothing to set"),
    # one bad part rejects the whole utterance: nothing is half done
    ([("HassTurnOn", {"name": "Floor Lamp"}), ("HassTurnOn", {"name": "flux capacitor"})],
     "unknown device: flux capacitor"),
    ([("HassTurnOn", {"name": "Floor Lamp"}), ("HassTurnOn", {"name": "space heater"})],
     "the space heater cannot be turned on by voice"),
]


@pytest.mark.parametrize(("intents", "reason"), REJECT,
                         ids=[r or repr(i)[:40] for i, r in REJECT])
def test_rejected(mapper: Mapper, intents: list[Spec], reason: str) -> None:
    mapped = run(mapper, *intents)
    assert mapped.status is Status.REJECTED, mapped
    assert reason in (mapped.reason or ""), mapped.reason
    assert (mapped.actions, mapped.pending) == ((), ())
    assert mapped.speech.startswith("Sorry")


def test_a_parse_that_names_nothing_actuates_nothing(mapper: Mapper, skills: SkillSet) -> None:
    for name, spec in skills.specs.items():
        if spec.kind is not IntentKind.DEVICE:
            continue
        mapped = run(mapper, (name, {}))
        assert mapped.status is Status.REJECTED, name
        assert messages(mapped) == [], name


def test_turning_off_a_room_never_touches_its_locks(mapper: Mapper) -> None:
    # An area alone (as the micro-LLM may give it) must not unlock the back door.
    mapped = run(mapper, ("HassTurnOff", {"area": "Kitchen"}))
    assert "lock.back_door" not in targets(mapped)
    assert mapped.status is not Status.CONFIRM


def test_the_parse_reason_is_kept(mapper: Mapper) -> None:
    mapped = mapper.map(Parse((), Engine.RULES, 0.0, reason="unknown device: jacuzzi"))
    assert (mapped.status, mapped.reason) == (Status.REJECTED, "unknown device: jacuzzi")
    assert mapped.speech == "Sorry, I don't know a device called jacuzzi."


def test_ambiguous_name_asks_for_the_room(skills: SkillSet, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "areas: [{id: kitchen, name: Kitchen}, {id: bedroom, name: Bedroom}]\n"
        "entities:\n"
        "  - {id: light.k, name: Lamp, area: kitchen}\n"
        "  - {id: light.b, name: Lamp, area: bedroom}\n", encoding="utf-8")
    mapper = Mapper(skills, load_config(path))
    mapped = run(mapper, ("HassTurnOn", {"name": "lamp"}))
    assert mapped.reason == "ambiguous device: the Lamp in the Kitchen or the Lamp in the Bedroom"
    mapped = run(mapper, ("HassTurnOn", {"name": "lamp", "area": "bedroom"}))
    assert targets(mapped) == ("light.b",)


def test_entity_payload_override(skills: SkillSet, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "entities:\n"
        "  - id: switch.pump\n"
        "    name: Pump\n"
        "    command_topic: tasmota/pump/cmnd/POWER\n"
        "    payloads: {HassTurnOn: {power: 'on'}, HassTurnOff: {power: 'off'}}\n",
        encoding="utf-8")
    mapper = Mapper(skills, load_config(path))
    assert messages(run(mapper, ("HassTurnOn", {"name": "pump"}))) == [
        ("tasmota/pump/cmnd/POWER", {"power": "on"})]
    assert messages(run(mapper, ("HassTurnOff", {"name": "pump"}))) == [
        ("tasmota/pump/cmnd/POWER", {"power": "off"})]


# --- risky actions wait -----------------------------------------------------------------------


def test_risky_actions_wait_and_safe_ones_go(mapper: Mapper) -> None:
    mapped = run(mapper, ("HassTurnOn", {"name": "hallway light"}),
                 ("HassTurnOff", {"name": "front door"}))
    assert mapped.status is Status.CONFIRM
    assert mapped.reason == "needs confirmation"
    assert [a.targets for a in mapped.actions] == [("light.hallway",)]
    assert [a.targets for a in mapped.pending] == [("lock.front_door",)]
    assert mapped.pending[0].risky is True
    assert mapped.question == "Do you want me to unlock the Front Door? Say yes or no."
    assert mapped.speech == ("Turned on the Hallway Light. Do you want me to unlock the "
                             "Front Door? Say yes or no.")


@pytest.mark.parametrize(("name", "kind"), [("ConfirmYes", IntentKind.CONFIRM),
                                            ("ConfirmNo", IntentKind.CANCEL),
                                            ("HassNevermind", IntentKind.NEVERMIND)])
def test_control_intents_are_handed_to_the_pipeline(mapper: Mapper, name: str,
                                                    kind: IntentKind) -> None:
    mapped = run(mapper, (name, {}))
    assert (mapped.status, mapped.control, messages(mapped)) == (Status.OK, kind, [])


def test_yes_inside_a_longer_command_is_ignored(mapper: Mapper) -> None:
    mapped = run(mapper, ("ConfirmYes", {}), ("HassTurnOn", {"name": "floor lamp"}))
    assert mapped.control is None
    assert targets(mapped) == ("light.floor_lamp",)


def test_never_mind_at_the_end_takes_the_command_back(mapper: Mapper) -> None:
    # "turn on the floor lamp and uh never mind": the user withdrew it; nothing is sent.
    mapped = run(mapper, ("HassTurnOn", {"name": "floor lamp"}), ("HassNevermind", {}))
    assert messages(mapped) == []
    assert mapped.speech.strip()


@pytest.mark.parametrize("names", [("ConfirmYes", "ConfirmNo"), ("ConfirmNo", "ConfirmYes"),
                                   ("HassNevermind", "ConfirmYes")])
def test_only_control_words_still_get_a_reply(mapper: Mapper, names: tuple[str, str]) -> None:
    mapped = run(mapper, *[(n, {}) for n in names])
    assert messages(mapped) == []
    assert mapped.speech.strip(), mapped  # "yes and no" must not be answered with silence


# --- answers --------------------------------------------------------------------------------


@pytest.mark.parametrize(("intents", "speech"), [
    ([("HassGetCurrentTime", {})], "It's 7:05 AM."),
    ([("HassGetCurrentDate", {})], "Today is Monday, March 2, 2026."),
    ([("HassGetState", {"name": "front door", "state": "locked"})],
     "Yes, the Front Door is locked."),
    ([("HassGetState", {"name": "front door", "state": "unlocked"})],
     "No, the Front Door is locked."),
    ([("HassGetState", {"name": "front door"})], "The Front Door is locked."),
    ([("HassGetState", {"name": "back door", "state": "locked"})],
     "I don't know the state of the Back Door yet."),
    ([("HassGetState", {"area": "kitchen", "domain": "light", "state": "on"})],
     "Yes, 1 of 2 are on: Kitchen Ceiling Light."),
    ([("HassGetState", {"area": "kitchen", "domain": "light", "state": "off"})],
     "Yes, 1 of 2 are off: Kitchen Counter Light."),
    ([("HassGetState", {"name": "kitchen blind"})], "The Kitchen Blind is 40 percent open."),
    ([("HassClimateGetTemperature", {"area": "living room"})],
     "The Living Room Temperature reads 21.3 degrees."),
    ([("HassClimateGetTemperature", {"name": "thermostat"})],
     "The Living Room Thermostat reads 19.5 degrees."),
    ([("HassClimateGetTemperature", {"area": "garden"})],
     "I don't have a temperature reading from the Outside Temperature yet."),
    ([("HassTurnOff", {"area": "kitchen", "domain": "light"})], "Turned off 2 lights."),
    ([("HassSetPosition", {"device_class": "blind", "position": 0})], "Closed 3 blinds."),
    ([("HassLightSet", {"name": "floor lamp", "color": "red", "brightness": 50})],
     "Set the Floor Lamp to red at 50 percent."),
    ([("HassClimateSetTemperature", {"name": "thermostat", "temperature": 21})],
     "Set the Living Room Thermostat to 21 degrees."),
    ([("HassTurnOn", {"name": "front door"})], "Locked the Front Door."),
    ([("HassTurnOn", {"name": "movie night"})], "Activated the Movie Night."),
])
def test_spoken_replies(mapper: Mapper, intents: list[Spec], speech: str) -> None:
    mapped = run(mapper, *intents)
    assert mapped.status is Status.OK
    assert mapped.speech == speech
    questions = ("HassGetState", "HassClimateGetTemperature", "HassGetCurrentTime",
                 "HassGetCurrentDate")
    if intents[0][0] in questions:
        assert messages(mapped) == []  # a question is answered, never actuated


def test_relative_change_without_a_reported_state_is_refused(mapper: Mapper) -> None:
    mapped = mapper.map(parse(("ClimateWarmer", {"area": "bedroom"})), {}, NOW)
    assert mapped.reason == "I don't know the current setting of the Bedroom Radiator yet"


# --- properties ------------------------------------------------------------------------------

SLOT_NAMES = ["name", "area", "floor", "domain", "device_class", "state", "brightness", "color",
              "temperature", "position", "volume_level", "bogus", ""]
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["Floor Lamp", "kitchen", "the kitchen's", "kitchen lights", "upstairs",
                     "light", "lights", "blind", "garage", "Front Door", "space heater",
                     "Siren", "red", "on", "locked", "50%", "fifty", "", " ", "'s", "the"]),
    st.integers(min_value=-10**6, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
)


@st.composite
def parses(draw: st.DrawFn, intent_names: list[str]) -> Parse:
    names = st.one_of(st.sampled_from(intent_names), st.text(max_size=12))
    intents = draw(st.lists(
        st.tuples(names, st.dictionaries(st.sampled_from(SLOT_NAMES), VALUES, max_size=5)),
        max_size=3))
    return Parse(tuple(ParsedIntent(n, {k: SlotValue(v) for k, v in s.items()})
                       for n, s in intents), Engine.LM, 0.9)


@pytest.fixture(scope="module")
def intent_names(skills: SkillSet) -> list[str]:
    return sorted(skills.specs)


def test_no_parse_crashes_the_mapper_and_ok_targets_only_exposed_entities(
        mapper: Mapper, config: Config, intent_names: list[str]) -> None:
    exposed = {e.id for e in config.entities if e.expose}

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(parses(intent_names))
    def check(p: Parse) -> None:
        mapped = mapper.map(p, STATES, NOW)
        assert mapped.status in (Status.OK, Status.REJECTED, Status.CONFIRM)
        assert mapped.speech.strip(), mapped  # the user always hears something
        if mapped.status is Status.REJECTED:
            assert mapped.reason and not mapped.actions and not mapped.pending
            return
        for action in (*mapped.actions, *mapped.pending):
            assert set(action.targets) <= exposed, action
            assert len(action.messages) in (0, len(action.targets)), action
            if action.messages:
                said = {k for pi in p.intents if pi.intent == action.intent for k in pi.slots}
                # something in the utterance named what is acted on
                assert said & {"name", "area", "floor", "domain", "device_class"}, (p, action)
            for m in action.messages:
                assert m.payload and isinstance(m.payload, dict)
                assert "switch.alarm_siren" not in m.topic and "alarm_siren" not in m.topic

    check()


# --- model-only parses checked against the words said ------------------------------------


def said(mapper: Mapper, utterance: str, *intents: Spec) -> Mapped:
    return mapper.map(parse(*intents), STATES, NOW, utterance=utterance)


@pytest.mark.parametrize("utterance", ["i need the porch light",
                                       "we need lights in the office please"])
def test_model_turn_off_without_an_off_word_is_refused(mapper: Mapper, utterance: str) -> None:
    mapped = said(mapper, utterance, ("HassTurnOff", {"domain": "light", "area": "Office"}))
    assert mapped.status is Status.REJECTED and not targets(mapped)
    # the same reading with the word said is acted on
    ok = said(mapper, "lights off in the study", ("HassTurnOff", {"domain": "light",
                                                                   "area": "Office"}))
    assert ok.status is Status.OK and targets(ok) == ("light.office_desk",)


def test_model_dock_without_a_dock_word_is_refused(mapper: Mapper) -> None:
    mapped = said(mapper, "could the robot vacuum have a go",
                  ("HassVacuumReturnToBase", {"name": "Robot Vacuum"}))
    assert mapped.status is Status.REJECTED


def test_unsaid_kind_gives_way_to_the_kind_said(mapper: Mapper) -> None:
    mapped = mapper.map(Parse((ParsedIntent("HassTurnOn", {
        "area": SlotValue("Kitchen", "kitchen", 22, 29), "domain": SlotValue("light")}),),
        Engine.LM, 0.9), STATES, NOW, utterance="put the speaker in the kitchen on")
    assert mapped.status is Status.OK
    assert targets(mapped) == ("media_player.kitchen_speaker",)


def test_unsaid_kind_the_intent_cannot_take_is_refused(mapper: Mapper) -> None:
    mapped = mapper.map(Parse((ParsedIntent("LightBrighter", {
        "area": SlotValue("Kitchen", "kitchen", 20, 27), "domain": SlotValue("light")}),),
        Engine.LM, 0.9), STATES, NOW, utterance="turn up the radio in the kitchen")
    assert mapped.status is Status.REJECTED


def test_room_said_outright_narrows_a_lone_command(mapper: Mapper) -> None:
    mapped = said(mapper, "temperature in the bedroom please",
                  ("HassClimateGetTemperature", {"device_class": "temperature"}))
    assert mapped.status is Status.OK and targets(mapped) == ("climate.bedroom",)


def test_named_device_in_another_room_than_said_is_refused(mapper: Mapper) -> None:
    mapped = said(mapper, "switch the bedroom tv on", ("HassTurnOn", {"name": "TV"}))
    assert mapped.status is Status.REJECTED and "Bedroom" in (mapped.reason or "")
    ok = said(mapper, "turn on the living room tv", ("HassTurnOn", {"name": "TV"}))
    assert ok.status is Status.OK


def test_model_saying_one_command_twice_acts_once(mapper: Mapper) -> None:
    mapped = said(mapper, "bedside lamp a touch dimmer",
                  ("LightDimmer", {"name": "Bedside Lamp"}),
                  ("LightDimmer", {"name": "Bedside Lamp"}))
    assert len(mapped.actions) == 1
    # templates are taken at their word
    twice = mapper.map(parse(("LightDimmer", {"name": "Bedside Lamp"}),
                             ("LightDimmer", {"name": "Bedside Lamp"}), engine=Engine.RULES),
                       STATES, NOW, utterance="dim the bedside lamp and dim the bedside lamp")
    assert len(twice.actions) == 2


def test_state_query_from_words_that_ask_nothing_is_refused(mapper: Mapper) -> None:
    mapped = said(mapper, "let's have the christmas tree lit",
                  ("HassGetState", {"name": "Christmas Tree"}))
    assert mapped.status is Status.REJECTED
    asked = said(mapper, "is the christmas tree on", ("HassGetState", {"name": "Christmas Tree"}))
    assert asked.status is Status.OK
    warm = said(mapper, "temperature in the bedroom please",
                ("HassClimateGetTemperature", {"area": "Bedroom"}))
    assert warm.status is Status.OK


def test_color_said_outright_is_put_back(mapper: Mapper) -> None:
    mapped = said(mapper, "floor lamp red at forty percent",
                  ("HassLightSet", {"name": "Floor Lamp", "brightness": 40}))
    assert mapped.status is Status.OK
    assert mapped.actions[0].slots.get("color") == "red"
    assert mapped.actions[0].slots.get("brightness") == 40


@pytest.mark.parametrize("utterance", ["switch on the dehumidifier in the nursery",
                                       "turn on the scanner in the study"])
def test_a_thing_this_home_does_not_have_is_not_the_rooms_lights(mapper: Mapper,
                                                                 utterance: str) -> None:
    area = "Kids Room" if "nursery" in utterance else "Office"
    mapped = said(mapper, utterance, ("HassTurnOn", {"area": area, "domain": "light"}))
    assert mapped.status is Status.REJECTED
    assert (mapped.reason or "").startswith("unknown device: ")
    ok = said(mapper, "turn on the study", ("HassTurnOn", {"area": "Office", "domain": "light"}))
    assert ok.status is Status.OK


def test_two_commands_reading_one_number_are_refused(mapper: Mapper) -> None:
    text = "office lamp to ten percent and the heating to twenty"
    at = text.index("twenty")
    mapped = mapper.map(Parse((
        ParsedIntent("HassLightSet", {"name": SlotValue("Desk Lamp", "office lamp", 0, 11),
                                      "brightness": SlotValue(20, "twenty", at, at + 6)}),
        ParsedIntent("HassClimateSetTemperature", {
            "temperature": SlotValue(20, "twenty", at, at + 6)})), Engine.LM, 0.9),
        STATES, NOW, utterance=text)
    assert mapped.status is Status.REJECTED and not targets(mapped)


def test_a_remark_read_as_a_second_command_is_left_out(mapper: Mapper) -> None:
    text = "living room lights off, we're watching something"
    mapped = said(mapper, text, ("HassTurnOff", {"area": "Living Room", "domain": "light"}),
                  ("ClimateCooler", {"domain": "climate"}))
    assert mapped.status is Status.OK
    assert [a.intent for a in mapped.actions] == ["HassTurnOff"]
    assert "didn't catch the rest" in mapped.speech
    # alone, the same unbacked command is refused
    alone = said(mapper, "we're watching a film", ("ClimateCooler", {"domain": "climate"}))
    assert alone.status is Status.REJECTED


def test_room_then_part_of_a_name_finds_the_device_in_that_room(mapper: Mapper) -> None:
    mapped = said(mapper, "switch the light by the bathroom mirror on",
                  ("HassTurnOn", {"name": "bathroom mirror"}))
    assert mapped.status is Status.OK and targets(mapped) == ("light.bathroom_mirror",)


def test_the_same_effect_twice_from_the_model_happens_once(mapper: Mapper) -> None:
    mapped = said(mapper, "wait, pause the tv", ("HassMediaPause", {"domain": "media_player"}),
                  ("HassMediaPause", {"name": "TV"}))
    assert mapped.status is Status.OK
    assert [a.targets for a in mapped.actions] == [("media_player.living_room_tv",)]


@pytest.mark.parametrize("utterance", ["how cold is it outside", "is it warm outdoors"])
def test_a_word_of_one_devices_name_narrows_a_house_wide_reading(mapper: Mapper,
                                                                 utterance: str) -> None:
    mapped = said(mapper, utterance,
                  ("HassClimateGetTemperature", {"device_class": "temperature"}))
    assert targets(mapped) == ("sensor.outdoor_temperature",)
    # without such a word the question stays house-wide
    wide = said(mapper, "how warm is it",
                ("HassClimateGetTemperature", {"device_class": "temperature"}))
    assert len(targets(wide)) > 1


def test_half_a_name_resolves_among_the_devices_the_intent_can_act_on(mapper: Mapper) -> None:
    # "outside" is half of the porch light's alias too, but a temperature is asked for
    mapped = said(mapper, "what's the temperature outside",
                  ("HassClimateGetTemperature", {"name": "outside"}))
    assert mapped.status is Status.OK
    assert targets(mapped) == ("sensor.outdoor_temperature",)


def test_half_a_name_with_its_kind_said_resolves(mapper: Mapper) -> None:
    # "front" is half of the porch light's alias too; the command is for a lock
    mapped = said(mapper, "lock the front", ("HassTurnOn", {"name": "front", "domain": "lock"}))
    assert targets(mapped) == ("lock.front_door",)


def test_half_a_rooms_name_from_the_model_resolves(mapper: Mapper) -> None:
    mapped = said(mapper, "the kids want their room lights green",
                  ("HassLightSet", {"area": "kids", "domain": "light", "color": "green"}))
    assert mapped.status is Status.OK
    assert set(targets(mapped)) == {"light.kids_night_light", "light.kids_ceiling"}
    # from the templates, a room is named in full
    rules = parse(("HassLightSet", {"area": "kids", "domain": "light", "color": "green"}),
                  engine=Engine.RULES)
    assert mapper.map(rules, STATES, NOW).status is Status.REJECTED


def test_all_in_a_later_command_is_not_narrowed_to_the_room_before(mapper: Mapper) -> None:
    def spoken(utterance: str) -> Parse:
        at = utterance.index("lights")
        return Parse((ParsedIntent("HassTurnOn", {
            "name": SlotValue("Back Door", "back door", 9, 18), "domain": SlotValue("lock")}),
            ParsedIntent("HassTurnOff", {"domain": SlotValue("light", "lights", at, at + 6)})),
            Engine.RULES, 1.0)

    every_said = "lock the back door and turn off all the lights"
    every = mapper.map(spoken(every_said), STATES, NOW, utterance=every_said)
    assert len(every.actions[1].targets) > 2
    # without "all", the lights are those of the room just named (the kitchen)
    near_said = "lock the back door and turn off the lights"
    near = mapper.map(spoken(near_said), STATES, NOW, utterance=near_said)
    assert near.actions[1].targets == ("light.kitchen_ceiling", "light.kitchen_counter")


def test_a_room_said_before_every_command_is_each_ones_room(mapper: Mapper) -> None:
    said_ = "in the bathroom, turn on the light and the fan"
    heard = Parse((ParsedIntent("HassTurnOn", {"domain": SlotValue("light", "light", 29, 34)}),
                   ParsedIntent("HassTurnOn", {"domain": SlotValue("fan", "fan", 43, 46),
                                               "area": SlotValue("Bathroom", "bathroom", 7, 15)})),
                  Engine.RULES, 0.85)
    mapped = mapper.map(heard, STATES, NOW, utterance=said_)
    assert [a.targets for a in mapped.actions] == [("light.bathroom_mirror",),
                                                   ("fan.bathroom_extractor",)]


def test_a_miscopied_name_gives_way_to_a_word_of_one_devices_name(mapper: Mapper) -> None:
    # the model copied "bathroom is"; "extractor" is a word of one device's name only
    mapped = said(mapper, "the bathroom is all steamed up, put the extractor on",
                  ("HassTurnOn", {"name": "bathroom is"}))
    assert mapped.status is Status.OK
    assert targets(mapped) == ("fan.bathroom_extractor",)
    # a word that names nothing here still names nothing
    unknown = said(mapper, "the bathroom is all steamed up, put the humidifier on",
                   ("HassTurnOn", {"name": "humidifier"}))
    assert unknown.status is Status.REJECTED and unknown.reason == "unknown device: humidifier"


def test_a_second_reading_of_the_one_device_named_is_not_refused(mapper: Mapper) -> None:
    # "fast" of "fast asleep" read as a second device: the one device named is done once
    mapped = said(mapper, "star lamp off now, she's fast asleep",
                  ("HassTurnOff", {"name": "star"}), ("HassTurnOff", {"name": "fast"}))
    assert mapped.status is Status.OK
    assert targets(mapped) == ("light.kids_night_light",)
    # with no device named outright, the unknown second name still refuses the whole
    refused = said(mapper, "star off, fast",
                   ("HassTurnOff", {"name": "star"}), ("HassTurnOff", {"name": "fast"}))
    assert refused.status is Status.REJECTED


def test_a_question_about_a_room_with_nothing_to_ask_is_dropped_from_a_longer_command(
        mapper: Mapper) -> None:
    office_question = ("HassClimateGetTemperature", {"area": "office",
                                                     "device_class": "temperature"})
    mapped = said(mapper, "the office is warm enough now, switch off the space heater",
                  office_question, ("HassTurnOff", {"name": "Space Heater"}))
    assert mapped.status is Status.OK
    assert targets(mapped) == ("switch.office_heater",)
    assert "didn't catch the rest" in mapped.speech
    # asked alone, the answer says why there is none
    alone = said(mapper, "is it warm in the office", office_question)
    assert alone.status is Status.REJECTED and alone.reason == "no thermometers in the Office"


def test_a_preset_a_phrase_of_the_utterance_contradicts_is_refused(mapper: Mapper) -> None:
    # "draw" is a closing word, but "draw back the curtains" opens them
    closing = ("HassSetPosition", {"area": "bedroom", "device_class": "curtain",
                                   "position": 0})
    assert said(mapper, "draw back the curtains in the bedroom", closing).status \
        is Status.REJECTED
    assert targets(said(mapper, "draw the bedroom curtains please", closing)) == (
        "cover.bedroom_curtains",)
    opening = ("HassSetPosition", {"area": "bedroom", "device_class": "curtain",
                                   "position": 100})
    assert targets(said(mapper, "draw back the curtains in the bedroom", opening)) == (
        "cover.bedroom_curtains",)


@pytest.mark.parametrize(("area", "expected"), [
    ("the kids are", "kids_room"),  # "are" names nothing here
    ("the kids", "kids_room"),
    ("kitchen counter", None),  # "counter" is a word of a device's name: not a room's part
    ("their room", None),  # "room" is a word of several rooms
])
def test_a_room_copied_with_words_that_name_nothing(mapper: Mapper, area: str,
                                                    expected: str | None) -> None:
    found = mapper.resolver.area_part(area)
    assert (found.id if found is not None else None) == expected


def test_a_model_room_copied_with_a_word_too_many_resolves(mapper: Mapper) -> None:
    mapped = said(mapper, "the kids are asleep, turn the lights off in their room",
                  ("HassTurnOff", {"area": "the kids are", "domain": "light"}))
    assert set(targets(mapped)) == {"light.kids_night_light", "light.kids_ceiling"}


def test_a_device_named_in_full_beats_half_of_anothers_name(mapper: Mapper) -> None:
    # "office" is half of the office blind's name; the space heater is named in full
    mapped = said(mapper, "is the space heater running in the office",
                  ("HassGetState", {"name": "office", "state": "on"}))
    assert targets(mapped) == ("switch.office_heater",)
    # with no device named in full, half a name still resolves
    half = said(mapper, "is the office one open", ("HassGetState", {"name": "office"}))
    assert targets(half) == ("cover.office_blind",)


def test_a_guessed_kind_with_none_in_the_room_is_dropped_from_a_longer_model_reading(
        mapper: Mapper) -> None:
    warmer = ("ClimateWarmer", {"area": "study", "domain": "climate"})
    mapped = said(mapper, "it's cold in the study, switch the desk lamp on",
                  warmer, ("HassTurnOn", {"name": "Desk Lamp"}))
    assert mapped.status is Status.OK and targets(mapped) == ("light.office_desk",)
    # the same reading from the templates keeps its reason
    rules = mapper.map(parse(warmer, ("HassTurnOn", {"name": "Desk Lamp"}), engine=Engine.RULES),
                       STATES, NOW, utterance="warm up the study and turn on the desk lamp")
    assert rules.status is Status.REJECTED and rules.reason == "no thermostats in the Office"


def test_a_model_room_and_kind_name_reads_as_the_templates_read_it(mapper: Mapper) -> None:
    # "bathroom light" copied as a name: the bathroom's lights (it has one), with the room
    # and kind in the slots, as "turn off the bathroom light" gets from the templates
    mapped = said(mapper, "someone left the bathroom light on, turn it off",
                  ("HassTurnOff", {"name": "bathroom light"}))
    [action] = mapped.actions
    assert action.targets == ("light.bathroom_mirror",)
    assert action.slots == {"area": "Bathroom", "domain": "light"}


@pytest.mark.parametrize(("utterance", "intent", "acted"), [
    ("got the time", "HassGetCurrentTime", True),
    ("how late is it", "HassGetCurrentTime", True),
    ("is this thing on", "HassGetCurrentTime", False),
    ("how long is left on the timer", "HassGetCurrentTime", False),
    ("are you listening to me all the time", "HassGetCurrentTime", False),
    ("it's about time", "HassGetCurrentTime", False),
    ("do you know what time it is", "HassGetCurrentTime", True),
    ("what time of day is it", "HassGetCurrentTime", True),
    ("what's today", "HassGetCurrentDate", True),
    ("remind me what day it is", "HassGetCurrentDate", True),
    ("have a nice day", "HassGetCurrentDate", False),
    ("how are you doing today", "HassGetCurrentDate", False),
    ("how many days until christmas", "HassGetCurrentDate", False),
])
def test_the_model_tells_the_time_or_date_only_when_asked(mapper: Mapper, utterance: str,
                                                         intent: str, acted: bool) -> None:
    mapped = said(mapper, utterance, (intent, {}))
    assert (mapped.status is Status.OK) is acted


@pytest.mark.parametrize(("utterance", "cancels"), [
    ("actually never mind", True),
    ("forget what i just said", True),
    ("sorry, that wasn't for you", True),
    ("wait a second", False),
    ("mind the gap", False),
])
def test_a_model_never_mind_needs_a_word_that_takes_back(mapper: Mapper, utterance: str,
                                                         cancels: bool) -> None:
    mapped = said(mapper, utterance, ("HassNevermind", {}))
    assert (mapped.control is IntentKind.NEVERMIND) is cancels
    assert (mapped.status is Status.OK) is cancels


def test_a_kind_word_inside_a_name_said_is_that_devices_not_a_kind(mapper: Mapper) -> None:
    # "lights" of "the tree lights" (the christmas tree, a switch) does not ask for lights
    mapped = said(mapper, "telly off and the tree lights off as well",
                  ("HassTurnOff", {"name": "TV"}), ("HassTurnOff", {"domain": "light"}))
    assert [a.targets for a in mapped.actions] == [("media_player.living_room_tv",),
                                                   ("switch.christmas_tree",)]
    # a name of the kind itself still says the kind: "sprinkler" is the garden sprinkler
    kept = said(mapper, "sprinkler on, porch light on and garage door closed",
                ("HassSetPosition", {"domain": "valve", "position": 100}),
                ("HassTurnOn", {"name": "Porch Light"}),
                ("HassSetPosition", {"name": "Garage Door", "position": 0}))
    acted = [(a.intent, a.targets, a.slots.get("position")) for a in (*kept.actions,
                                                                       *kept.pending)]
    assert ("HassSetPosition", ("valve.garden_water",), 100) in acted
    assert ("HassSetPosition", ("cover.garage_door",), 100) not in acted


def test_a_model_never_unlocks_from_an_off(mapper: Mapper) -> None:
    mapped = said(mapper, "switch off every light in the house and lock both doors",
                  ("HassTurnOff", {"domain": "lock"}), ("HassTurnOn", {"domain": "lock"}))
    assert mapped.status is Status.OK and not mapped.pending
    assert [a.intent for a in mapped.actions] == ["HassTurnOn"]
    asked = said(mapper, "unlock both doors", ("HassTurnOff", {"domain": "lock"}))
    assert asked.status is Status.CONFIRM


def test_two_commands_on_one_number_with_another_said_are_refused(mapper: Mapper) -> None:
    def both_on_thirty(utterance: str) -> Mapped:
        at = utterance.index("thirty")
        thirty = SlotValue(30, "thirty", at, at + 6)
        heard = Parse(tuple(ParsedIntent("HassSetVolume", {"name": SlotValue(name),
                                                           "volume_level": thirty})
                            for name in ("kitchen radio", "tv")), Engine.LM, 0.8)
        return mapper.map(heard, STATES, NOW, utterance=utterance)

    refused = both_on_thirty("kitchen radio to thirty percent and tv volume to fifteen")
    assert refused.status is Status.REJECTED
    # one number for two places is fine when no other number is said
    assert both_on_thirty("kitchen radio and tv volume to thirty").status is Status.OK


def test_a_question_about_a_room_falls_back_on_the_one_device_with_a_word_said(
        mapper: Mapper) -> None:
    # no thermostat in the office, but its space heater has the word "heater" said
    heater = ("HassGetState", {"area": "office", "domain": "climate"})
    mapped = said(mapper, "did i leave the heater in the office on", heater)
    assert targets(mapped) == ("switch.office_heater",)
    # a command is never retargeted so, and neither is a question among commands
    warm = said(mapper, "warm the heater in the office",
                ("ClimateWarmer", {"area": "office", "domain": "climate"}))
    assert warm.status is Status.REJECTED
    both = said(mapper, "the office is warm enough now, switch off the space heater",
                ("HassClimateGetTemperature", {"area": "office",
                                               "device_class": "temperature"}),
                ("HassTurnOff", {"name": "Space Heater"}))
    assert [a.intent for a in both.actions] == ["HassTurnOff"]


def test_a_question_read_as_a_command_asks_about_the_device_it_names(mapper: Mapper) -> None:
    # asking never changes the home: the state of the one device named, nothing done
    mapped = said(mapper, "is robby back on his dock",
                  ("HassVacuumReturnToBase", {"name": "robby", "domain": "vacuum"}))
    [action] = mapped.actions
    assert (action.intent, action.targets, action.messages) == (
        "HassGetState", ("vacuum.robot",), ())
    # with no device named, a question read as a command is refused
    vague = said(mapper, "is it too cold in here", ("ClimateWarmer", {"domain": "climate"}))
    assert vague.status is Status.REJECTED and vague.reason == "not a command"


def test_a_guessed_kind_gives_way_to_a_word_of_one_device_in_the_room(mapper: Mapper) -> None:
    # no word of any kind of device said; "machine" is a word of the coffee machine's name
    mapped = said(mapper, "turn the machine off in the kitchen",
                  ("HassTurnOff", {"area": "kitchen", "domain": "light"}))
    assert targets(mapped) == ("switch.coffee_maker",)
    # a kind said ("radio") is weighed as before: the kitchen's radio, not the coffee maker
    radio = said(mapper, "turn off the coffee maker and also the radio in the kitchen",
                 ("HassTurnOff", {"name": "Coffee Maker"}),
                 ("HassTurnOff", {"area": "kitchen", "domain": "light"}))
    assert [a.targets for a in radio.actions] == [("switch.coffee_maker",),
                                                  ("media_player.kitchen_speaker",)]


# --- what the user hears when a model reading is refused ---------------------------------------

@pytest.mark.parametrize(("utterance", "intent"), [
    ("you're pretty clever for a box", ("HassTurnOn", {"name": "box"})),
    ("do you have any friends", ("HassGetState", {"name": "friends"})),
    ("nice to see you again", ("HassMediaPause", {"domain": "media_player"})),
])
def test_a_model_reading_of_talk_that_asks_nothing_is_not_understood(
        mapper: Mapper, utterance: str, intent: Spec) -> None:
    mapped = said(mapper, utterance, intent)
    assert mapped.status is Status.REJECTED
    assert (mapped.reason, mapped.speech) == ("not understood", "Sorry, I didn't catch that.")


@pytest.mark.parametrize(("utterance", "intent", "reason"), [
    ("turn on the box", ("HassTurnOn", {"name": "box"}), "unknown device: box"),
    ("is the box on", ("HassGetState", {"name": "box"}), "unknown device: box"),
    ("turn it on", ("HassTurnOn", {}), "which device?"),
    ("play the previous song", ("HassMediaPrevious", {"domain": "media_player"}), "which one?"),
    ("it's too dark in here", ("LightBrighter", {"domain": "light"}), "which one?"),
])
def test_a_request_about_a_device_keeps_its_reason(mapper: Mapper, utterance: str,
                                                    intent: Spec, reason: str) -> None:
    mapped = said(mapper, utterance, intent)
    assert mapped.status is Status.REJECTED
    assert (mapped.reason or "").startswith(reason), mapped.reason


def test_a_device_in_another_room_is_refused_in_plain_words(mapper: Mapper) -> None:
    mapped = said(mapper, "switch off the bedroom telly",
                  ("HassTurnOff", {"name": "bedroom telly"}))
    assert mapped.status is Status.REJECTED and not mapped.actions
    assert mapped.reason == "the TV is in the Living Room, not the Bedroom"
    assert mapped.speech == "Sorry: The TV is in the Living Room, not the Bedroom."


def test_an_unsure_model_is_heard_as_not_caught_without_its_figures() -> None:
    # the reason keeps the confidence for hubs and logs; the user hears plain words
    assert rejection_speech("not sure (confidence 0.31)") == "Sorry, I didn't catch that."


# --- the room of the microphone (config site_areas) ---------------------------------------------

def test_a_kind_the_model_guessed_does_not_take_the_microphones_room(mapper: Mapper) -> None:
    # "nice to see you again" read as "pause": no word of a player was said, so the
    # living room's TV is not paused just because the microphone is there
    mapped = mapper.map(parse(("HassMediaPause", {"domain": "media_player"})), STATES, NOW,
                        utterance="nice to see you again", site_area="living_room")
    assert not mapped.actions and mapped.status is Status.REJECTED


def test_the_microphones_room_needs_devices_of_that_kind(mapper: Mapper) -> None:
    # no vacuum is kept in the bedroom: the one of the house starts, as without a room
    mapped = mapper.map(parse(("HassVacuumStart", {"domain": "vacuum"}), engine=Engine.RULES),
                        STATES, NOW, utterance="start the vacuum", site_area="bedroom")
    assert targets(mapped) == ("vacuum.robot",)
    lights = mapper.map(parse(("HassTurnOff", {"domain": "light"}), engine=Engine.RULES),
                        STATES, NOW, utterance="turn off the lights", site_area="kitchen")
    assert targets(lights) == KITCHEN_LIGHTS


# --- "it" and "them": what the utterance before acted on ---------------------------------------

def test_a_pronoun_acts_on_what_the_last_command_acted_on(mapper: Mapper) -> None:
    before = ("light.porch", "media_player.living_room_tv")
    off = mapper.map(parse(("HassTurnOff", {})), STATES, NOW, utterance="turn them off",
                     previous=("light.porch",))
    assert targets(off) == ("light.porch",)
    # of those, only what the command can act on: volume is the tv's
    up = mapper.map(parse(("MediaVolumeUp", {})), STATES, NOW, utterance="turn it up",
                    previous=before)
    assert targets(up) == ("media_player.living_room_tv",)
    # a kind said names its own devices, whatever else the sentence says
    lights = mapper.map(parse(("HassTurnOff", {"domain": "light"}), engine=Engine.RULES), STATES,
                        NOW, utterance="turn off the lights so that we can sleep",
                        previous=("light.porch",))
    assert targets(lights) == ALL_LIGHTS
    # nothing before: nothing to point at
    assert said(mapper, "turn it off", ("HassTurnOff", {})).status is Status.REJECTED


@pytest.mark.parametrize(("utterance", "yes"), [
    ("is it on", False),  # read as a yes, it unlocked a door that waited for one
    ("is that okay", False),
    ("what was that", False),
    ("okay google", False),  # another assistant's name, not an answer to us
    ("yeah go on then", True),
    ("sure thing", True),
    ("right away", True),
])
def test_a_model_yes_must_say_yes(mapper: Mapper, utterance: str, yes: bool) -> None:
    mapped = said(mapper, utterance, ("ConfirmYes", {}))
    assert (mapped.control is IntentKind.CONFIRM) is yes, mapped
    if not yes:
        assert mapped.status is Status.REJECTED and mapped.reason == "not understood"


@pytest.mark.parametrize(("utterance", "asked"), [
    ("what's on in the kitchen", False),  # asks, but nothing about degrees
    ("how warm is the bedroom", True),
    ("is it chilly in the bedroom", True),
])
def test_a_model_temperature_question_is_asked_in_words_of_warmth(
        mapper: Mapper, utterance: str, asked: bool) -> None:
    mapped = said(mapper, utterance, ("HassClimateGetTemperature",
                                      {"area": "Bedroom", "device_class": "temperature"}))
    assert (mapped.status is Status.OK) is asked, mapped


def test_a_room_without_a_thermometer_is_named_so(mapper: Mapper) -> None:
    mapped = said(mapper, "is it chilly in the office",
                  ("HassClimateGetTemperature", {"area": "Office", "device_class": "temperature"}))
    assert mapped.reason == "no thermometers in the Office", mapped


@pytest.mark.parametrize(("utterance", "intent"), [
    ("switch off everything except the porch light", ("HassTurnOff", {"name": "porch light"})),
    ("turn off all the lights but not the hallway",
     ("HassTurnOff", {"area": "hallway", "domain": "light"})),
    ("turn off the lights apart from the bedroom lamp", ("HassTurnOff", {"name": "bedroom lamp"})),
])
def test_what_is_to_be_left_out_is_never_acted_on(mapper: Mapper, utterance: str,
                                                  intent: Spec) -> None:
    # the micro-LLM copied the name said after "except" as the command's target
    name, slots = intent
    spoken = next(iter(v for k, v in slots.items() if k in ("name", "area")))
    at = utterance.index(str(spoken))
    parsed = ParsedIntent(name, {k: SlotValue(v, str(v), at if v == spoken else None,
                                              at + len(str(v)) if v == spoken else None)
                                 for k, v in slots.items()})
    mapped = mapper.map(Parse((parsed,), Engine.LM, 0.9), STATES, NOW, utterance=utterance)
    assert mapped.status is Status.REJECTED and not mapped.actions, mapped
    assert mapped.speech.startswith("Sorry, I can't leave things out yet.")


def model_turns_off_lights(mapper: Mapper, utterance: str, area: str) -> Mapped:
    """The micro-LLM's reading "turn off the lights of `area`" (said in `utterance`), mapped."""
    at = utterance.index(area)
    parsed = ParsedIntent("HassTurnOff", {"area": SlotValue(area, area, at, at + len(area)),
                                          "domain": SlotValue("light", "light")})
    return mapper.map(Parse((parsed,), Engine.LM, 0.9), STATES, NOW, utterance=utterance)


def test_a_place_before_the_exception_is_still_acted_on(mapper: Mapper) -> None:
    mapped = model_turns_off_lights(
        mapper, "turn off the hallway light but not the porch light", "hallway")
    assert targets(mapped) == ("light.hallway",)


@pytest.mark.parametrize("utterance", ["no turn on the garage light",
                                       "nope turn on the garage light"])
def test_an_answer_before_a_command_is_no_word_of_off(mapper: Mapper, utterance: str) -> None:
    # By voice there is no comma: "no" answered a question, then a command to turn ON.
    # The micro-LLM read "off" into it; that must not switch the light off.
    mapped = model_turns_off_lights(mapper, utterance, "garage")
    assert mapped.status is Status.REJECTED and not mapped.actions, mapped


def test_a_no_that_is_the_command_still_turns_off(mapper: Mapper) -> None:
    mapped = model_turns_off_lights(mapper, "no lights in the kitchen anymore", "kitchen")
    assert targets(mapped) == ("light.kitchen_ceiling", "light.kitchen_counter")

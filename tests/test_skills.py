"""skills: skills/*.yaml in, typed intent specs and hassil templates out; exact expansions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hassil.sample import sample_intents

from assistant.config import KNOWN_DOMAINS, Config, load_config
from assistant.errors import ConfigError
from assistant.skills import IntentKind, SkillSet, SlotType, home_lists, load_skills

REPO = Path(__file__).resolve().parent.parent
SKILLS = REPO / "skills"

TINY_HOME = """\
floors: [{id: up, name: Upstairs, aliases: [first floor]}]
areas: [{id: den, name: Den, floor: up, aliases: [study]}]
entities:
  - {id: light.lamp, name: Lamp, aliases: [Big Lamp], area: den}
  - {id: switch.hidden, name: Hidden Plug, expose: false}
"""

TINY_SKILL = """\
skill: tiny
intents:
  HassTurnOn:
    slots: {name: entity, area: area, domain: domain}
    domains: [light]
    actions: [{payload: {state: "ON"}}]
    response: "Turned on {targets}."
    data:
      - sentences:
          - "(turn|switch) on <the> {name}"
          - "{area} {dev:domain} on"
  Dim:
    slots: {brightness: {type: number, range: [0, 100], unit: percent}, name: entity}
    domains: [light]
    actions: [{payload: {brightness: "{brightness}"}}]
    data:
      - sentences: ["dim {name} to {brightness}[%]"]
  Nevermind:
    kind: nevermind
    data:
      - sentences: ["never mind", "(forget|cancel) [it|that]"]
lists:
  dev:
    values:
      - {in: "(light|lights)", out: light}
  brightness:
    range: {from: 10, to: 30, step: 10}
expansion_rules:
  the: "[the|my]"
"""


def write_skill(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny_home(tmp_path: Path) -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(TINY_HOME, encoding="utf-8")
    return load_config(path)


@pytest.fixture
def tiny_skills(tmp_path: Path) -> SkillSet:
    write_skill(tmp_path / "skills", "tiny.yaml", TINY_SKILL)
    return load_skills(tmp_path / "skills")


def expansions(skills: SkillSet, home: Config, intent: str) -> set[str]:
    intents = skills.hassil_intents(home_lists(home))
    # hassil leaves the space of an empty trailing optional: "cancel " for "cancel [it]".
    return {" ".join(text.split())
            for name, text in sample_intents(intents, intent_names={intent}) if name == intent}


# --- exact expansions ----------------------------------------------------------------------


def test_alternatives_optionals_rules_and_home_names_expand_exactly(
        tiny_skills: SkillSet, tiny_home: Config) -> None:
    assert expansions(tiny_skills, tiny_home, "HassTurnOn") == {
        "turn on lamp", "turn on the lamp", "turn on my lamp",
        "turn on big lamp", "turn on the big lamp", "turn on my big lamp",
        "switch on lamp", "switch on the lamp", "switch on my lamp",
        "switch on big lamp", "switch on the big lamp", "switch on my big lamp",
        # areas with their aliases, and the list's "in" forms
        "den light on", "den lights on", "study light on", "study lights on",
    }


def test_numeric_range_list_expands_each_step(tiny_skills: SkillSet, tiny_home: Config) -> None:
    assert expansions(tiny_skills, tiny_home, "Dim") == {
        f"dim {name} to {n}{pct}"
        for name in ("lamp", "big lamp") for n in (10, 20, 30) for pct in ("", "%")
    }


def test_plain_sentences_expand_exactly(tiny_skills: SkillSet, tiny_home: Config) -> None:
    assert expansions(tiny_skills, tiny_home, "Nevermind") == {
        "never mind", "forget", "forget it", "forget that", "cancel", "cancel it", "cancel that",
    }


def test_hidden_entities_are_not_in_the_name_list(tiny_home: Config) -> None:
    lists = home_lists(tiny_home)
    names = {(v.text_in.text, v.value_out) for v in lists["name"].values}  # type: ignore[attr-defined]
    assert names == {("lamp", "Lamp"), ("big lamp", "Lamp")}
    areas = {(v.text_in.text, v.value_out) for v in lists["area"].values}  # type: ignore[attr-defined]
    assert areas == {("den", "Den"), ("study", "Den")}
    floors = {(v.text_in.text, v.value_out) for v in lists["floor"].values}  # type: ignore[attr-defined]
    assert floors == {("upstairs", "Upstairs"), ("first floor", "Upstairs")}


def test_shipped_rules_expand_possessives_and_plurals() -> None:
    """<name> in common.yaml accepts "the kitchen's" and "the kitchens" as well as "kitchen"."""
    home = load_config(REPO / "config.yaml")
    skills = load_skills(SKILLS)
    got = expansions(skills, home, "HassToggle")
    for sentence in ("toggle the floor lamp", "toggle floor lamp", "flip my floor lamp",
                     "toggle the floor lamp's", "toggle all the reading lamps",
                     "toggle the kitchen lights", "toggle kitchen's light",
                     "flip the lights in the kitchen", "toggle the fans on the first floor"):
        assert sentence in got, sentence
    assert not any("siren" in s for s in got)  # hidden from voice, so never a template


# --- specs from the shipped skills -----------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> SkillSet:
    return load_skills(SKILLS)


DESIGN_INTENTS = {
    "HassTurnOn", "HassTurnOff", "HassToggle", "HassLightSet", "HassGetState",
    "HassClimateSetTemperature", "HassClimateGetTemperature", "HassSetPosition",
    "HassMediaPause", "HassMediaUnpause", "HassMediaNext", "HassMediaPrevious", "HassSetVolume",
    "HassVacuumStart", "HassVacuumReturnToBase", "HassNevermind", "HassGetCurrentTime",
    "HassGetCurrentDate",
}


def test_every_design_intent_is_defined(shipped: SkillSet) -> None:
    assert set(shipped.specs) >= DESIGN_INTENTS
    relative = {"LightBrighter", "LightDimmer", "ClimateWarmer", "ClimateCooler",
                "MediaVolumeUp", "MediaVolumeDown"}
    assert relative <= set(shipped.specs)


def test_slot_types_ranges_and_units(shipped: SkillSet) -> None:
    light = shipped.specs["HassLightSet"].slots
    assert light["brightness"].type is SlotType.NUMBER
    assert (light["brightness"].range, light["brightness"].unit) == ((0, 100), "percent")
    assert light["color"].type is SlotType.ENUM and "warm white" in light["color"].values
    assert light["name"].type is SlotType.ENTITY
    assert light["domain"].values == tuple(sorted(KNOWN_DOMAINS))  # default: every domain
    temp = shipped.specs["HassClimateSetTemperature"].slots["temperature"]
    assert (temp.range, temp.unit) == ((5, 30), "celsius")
    assert shipped.specs["HassSetPosition"].slots["position"].range == (0, 100)
    assert shipped.specs["HassSetVolume"].slots["volume_level"].range == (0, 100)


def test_kinds_risks_and_relative_changes(shipped: SkillSet) -> None:
    assert shipped.specs["HassGetState"].kind is IntentKind.STATE
    assert shipped.specs["HassGetCurrentTime"].kind is IntentKind.TIME
    assert shipped.specs["HassNevermind"].kind is IntentKind.NEVERMIND
    assert shipped.specs["ConfirmYes"].kind is IntentKind.CONFIRM
    assert shipped.specs["ConfirmNo"].kind is IntentKind.CANCEL
    (unlock,) = shipped.specs["HassTurnOff"].risk
    assert (unlock.domain, unlock.reason) == (["lock"], "unlock")
    (garage,) = shipped.specs["HassSetPosition"].risk
    assert (garage.device_class, garage.slots) == (["garage"], {"position": 100})
    warmer = shipped.specs["ClimateWarmer"].relative
    assert warmer is not None and (warmer.slot, warmer.step) == ("temperature", 1)
    cooler = shipped.specs["ClimateCooler"].relative
    assert cooler is not None and cooler.step == -1


def test_every_skill_file_is_recorded(shipped: SkillSet) -> None:
    assert [Path(f).name for f in shipped.files] == sorted(p.name for p in SKILLS.glob("*.yaml"))
    assert len(shipped.sha256) == 64


# --- the skills hash ----------------------------------------------------------------------------


def test_hash_is_stable_and_changes_with_any_file(tmp_path: Path) -> None:
    folder = tmp_path / "skills"
    shutil.copytree(SKILLS, folder)
    first = load_skills(folder).sha256
    assert load_skills(folder).sha256 == first
    assert load_skills(SKILLS).sha256 == first  # the hash is over contents, not location
    media = folder / "media.yaml"
    media.write_text(media.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    second = load_skills(folder).sha256
    assert second != first
    media.rename(folder / "media2.yaml")
    assert load_skills(folder).sha256 not in (first, second)  # names count too


# --- skill file errors --------------------------------------------------------------------------


def skill_problems(folder: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_skills(folder)
    return [str(p) for p in err.value.problems]


GOOD_INTENT = """\
skill: s
intents:
  TurnA:
    slots: {name: entity}
    domains: [light]
    actions: [{payload: {state: "ON"}}]
    response: "ok"
    data:
      - sentences:
          - "turn on {name}"
"""


@pytest.mark.parametrize(("sentence", "message"), [
    ("turn on {nolist}", "unknown list {nolist}"),
    ("turn on {name} to <nosuchrule>", "unknown rule <nosuchrule>"),
    ("broken (template", "bad template 'broken (template': "),
])
def test_template_errors(tmp_path: Path, sentence: str, message: str) -> None:
    path = write_skill(tmp_path, "s.yaml", GOOD_INTENT + f'          - "{sentence}"\n')
    got = skill_problems(tmp_path)
    assert got[0].startswith(f"{path}:11: intents.TurnA.data[0].sentences[1]: {message}"), got


def test_undeclared_slot_in_a_template(tmp_path: Path) -> None:
    path = write_skill(tmp_path, "s.yaml", GOOD_INTENT + '          - "set {name} to {color}"\n'
                       "lists:\n  color: {values: [red]}\n")
    assert skill_problems(tmp_path) == [
        f"{path}:11: intents.TurnA.data[0].sentences[1]: "
        "slot 'color' is not declared in the intent's slots"]


def test_undeclared_fixed_slot(tmp_path: Path) -> None:
    path = write_skill(tmp_path, "s.yaml", GOOD_INTENT + "        slots: {brightness: 5}\n")
    assert skill_problems(tmp_path) == [
        f"{path}:11: intents.TurnA.data[0].slots.brightness: slot not declared in the intent"]


def test_unknown_domain(tmp_path: Path) -> None:
    path = write_skill(tmp_path, "s.yaml", GOOD_INTENT.replace("[light]", "[light, toaster]"))
    assert skill_problems(tmp_path) == [
        f"{path}:5: intents.TurnA.domains: unknown domain 'toaster'"]


def test_unknown_key_and_bad_kind(tmp_path: Path) -> None:
    text = GOOD_INTENT.replace('    response: "ok"\n', "    respones: ok\n    kind: weird\n")
    path = write_skill(tmp_path, "s.yaml", text)
    got = skill_problems(tmp_path)
    assert got[0].startswith(f"{path}:7: intents.TurnA.respones: unknown key (known keys: ")
    assert got[1] == (f"{path}:8: intents.TurnA.kind: expected one of device, state, time, date, "
                      "nevermind, confirm, cancel, got 'weird'")


def test_home_list_names_are_reserved(tmp_path: Path) -> None:
    path = write_skill(tmp_path, "s.yaml", GOOD_INTENT + "lists:\n  area: {values: [x]}\n")
    assert skill_problems(tmp_path) == [
        f"{path}:12: lists.area: this list comes from config.yaml; rename it"]


def test_second_definition_of_an_intent(tmp_path: Path) -> None:
    write_skill(tmp_path, "a.yaml", GOOD_INTENT)
    second = write_skill(tmp_path, "b.yaml",
                         "skill: b\nintents:\n  TurnA:\n    response: again\n"
                         "    data: [{sentences: ['flip on']}]\n")
    assert skill_problems(tmp_path) == [
        f"{second}:3: intents.TurnA: already defined in {tmp_path / 'a.yaml'}; "
        "a second file may add sentences (data) only"]


@pytest.mark.parametrize("extra_name", ["b.yaml", "0.yaml"])  # after and before the definition
def test_a_second_file_may_add_sentences_using_the_intents_slots(
        tmp_path: Path, tiny_home: Config, extra_name: str) -> None:
    folder = tmp_path / "skills"
    write_skill(folder, "a.yaml", GOOD_INTENT)
    write_skill(folder, extra_name,
                "skill: extra\nintents:\n  TurnA:\n    data: [{sentences: ['flip {name} on']}]\n")
    skills = load_skills(folder)
    assert skills.specs["TurnA"].response == "ok" and "name" in skills.specs["TurnA"].slots
    assert expansions(skills, tiny_home, "TurnA") == {
        "turn on lamp", "turn on big lamp", "flip lamp on", "flip big lamp on"}


def test_every_problem_across_files_is_reported(tmp_path: Path) -> None:
    write_skill(tmp_path, "a.yaml", GOOD_INTENT.replace("[light]", "[toaster]")
                + '          - "turn on {nolist}"\n')
    write_skill(tmp_path, "b.yaml", "skill: b\nbogus: 1\n")
    write_skill(tmp_path, "c.yaml", "skill: [unclosed\n")
    got = skill_problems(tmp_path)
    assert len(got) == 5, got
    assert any(":5: intents.TurnA.domains: unknown domain 'toaster'" in p for p in got)
    assert any("unknown list {nolist}" in p for p in got)
    assert any(p.startswith(f"{tmp_path / 'b.yaml'}:2: bogus: unknown key") for p in got)
    assert any(p.startswith(f"{tmp_path / 'c.yaml'}:2: (syntax): invalid YAML") for p in got)


def test_no_skill_files(tmp_path: Path) -> None:
    assert skill_problems(tmp_path / "empty") == [
        f"{tmp_path / 'empty'}:0: (skills): no skill files (*.yaml) found"]

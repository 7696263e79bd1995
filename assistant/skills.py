"""Loads skills/*.yaml into typed intent specs plus hassil templates; returns a SkillSet.

A skill file declares intents: their slots (with types, ranges and units), sentence
templates in hassil syntax, MQTT action templates, a spoken response and the risk.
Names, areas and floors are not in skill files: they come from config.yaml at run time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from hassil import Intents, SlotList, TextSlotList, TextSlotValue, parse_sentence
from hassil.expression import Group, Sentence

from assistant.config import KNOWN_DOMAINS, Config, SafetyRule
from assistant.confload import build_config
from assistant.errors import ConfigError, Problem
from assistant.yamlsrc import Located, load_yaml

HOME_LISTS = ("name", "area", "floor")  # filled from config.yaml, never from skills


class SlotType(str, Enum):
    ENTITY = "entity"  # an entity's name or alias
    AREA = "area"
    FLOOR = "floor"
    DOMAIN = "domain"  # light, cover, ...
    DEVICE_CLASS = "device_class"  # garage, blind, ...
    NUMBER = "number"  # with range and unit
    ENUM = "enum"  # one of a closed set (colors, states, ...)
    TEXT = "text"


class IntentKind(str, Enum):
    """What the mapper does with an intent."""

    DEVICE = "device"  # resolve targets, check rules, publish commands
    STATE = "state"  # answer from the state topics of the targets
    TIME = "time"
    DATE = "date"
    NEVERMIND = "nevermind"  # cancel whatever is pending
    CONFIRM = "confirm"  # "yes" to a pending confirmation
    CANCEL = "cancel"  # "no" to a pending confirmation


# What may answer "Should I ...?": yes, no, never mind.
ANSWER_KINDS = frozenset({IntentKind.CONFIRM, IntentKind.CANCEL, IntentKind.NEVERMIND})
# An answer said before a command ("no turn on the garage light", as a recogniser gives it,
# without the comma) answers the question and is not part of the command.
ANSWER_LEADS = frozenset({"no", "nope", "nah", "yes", "yeah", "yep", "yup"})


@dataclass(frozen=True)
class RawSlot:
    type: SlotType
    values: list[str] = field(default_factory=list)  # allowed canonical values (enum)
    range: list[float] = field(default_factory=list)  # [min, max]
    unit: str | None = None  # percent, celsius, ...


@dataclass(frozen=True)
class RawAction:
    """One action template; the first whose filters match a target is used."""

    domain: list[str] = field(default_factory=list)
    device_class: list[str] = field(default_factory=list)
    when: dict[str, Any] = field(default_factory=dict)  # slot equals value
    topic: str | None = None  # default: the entity's command_topic or zigbee2mqtt/<id>/set
    payload: dict[str, Any] = field(default_factory=dict)  # "{slot}" or "{slot|filter}"
    say: str | None = None  # spoken reply for this action; else the intent's response


@dataclass(frozen=True)
class RawDataGroup:
    sentences: list[str]
    slots: dict[str, Any] = field(default_factory=dict)  # fixed slot values for these sentences
    expansion_rules: dict[str, str] = field(default_factory=dict)
    requires_context: dict[str, Any] = field(default_factory=dict)
    excludes_context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Relative:
    """A change relative to the device's reported state: slot = state[state_key] + step."""

    slot: str  # the slot to compute, e.g. temperature
    state_key: str  # key in the entity's state JSON, e.g. current_heating_setpoint
    step: float  # signed change, e.g. +1.0


@dataclass(frozen=True)
class RawIntent:
    description: str = ""
    kind: IntentKind = IntentKind.DEVICE
    slots: dict[str, SlotType | RawSlot] = field(default_factory=dict)
    domains: list[str] = field(default_factory=list)  # domains this intent may act on
    actions: list[RawAction] = field(default_factory=list)
    risk: list[SafetyRule] = field(default_factory=list)  # matching actions need a "yes"
    response: str = ""
    relative: Relative | None = None
    requires: list[str] = field(default_factory=list)  # at least one of these slots is needed
    data: list[RawDataGroup] = field(default_factory=list)


@dataclass(frozen=True)
class RawList:
    values: list[str | dict[str, Any]] = field(default_factory=list)
    range: dict[str, Any] = field(default_factory=dict)
    wildcard: bool = False


@dataclass(frozen=True)
class RawSkill:
    skill: str
    description: str = ""
    language: str = "en"
    intents: dict[str, RawIntent] = field(default_factory=dict)
    lists: dict[str, RawList] = field(default_factory=dict)
    expansion_rules: dict[str, str] = field(default_factory=dict)
    skip_words: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SlotSpec:
    name: str
    type: SlotType
    values: tuple[str, ...] = ()
    range: tuple[float, float] | None = None
    unit: str | None = None


@dataclass(frozen=True)
class ActionRule:
    domain: tuple[str, ...]
    device_class: tuple[str, ...]
    when: dict[str, Any]
    topic: str | None
    payload: dict[str, Any]
    say: str | None = None


@dataclass(frozen=True)
class IntentSpec:
    name: str
    skill: str
    kind: IntentKind
    slots: dict[str, SlotSpec]
    domains: tuple[str, ...]
    actions: tuple[ActionRule, ...]
    risk: tuple[SafetyRule, ...]
    response: str
    file: str
    relative: Relative | None = None
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkillSet:
    """Every loaded skill: typed intent specs plus the merged hassil template dict."""

    specs: dict[str, IntentSpec]
    template_dict: dict[str, Any]  # hassil format: language, intents, lists, expansion_rules
    files: tuple[str, ...]
    sha256: str  # over the skill files' bytes, in name order: the models record it

    def hassil_intents(self, home_lists: dict[str, SlotList] | None = None) -> Intents:
        """hassil Intents with the home's name/area/floor lists merged in."""
        intents = Intents.from_dict(self.template_dict)
        if home_lists:
            intents.slot_lists.update(home_lists)
        return intents


def answer_intents(skills: SkillSet) -> list[str]:
    """The intents that answer a question: yes, no, never mind."""
    return [name for name, spec in skills.specs.items() if spec.kind in ANSWER_KINDS]


def home_lists(config: Config) -> dict[str, SlotList]:
    """The name/area/floor lists from config.yaml: spoken forms out to canonical names."""

    def make(name: str, pairs: list[tuple[str, str]]) -> TextSlotList:
        seen: set[tuple[str, str]] = set()
        values = []
        for spoken, canonical in pairs:
            key = (spoken.lower().strip(), canonical)
            if key[0] and key not in seen:
                seen.add(key)
                values.append(TextSlotValue.from_tuple((spoken.lower().strip(), canonical)))
        return TextSlotList(name=name, values=values)

    names = [
        (spoken, e.name)
        for e in config.entities
        if e.expose
        for spoken in [e.name, *e.aliases]
    ]
    areas = [(spoken, a.name) for a in config.areas for spoken in [a.name, *a.aliases]]
    floors = [(spoken, f.name) for f in config.floors for spoken in [f.name, *f.aliases]]
    return {"name": make("name", names), "area": make("area", areas),
            "floor": make("floor", floors)}


_DEFAULT_SLOT_FOR_TYPE = {
    SlotType.ENTITY: "name", SlotType.AREA: "area", SlotType.FLOOR: "floor",
}


def _slot_spec(name: str, raw: SlotType | RawSlot) -> SlotSpec:
    if isinstance(raw, SlotType):
        raw = RawSlot(type=raw)
    values = tuple(raw.values)
    if raw.type is SlotType.DOMAIN and not values:
        values = tuple(sorted(KNOWN_DOMAINS))
    rng = (raw.range[0], raw.range[1]) if len(raw.range) == 2 else None
    return SlotSpec(name=name, type=raw.type, values=values, range=rng, unit=raw.unit)


def _list_names(sentence: Sentence, rules: dict[str, Sentence]) -> list[tuple[str, str]]:
    """(list name, slot name) for every {list} a template uses, through its <rules>."""
    expr = sentence.expression
    if not isinstance(expr, Group):
        return []
    return [(ref.list_name, ref.slot_name) for ref in expr.list_references(rules)]


class _SkillChecker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def check(self, src: Located, skill: RawSkill, all_lists: set[str],
              all_rules: dict[str, Sentence], definers: dict[str, RawIntent]) -> None:
        for iname, intent in skill.intents.items():
            base = f"intents.{iname}"
            declared = definers[iname].slots if iname in definers else intent.slots
            for d in intent.domains:
                if d not in KNOWN_DOMAINS:
                    self.problems.append(src.problem(f"{base}.domains", f"unknown domain '{d}'"))
            for g, group in enumerate(intent.data):
                local_rules = dict(all_rules)
                for rname, rbody in group.expansion_rules.items():
                    try:
                        local_rules[rname] = parse_sentence(rbody, keep_text=True)
                    except Exception as exc:  # hassil raises several error types
                        self.problems.append(src.problem(
                            f"{base}.data[{g}].expansion_rules.{rname}", f"bad template: {exc}"))
                for slot in group.slots:
                    if slot not in declared:
                        self.problems.append(src.problem(
                            f"{base}.data[{g}].slots.{slot}", "slot not declared in the intent"))
                for s, text in enumerate(group.sentences):
                    where = f"{base}.data[{g}].sentences[{s}]"
                    try:
                        sentence = parse_sentence(text, keep_text=True)
                    except Exception as exc:  # hassil raises several error types
                        self.problems.append(src.problem(where, f"bad template {text!r}: {exc}"))
                        continue
                    self._check_refs(src, where, sentence, local_rules, all_lists, declared)

    def _check_refs(self, src: Located, where: str, sentence: Sentence,
                    rules: dict[str, Sentence], lists: set[str],
                    declared: dict[str, SlotType | RawSlot]) -> None:
        import re

        for rule in re.findall(r"<([^>]+)>", sentence.text or ""):
            if rule not in rules:
                self.problems.append(src.problem(where, f"unknown rule <{rule}>"))
        for list_name, slot_name in _list_names(sentence, rules):
            inline = re.match(r"^\d+\.\.\d+", list_name)
            if not inline and list_name not in lists and list_name not in HOME_LISTS:
                self.problems.append(src.problem(where, f"unknown list {{{list_name}}}"))
            if slot_name not in declared:
                self.problems.append(
                    src.problem(where, f"slot '{slot_name}' is not declared in the intent's slots"))


def _defines(raw: RawIntent) -> bool:
    """True when this entry defines its intent rather than only adding sentences."""
    return bool(raw.slots or raw.actions or raw.response or raw.domains or raw.risk
                or raw.kind is not IntentKind.DEVICE or raw.relative or raw.requires)


def _list_to_hassil(raw: RawList) -> dict[str, Any]:
    if raw.range:
        return {"range": raw.range}
    if raw.wildcard:
        return {"wildcard": True}
    return {"values": list(raw.values)}


def load_skills(skills_dir: Path | str) -> SkillSet:
    """Load and check every *.yaml in skills_dir; raises ConfigError listing every problem."""
    skills_dir = Path(skills_dir)
    files = sorted(skills_dir.glob("*.yaml")) if skills_dir.is_dir() else []
    if not files:
        raise ConfigError([Problem(str(skills_dir), 0, "(skills)",
                                   "no skill files (*.yaml) found")])
    problems: list[Problem] = []
    loaded: list[tuple[Located, RawSkill]] = []
    digest = hashlib.sha256()
    for path in files:
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + data)
        try:
            src = load_yaml(path, data.decode("utf-8", errors="replace"))
        except ConfigError as exc:
            problems += exc.problems
            continue
        skill, found = build_config(RawSkill, src)
        problems += found
        if skill is not None:
            loaded.append((src, skill))

    template: dict[str, Any] = {"language": "en", "intents": {}, "lists": {},
                                "expansion_rules": {}, "skip_words": []}
    specs: dict[str, IntentSpec] = {}
    rules: dict[str, Sentence] = {}
    list_names: set[str] = set()
    for src, skill in loaded:
        for lname, lraw in skill.lists.items():
            if lname in HOME_LISTS:
                problems.append(src.problem(f"lists.{lname}",
                                            "this list comes from config.yaml; rename it"))
            template["lists"][lname] = _list_to_hassil(lraw)
            list_names.add(lname)
        for rname, rbody in skill.expansion_rules.items():
            try:
                rules[rname] = parse_sentence(rbody, keep_text=True)
                template["expansion_rules"][rname] = rbody
            except Exception as exc:  # hassil raises several error types
                problems.append(src.problem(f"expansion_rules.{rname}", f"bad template: {exc}"))
        template["skip_words"] += [w for w in skill.skip_words if w not in template["skip_words"]]

    # An intent is defined (slots, actions, reply) in one file; others may add sentences.
    definers: dict[str, RawIntent] = {}
    defined_in: dict[str, str] = {}
    for src, skill in loaded:
        for iname, raw in skill.intents.items():
            if not _defines(raw):
                continue
            if iname in definers:
                problems.append(src.problem(
                    f"intents.{iname}", f"already defined in {defined_in[iname]}; a second "
                    "file may add sentences (data) only"))
                continue
            definers[iname] = raw
            defined_in[iname] = src.file
    checker = _SkillChecker()
    for src, skill in loaded:
        checker.check(src, skill, list_names, rules, definers)
        for iname, raw in skill.intents.items():
            groups = [
                {k: v for k, v in (("sentences", g.sentences), ("slots", g.slots),
                                   ("expansion_rules", g.expansion_rules),
                                   ("requires_context", g.requires_context),
                                   ("excludes_context", g.excludes_context)) if v}
                for g in raw.data
            ]
            entry = template["intents"].setdefault(iname, {"data": []})
            entry["data"] += groups
            if iname not in definers:
                problems.append(src.problem(f"intents.{iname}", "no skill file defines this "
                                            "intent (its slots, actions and response)"))
                continue
            if definers[iname] is not raw:
                continue
            specs[iname] = IntentSpec(
                name=iname, skill=skill.skill, kind=raw.kind,
                slots={n: _slot_spec(n, s) for n, s in raw.slots.items()},
                domains=tuple(raw.domains),
                actions=tuple(ActionRule(tuple(a.domain), tuple(a.device_class), a.when,
                                         a.topic, a.payload, a.say) for a in raw.actions),
                risk=tuple(raw.risk), response=raw.response, file=src.file,
                relative=raw.relative, requires=tuple(raw.requires))
    problems += checker.problems
    if problems:
        raise ConfigError(problems)
    return SkillSet(specs=specs, template_dict=template,
                    files=tuple(str(f) for f in files), sha256=digest.hexdigest())


def cross_check(config: Config, skills: SkillSet) -> list[Problem]:
    """Problems between config.yaml and the skills: safety rules naming unknown intents/slots."""
    problems: list[Problem] = []
    try:
        src = load_yaml(config.path) if config.path else Located(None, "config")
    except ConfigError:
        src = Located(None, config.path)  # built in code, or the file moved: no line numbers
    for section in ("confirm", "trust", "deny"):
        for i, rule in enumerate(getattr(config.safety, section)):
            for j, intent in enumerate(rule.intent):
                if intent not in skills.specs:
                    known = ", ".join(sorted(skills.specs))
                    problems.append(src.problem(f"safety.{section}[{i}].intent[{j}]",
                                                f"no intent '{intent}' (known: {known})"))
            for j, domain in enumerate(rule.domain):
                if domain not in KNOWN_DOMAINS:
                    problems.append(src.problem(f"safety.{section}[{i}].domain[{j}]",
                                                f"unknown domain '{domain}'"))
            for slot in rule.slots:
                if rule.intent and not any(
                        slot in skills.specs[n].slots for n in rule.intent if n in skills.specs):
                    problems.append(src.problem(f"safety.{section}[{i}].slots.{slot}",
                                                f"no slot '{slot}' in {', '.join(rule.intent)}"))
    for i, entity in enumerate(config.entities):
        for intent in entity.payloads:
            if intent not in skills.specs:
                problems.append(src.problem(f"entities[{i}].payloads.{intent}",
                                            f"no intent '{intent}'"))
    return problems

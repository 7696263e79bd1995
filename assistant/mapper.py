"""The rule-checked action mapper: a Parse in, checked actions with MQTT messages out.

Whatever produced the parse (templates or the micro-LLM), only this module decides what
is published: names must resolve to exposed entities the intent can act on, numbers must
lie in range, deny rules block, risky actions wait for a spoken "yes".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.config import Config, Entity
from assistant.grounding import (
    ALL_WORDS,
    CANCEL_WORDS,
    REGROUND_REASONS,
    UNLOCK_WORDS,
    addressed,
    affirmed,
    bare_question,
    elsewhere,
    excepted,
    mentions,
    shared_number,
)
from assistant.payload import PayloadError, render_payload, render_topic
from assistant.repairs import skill_words
from assistant.replies import rejection_speech, setting
from assistant.resolve import DEVICE_WORDS, PICKING_SLOTS, Resolver, key
from assistant.safety import judge
from assistant.skills import IntentKind, IntentSpec, SkillSet
from assistant.slotcheck import (
    Rejected,
    States,
    check_limits,
    check_slots,
    fmt,
    pick_rule,
    relative_slots,
)
from assistant.speech import (
    answer_state,
    answer_temperature,
    describe_targets,
    elsewhere_reason,
    say,
)
from assistant.structs import (
    Action,
    Engine,
    Message,
    Parse,
    ParsedIntent,
    Status,
)
from assistant.targeting import Context, Repeat, Targeter, Ungrounded, ends, kind_guessed
from assistant.textnorm import normalize

STATE_QUERY = "HassGetState"  # what a question read as a command becomes


@dataclass(frozen=True)
class Mapped:
    """The mapper's verdict on one utterance."""

    status: Status
    reason: str | None = None
    actions: tuple[Action, ...] = ()  # to publish now
    pending: tuple[Action, ...] = ()  # waiting for a "yes"
    speech: str = ""
    question: str | None = None
    control: IntentKind | None = None  # nevermind / confirm / cancel: the pipeline acts


def _place_said_first(parse: Parse) -> Parse:
    """"in the bathroom, turn on the light and the fan": a room said before every command
    is the room of each command that names no place or device of its own."""
    if len(parse.intents) < 2:
        return parse
    starts = [min((v.start_char for v in p.slots.values() if v.start_char is not None),
                  default=None) for p in parse.intents]
    # read as a later command's room, yet said before the first command's words
    lead = [p.slots["area"] for p in parse.intents[1:] if "area" in p.slots
            and (at := p.slots["area"].start_char) is not None
            and starts[0] is not None and at < starts[0]]
    if len(lead) != 1:
        return parse
    return replace(parse, intents=tuple(
        p if p.slots.keys() & {"area", "floor", "name"}
        else ParsedIntent(p.intent, {**p.slots, "area": lead[0]}) for p in parse.intents))


class Mapper:
    def __init__(self, skills: SkillSet, config: Config) -> None:
        self.skills = skills
        self.config = config
        self.resolver = Resolver(config)
        # words of commands, never of one device's name (compared in `key` form)
        self.common = {key(w) for w in skill_words(config)}
        self.targeter = Targeter(self.resolver, self.common)

    def map(self, parse: Parse, states: States | None = None,
            now: dt.datetime | None = None, utterance: str = "",
            site_area: str | None = None, previous: Sequence[str] = ()) -> Mapped:
        """`site_area`: the area id of the microphone that heard it, if the installer said
        (config `site_areas`): a command that names no place acts there ("turn off the
        lights" in the bedroom), when that room has such devices. `previous`: entity ids
        the utterance before acted on, for "it" and "them" ("turn them off")."""
        if not parse.intents:
            reason = parse.reason or "not understood"
            return Mapped(Status.REJECTED, reason, speech=rejection_speech(reason))
        states = states or {}
        now = now or dt.datetime.now()
        norm = normalize(utterance)
        text = norm.text
        words = set(text.split())
        ctx = Context(model_only=parse.engine is not Engine.RULES,
                       says_all=bool(words & ALL_WORDS), words=words, text=text,
                       utterance=utterance, site_area=site_area,
                       previous=self._entities(tuple(previous)))
        if ctx.model_only and utterance:
            ctx.mentioned, ctx.areas = mentions(self.resolver, utterance)
            # the model sometimes says one command twice ("nightstand lamp a little dimmer")
            seen = [(p.intent, {k: v.value for k, v in p.slots.items()}) for p in parse.intents]
            once = [p for i, p in enumerate(parse.intents) if seen[i] not in seen[:i]]
            parse = replace(parse, intents=tuple(once))
            ctx.single = len(once) == 1
            numbers = sum(t.text[:1].isdigit() for t in norm.tokens)
            if shared_number(self.skills.specs, once, numbers):
                return Mapped(Status.REJECTED, "not understood",
                              speech=rejection_speech("not understood"))
        done: list[Action] = []
        pending: list[Action] = []
        question: str | None = None
        kinds = [self.skills.specs[p.intent].kind if p.intent in self.skills.specs else None
                 for p in parse.intents]
        if ctx.model_only and ctx.words and IntentKind.NEVERMIND in kinds \
                and not ctx.words & CANCEL_WORDS:
            # "wait a second" read as taking a command back: no word of it takes anything back
            keep = [(p, k) for p, k in zip(parse.intents, kinds, strict=True)
                    if k is not IntentKind.NEVERMIND]
            if not keep:
                return Mapped(Status.REJECTED, "not understood",
                              speech=rejection_speech("not understood"))
            parse = replace(parse, intents=tuple(p for p, _ in keep))
            kinds = [k for _, k in keep]
        if IntentKind.NEVERMIND in kinds:
            # "turn on the lamp and, uh, never mind": the user took it back.
            return Mapped(Status.OK, control=IntentKind.NEVERMIND, speech="Okay.",
                          actions=(Action("HassNevermind", {}, (), ()),))
        controls = [k for k in kinds if k in (IntentKind.CONFIRM, IntentKind.CANCEL)]
        if controls and len(parse.intents) > 1:
            if len(controls) == len(kinds):
                return Mapped(Status.REJECTED, "not understood",
                              speech="Sorry, was that a yes or a no?")
            parse = Parse(tuple(p for p, k in zip(parse.intents, kinds, strict=True)
                                if k not in (IntentKind.CONFIRM, IntentKind.CANCEL)),
                          parse.engine, parse.confidence)  # "yes" inside a command: no answer
        parse = _place_said_first(parse)
        asks = ctx.model_only and bare_question(utterance)
        dropped = 0
        for parsed in parse.intents:
            spec = self.skills.specs.get(parsed.intent)
            if spec is not None and spec.kind is IntentKind.DEVICE and excepted(parsed, utterance):
                # read as acting on the very thing to leave out: the opposite of what was asked
                reason = "leaving something out is not supported yet"
                return Mapped(Status.REJECTED, reason, speech=rejection_speech(reason))
            if spec is not None and asks and spec.kind is IntentKind.DEVICE:
                # A question the model read as a command: asking never changes the home.
                # "is robby back on his dock": the state of the device it names, if one.
                query = self.skills.specs.get(STATE_QUERY)
                if query is None or not ctx.single or "name" not in parsed.slots:
                    return Mapped(Status.REJECTED, "not a command",
                                  speech=rejection_speech("not a command"))
                spec, parsed = query, ParsedIntent(STATE_QUERY, {
                    k: v for k, v in parsed.slots.items() if k in query.slots
                    and k in PICKING_SLOTS})
            if spec is None:
                return Mapped(Status.REJECTED, f"unknown intent: {parsed.intent}",
                              speech="Sorry, I can't do that.")
            if (spec.kind is IntentKind.CONFIRM and ctx.model_only and ctx.text
                    and not affirmed(ctx.text)):
                # a yes the words do not say never answers a question about a risky action
                return Mapped(Status.REJECTED, "not understood",
                              speech=rejection_speech("not understood"))
            if spec.kind in (IntentKind.CONFIRM, IntentKind.CANCEL):
                return Mapped(Status.OK, control=spec.kind, speech=spec.response,
                              actions=(Action(spec.name, {}, (), ()),))
            try:
                action, risky_reason = self._one(spec, parsed, states, now, ctx)
                ctx.read_to = max([ctx.read_to, *ends(parsed)])
            except Repeat:
                continue
            except Ungrounded as exc:
                if len(parse.intents) == 1:
                    return Mapped(Status.REJECTED, str(exc), speech=rejection_speech(str(exc)))
                dropped += 1  # a remark read as a command ("..., we're watching a film")
                continue
            except Rejected as exc:
                reason = str(exc)
                if (ctx.model_only and ctx.words and reason.startswith(REGROUND_REASONS)
                        and not addressed(ctx.words)):
                    # "you're pretty clever for a box" asks nothing about a device called
                    # "box", and "sing me a song" does not ask which speaker: not understood
                    reason = "not understood"
                return Mapped(Status.REJECTED, reason, speech=rejection_speech(reason))
            if ctx.model_only and any(a.intent == action.intent and a.targets == action.targets
                                      and a.messages == action.messages
                                      for a in (*done, *pending)):
                continue  # the same effect twice ("hold on, pause the telly"): once is meant
            if risky_reason is not None:
                pending.append(action)
                question = question or (
                    f"Do you want me to {risky_reason} "
                    f"{describe_targets(self._entities(action.targets))}? Say yes or no.")
            else:
                done.append(action)
        if dropped and not done and not pending:
            return Mapped(Status.REJECTED, "not understood",
                          speech=rejection_speech("not understood"))
        speech = " ".join([*(s for s in ctx.spoken if s),
                           *(["I didn't catch the rest."] if dropped else [])])
        if pending:
            return Mapped(Status.CONFIRM, "needs confirmation", tuple(done), tuple(pending),
                          speech=(speech + " " + (question or "")).strip(), question=question)
        return Mapped(Status.OK, None, tuple(done), speech=speech)

    def _entities(self, ids: tuple[str, ...]) -> list[Entity]:
        return [e for i in ids if (e := self.config.entity(i)) is not None]

    # --- one command ----------------------------------------------------------------

    def _one(self, spec: IntentSpec, parsed: ParsedIntent, states: States,
             now: dt.datetime, ctx: Context) -> tuple[Action, str | None]:
        slots = check_slots(spec, parsed, DEVICE_WORDS)
        if ctx.model_only and ctx.words:
            parsed, slots = self.targeter.grounded(spec, parsed, slots, ctx)
        if spec.requires and not any(name in slots for name in spec.requires):
            raise Rejected("nothing to set: say " + " or ".join(
                n.replace("_", " ") for n in spec.requires))
        if spec.kind is IntentKind.TIME:
            ctx.spoken.append(say(spec.response, time=now.strftime("%-I:%M %p")))
            return Action(spec.name, slots, (), ()), None
        if spec.kind is IntentKind.DATE:
            ctx.spoken.append(say(spec.response, date=now.strftime("%A, %B %-d, %Y")))
            return Action(spec.name, slots, (), ()), None
        try:
            targets = self.targeter.targets(spec, parsed, slots, ctx)
        except Rejected as exc:
            regrounded = self.targeter.reground(spec, parsed, ctx, exc) if ctx.model_only else None
            if regrounded is None and ctx.model_only and str(exc).startswith("no ") and (
                    spec.kind is IntentKind.STATE or (not ctx.single and kind_guessed(parsed))):
                # "the office is warm enough now, switch off the space heater": a remark read
                # as a question about a room with nothing to ask (asking changes nothing);
                # "it's cold in the study, switch the space heater on": a remark read as a
                # command for a kind of device nobody named, and the room has none
                raise Ungrounded(str(exc)) from None
            if regrounded is None:
                raise
            parsed, slots = regrounded
            targets = self.targeter.targets(spec, parsed, slots, ctx)
        if ctx.model_only and ctx.single and len(ctx.areas) == 1 and "area" not in slots \
                and elsewhere(targets, ctx.areas[0]):
            raise Rejected(elsewhere_reason(targets, ctx.areas[0], self.resolver.area_by_id))
        if (ctx.model_only and ctx.words and spec.name == "HassTurnOff"
                and any(e.domain == "lock" for e in targets) and not ctx.words & UNLOCK_WORDS):
            raise Ungrounded("not understood")  # unlocking is never guessed from "off"
        ctx.used.update(e.id for e in targets)
        ctx.acted.append((spec.name, {e.id for e in targets}))
        if spec.kind is IntentKind.STATE:
            if spec.name == "HassClimateGetTemperature":
                ctx.spoken.append(answer_temperature(targets, states))
            else:
                ctx.spoken.append(answer_state(targets, states, slots.get("state")))
            return Action(spec.name, slots, tuple(e.id for e in targets), ()), None
        per_target = {e.id: slots for e in targets}
        if spec.relative is not None:
            per_target = relative_slots(spec, targets, slots, states)
            values = {str(s[spec.relative.slot]) for s in per_target.values()}
            if len(values) == 1:  # one shared new value: report it like an absolute set
                slots = next(iter(per_target.values()))
        for e in targets:
            check_limits(spec, [e], per_target[e.id])
        verdict = judge(self.config, spec, targets, slots)
        if verdict.denied is not None:
            raise Rejected(verdict.denied.reason or f"{spec.name} on "
                           f"{describe_targets(targets)} is not allowed by voice")
        messages: list[Message] = []
        replies: list[str] = []
        for entity in targets:
            rule = pick_rule(spec, entity, slots)
            if rule is None or (not rule.payload and not entity.payloads.get(spec.name)):
                why = (rule.say if rule is not None and rule.say else
                       f"{entity.name} can't do that")
                raise Rejected(say(why, targets=describe_targets([entity])))
            try:
                payload = render_payload(entity.payloads.get(spec.name) or rule.payload,
                                         per_target[entity.id])
            except PayloadError as exc:
                raise Rejected(f"{entity.name}: {exc}") from None
            topic = render_topic(entity, rule.topic)
            messages.append(Message(topic, payload))
            replies.append(rule.say or spec.response)
        template = replies[0] if replies and len(set(replies)) == 1 else spec.response
        if spec.relative is not None and spec.relative.slot not in slots:
            way = "up" if spec.relative.step > 0 else "down"
            template = f"Turned {{targets}} {way} by {fmt(abs(spec.relative.step))}."
        done = say(template, targets=describe_targets(targets), setting=setting(spec, slots),
                   **slots)
        action = Action(spec.name, slots, tuple(e.id for e in targets), tuple(messages),
                        risky=verdict.risky is not None, speech=done)
        if verdict.risky is None:
            ctx.spoken.append(done)
            return action, None
        return action, verdict.risky.reason or "go ahead with"

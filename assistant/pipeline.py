"""Wires the stages: text (typed, heard or from a hub) in, Outcome out, actions published.

The only module that knows every stage. It keeps the little conversation state there is
(a pending confirmation, the device states reported on MQTT) and the broker connection.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from assistant import hermes
from assistant.broker import LOOPBACK, EmbeddedBroker, port_accepts
from assistant.config import Config
from assistant.errors import AssistantError, ConfigError, ModelError
from assistant.guard import refusal
from assistant.mapper import Mapped, Mapper
from assistant.matcher import TemplateMatcher
from assistant.mqtt import MqttLink
from assistant.repairs import Repairer, home_names, skill_words
from assistant.skills import IntentKind, SkillSet, cross_check, load_skills
from assistant.structs import Action, Engine, Message, Outcome, Parse, ParsedIntent, Status

log = logging.getLogger(__name__)

EXACT_HIT = 0.97  # rules confidence at or above which the template result is final
FLUSH_TIMEOUT_S = 10.0


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


@dataclass
class _PendingConfirm:
    actions: tuple[Action, ...]
    parse: Parse
    text: str
    deadline: float  # time.monotonic() after which a "yes" no longer counts


class Understanding:
    """Chooses between the template matcher and the micro-LLM; both feed the same mapper."""

    def __init__(self, skills: SkillSet, config: Config, engine: str) -> None:
        self.engine = Engine(engine)
        self.matcher = TemplateMatcher(skills, config)
        self.min_confidence = config.understanding.min_confidence
        self.repairer = Repairer(home_names(config), skill_words(config))
        self.lm: Any = None
        self.lm_error: str | None = None
        if self.engine is not Engine.RULES:
            try:
                from assistant.lm import MicroLM  # onnxruntime is only loaded when wanted

                self.lm = MicroLM.load(config.resolve(config.understanding.model_dir), skills,
                                       min_confidence=self.min_confidence)
            except (ModelError, ImportError, OSError) as exc:
                self.lm_error = str(exc)
                if self.engine is Engine.LM:
                    raise ModelError(f"the micro-LLM cannot be used: {exc}") from exc
                log.warning("micro-LLM unavailable, using templates only: %s", exc)

    def understand(self, text: str) -> Parse:
        """Both engines read the utterance with the speaker's own repairs made ("the kitchen,
        no, the hall"); offsets in the result point into `text` as said."""
        repaired = self.repairer.repair(text)
        if not repaired.edits:
            return self._understand(text)
        return repaired.restore(self._understand(repaired.text))

    def _understand(self, text: str) -> Parse:
        # With the model at hand, the slow template repairs wait until it has had its say.
        fast = self.engine is Engine.AUTO and self.lm is not None
        rules = (self.matcher.match(text, tolerant=not fast)
                 if self.engine is not Engine.LM else None)
        if rules is not None and rules.intents and rules.confidence >= EXACT_HIT:
            return rules  # an exact template hit is certain and instant
        refused = refusal(text)
        if refused is not None:
            return Parse((), self.engine, 1.0, reason=refused)
        if rules is not None and (self.engine is Engine.RULES or self.lm is None):
            return rules
        if self.engine is Engine.LM or rules is None:
            parse: Parse = self.lm.parse(text)
            return parse
        lm_parse: Parse = self.lm.parse(text)  # already empty when below min_confidence
        pieces, guessed = self._by_segments(text)
        if pieces is not None and pieces.engine is Engine.RULES:
            return pieces  # every part an exact template hit: certain, as for a whole one
        if (pieces is not None and len(pieces.intents) > len(lm_parse.intents)
                and all(_among(p, lm_parse.intents) for p in guessed)):
            # a list of commands, each part understood, more than the whole gave; a part the
            # model read on its own counts only if the whole reading has it too (a remark
            # around a command, read alone, is not a command)
            return pieces
        if lm_parse.intents:
            return replace(lm_parse, engine=Engine.LM)
        if pieces is not None:
            return pieces
        rules = self.matcher.match(text)  # tolerant repairs, and the precise reason
        if rules.intents:
            return rules  # tolerant template match beats an unsure model
        # Neither is sure: keep the most specific reason ("unknown device: ..." > "not understood").
        reason = rules.reason if rules.reason != "not understood" else (lm_parse.reason or
                                                                        rules.reason)
        return Parse((), Engine.AUTO, max(lm_parse.confidence, 0.0), reason=reason,
                     unknown_names=rules.unknown_names)


    def _by_segments(self, text: str) -> tuple[Parse | None, list[ParsedIntent]]:
        """Several commands the model was unsure of as a whole, understood one by one; and
        the commands of parts the model read on its own (not a template hit, not an item of
        a list after a verb)."""
        segments = split_commands(text)
        if not 2 <= len(segments) <= MAX_SEGMENTS:
            return None, []
        intents: list[ParsedIntent] = []
        confidence = 1.0
        exact = True
        guessed: list[ParsedIntent] = []
        source: tuple[int, str] | None = None  # the part whose verb a verbless part takes
        for start, piece in segments:
            parse = self.matcher.match(piece, tolerant=False)
            exact = exact and bool(parse.intents) and parse.confidence >= EXACT_HIT
            if not parse.intents and source is not None:
                # a verbless item of a list ("..., the tv and the lamp") takes the verb first:
                # alone, the model would guess one
                borrowed = self._with_verb(source, (start, piece))
                if borrowed is not None:
                    intents += borrowed.intents
                    confidence = min(confidence, borrowed.confidence)
                    exact = False
                    continue
            source = (start, piece) if _verb_lead(piece) else None
            if not parse.intents:
                parse = self.lm.parse(piece)
                guessed += parse.intents
            if not parse.intents:
                return None, []
            confidence = min(confidence, parse.confidence)
            intents += [_shifted(p, start) for p in parse.intents]
        return Parse(tuple(intents), Engine.RULES if exact else Engine.LM, confidence), guessed

    def _with_verb(self, before: tuple[int, str], part: tuple[int, str]) -> Parse | None:
        """"turn off the christmas tree, the tv and the floor lamp": a part with no verb of
        its own, read with the verb that opened the list. Offsets point into the original
        text (the verb where it was said)."""
        if part[1].split()[0].lower() not in _VERBLESS_OPENINGS:
            return None
        words = before[1].split()
        lead = _verb_lead(before[1])
        tail = words[-1].lower() if words[-1].lower() in ("on", "off", "up", "down") else ""
        text = f"{lead} {part[1]}" + (f" {tail}" if tail and not part[1].lower().endswith(
            (" on", " off", " up", " down")) else "")
        parse = self.matcher.match(text, tolerant=False)
        if not parse.intents:
            parse = self.lm.parse(text)
        if not parse.intents:
            return None
        width = len(lead) + 1

        def at(pos: int) -> int:
            if pos < width:
                return before[0] + pos
            return min(part[0] + pos - width, part[0] + len(part[1]))

        out = []
        for p in parse.intents:
            slots = {k: v if v.start_char is None or v.end_char is None else
                     replace(v, start_char=at(v.start_char), end_char=at(v.end_char))
                     for k, v in p.slots.items()}
            out.append(ParsedIntent(p.intent, slots))
        return Parse(tuple(out), Engine.LM, parse.confidence)


_SEGMENT_RE = re.compile(r"\s*(?:,|;|\band then\b|\bafter that\b|\band also\b|\band\b|"
                         r"\bthen\b|\balso\b|\bplus\b)\s*", re.IGNORECASE)
MAX_SEGMENTS = 4
# A part that opens with one of these has no verb of its own ("..., the tv and the lamp").
_VERBLESS_OPENINGS = frozenset({"the", "my", "our", "a", "all", "every"})


def _among(parsed: ParsedIntent, others: tuple[ParsedIntent, ...]) -> bool:
    """The same command (intent and slot values, case aside) is one of `others`."""
    def values(p: ParsedIntent) -> dict[str, str]:
        return {k: str(v.value).lower() for k, v in p.slots.items()}
    return any(o.intent == parsed.intent and values(o) == values(parsed) for o in others)


def _verb_lead(piece: str) -> str:
    """The one to three words before a part's first article ("turn off" of "turn off the
    tv"), which a verbless part after it may take; "" when there are none."""
    words = piece.split()
    cut = next((i for i, w in enumerate(words) if w.lower() in _VERBLESS_OPENINGS), 0)
    return " ".join(words[:cut]) if 0 < cut <= 3 else ""


def split_commands(text: str) -> list[tuple[int, str]]:
    """(start offset, text) of each part between connectors and commas, empty parts dropped."""
    out: list[tuple[int, str]] = []
    pos = 0
    for m in [*_SEGMENT_RE.finditer(text), None]:
        end = m.start() if m is not None else len(text)
        piece = text[pos:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append((pos + lead, piece.strip()))
        if m is not None:
            pos = m.end()
    return out


def _shifted(parsed: ParsedIntent, offset: int) -> ParsedIntent:
    slots = {k: v if v.start_char is None or v.end_char is None else
             replace(v, start_char=v.start_char + offset, end_char=v.end_char + offset)
             for k, v in parsed.slots.items()}
    return ParsedIntent(parsed.intent, slots)


class Assistant:
    """Text to checked, published actions; `publish=False` decides without sending."""

    def __init__(self, config: Config, *, engine: str | None = None, publish: bool = True,
                 skills: SkillSet | None = None) -> None:
        self.config = config
        self.skills = skills or load_skills(config.resolve(config.skills_dir))
        problems = cross_check(config, self.skills)
        if problems:
            raise ConfigError(problems)
        self.understanding = Understanding(self.skills, config,
                                           engine or config.understanding.engine)
        self.mapper = Mapper(self.skills, config)
        self.site_id = config.effective_site_id
        self.states: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        # The matcher and the model keep per-call state; satellites and hub queries arrive on
        # threads of their own, so one utterance is understood at a time.
        self._understand_lock = threading.Lock()
        self._pending: _PendingConfirm | None = None
        self.broker: EmbeddedBroker | None = None
        self.link: MqttLink | None = None
        self.on_query_outcome: Callable[[Outcome], None] | None = None
        if publish:
            self._connect()

    def for_site(self, site_id: str) -> Assistant:
        """This assistant speaking for another site (a satellite's room): the same models,
        broker link and device states, but `site_id` in every Hermes message and reply, and
        its own pending confirmation (a "yes" said in the kitchen must not confirm a question
        asked in the hall). Close the original, not a view: the link is the original's."""
        import copy

        view = copy.copy(self)  # shares the locks too: still one utterance understood at a time
        view.site_id = site_id
        view._pending = None
        return view

    # --- connection ---------------------------------------------------------------------

    def _connect(self) -> None:
        mq = self.config.mqtt
        host, port = mq.host, mq.port
        if mq.host == "embedded":
            if port_accepts(mq.port):
                # Debian's mosquitto package runs a loopback broker on 1883 already: use it.
                log.warning("a broker already listens on %s:%d; using it instead of starting one",
                            LOOPBACK, mq.port)
                host, port = LOOPBACK, mq.port
            else:
                self.broker = EmbeddedBroker(mq.port, self.config.resolve("var/broker"))
                self.broker.watch()  # started now, restarted should it ever die
                host, port = self.broker.host, self.broker.port
        self.link = MqttLink(mq, self.site_id, self.config.resolve(mq.outbox_path),
                             host=host, port=port)
        for entity in self.config.entities:
            if entity.state_topic:
                self.link.subscribe(entity.state_topic, self._state_handler(entity.id))
        self.link.subscribe(hermes.NLU_QUERY_TOPIC, self._on_nlu_query)
        self.link.start()

    def _state_handler(self, entity_id: str) -> Callable[[str, bytes], None]:
        def handle(topic: str, payload: bytes) -> None:
            if not payload.strip():  # a cleared retained state: we no longer know it
                with self._lock:
                    self.states.pop(entity_id, None)
                return
            try:
                data = json.loads(payload.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                data = {"state": payload.decode("utf-8", errors="replace").strip()}
            if isinstance(data, dict):
                with self._lock:
                    self.states[entity_id] = data
            else:
                log.debug("ignoring non-object state on %s", topic)

        return handle

    def _on_nlu_query(self, topic: str, payload: bytes) -> None:
        query = hermes.parse_nlu_query(payload)
        if isinstance(query, hermes.Malformed):
            log.warning("ignored malformed %s: %s", topic, query.reason)
            return
        if query.site_id not in (self.site_id, hermes.DEFAULT_SITE_ID):
            return  # another satellite's query, on a shared broker
        outcome = self.handle_text(query.input, source="mqtt", session_id=query.session_id,
                                   request_id=query.request_id)
        if self.on_query_outcome is not None:
            self.on_query_outcome(outcome)

    def close(self, flush_timeout_s: float = FLUSH_TIMEOUT_S) -> int:
        """Deliver what is queued (bounded wait), disconnect; returns messages still queued."""
        left = 0
        if self.link is not None:
            if not self.link.flush(flush_timeout_s):
                left = self.link.pending_count()
            self.link.close()
            self.link = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
        return left

    # --- one utterance ------------------------------------------------------------------

    def handle(self, text: str, **kwargs: Any) -> Outcome:
        """handle_text, but a failure in this one utterance becomes a `status: error`
        outcome instead of stopping a service that has other commands to hear."""
        try:
            return self.handle_text(text, **kwargs)
        except AssistantError as exc:
            log.warning("could not handle %r: %s", text, exc)
            return error_outcome(text, exc, kwargs.get("source", "text"))

    def handle_text(self, text: str, *, source: str = "text", wav: str | None = None,
                    heard: str | None = None, timings_ms: dict[str, float] | None = None,
                    session_id: str | None = None, request_id: str | None = None) -> Outcome:
        timings = dict(timings_ms or {})
        t0 = time.perf_counter()
        with self._understand_lock:
            parse = self.understanding.understand(text)
        timings["lm" if parse.engine is Engine.LM else "understand"] = _ms(t0)
        t1 = time.perf_counter()
        with self._lock:
            states = dict(self.states)
        mapped = self.mapper.map(parse, states, utterance=text)
        mapped = self._converse(mapped, parse, text)
        timings["map"] = _ms(t1)
        t2 = time.perf_counter()
        self._publish(mapped, parse, text, session_id, request_id)
        timings["publish"] = _ms(t2)
        return Outcome(
            input=text, source=source, status=mapped.status, reason=mapped.reason,
            actions=mapped.actions, speech=mapped.speech, heard=heard, wav=wav,
            question=mapped.question, pending=mapped.pending, engine=parse.engine.value,
            confidence=parse.confidence, timings_ms=timings)

    def _converse(self, mapped: Mapped, parse: Parse, text: str) -> Mapped:
        """Confirmation dialogue: a risky action waits for "yes" within the window."""
        now = time.monotonic()
        with self._lock:
            pending = self._pending
            if pending is not None and now > pending.deadline:
                pending = self._pending = None
            if mapped.control is IntentKind.CONFIRM:
                if pending is None:
                    return Mapped(Status.REJECTED, "nothing to confirm",
                                  speech="There's nothing waiting for a yes.")
                self._pending = None
                said = [a.speech for a in pending.actions if a.speech]
                return Mapped(Status.OK, None, pending.actions, speech=" ".join(said))
            if mapped.control in (IntentKind.CANCEL, IntentKind.NEVERMIND):
                self._pending = None
                if pending is not None:
                    return Mapped(Status.OK, None, (), speech="Okay, I won't.")
                return Mapped(Status.OK, None, (), speech="Okay.")
            if mapped.status is Status.CONFIRM:
                window = self.config.safety.confirm_window_s
                self._pending = _PendingConfirm(mapped.pending, parse, text, now + window)
            elif mapped.status is Status.OK:
                self._pending = None  # a new command replaces an unanswered question
        return mapped

    def _publish(self, mapped: Mapped, parse: Parse, text: str, session_id: str | None,
                 request_id: str | None) -> None:
        if self.link is None:
            return
        messages: list[Message] = []
        for action in mapped.actions:
            messages.extend(action.messages)
        if self.config.mqtt.hermes:
            by_intent = {p.intent: p for p in parse.intents}
            for action in mapped.actions:
                parsed = by_intent.get(action.intent)
                if parsed is None or (not action.targets and not action.messages and (
                        action.intent in ("ConfirmYes", "ConfirmNo", "HassNevermind"))):
                    continue
                messages.append(hermes.intent_message(
                    parsed, action, text, self.site_id, session_id, parse.confidence,
                    request_id=request_id, lang=self.config.language))
            if mapped.status is Status.REJECTED:
                messages.append(hermes.not_recognized_message(
                    text, self.site_id, session_id, request_id=request_id))
        if messages:
            self.link.publish(messages)
        if self.config.feedback.hermes_tts and mapped.speech:
            self.link.publish([hermes.tts_say_message(mapped.speech, self.site_id, session_id,
                                                      request_id=str(uuid.uuid4()),
                                                      lang=self.config.language)],
                              durable=False)


def outcome_line(outcome: Outcome) -> str:
    return json.dumps(outcome.to_json(), ensure_ascii=False)


def error_outcome(text: str, exc: AssistantError, source: str = "text") -> Outcome:
    return Outcome(input=text, source=source, status=Status.ERROR, reason=str(exc),
                   speech="Sorry, something went wrong.")


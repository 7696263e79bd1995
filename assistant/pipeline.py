"""Wires the stages: text (typed, heard or from a hub) in, Outcome out, actions published.

The only module that knows every stage. It keeps the little conversation state there is
(a pending confirmation, the device states reported on MQTT) and the broker connection.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from assistant import hermes
from assistant.broker import LOOPBACK, EmbeddedBroker, port_accepts
from assistant.config import Config
from assistant.errors import AssistantError, ConfigError
from assistant.followup import follow_up
from assistant.mapper import Mapped, Mapper
from assistant.mqtt import MqttLink
from assistant.skills import IntentKind, SkillSet, cross_check, load_skills
from assistant.structs import Action, Engine, Message, Outcome, Parse, Status
from assistant.understanding import Understanding

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 10.0
# "it", "them", "and the hallway too" and "a bit more" point back at the last command's
# actions for this long
PREVIOUS_S = 120.0


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


@dataclass
class _PendingConfirm:
    actions: tuple[Action, ...]
    parse: Parse
    text: str
    deadline: float  # time.monotonic() after which a "yes" no longer counts


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
        self._previous: tuple[tuple[Action, ...], float] = ((), 0.0)  # (actions, when)
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
        view._previous = ((), 0.0)  # "turn them off" in the kitchen means the kitchen's
        return view

    @property
    def waiting_for_yes(self) -> bool:
        """A risky action asked for confirmation, and the answer is not yet overdue."""
        with self._lock:
            return self._pending is not None and time.monotonic() <= self._pending.deadline

    def forget(self) -> None:
        """A new conversation: no question waits for a yes, and "it" points at nothing."""
        with self._lock:
            self._pending = None
            self._previous = ((), 0.0)

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

    def not_plainly_a_command(self, text: str) -> str | None:
        """Why these words are not to be acted on without a sure wake phrase, or None.

        Plainly a command: understood as such without the previous command (no follow-up
        such as "and the kitchen too") and not an answer to a question ("yes", "cancel"),
        which talk on a television must never give. Nothing is published or remembered.
        """
        with self._understand_lock:
            parse = self.understanding.understand(text)
        with self._lock:
            states = dict(self.states)
        mapped = self.mapper.map(parse, states, utterance=text,
                                 site_area=self.config.site_areas.get(self.site_id))
        if mapped.status is Status.REJECTED:
            return mapped.reason or "not understood"
        if mapped.control is not None:
            return f"an answer ({mapped.control.value})"
        return None

    def handle_text(self, text: str, *, source: str = "text", wav: str | None = None,
                    heard: str | None = None, timings_ms: dict[str, float] | None = None,
                    session_id: str | None = None, request_id: str | None = None) -> Outcome:
        timings = dict(timings_ms or {})
        t0 = time.perf_counter()
        with self._lock:
            previous, when = self._previous
        if time.monotonic() - when > PREVIOUS_S:
            previous = ()
        # "and the hallway too" is only a follow-up, whatever an engine would guess for it
        followed = follow_up(text, previous, self.mapper.resolver) if previous else None
        with self._understand_lock:
            parse = followed or self.understanding.understand(text)
        timings["lm" if parse.engine is Engine.LM else "understand"] = _ms(t0)
        t1 = time.perf_counter()
        with self._lock:
            states = dict(self.states)
        mapped = self.mapper.map(parse, states, utterance=text,
                                 site_area=self.config.site_areas.get(self.site_id),
                                 previous=tuple(t for a in previous for t in a.targets))
        mapped = self._converse(mapped, parse, text)
        if any(a.targets for a in mapped.actions):
            with self._lock:
                self._previous = (mapped.actions, time.monotonic())
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
            elif mapped.status is Status.OK and any(a.messages for a in mapped.actions):
                # A new command replaces an unanswered question ("yes and turn on the garage
                # light" answers nothing): say so, or the user may think it was done too.
                # A question ("is the garage light on?") leaves it waiting.
                if pending is not None:
                    mapped = replace(mapped, speech=(
                        f'{mapped.speech} I left "{pending.text}" undone.').strip())
                self._pending = None
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


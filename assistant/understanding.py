"""Takes an utterance's text; returns one Parse for it from the templates or the micro-LLM.

Both engines read the utterance with the speaker's own repairs made, and feed the same
mapper. An exact template hit is final; otherwise the model reads the whole, and a list of
several commands is also read part by part ("turn off the tv, the lamp and the fan").
Offsets in the result point into the text as said.
"""

from __future__ import annotations

import logging
import operator
import re
from dataclasses import replace
from functools import partial
from typing import Any

from assistant.config import Config
from assistant.errors import ModelError
from assistant.grounding import KIND_WORDS, MAX_NAME_WORDS, bare_question
from assistant.guard import refusal
from assistant.matcher import TemplateMatcher
from assistant.repairs import Repairer, home_names, skill_words
from assistant.resolve import DEVICE_WORDS, Resolver, key
from assistant.skills import IntentKind, SkillSet
from assistant.structs import Engine, Parse, ParsedIntent, moved
from assistant.textnorm import normalize

log = logging.getLogger(__name__)

EXACT_HIT = 0.97  # rules confidence at or above which the template result is final
QUESTION_CONFIDENCE = 0.3  # the model's bar for a plain question that only asks
REMARK_CONFIDENCE = 0.75  # how sure the model must be that a part around a command is none


class Understanding:
    """Chooses between the template matcher and the micro-LLM; both feed the same mapper."""

    def __init__(self, skills: SkillSet, config: Config, engine: str) -> None:
        self.engine = Engine(engine)
        self.skills = skills
        self.matcher = TemplateMatcher(skills, config)
        self.min_confidence = config.understanding.min_confidence
        self.repairer = Repairer(home_names(config), skill_words(config))
        resolver = Resolver(config)  # names in `key` form
        self._device_names = set(resolver.by_name)
        self._place_names = set(resolver.areas) | set(resolver.floors)
        self.lm: Any = None
        self.lm_error: str | None = None
        self._reads: dict[tuple[str, str], Parse] = {}  # parts read for this utterance
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

    def _exact(self, piece: str) -> Parse:
        """The templates' plain reading of a part, read once per utterance."""
        key = ("rules", piece)
        if key not in self._reads:
            self._reads[key] = self.matcher.match(piece, tolerant=False)
        return self._reads[key]

    def _model(self, piece: str) -> Parse:
        """The model's reading of a part, read once per utterance."""
        key = ("lm", piece)
        if key not in self._reads:
            self._reads[key] = self.lm.parse(piece)
        return self._reads[key]

    def _understand(self, text: str) -> Parse:
        self._reads = {}  # the list reading and the remarks reading look at the same parts
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
        lm_parse = self._question(text, lm_parse)
        pieces, guessed = self._by_segments(text)
        if pieces is not None and pieces.engine is Engine.RULES:
            return pieces  # every part an exact template hit: certain, as for a whole one
        if (pieces is not None and len(pieces.intents) > len(lm_parse.intents)
                and all(_among(p, lm_parse.intents) for p in guessed)):
            # a list of commands, each part understood, more than the whole gave; a part the
            # model read on its own counts only if the whole reading has it too (a remark
            # around a command, read alone, is not a command)
            return pieces
        among = self._among_remarks(text)
        if among is not None:
            return among
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
            parse = self._exact(piece)
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
                parse = self._model(piece)
                guessed += parse.intents
            if not parse.intents:
                return None, []
            confidence = min(confidence, parse.confidence)
            shift = partial(operator.add, start)  # the part's offsets, in the whole text
            intents += [moved(p, shift, shift) for p in parse.intents]
        return Parse(tuple(intents), Engine.RULES if exact else Engine.LM, confidence), guessed

    def _question(self, text: str, parse: Parse) -> Parse:
        """"did i leave the kitchen lights on": a plain question the model read as one, a
        little below its bar. Asking changes nothing in the home, so a reading that only
        asks may be taken on less certainty; the mapper still ties it to what was said."""
        asks = parse.unsure and all(
            (spec := self.skills.specs.get(p.intent)) is not None
            and spec.kind is IntentKind.STATE for p in parse.unsure)
        if not asks or parse.confidence < QUESTION_CONFIDENCE or not bare_question(text):
            return parse
        return Parse(parse.unsure, Engine.LM, parse.confidence)

    def _among_remarks(self, text: str) -> Parse | None:
        """"front light on, the delivery is coming": one part an exact template hit, and
        every other part a remark the model is sure is no command. The hit alone (its
        offsets in the whole text); None otherwise."""
        segments = split_commands(text)
        if not 2 <= len(segments) <= MAX_SEGMENTS:
            return None
        hit: Parse | None = None
        remarks: list[str] = []
        for start, piece in segments:
            parse = self._exact(piece)
            if parse.intents and parse.confidence >= EXACT_HIT:
                if hit is not None:
                    return None  # several commands: the list reading's job
                shift = partial(operator.add, start)
                hit = replace(parse, intents=tuple(moved(p, shift, shift)
                                                   for p in parse.intents))
                continue
            remarks.append(piece)
        if hit is None:
            return None
        named = any("name" in p.slots for p in hit.intents)
        for piece in remarks:
            devices, places = self._said(piece)
            if devices or (places and not named):
                # "bathroom's empty, lights off", "..., the kitchen lights": the part says
                # where or what, so it is part of the command, not a remark
                return None
            remark = self._model(piece)
            if remark.intents or remark.reason != "not understood" or (
                    remark.confidence < REMARK_CONFIDENCE):
                return None
        return hit

    def _said(self, piece: str) -> tuple[bool, bool]:
        """Whether a part names a device or a kind of device; whether it names a place."""
        words = normalize(piece).text.split()
        if set(words) & _KIND_WORDS:
            return True, False
        keys = key(" ".join(words)).split()
        spans = {" ".join(keys[i:i + n]) for n in range(1, MAX_NAME_WORDS + 1)
                 for i in range(len(keys) - n + 1)}
        return bool(spans & self._device_names), bool(spans & self._place_names)

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

        out = [moved(p, at, at) for p in parse.intents]
        return Parse(tuple(out), Engine.LM, parse.confidence)


_SEGMENT_RE = re.compile(r"\s*(?:,|;|\band then\b|\bafter that\b|\band also\b|\band\b|"
                         r"\bthen\b|\balso\b|\bplus\b)\s*", re.IGNORECASE)
MAX_SEGMENTS = 4
_KIND_WORDS = frozenset(DEVICE_WORDS).union(*KIND_WORDS.values())
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

"""The deterministic template matcher: utterance text in, Parse (intents, slots, spans) out.

Exact hassil template hits first; then several commands joined by "and"/"then"; then a
tolerant pass that corrects near-miss words against the template vocabulary. Near-ties
between different readings are refused rather than guessed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hassil import Intents, RecognizeResult, TextSlotList, TextSlotValue, recognize_all
from hassil.intents import RangeSlotList
from hassil.models import UnmatchedTextEntity

from assistant.config import Config
from assistant.guard import refusal
from assistant.skills import ANSWER_LEADS, HOME_LISTS, SkillSet, home_lists
from assistant.structs import Engine, Parse, ParsedIntent, SlotValue
from assistant.textnorm import Normalized, Token, normalize
from assistant.tmplindex import TemplateIndex

log = logging.getLogger(__name__)

WARM_UP = ("turn on the light", "turn of the lights and close the blind",
           "turn on the flux capacitor", "the light on and the good night white")
CONNECTORS = ("and then", "after that", "and also", "and", "then", "also", "plus")
MAX_SPLITS = 3  # commands per utterance the matcher tries to separate
# Template match attempts per utterance: bounds the time spent on rambles and repairs.
MATCH_BUDGET = 16
EXACT_CONFIDENCE = 1.0
SPLIT_CONFIDENCE = 0.97
TOLERANT_CONFIDENCE = 0.85
_WORD_RE = re.compile(r"[a-z][a-z']*")
# Words recognisers and typists swap for each other; tried only when nothing else matched.
CONFUSIONS = {"of": "off", "too": "to", "to": "two", "for": "four", "hi": "high",
              "lite": "light", "lites": "lights", "blinds": "blind", "blind": "blinds",
              "light": "lights", "lights": "light", "won": "one", "the": "a"}
_LEADING_NOISE = frozenset({"is", "are", "was", "the", "a", "an", "my", "our", "on", "in", "of",
                            "all", "at", "for", "to"})
# Words of people, not of devices: "are you coming" is nobody's name for a lamp.
_PERSONS = frozenset({"i", "i'm", "i've", "me", "you", "you're", "we", "we're", "us", "they",
                      "they're", "he", "he's", "she", "she's", "did", "do", "does", "it",
                      "them", "those", "these", "that"})
MAX_BORROWED_WORDS = 3  # "turn on the" at most, lent to a command that lacks its verb
# Words that make an utterance a command or device question; without one, an unmatched
# phrase is "not understood" rather than "unknown device".
COMMAND_WORDS = frozenset({
    "turn", "switch", "set", "open", "close", "shut", "lock", "unlock", "dim", "brighten",
    "start", "stop", "pause", "resume", "activate", "is", "are", "raise", "lower", "kill",
    "toggle", "flip", "vacuum", "clean", "dock", "put", "power", "make",
})


@dataclass(frozen=True)
class _Hit:
    intent: ParsedIntent
    score: int  # literal text chunks matched


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from a to b; > limit early."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                d = min(d, before[j - 2] + 1)  # "tunr" -> "turn" is one slip, not two
            cur.append(d)
        if min(cur) > limit:
            return limit + 1
        before, prev = prev, cur
    return prev[-1]


def _identity(words: list[str]) -> Normalized:
    """A Normalized whose spans point into its own text: for repaired word lists."""
    tokens, pos = [], 0
    for w in words:
        tokens.append(Token(w, pos, pos + len(w)))
        pos += len(w) + 1
    return Normalized(" ".join(words), tuple(tokens))


def _remap(intent: ParsedIntent, fixed: Normalized, perm: list[int],
           norm: Normalized) -> ParsedIntent:
    """Slot spans in repaired text -> spans of the input words they came from."""
    slots = {}
    for name, sv in intent.slots.items():
        if sv.start_char is None or sv.end_char is None:
            slots[name] = sv
            continue
        src = [norm.tokens[perm[i]] for i, t in enumerate(fixed.tokens)
               if t.end_char > sv.start_char and t.start_char < sv.end_char]
        start = min((t.start_char for t in src), default=None)
        end = max((t.end_char for t in src), default=None)
        slots[name] = SlotValue(sv.value, sv.text, start, end)
    return ParsedIntent(intent.intent, slots)


def _rank(hit: _Hit) -> tuple[int, int, int, int]:
    """Best first: most words bound to slots, then more slots, then a named device."""
    spoken = [v for v in hit.intent.slots.values() if v.start_char is not None]
    covered = sum(len(v.text.split()) for v in spoken)
    return (-covered, -len(spoken), -int("name" in hit.intent.slots), -hit.score)


def _number(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class TemplateMatcher:
    """Matches utterances against the skills' templates and the home's names."""

    def __init__(self, skills: SkillSet, config: Config) -> None:
        lists = home_lists(config)
        # Also accept each name as the normaliser writes it ("bedroom two" -> "bedroom 2").
        for list_name in HOME_LISTS:
            slot_list = lists[list_name]
            assert isinstance(slot_list, TextSlotList)
            extra = []
            for v in slot_list.values:
                spoken = str(v.text_in.text if hasattr(v.text_in, "text") else v.text_in)
                norm = normalize(spoken).text
                if norm and norm != spoken:
                    extra.append(TextSlotValue.from_tuple((norm, v.value_out)))
            lists[list_name] = TextSlotList(name=list_name, values=[*slot_list.values, *extra])
        self.intents: Intents = skills.hassil_intents(lists)
        for slot_list in self.intents.slot_lists.values():
            if isinstance(slot_list, RangeSlotList):
                # The normaliser has already written spoken numbers as digits; hassil's own
                # table of number words (10 MB for the 0-1000 lists) would never be used.
                slot_list.words = False
        self.index = TemplateIndex(self.intents)
        self.vocabulary = self._vocabulary(skills, lists)
        self.template_words = self._vocabulary(skills, {})
        self.known_names = {
            normalize(str(v.text_in.text if hasattr(v.text_in, "text") else v.text_in)).text
            for name in HOME_LISTS for v in lists[name].values  # type: ignore[attr-defined]
        }
        self.place_names = {
            normalize(str(v.text_in.text if hasattr(v.text_in, "text") else v.text_in)).text
            for name in ("area", "floor") for v in lists[name].values  # type: ignore[attr-defined]
        }
        self.intent_domains = {name: set(spec.domains) for name, spec in skills.specs.items()}
        self.name_domains: dict[str, set[str]] = {}
        for e in config.entities:
            if e.expose:
                self.name_domains.setdefault(e.name, set()).add(e.domain)
        # hassil builds per-template caches lazily; build them now, not mid-command.
        for text in WARM_UP:
            self.match(text)

    @staticmethod
    def _vocabulary(skills: SkillSet, lists: Mapping[str, object]) -> frozenset[str]:
        words: set[str] = set()

        def scan(obj: object) -> None:
            if isinstance(obj, str):
                words.update(_WORD_RE.findall(obj.lower()))
            elif isinstance(obj, dict):
                for v in obj.values():
                    scan(v)
            elif isinstance(obj, list):
                for v in obj:
                    scan(v)

        scan(skills.template_dict.get("intents"))
        scan(skills.template_dict.get("lists"))
        scan(skills.template_dict.get("expansion_rules"))
        for slot_list in lists.values():
            if isinstance(slot_list, TextSlotList):
                for v in slot_list.values:
                    scan(str(v.text_in.text if hasattr(v.text_in, "text") else v.text_in))
        return frozenset(words)

    # --- public -------------------------------------------------------------------------

    def match(self, text: str, *, tolerant: bool = True) -> Parse:
        """Exact and several-command matches; with `tolerant`, also repairs and reasons."""
        self._calls_left = MATCH_BUDGET
        norm = normalize(text)
        if not norm.text:
            return Parse((), Engine.RULES, 0.0, reason="empty input")
        hits, tie = self._match_one(norm.text, 0, norm)
        if tie:
            return Parse((), Engine.RULES, 0.0, reason="ambiguous: " + tie)
        if hits is not None:
            return Parse((hits,), Engine.RULES, EXACT_CONFIDENCE)
        multi = self._match_split(norm)
        if multi:
            return Parse(tuple(multi), Engine.RULES, SPLIT_CONFIDENCE)
        if not tolerant:
            return Parse((), Engine.RULES, 0.0, reason="not understood")
        for words, perm in self._corrections(norm.text.split()):
            fixed = _identity(words)
            hit, tie = self._match_one(fixed.text, 0, None)
            if hit is not None and not tie:
                return Parse((_remap(hit, fixed, perm, norm),), Engine.RULES,
                             TOLERANT_CONFIDENCE)
            multi = self._match_split(fixed)
            if multi:
                return Parse(tuple(_remap(h, fixed, perm, norm) for h in multi), Engine.RULES,
                             TOLERANT_CONFIDENCE)
        refused = refusal(text)
        if refused is not None:
            return Parse((), Engine.RULES, 1.0, reason=refused)
        unknown = self._unknown_names(norm.text)
        if unknown:
            return Parse((), Engine.RULES, 0.0, reason="unknown device: " + ", ".join(unknown),
                         unknown_names=tuple(unknown))
        return Parse((), Engine.RULES, 0.0, reason="not understood")

    # --- stages -------------------------------------------------------------------------

    def _results(self, text: str, **kwargs: object) -> Iterable[RecognizeResult]:
        # The index is exact for plain matching only; unmatched entities match any text.
        intents = self.intents if kwargs else self.index.candidates(text)
        return recognize_all(text, intents, language="en", **kwargs)  # type: ignore[arg-type]

    def _match_one(
        self, text: str, offset: int, norm: Normalized | None
    ) -> tuple[ParsedIntent | None, str | None]:
        """Best reading of `text`; (None, reason) when two different readings tie."""
        if self._calls_left <= 0:
            return None, None  # out of budget for this utterance: no reading
        self._calls_left -= 1
        best: dict[tuple[object, ...], _Hit] = {}
        for result in self._results(text):
            hit = _Hit(self._to_intent(result, offset, norm), result.text_chunks_matched)
            if not self._plausible(hit.intent):
                continue
            key = (hit.intent.intent, tuple(sorted(
                (k, str(v.value)) for k, v in hit.intent.slots.items())))
            if key not in best or best[key].score < hit.score:
                best[key] = hit
        if not best:
            return None, None
        ranked = sorted(best.values(), key=_rank)
        top = ranked[0]
        rivals = [h for h in ranked[1:] if _rank(h) == _rank(top)]
        if rivals and not self._compatible(top.intent, rivals):
            readings = " or ".join(
                sorted({h.intent.intent for h in [top, *rivals]}))
            log.debug("tie for %r: %s", text, readings)
            return None, readings
        return top.intent, None

    def _plausible(self, intent: ParsedIntent) -> bool:
        """A reading that names a device the intent cannot act on is no reading at all."""
        allowed = self.intent_domains.get(intent.intent)
        name = intent.slots.get("name")
        if not allowed or name is None:
            return True
        return bool(self.name_domains.get(str(name.value), set()) & allowed)

    @staticmethod
    def _compatible(top: ParsedIntent, rivals: list[_Hit]) -> bool:
        """Rivals that say the same thing with fewer/more implied slots are not a real tie."""
        for r in rivals:
            if r.intent.intent != top.intent:
                return False
            shared = set(r.intent.slots) & set(top.slots)
            if any(str(r.intent.slots[k].value) != str(top.slots[k].value) for k in shared):
                return False
        return True

    def _to_intent(self, result: RecognizeResult, offset: int,
                   norm: Normalized | None) -> ParsedIntent:
        slots: dict[str, SlotValue] = {}
        for name, ent in result.entities.items():
            start = end = None
            if ent.text_span is not None:
                s, e = ent.text_span[0] + offset, ent.text_span[1] + offset
                start, end = norm.span_to_input(s, e) if norm is not None else (s, e)
            slots[name] = SlotValue(_number(ent.value), ent.text_clean if ent.text else "",  # type: ignore[arg-type]
                                    start, end)
        return ParsedIntent(result.intent.name, slots)

    def _match_split(self, norm: Normalized) -> list[ParsedIntent]:
        words = norm.text.split()
        cuts: list[tuple[int, int]] = []  # (connector start word, words it spans)
        i = 0
        while i < len(words):
            for conn in CONNECTORS:
                n = len(conn.split())
                if words[i:i + n] == conn.split() and i > 0:
                    cuts.append((i, n))
                    i += n - 1
                    break
            i += 1
        if len(words) > 1 and words[0] in ANSWER_LEADS and cuts[:1] != [(1, 0)]:
            # "no turn on the garage light": an answer, then a command (no comma by voice)
            cuts.insert(0, (1, 0))
        if not cuts or len(cuts) > MAX_SPLITS * 2:
            return []
        self._memo: dict[tuple[int, int, tuple[str, ...]], ParsedIntent | None] = {}
        return self._segments(words, 0, cuts, norm) or []

    def _segments(self, words: list[str], start: int, cuts: list[tuple[int, int]],
                  norm: Normalized, verb: list[str] | None = None) -> list[ParsedIntent] | None:
        for k, (pos, n) in enumerate(cuts):
            if pos <= start:
                continue
            hit = self._segment(words, start, pos, norm, verb)
            if hit is None:
                continue
            rest_start = pos + n
            rest = self._segments(words, rest_start, cuts[k + 1:], norm,
                                  verb or words[start:pos])
            if rest:
                return [hit, *rest]
        if start == 0 or start >= len(words):
            return None
        hit = self._segment(words, start, len(words), norm, verb)
        return [hit] if hit is not None else None

    def _segment(self, words: list[str], start: int, end: int, norm: Normalized,
                 verb: list[str] | None) -> ParsedIntent | None:
        """One command of several; "turn on X and the Y" borrows "turn on" for the Y."""
        key = (start, end, tuple(verb or ()))
        if key not in self._memo:
            self._memo[key] = self._segment_uncached(words, start, end, norm, verb)
        return self._memo[key]

    def _segment_uncached(self, words: list[str], start: int, end: int, norm: Normalized,
                          verb: list[str] | None) -> ParsedIntent | None:
        offset = len(" ".join(words[:start])) + (1 if start else 0)
        hit, tie = self._match_one(" ".join(words[start:end]), offset, norm)
        if hit is not None and not tie:
            return hit
        if not verb or start == 0:
            return None
        for n in range(1, min(MAX_BORROWED_WORDS, len(verb)) + 1):
            prefix = " ".join(verb[:n])
            if not set(verb[:n]) & COMMAND_WORDS:
                continue
            # Slots keep offsets into the input: the borrowed words have no slots.
            text = prefix + " " + " ".join(words[start:end])
            hit, tie = self._match_one(text, offset - len(prefix) - 1, norm)
            if hit is not None and not tie and all(
                    v.start_char is None or v.start_char >= 0 for v in hit.slots.values()):
                return hit
        return None

    def _corrections(self, words: list[str]) -> list[tuple[list[str], list[int]]]:
        """Candidate repairs, each with the input word index of every repaired word:
        spelling, one confusable word, then the verb moved to the front."""
        out: list[tuple[list[str], list[int]]] = []
        identity = list(range(len(words)))
        spelled = self._correct(" ".join(words))
        base = spelled.split() if spelled is not None else words
        if spelled is not None:
            out.append((base, identity))
        for i, w in enumerate(base):
            if w in CONFUSIONS:
                out.append(([*base[:i], normalize(CONFUSIONS[w]).text, *base[i + 1:]], identity))
        for i, w in enumerate(base[1:], 1):
            if w in COMMAND_WORDS:  # "the kitchen lights turn off" -> "turn off the kitchen ..."
                out.append(([*base[i:], *base[:i]], [*identity[i:], *identity[:i]]))
        return out

    def _correct(self, text: str) -> str | None:
        """Replace out-of-vocabulary words by their single nearest vocabulary word."""
        out = []
        changed = False
        for word in text.split():
            if word in self.vocabulary or word[0].isdigit() or len(word) < 3:
                out.append(word)
                continue
            limit = 1 if len(word) < 7 else 2
            scored = sorted(
                (d, v) for v in self.vocabulary
                if (d := _edit_distance(word, v, limit)) <= limit
            )
            if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
                out.append(word)  # no or ambiguous correction: leave it
                continue
            out.append(scored[0][1])
            changed = True
        return " ".join(out) if changed else None

    def _unknown_names(self, text: str) -> list[str]:
        """Spoken device names that match nothing: the shortest such phrase of any reading."""
        words = set(text.split())
        if not words & COMMAND_WORDS:
            return []
        best: str | None = None
        for result in self._results(text, allow_unmatched_entities=True):
            if any(ent.name not in HOME_LISTS for ent in result.unmatched_entities_list):
                continue  # "did i remember to lock the door" as "{name} to {temperature}"
            for ent in result.unmatched_entities_list:
                if not isinstance(ent, UnmatchedTextEntity) or ent.name not in HOME_LISTS:
                    continue
                parts = ent.text.split()
                while parts and parts[0] in _LEADING_NOISE:
                    parts = parts[1:]  # "is the siren" -> "siren"
                spoken = " ".join(parts)
                if (not parts or len(parts) > 4 or spoken in self.known_names
                        or set(parts) & (COMMAND_WORDS | _PERSONS)
                        or parts[0] in ("and", "then")
                        or all(p in self.template_words for p in parts)
                        or any(f" {a} " in f" {spoken} " for a in self.place_names)):
                    continue  # "percent": a template word; "kitchen lights": a known place
                if best is None or len(spoken) < len(best):
                    best = spoken
        return [best] if best else []

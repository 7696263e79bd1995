"""Refuses utterances that mention a command without asking for it now: text in, reason out.

"Don't turn off the kitchen lights", "I turned off the kitchen lights", "turn off the
lights in ten minutes" all contain a command a paraphrase model may happily extract. None
of them asks for it now, so none of them may actuate anything. The template matcher's
exact hits never need this (templates contain no such words); everything else passes here
first.
"""

from __future__ import annotations

import re

from assistant.textnorm import normalize

NEGATED = "negated command"
NARRATION = "not a command"
DEFERRED = "timed commands are not supported yet"

# A negation only counts right before a command verb: "don't turn off", "do not open",
# not "is the front door locked or not" or "actually never mind".
_NEGATIONS = frozenset({"don't", "dont", "not", "never", "shouldn't", "mustn't", "won't",
                        "wouldn't", "didn't"})
_COMMAND_VERBS = frozenset({"turn", "switch", "open", "close", "shut", "lock", "unlock", "set",
                            "start", "stop", "dim", "change", "touch", "put", "raise", "lower",
                            "pause", "play", "activate", "run", "kill", "make", "brighten"})
_SUBJECTS = frozenset({"i", "we", "he", "she", "they", "someone", "somebody", "mum", "mom",
                       "dad", "i've", "we've", "they've", "she's", "he's"})
# Words of degree: after a negation they describe a state ("not fully open", "not quite
# closed"), they do not forbid a command.
_DEGREES = frozenset({"fully", "completely", "totally", "entirely", "quite", "all"})
# A subject after one of these asks ("can we have the lights on", "could i have ...").
_MODALS = frozenset({"can", "could", "may", "might", "would", "will", "shall"})
# Real past tenses of command verbs (and perfect/progressive helpers) after a subject.
_PAST = re.compile(r"^(?:turned|switched|opened|closed|locked|unlocked|started|stopped|paused|"
                   r"dimmed|killed|shut|had|have|was|were|did)$")
# Words ending in -ing that are not a verb after "was"/"were": "it was morning".
_ING_NOUNS = frozenset({"thing", "something", "nothing", "anything", "everything", "ceiling",
                        "lighting", "morning", "evening", "ring", "king", "spring", "string",
                        "building", "ping", "during", "ding"})
# Words that may stand between "were" and its -ing verb: "were still flickering".
_ADVERBS = frozenset({"still", "just", "all", "always", "already", "both", "really", "only"})
_TIME = re.compile(
    r"\b(?:in \d+(?:\.\d+)? (?:seconds?|secs?|minutes?|mins?|hours?|hrs?)|in (?:an|a|half an) "
    r"(?:hour|minute)|tomorrow|tonight|later on|later|"
    r"at \d+(?: \d+)? ?(?:am|pm|o'clock|oclock)\b|at \d+ \d\d\b|"
    r"every (?:day|night|morning|evening|hour)|when i (?:leave|get|come|go)|"
    r"at (?:noon|midnight|sunset|sunrise|bedtime)|this (?:evening|afternoon))")


def refusal(text: str) -> str | None:
    """Why this utterance must not actuate anything, or None when it is a plain request."""
    words = normalize(text).text.split()
    if not words:
        return None
    joined = " ".join(words)  # numbers are digits here: "in 10 minutes"
    for i, w in enumerate(words):
        after = words[i + 1:i + 3]
        if w == "do" and after[:1] == ["not"]:
            after = words[i + 2:i + 4]
        elif w not in _NEGATIONS:
            continue
        if (w == "not" and words[i - 1:i] != ["do"] and after[:1]
                and after[0] in _DEGREES and i + 3 == len(words)):
            continue  # "..., not fully open" at the end: how open, not an order not to open
        if any(a in _COMMAND_VERBS for a in after):
            return NEGATED
    # "I turned off ...", "we just left the lights on", "mum wants the heating on"
    for i, w in enumerate(words[:3]):
        if i > 0 and words[i - 1] in _MODALS:
            continue  # "can we have the lights on": a request
        if w in _SUBJECTS and any(_PAST.match(x) for x in words[i + 1:i + 4]):
            return NARRATION
    # "the lights at work were flickering", "the heating had been on": something that went
    # on then, with no command verb anywhere ("they were flickering, turn them off" asks)
    if _past_aside(words) and not _COMMAND_VERBS & set(words):
        return NARRATION
    if _TIME.search(joined):
        return DEFERRED
    return None


def _past_aside(words: list[str]) -> bool:
    """A past progressive or pluperfect: "were (still) flickering", "had been"."""
    for i, w in enumerate(words):
        if w == "had" and words[i + 1:i + 2] == ["been"]:
            return True
        if w not in ("was", "were"):
            continue
        after = words[i + 1:i + 3]
        verb = after[1:2] if after[:1] and after[0] in _ADVERBS else after[:1]
        if verb and verb[0].endswith("ing") and len(verb[0]) > 4 and verb[0] not in _ING_NOUNS:
            return True
    return False

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

_NEGATIONS = frozenset({"don't", "dont", "not", "never", "shouldn't", "mustn't", "won't",
                        "wouldn't", "didn't", "doesn't", "nobody"})
_SUBJECTS = frozenset({"i", "we", "he", "she", "they", "someone", "somebody", "mum", "mom",
                       "dad", "i've", "we've", "i'd", "they've", "she's", "he's", "it"})
_PAST = re.compile(r"^(?:turned|switched|opened|closed|locked|unlocked|started|stopped|paused|"
                   r"dimmed|left|set|put|shut|killed|had|have|was|were|already|just|forgot|"
                   r"never|always|usually|loves?|likes?|hates?|wants?|wanted|thinks?|thought|says?|said|"
                   r"told)$")
_TIME = re.compile(
    r"\b(?:in \d+(?:\.\d+)? (?:seconds?|secs?|minutes?|mins?|hours?|hrs?)|in (?:an|a|half an) "
    r"(?:hour|minute)|tomorrow|tonight|later|at \d+(?: \d+)? ?(?:am|pm|o'clock)?\b|"
    r"every (?:day|night|morning|evening|hour)|when i (?:leave|get|come|go)|after \d+|"
    r"at (?:noon|midnight|sunset|sunrise|bedtime)|this (?:evening|afternoon|morning))")


def refusal(text: str) -> str | None:
    """Why this utterance must not actuate anything, or None when it is a plain request."""
    words = normalize(text).text.split()
    if not words:
        return None
    joined = " ".join(words)
    if any(w in _NEGATIONS for w in words) or " do not " in f" {joined} ":
        return NEGATED
    # "I turned off ...", "we just left the lights on", "mum wants the heating on"
    for i, w in enumerate(words[:3]):
        if w in _SUBJECTS and any(_PAST.match(x) for x in words[i + 1:i + 4]):
            return NARRATION
    if _TIME.search(joined):
        return DEFERRED
    return None

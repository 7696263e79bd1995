"""Takes frontend frames; returns True on the frame where the wake phrase ("hey house") ends.

A pocketsphinx keyphrase search in its own small decoder listens continuously. The
sensitivity from config.yaml maps onto the search's detection threshold (calibrated with
benchmarks/voice.py wake: hits on spoken "hey house, ..." commands in noise against false
wakes per hour of unrelated speech); after a detection further ones are ignored for the
refractory period, so one phrase wakes the assistant once.

A keyphrase search alone either misses quiet or accented wake phrases or wakes on look-alike
speech. So the search runs keen, and each detection is checked: the last moments of audio
are decoded again by the same decoder with a small grammar, the phrase (after anything)
against a loop of single phones; only if the phrase wins is it a wake.

The phrase a person says to the house comes after a pause; most look-alikes in other talk
run on from the word before ("...you may not..."). So when the check finds speech right up
to the phrase, with no pause of `PAUSE_BEFORE_MS`, the phrase must win once more against a
dearer phone loop (`RUN_ON_PHONE_LOG10`). Talk quieter than the phrase (a television behind
the speaker) does not count as running on. On talk in Festival's voices of real speakers this
cut false wakes from 32 to 8 and from 42 to 10 per hour; the phrases it costs are mostly in
babble at 10 dB and below, and those become `unsure` below, not lost.

The check turns down many real phrases in loud noise (at 5 dB SNR it kept 55 % of them,
while the search alone had found 87 %). A detection the check turned down is reported as
`unsure`: the voice loop may then listen to what follows without a sound, and act only if
that is plainly a command (see voice.py).
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections import deque
from typing import Any

import numpy as np

from assistant.config import WakeConfig
from assistant.errors import ConfigError, ModelError, Problem
from assistant.frontend import Frame
from assistant.lexicon import pronounce
from assistant.pcm import SAMPLE_RATE_HZ

log = logging.getLogger(__name__)

# Detection threshold (log10 of the keyphrase/alternatives likelihood ratio) at
# sensitivity 0 and 1; linear in between. Lower thresholds wake more easily.
THRESHOLD_LOG10_AT_0 = -5.0
THRESHOLD_LOG10_AT_1 = -35.0
# Probability of the search's phone loop, the "anything else" the phrase competes with.
# pocketsphinx's default (0.1) missed most male voices' "hey house" in the benchmark.
PHONE_LOOP_PROB = 1e-3
RESTART_MS = 30_000  # a fresh search now and then keeps its normalisation current
FRAME_MS = 10
VERIFY_MS = 1500  # audio kept for the check: the phrase and a little before it
# The check's phone loop, per phone (log10): the phrase must explain the audio better than
# this many phones of anything at all.
VERIFY_PHONE_LOG10 = -13.0
# A phrase with no pause before it (run on from other speech) must also beat phones this
# much dearer: nearer zero is stricter.
RUN_ON_PHONE_LOG10 = -8.0
PAUSE_BEFORE_MS = 150  # silence before the phrase that makes it "said to the house"
QUIETER_BEFORE_DB = 6.0  # or speech this much quieter: other talk, not the speaker running on
_PHONES = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T "
           "TH UH UW V W Y Z ZH").split()
_GARBAGE = "+phone+"


def _filler(word: str) -> bool:
    """Silence and noise marks in a segmentation (<sil>, <s>, [NOISE], ...)."""
    return word.startswith(("<", "["))


def _level_db(audio: bytes, first: int, end: int) -> float:
    """Mean power (dB) of 16-bit `audio` from frame `first` up to frame `end`."""
    per_frame = 2 * SAMPLE_RATE_HZ * FRAME_MS // 1000
    part = np.frombuffer(audio[first * per_frame:end * per_frame], dtype="<i2")
    return 10 * math.log10(float(np.mean(part.astype(np.float64) ** 2)) + 1.0) if part.size else 0.0


def sensitivity_to_threshold(sensitivity: float) -> float:
    """Sensitivity 0..1 to pocketsphinx's kws_threshold."""
    s = min(1.0, max(0.0, sensitivity))
    return float(10 ** (THRESHOLD_LOG10_AT_0 + s * (THRESHOLD_LOG10_AT_1 - THRESHOLD_LOG10_AT_0)))


class WakeDetector:
    """Spots the wake phrase in a continuous stream of frames."""

    def __init__(self, config: WakeConfig | None = None, model_dir: str | None = None,
                 adapted: dict[str, str] | None = None) -> None:
        """`adapted`: decoder options that load an adaptation (`adapt.adapted_files`)."""
        self.config = c = config or WakeConfig()
        phrase = " ".join(c.phrase.lower().split())
        if not phrase:
            raise ConfigError([Problem("config.yaml", 0, "wake.phrase", "must not be empty")])
        try:
            from pocketsphinx import Decoder, get_model_path
        except ImportError as e:
            raise ModelError("wake phrase detection needs the pocketsphinx package") from e
        hmm = model_dir or os.path.join(get_model_path(), "en-us", "en-us")
        prons = pronounce(phrase.split())
        with tempfile.TemporaryDirectory(prefix="wake-") as tmp:
            path = os.path.join(tmp, "wake.dict")
            with open(path, "w", encoding="utf-8") as f:
                for word, variants in prons.items():
                    for i, p in enumerate(variants):
                        f.write(f"{word if i == 0 else f'{word}({i + 1})'} {p}\n")
                for ph in _PHONES:
                    f.write(f"{_GARBAGE}{ph.lower()} {ph}\n")
            # Giving the keyphrase at construction keeps the default language model out.
            # pocketsphinx's own messages go to the console, where its ERRORs are notes on
            # its search ("Final result does not match the grammar": a check that ended
            # mid-word), nothing a user can act on; what fails raises instead.
            self._decoder: Any = Decoder(
                hmm=hmm, dict=path, keyphrase=phrase, loglevel="FATAL",
                kws_threshold=sensitivity_to_threshold(c.sensitivity), kws_plp=PHONE_LOOP_PROB,
                bestpath=False, **(adapted or {}))
        self.phrase = phrase
        self._words = phrase.split()
        self.verify = c.verify
        self._spot = self._decoder.current_search()
        self._add_check("check", VERIFY_PHONE_LOG10)
        self._add_check("run-on", RUN_ON_PHONE_LOG10)
        self._recent: deque[bytes] = deque()
        self._recent_ms = 0
        self._time_ms = 0
        self._utt_ms = 0
        self._quiet_until_ms = -1
        # Set by `process` on the frame where the search heard the phrase and the check
        # turned it down; cleared on every other frame.
        self.unsure = False
        # Set by the check: the phrase it last looked at ran on from speech as loud as itself,
        # so it was held to the dearer phone loop.
        self.run_on = False
        self._decoder.start_utt()
        log.info("wake phrase '%s' at sensitivity %.2f", phrase, c.sensitivity)

    def process(self, frame: Frame) -> bool:
        """Feeds one frame; True when the phrase was just heard (outside the refractory time)."""
        if frame.end_ms <= self._time_ms:  # a new stream (the next file): times restart
            self._quiet_until_ms = -1
        # Stream time, so the refractory period also covers frames not fed to us (awake).
        self._time_ms = frame.end_ms
        self._utt_ms += frame.duration_ms
        self.unsure = False
        d = self._decoder
        pcm = frame.plain_pcm()  # noise suppression did not help the phrase be found
        d.process_raw(pcm)
        self._recent.append(pcm)
        self._recent_ms += frame.duration_ms
        while self._recent_ms - frame.duration_ms >= VERIFY_MS:
            self._recent_ms -= len(self._recent.popleft()) // 32
        if d.hyp() is not None:
            if self._time_ms < self._quiet_until_ms:
                self._restart()
                return False
            if self.verify and not self._confirmed():
                self._restart()
                self.unsure = True
                return False
            self._restart()
            self._quiet_until_ms = self._time_ms + self.config.refractory_ms
            return True
        if self._utt_ms >= RESTART_MS:
            self._restart()
        return False

    def _add_check(self, name: str, price_log10: float) -> None:
        """A check grammar: phones* phrase | phones+, in the same decoder."""
        words = self._words
        p = 10 ** price_log10
        lead, final = len(words) + 1, len(words) + 2
        trans: list[tuple[Any, ...]] = [(i, i + 1, 1.0, w) for i, w in enumerate(words)]
        trans[-1] = (len(words) - 1, final, 1.0, words[-1])
        for ph in _PHONES:
            g = f"{_GARBAGE}{ph.lower()}"
            trans += [(0, lead, p, g), (lead, lead, p, g), (lead, final, p, g)]
        trans += [(lead, 1, 1.0, words[0])] if len(words) > 1 else [(lead, final, 1.0, words[0])]
        self._decoder.add_fsg(name, self._decoder.create_fsg(name, 0, final, trans))

    def _confirmed(self) -> bool:
        """Decodes the recent audio with the check grammar: did the phrase win? And if it ran
        on from speech as loud as itself, did it win against the dearer phone loop too?"""
        audio = b"".join(self._recent)
        words = self._decode("check", audio)
        ok = self._phrase_won(words)
        self.run_on = ok and not self._set_apart(words, audio)
        if self.run_on:
            ok = self._phrase_won(self._decode("run-on", audio))
        log.debug("wake check: %s -> %s%s", " ".join(w for w, _, _ in words) or "nothing", ok,
                  " (run on from other speech)" if self.run_on else "")
        return ok

    def _decode(self, search: str, audio: bytes) -> list[tuple[str, int, int]]:
        """`search` on `audio`: each word (variant numbers dropped), first and last frame."""
        d = self._decoder
        d.end_utt()
        d.activate_search(search)
        d.start_utt()
        d.process_raw(audio, full_utt=True)
        d.end_utt()
        words = [(seg.word.split("(")[0], seg.start_frame, seg.end_frame)
                 for seg in d.seg()] if d.hyp() is not None else []
        d.activate_search(self._spot)
        d.start_utt()
        return words

    def _phrase_won(self, words: list[tuple[str, int, int]]) -> bool:
        spoken = [w for w, _, _ in words if not _filler(w)]
        return bool(spoken) and spoken[-len(self._words):] == self._words

    def _set_apart(self, words: list[tuple[str, int, int]], audio: bytes) -> bool:
        """Was the phrase set apart from what came before it: PAUSE_BEFORE_MS of silence
        (or the start of the audio kept), or a stretch that long QUIETER_BEFORE_DB below
        the phrase (other talk in the room, not the speaker running on)?"""
        i = len(words)
        for want in reversed(self._words):  # walk back over the phrase, fillers between
            i -= 1
            while i >= 0 and words[i][0] != want:
                i -= 1
        if i <= 0:
            return True
        start, end = words[i][1], words[-1][2]
        silent = 0
        for w, first, last in reversed(words[:i]):
            if not _filler(w):
                break
            silent += last - first + 1
        else:
            return True  # nothing before the phrase but silence
        if silent >= PAUSE_BEFORE_MS // FRAME_MS:
            return True
        return (_level_db(audio, max(0, start - PAUSE_BEFORE_MS // FRAME_MS), start)
                <= _level_db(audio, start, end + 1) - QUIETER_BEFORE_DB)

    def reset(self) -> None:
        """Forgets partial evidence, e.g. after the assistant spoke or a command ended."""
        self._restart()

    def _restart(self) -> None:
        self._decoder.end_utt()
        self._decoder.start_utt()
        self._utt_ms = 0

    def close(self) -> None:
        self._decoder.end_utt()

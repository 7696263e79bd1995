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

The check turns down many real phrases in loud noise (at 5 dB SNR it kept 55 % of them,
while the search alone had found 87 %). A detection the check turned down is reported as
`unsure`: the voice loop may then listen to what follows without a sound, and act only if
that is plainly a command (see voice.py).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import deque
from typing import Any

from assistant.config import WakeConfig
from assistant.errors import ConfigError, ModelError, Problem
from assistant.frontend import Frame
from assistant.lexicon import pronounce

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
_PHONES = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T "
           "TH UH UW V W Y Z ZH").split()
_GARBAGE = "+phone+"


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
            self._decoder: Any = Decoder(
                hmm=hmm, dict=path, keyphrase=phrase, loglevel="ERROR",
                kws_threshold=sensitivity_to_threshold(c.sensitivity), kws_plp=PHONE_LOOP_PROB,
                bestpath=False, **(adapted or {}))
        self.phrase = phrase
        self.verify = c.verify
        self._spot = self._decoder.current_search()
        self._add_check(phrase.split())
        self._recent: deque[bytes] = deque()
        self._recent_ms = 0
        self._time_ms = 0
        self._utt_ms = 0
        self._quiet_until_ms = -1
        # Set by `process` on the frame where the search heard the phrase and the check
        # turned it down; cleared on every other frame.
        self.unsure = False
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

    def _add_check(self, words: list[str]) -> None:
        """The check's grammar: phones* phrase | phones+, in the same decoder."""
        p = 10 ** VERIFY_PHONE_LOG10
        lead, final = len(words) + 1, len(words) + 2
        trans: list[tuple[Any, ...]] = [(i, i + 1, 1.0, w) for i, w in enumerate(words)]
        trans[-1] = (len(words) - 1, final, 1.0, words[-1])
        for ph in _PHONES:
            g = f"{_GARBAGE}{ph.lower()}"
            trans += [(0, lead, p, g), (lead, lead, p, g), (lead, final, p, g)]
        trans += [(lead, 1, 1.0, words[0])] if len(words) > 1 else [(lead, final, 1.0, words[0])]
        self._decoder.add_fsg("check", self._decoder.create_fsg("check", 0, final, trans))

    def _confirmed(self) -> bool:
        """Decodes the recent audio with the check grammar: did the phrase win?"""
        d = self._decoder
        d.end_utt()
        d.activate_search("check")
        d.start_utt()
        d.process_raw(b"".join(self._recent), full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        words = hyp.hypstr.split() if hyp is not None else []
        d.activate_search(self._spot)
        d.start_utt()
        ok = bool(words) and not words[-1].startswith(_GARBAGE)
        log.debug("wake check: %s -> %s", " ".join(words) or "nothing", ok)
        return ok

    def reset(self) -> None:
        """Forgets partial evidence, e.g. after the assistant spoke or a command ended."""
        self._restart()

    def _restart(self) -> None:
        self._decoder.end_utt()
        self._decoder.start_utt()
        self._utt_ms = 0

    def close(self) -> None:
        self._decoder.end_utt()

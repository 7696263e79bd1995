"""Takes the frames of one command; returns committed words as they firm up, then a Transcript.

One pocketsphinx decoder lives as long as the recognizer, searching a word graph compiled
from the skills and the home (see grammar.py). Out-of-grammar speech is caught by garbage:
loops of single phones that fit any speech, taxed per phone so that real commands still
win. They may stand before a command (a cough, the tail of other talk), after it (people
go on talking, a TV does), or instead of it; only where garbage covers much of the speech
(`GARBAGE_SHARE`) is the result rejected, rather than forced onto the nearest command.
Measured on the benchmark, this rejects more out-of-domain speech than a garbage branch
that must cover the whole utterance, at the same accuracy on commands. Garbage instead of
a command also pays once to begin (`WHOLE_ENTRY`): taxed per phone only, a few phones of
it explained short commands ("yes", "lights on") better than their words did.

While a question waits ("Should I open the garage door?"), `start(answering=True)` searches
a second, small grammar of the answers (yes, no, never mind) instead of every command, with
garbage around it: an answer is heard far more often among a hundred phrases than among
thousands, and a command said instead is rejected rather than forced onto "yes".

Words of the partial hypothesis are committed once they have stayed the same for
`commit_stable_ms`, so later stages can start work early.

Other people talking in the room (a television, a conversation) keep the endpointer open
before and after a command. The search then explains their words as more commands ("yup and
turn off the kitchen lights"), or lets them throw its start ("turn on the hallway light"
heard as "will you dock hallway lights"). The person speaking to the assistant is nearly
always the loudest voice, so when what was heard begins or ends with words much quieter than
its loudest (`asr.other_talk_below_db`, on the input level before gain control), the loud
stretch alone is decoded once more and taken instead. If the whole was rejected, the loud
stretch is taken only if it is all command, as for a new decoder's second pass.

That second decode runs after the endpoint, where it delays the action, so most of it is
done while the command is spoken. Where the level jumps that much above all that came
before, after talk, the search starts again from just before the jump (`_restart`); so it
does where the partial hypothesis begins with such quieter words (`_quiet_words_first`).
Quiet audio after the loud part is held back (`_hold_or_decode`); the speaker going on
releases it, and what is still held at the end is never decoded. The decode at the end is
left for what streaming did not show.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import AsrConfig as AsrConfig  # re-exported: callers may take it from here
from assistant.errors import ModelError
from assistant.frontend import Frame
from assistant.lexicon import pronounce
from assistant.vad import LOUDEST_OVER_MS
from assistant.wordgraph import WordGraph

log = logging.getLogger(__name__)

# The acoustic model's context-independent phones (ARPAbet, no stress).
PHONES = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T "
          "TH UH UW V W Y Z ZH").split()
GARBAGE_PREFIX = "+garbage+"  # dictionary words of the garbage loop; never a real word
FRAME_MS = 10  # pocketsphinx's feature frame rate
# Noise and silence "words" the search may insert anywhere: generous, so that noise around
# and between words is absorbed by them rather than by short command words ("oh", "on").
FILLER_PROB = 0.3
SILENCE_PROB = 0.3
# A hypothesis whose garbage words cover this share of its word frames is out of grammar.
GARBAGE_SHARE = 0.3
LEAD_TAX = 1e-2  # extra cost per phone of garbage before a command
# Garbage instead of a command pays this once, on top of its per-phone tax. Measured on
# the voice benchmark (benchmarks/voice.py asr): 1 -> 1e-6 turned 10 more of 300 commands
# into right actions and 1 more into a wrong one, with out-of-domain speech unchanged;
# cheaper still (1e-12) let out-of-domain speech act.
WHOLE_ENTRY = 1e-6
# For an answer, almost never: the answer must then stand alone (no garbage around it at
# all, see `finish`), which is what keeps talk on a television from saying yes.
ANSWER_WHOLE_ENTRY = 1e-12
# Heard words shorter than this per phone, on average, were not said: each phone's model has
# three states of at least one 10 ms frame, and speech runs at 60-200 ms per phone.
MIN_MS_PER_PHONE = 40
# An answer to a question must not be squeezed either: measured (voice.py confirm, from its
# first word's start to its last word's end, over its words' longest pronunciations), spoken
# yeses took 66 ms per phone or more, while "no thanks" and "no don't" misheard as "go for
# it" and "confirm" took 57 and 60.
ANSWER_MIN_MS_PER_PHONE = 64
# Words at the start or end of what was heard `asr.other_talk_below_db` quieter than its
# loudest word are other talk in the room (see the module's docstring), if they last at
# least `BACKGROUND_MIN_MS`: a lone quiet phone at the end is more often the speaker's own
# last consonant. The loud stretch decoded again keeps `BACKGROUND_MARGIN_MS` either side.
BACKGROUND_MIN_MS = 150
BACKGROUND_MARGIN_MS = 150
# Quiet audio after the loud part is held back from the search once it has lasted
# `BACKGROUND_MARGIN_MS`, and decoded only if the speaker goes on (a loud run of at least
# `RESUME_MS`): what is still held when the command ends is other talk, never decoded.
RESUME_MS = 30
MAX_RESTARTS = 2  # new starts of the search per command (each decodes part of it again)
WORDS_CHECK_MS = 150  # how often the partial's words are looked at for quieter ones first
TAIL_ENTRY = "AH"  # the one phone through which talk after a command enters the garbage
SILENCE_WORD = "<sil>"  # the acoustic model's silence, as the word that ends a command


@dataclass(frozen=True)
class Word:
    text: str
    start_ms: int  # from the first frame fed for this command
    end_ms: int


@dataclass(frozen=True)
class Transcript:
    """What was heard: the words, or an empty text with the reason nothing is usable."""

    text: str
    words: tuple[Word, ...] = ()
    rejected: bool = False
    reason: str | None = None  # "out of grammar", "nothing recognized"
    audio_ms: int = 0
    decode_ms: float = 0.0  # processor time spent in the decoder
    # Speech the garbage loop explained rather than the grammar: a cough, or other talk
    # around the command. A "yes" with talk around it may be a television, not the user.
    garbage_ms: int = 0
    passes: int = 1  # decodes at the end: 2 when the loud stretch was decoded again


# Where a new decoder's cepstral mean starts (with the wheel's acoustic model). The model's
# own (40, 3, -1, 0...) is far from speech through our frontend, whose gain control sets the
# level: a new service's first command came out right 37 / 25 / 31 % of the time at 20 / 10 /
# 5 dB, against 66 / 39 / 42 % once the mean had settled. This is the average of the settled
# means over the 170 "hey house, ..." clips of a held-out speech set (four voices, three
# noises, three SNRs); from it, first commands came out 66 / 39 / 39 %, and 70 / 41 / 41 %
# with a rejected first command decoded again (`finish`). (benchmarks/voice.py asr --fresh)
START_CMN = (62.10, -2.90, -5.98, 7.79, -13.00, -0.54, -5.65, -8.11, -3.97, -1.82, 2.07, -1.99,
             -2.57)


def rejection_to_log_prob(rejection: float) -> float:
    """Sensitivity 0..1 to the garbage loop's per-phone probability (log, natural base)."""
    r = min(1.0, max(0.0, rejection))
    return math.log(10.0) * (-12.0 + 8.0 * r)  # 0 -> 1e-12 per phone, 1 -> 1e-4


class Recognizer:
    """The one decoder: `start()`, `feed()` frames, `finish()`; `set_grammar()` to swap."""

    def __init__(self, graph: WordGraph, config: AsrConfig | None = None,
                 answers: WordGraph | None = None) -> None:
        self.config = config or AsrConfig()
        try:
            from pocketsphinx import Decoder, get_model_path
        except ImportError as e:
            raise ModelError("speech recognition needs the pocketsphinx package") from e
        hmm = self.config.model_dir or os.path.join(get_model_path(), "en-us", "en-us")
        if not Path(hmm, "mdef").is_file():
            raise ModelError(f"{hmm}: not a pocketsphinx acoustic model (no mdef file)")
        self._Decoder = Decoder
        self._hmm = hmm
        self._adapted: dict[str, str] = {}
        if self.config.adaptation:
            from assistant.adapt import adapted_files

            self._adapted = adapted_files(Path(self.config.adaptation), Path(hmm))
            log.info("acoustic model adapted by %s", self.config.adaptation)
        self._words: set[str] = set()
        # The fewest and the most phones each word is said with.
        self._phones: dict[str, tuple[int, int]] = {}
        self._decoder: Any = None
        self._search = ""
        self._answer_search = ""
        self._answering = False
        self._generation = 0
        self._pending: list[bytes] = []
        self._active = False
        self._initial_cmn = ""
        self._audio: list[bytes] = []  # the command as fed, kept for a second pass
        self.set_grammar(graph, answers)
        if self.config.model_dir is None:
            self.restore_cmn(",".join(f"{v:g}" for v in START_CMN))
        self._initial_cmn = self.save_cmn()
        self._fresh = True  # no command decoded with this mean yet

    def set_grammar(self, graph: WordGraph, answers: WordGraph | None = None) -> None:
        """Compiles a new grammar into the live decoder (new words get pronunciations).

        `answers` is the small grammar of replies to a question ("yes", "no", "cancel"),
        searched instead of the commands when `start(answering=True)`.
        """
        started = time.perf_counter()
        garbage = {f"{GARBAGE_PREFIX}{p.lower()}": p for p in PHONES}
        words = graph.words | (answers.words if answers is not None else set())
        new = sorted(words - self._words)
        prons = pronounce(new, non_rhotic_variants=self.config.non_rhotic)
        for word, phones in self.config.pronunciations.items():
            if word in words:
                prons[word] = [phones]
        missing = [w for w in new if w not in prons]
        if missing:
            raise ModelError(f"no pronunciation for: {', '.join(missing)}")
        entries = [(w, p) for w in new for p in prons[w]]
        self._phones.update({w: (min(n), max(n)) for w in new
                             if (n := [len(p.split()) for p in prons[w]])})
        entries += [(w, p) for w, p in garbage.items() if w not in self._words]
        if self._decoder is None:
            self._decoder = self._new_decoder(entries)
        else:
            for i, (w, p) in enumerate(entries):
                self._decoder.add_word(w, p, update=i == len(entries) - 1)
        self._words |= words | set(garbage)
        self._generation += 1
        old = (self._search, self._answer_search)
        self._search = self._add_search(f"commands{self._generation}", graph, list(garbage),
                                        WHOLE_ENTRY)
        self._answer_search = "" if answers is None else self._add_search(
            f"answers{self._generation}", answers, list(garbage), ANSWER_WHOLE_ENTRY)
        self._decoder.activate_search(self._search)
        self._answering = False
        for name in old:
            if name:
                self._decoder.remove_search(name)
        log.info("grammar: %d states, %d arcs, %d words in %.2f s", graph.n_states,
                 len(graph.arcs), len(graph.words), time.perf_counter() - started)

    def _new_decoder(self, entries: list[tuple[str, str]]) -> Any:
        # The decoder wants files: a dictionary of just our words, and a placeholder grammar
        # so that it does not load its default 27 MB language model (40 MB resident).
        with tempfile.TemporaryDirectory(prefix="asr-") as tmp:
            dict_path = os.path.join(tmp, "words.dict")
            with open(dict_path, "w", encoding="utf-8") as f:
                seen: dict[str, int] = {}
                for w, p in entries:
                    seen[w] = seen.get(w, 0) + 1
                    f.write(f"{w if seen[w] == 1 else f'{w}({seen[w]})'} {p}\n")
            fsg_path = os.path.join(tmp, "placeholder.fsg")
            with open(fsg_path, "w", encoding="utf-8") as f:
                f.write(f"FSG_BEGIN placeholder\nNUM_STATES 2\nSTART_STATE 0\nFINAL_STATE 1\n"
                        f"TRANSITION 0 1 1.0 {entries[0][0]}\nFSG_END\n")
            # Quiet, as the wake detector's (wake.py): its console ERRORs are search notes.
            return self._Decoder(hmm=self._hmm, dict=dict_path, fsg=fsg_path, bestpath=False,
                                 loglevel="FATAL", fillprob=FILLER_PROB, silprob=SILENCE_PROB,
                                 **self._adapted)

    def _add_search(self, name: str, graph: WordGraph, garbage: list[str],
                    whole_entry: float) -> str:
        transitions, final = self._transitions(graph, garbage, whole_entry)
        self._decoder.add_fsg(name, self._decoder.create_fsg(name, graph.start, final,
                                                             transitions))
        return name

    def _transitions(self, graph: WordGraph, garbage: list[str],
                     whole_entry: float) -> tuple[list[tuple[Any, ...]], int]:
        """The grammar's moves with garbage around it, and the (new) final state."""
        k = self.config.grammar_weight
        lead, end, tail, final, whole = range(graph.n_states, graph.n_states + 5)
        trans: list[tuple[Any, ...]] = []
        for a, b, w, p in graph.arcs:
            b = end if b == graph.final else b  # a command ends in `end`, then silence or talk
            # A free move carries no word: pocketsphinx takes a 3-tuple for those.
            trans.append((a, b, p**k, w) if w else (a, b, p**k))
            # The command may also begin after some garbage, with one of the start's own words
            # ("please", "hey", "could"), not with the verbs it shares with other states
            # behind free moves (wordgraph.factor): garbage before those too, at this
            # LEAD_TAX, heard two fixtures' "turn off the kitchen lights" as garbage + "flip
            # kitchen lights".
            if a == graph.start and w:
                trans.append((lead, b, p**k, w))
        # Ending after a free move yields an empty result, so the way out of `end` is a word:
        # the silence the endpointer waited for, or garbage when the speaker carried on.
        trans.append((end, final, 1.0, SILENCE_WORD))
        p = math.exp(rejection_to_log_prob(self.config.rejection))
        # Before a command, garbage is dearer: it is there for a cough or a word's tail, and
        # a cheap one would explain the start of every command while it is being said, so
        # the partial results that feed the model early would be garbage.
        p_lead = p * LEAD_TAX
        p_whole = p * whole_entry
        for w in garbage:  # `whole`: garbage instead of a command, at the plain tax
            trans += [(graph.start, lead, p_lead, w), (lead, lead, p_lead, w),
                      (graph.start, whole, p_whole, w), (whole, whole, p, w),
                      (whole, final, p, w),
                      (tail, tail, p, w), (tail, final, p, w)]
        # Talk after a command enters the garbage through a single phone: the search keeps a
        # copy of each command's last sound for every sound that may follow it, and a
        # choice of all phones here would cost ~30 MB for the grammar's ~4000 word ends.
        trans.append((end, tail, p, f"{GARBAGE_PREFIX}{TAIL_ENTRY.lower()}"))
        return trans, final

    def start(self, answering: bool = False) -> None:
        """Begins a command; frames until `cmn_warmup_ms` are held to settle normalisation.

        `answering`: the speech answers a question, so the small grammar of answers is
        searched (when there is one) instead of the commands.
        """
        if self._active:
            self._decoder.end_utt()
        answering = answering and bool(self._answer_search)
        if answering != self._answering:
            self._decoder.activate_search(self._answer_search if answering else self._search)
            self._answering = answering
        self._active = True
        self._warm = self.config.cmn_warmup_ms <= 0
        self._pending = []
        self._audio = []
        self._levels: list[float] = []  # input power per search frame (`_loud_stretch`)
        self._loudest = 0.0  # the loudest 150 ms so far (power, before gain control)
        self._loudest_before = 0.0  # ... up to 150 ms ago
        self._offset_ms = 0  # where the search's audio starts (`_restart`)
        self._restarts = 0
        self._checked_ms = 0
        self._held: list[bytes] = []  # quiet audio not yet decoded (`RESUME_MS`)
        self._quiet_run_ms = 0
        self._loud_run_ms = 0
        self._dropped_ms = 0  # quiet audio at the end never decoded
        self._loud: tuple[int, int] | None = None
        self._fed_ms = 0
        self._decode_s = 0.0
        self._committed: list[str] = []
        self._history: list[tuple[int, tuple[str, ...]]] = []  # (time_ms, partial words)
        self._cmn_before = str(self._decoder.get_cmn(False))
        self._decoder.start_utt()

    @property
    def committed(self) -> list[str]:
        """The words passed on so far; a new start at louder speech withdraws earlier ones."""
        return list(self._committed)

    def feed(self, frames: Iterable[Frame]) -> list[str]:
        """Decodes more audio; returns the words newly committed by it (often none)."""
        # An answer decides a risky action: it is heard without noise suppression, which
        # made spoken no's sound like a yes (6 of 120 confirmed, against 1 without it).
        frames = list(frames)
        pcm = [f.plain_pcm() if self._answering else f.pcm() for f in frames]
        first, at_ms = len(self._audio), self._fed_ms
        self._fed_ms += sum(len(b) // 32 for b in pcm)
        self._audio += pcm
        for f in frames:  # the level before gain control, per 10 ms of the search's frames
            self._levels.extend([10 ** (f.input_level_dbfs / 10)] * (f.duration_ms // FRAME_MS))
        t0 = time.perf_counter()
        if not self._warm:
            self._pending += pcm
            if self.config.cmn_warmup_ms < 0 or self._fed_ms < self.config.cmn_warmup_ms:
                return []  # negative: decode the whole command at its end (no streaming)
            self._warm_up()
        else:
            for i, (f, b) in enumerate(zip(frames, pcm, strict=True)):
                at_ms += len(b) // 32
                self._hold_or_decode(f, b, first + i + 1, at_ms)
            if self._fed_ms - self._checked_ms >= WORDS_CHECK_MS:
                self._checked_ms = self._fed_ms
                self._quiet_words_first()
        self._decode_s += time.perf_counter() - t0
        return self._commit()

    def _quiet_words_first(self) -> None:
        """Starts the search again at the loud words if the partial's first are quieter."""
        if (self.config.other_talk_below_db <= 0 or self._answering
                or self._restarts >= MAX_RESTARTS or self._held):
            return
        stretch = self._loud_stretch(self._heard_words())
        if stretch is None or stretch[0] - self._offset_ms < BACKGROUND_MIN_MS:
            return
        log.debug("quieter words before %d ms: decoded from there", stretch[0])
        self._start_again(stretch[0], len(self._audio))

    def _hold_or_decode(self, frame: Frame, pcm: bytes, upto: int, at_ms: int) -> None:
        """Decodes a frame, unless it belongs to quiet audio after the loud part (held).

        `upto`: how many of `_audio`'s chunks this frame ends; `at_ms`: where it ends.
        """
        below = self.config.other_talk_below_db
        if below <= 0 or self._answering:
            self._decoder.process_raw(pcm)
            return
        n = LOUDEST_OVER_MS // FRAME_MS
        now = at_ms // FRAME_MS  # in 10 ms frames
        if now >= 2 * n:
            self._loudest_before = max(self._loudest_before,
                                       sum(self._levels[now - 2 * n: now - n]) / n)
        if now >= n:
            window = sum(self._levels[now - n: now]) / n
            rise = self._loudest_before * 10 ** (below / 10)
            if window > rise and self._loudest_before > 0 and self._restart(now, rise, upto):
                return
            self._loudest = max(self._loudest, window)
        quiet = 10 * math.log10(self._loudest + 1e-10) - frame.input_level_dbfs > below
        if quiet:
            self._quiet_run_ms += frame.duration_ms
            self._loud_run_ms = 0
        else:
            self._loud_run_ms += frame.duration_ms
        if not self._held and self._quiet_run_ms <= BACKGROUND_MARGIN_MS:
            self._decoder.process_raw(pcm)
            if self._loud_run_ms >= RESUME_MS:
                self._quiet_run_ms = 0
            return
        self._held.append(pcm)
        if self._loud_run_ms >= RESUME_MS:  # the speaker goes on: all of it was the command
            for b in self._held:
                self._decoder.process_raw(b)
            self._held = []
            self._quiet_run_ms = 0

    def _restart(self, now: int, rise: float, upto: int) -> bool:
        """Starts the search again where the level rose, if talk came before (see above)."""
        onset = now - LOUDEST_OVER_MS // FRAME_MS
        while self._levels[onset] <= rise:
            onset += 1
        start_ms = onset * FRAME_MS - BACKGROUND_MARGIN_MS
        if start_ms - self._offset_ms < BACKGROUND_MIN_MS or self._restarts >= MAX_RESTARTS:
            return False
        cut = (start_ms - self._offset_ms) // FRAME_MS  # talk heard before, in search frames
        talk = FRAME_MS * sum(max(0, min(s.end_frame + 1, cut) - s.start_frame)
                              for s in self._decoder.seg() if not _filler(s.word))
        if talk < BACKGROUND_MIN_MS:
            return False
        log.debug("louder speech at %d ms, after %d ms of talk: decoded from there",
                  start_ms + BACKGROUND_MARGIN_MS, talk)
        self._start_again(start_ms, upto)
        return True

    def _start_again(self, start_ms: int, upto: int) -> None:
        """Decodes `_audio[:upto]` again from `start_ms`, as a new search."""
        # With the cepstral mean from before the command: ending the search moved it towards
        # the other talk's, and measuring it again on the little loud speech there is yet
        # made it worse (see docs/benchmarks.md).
        self._decoder.end_utt()
        self._decoder.set_cmn(self._cmn_before)
        self._decoder.start_utt()
        self._decoder.process_raw(b"".join(self._audio[:upto])[start_ms * 32:])
        self._offset_ms = start_ms
        self._restarts += 1
        self._held = []
        self._quiet_run_ms = self._loud_run_ms = 0
        self._history = []
        self._committed = []

    def _warm_up(self) -> None:
        """Measures the cepstral mean on the first speech, then decodes it all with that mean."""
        d = self._decoder
        audio = b"".join(self._pending)
        d.process_raw(audio, no_search=True)
        d.get_cmn(True)
        d.end_utt()
        d.start_utt()
        d.process_raw(audio)
        self._pending = []
        self._warm = True

    def _commit(self) -> list[str]:
        hyp = self._decoder.hyp()
        words = tuple(hyp.hypstr.split()) if hyp is not None else ()
        now = self._fed_ms
        self._history.append((now, words))
        horizon = now - self.config.commit_stable_ms
        while len(self._history) > 1 and self._history[1][0] <= horizon:
            self._history.pop(0)
        if self._history[0][0] > horizon:
            return []  # not enough history yet
        # Words every partial in the window agrees on, minus the last (it may still grow).
        stable = _common_prefix([w for _, w in self._history])[: max(0, len(words) - 1)]
        if any(w.startswith(GARBAGE_PREFIX) for w in stable):
            return []  # words next to garbage may yet be read differently; the end decides
        if tuple(self._committed) != stable[: len(self._committed)]:
            return []  # the partial changed its mind about a passed-on word; the end decides
        new = list(stable[len(self._committed):])
        self._committed += new
        return new

    def finish(self) -> Transcript:
        """Ends the command and returns the final, authoritative transcript."""
        if not self._active:
            return Transcript("", reason="nothing recognized")
        t0 = time.perf_counter()
        if not self._warm and self._pending:
            if self.config.cmn_warmup_ms < 0:
                self._decoder.process_raw(b"".join(self._pending), full_utt=True)
            else:
                self._warm_up()
        if self._held:  # quiet talk after the command: never decoded, not decoded again
            self._dropped_ms = sum(len(b) // 32 for b in self._held)
            del self._audio[len(self._audio) - len(self._held):]
            self._held = []
        # The endpointer may cut right after the last sound, but a command ends in silence
        # (see `_transitions`): a moment of quiet room tone gives the search that silence.
        self._decoder.process_raw(_ROOM_TONE)
        self._decoder.end_utt()
        self._active = False
        result = self._result()
        passes = 1
        if self._fresh and self._audio and result.rejected and not self._answering:
            # The starting mean is a guess made on other voices and rooms; ending the
            # command moved it towards this one's. Rejected with the guess, the command is
            # decoded once more with that, and taken only if it is all command: out-of-domain
            # talk ("plant tomatoes in the garden") came out half command, half garbage.
            self._decoder.start_utt()
            self._decoder.process_raw(b"".join(self._audio)[self._offset_ms * 32:])
            self._decoder.process_raw(_ROOM_TONE)
            self._decoder.end_utt()
            passes += 1
            again = self._result()
            if not again.rejected and again.garbage_ms == 0:
                result = again
        if self._loud is not None and not self._answering:
            result = self._loud_again(result, *self._loud)
            passes += 1
        self._fresh = self._fresh and not self._audio
        self._audio = []
        self._levels = []
        self._decode_s += time.perf_counter() - t0
        return replace(result, decode_ms=1000 * self._decode_s, passes=passes)

    def _result(self, find_loud: bool = True) -> Transcript:
        """The transcript of the utterance just ended (`decode_ms` left for the caller).

        `find_loud`: also note in `_loud` where the loud words are if quieter talk is around.
        """
        hyp = self._decoder.hyp()
        if hyp is None or not hyp.hypstr.strip():
            return Transcript("", rejected=True, reason="nothing recognized",
                              audio_ms=self._fed_ms)
        words = self._heard_words()
        self._loud = self._loud_stretch(words) if find_loud else None
        heard = tuple(w for w in words if not w.text.startswith(GARBAGE_PREFIX))
        garbage_ms = sum(w.end_ms - w.start_ms for w in words) - sum(
            w.end_ms - w.start_ms for w in heard)

        def rejected(reason: str) -> Transcript:
            return Transcript("", words, rejected=True, reason=reason, audio_ms=self._fed_ms,
                              garbage_ms=garbage_ms)

        # An answer with anything else around it may be other talk ("... that's right ...").
        if not heard or garbage_ms >= GARBAGE_SHARE * sum(w.end_ms - w.start_ms for w in words) \
                or (self._answering and garbage_ms > 0):
            return rejected("out of grammar")
        fewest = sum(self._phones.get(w.text, (1, 1))[0] for w in heard)
        if sum(w.end_ms - w.start_ms for w in heard) < MIN_MS_PER_PHONE * fewest:
            # Words squeezed into the fewest frames the model allows ("oh" in 30 ms of a
            # hum): the search had to end somewhere, nobody said them.
            return rejected("nothing recognized")
        most = sum(self._phones.get(w.text, (1, 1))[1] for w in heard)
        if self._answering and heard[-1].end_ms - heard[0].start_ms < (
                ANSWER_MIN_MS_PER_PHONE * most):
            # A "no" heard as "go for it" or "confirm" came out squeezed like this; a yes
            # opens doors, so a hurried one is asked for again.
            return rejected("unclear answer")
        text = " ".join(w.text for w in heard)
        return Transcript(text, heard, audio_ms=self._fed_ms, garbage_ms=garbage_ms)

    def _heard_words(self) -> tuple[Word, ...]:
        """The words (and garbage) of the hypothesis so far, timed from the first frame fed."""
        at = self._offset_ms
        return tuple(Word(base, at + s.start_frame * FRAME_MS, at + (s.end_frame + 1) * FRAME_MS)
                     for s in self._decoder.seg()
                     if not _filler(base := s.word.split("(", 1)[0]))

    def _loud_stretch(self, words: tuple[Word, ...]) -> tuple[int, int] | None:
        """Where the loud words are, if quieter ones (other talk) come before or after them."""
        if len(words) < 2 or self._answering or self.config.other_talk_below_db <= 0:
            return None
        levels = []
        for w in words:
            span = self._levels[w.start_ms // FRAME_MS: w.end_ms // FRAME_MS]
            # A word past the audio (in the room tone `finish` adds) is as quiet as can be.
            levels.append(10 * math.log10(sum(span) / len(span) + 1e-10) if span else -100.0)
        quiet = max(levels) - self.config.other_talk_below_db
        first, end = 0, len(words)
        while levels[first] < quiet:
            first += 1
        while levels[end - 1] < quiet and not self._dropped_ms:
            end -= 1
        if first and words[first - 1].end_ms - words[0].start_ms < BACKGROUND_MIN_MS:
            first = 0
        if end < len(words) and words[-1].end_ms - words[end].start_ms < BACKGROUND_MIN_MS:
            end = len(words)
        decoded = (self._offset_ms, self._fed_ms - self._dropped_ms)
        stretch = (max(decoded[0], words[first].start_ms - BACKGROUND_MARGIN_MS),
                   min(decoded[1], words[end - 1].end_ms + BACKGROUND_MARGIN_MS))
        if stretch[0] - decoded[0] + decoded[1] - stretch[1] < BACKGROUND_MIN_MS:
            # Nearly the same audio again: only the moved cepstral mean would change the
            # words. On the voice benchmark such decodes were 72 of 117, and lost 3 right
            # actions for 1 wrong one avoided.
            return None
        return stretch

    def _loud_again(self, result: Transcript, start_ms: int, end_ms: int) -> Transcript:
        """Decodes the loud stretch alone; its transcript, or `result` if that stands."""
        audio = b"".join(self._audio)[start_ms * 32: end_ms * 32]
        self._decoder.start_utt()
        self._decoder.process_raw(audio)
        self._decoder.process_raw(_ROOM_TONE)
        self._decoder.end_utt()
        self._offset_ms = start_ms
        again = self._result(find_loud=False)
        log.debug("other talk around the command: %r -> %r", result.text, again.text)
        if result.rejected and (again.rejected or again.garbage_ms):
            return result  # rejected as a whole: the loud stretch must be all command
        return replace(again, audio_ms=result.audio_ms)

    def cancel(self) -> None:
        if self._active:
            self._decoder.end_utt()
            self._active = False

    def save_cmn(self) -> str:
        """The decoder's cepstral mean, as pocketsphinx writes it (comma-separated numbers).

        The mean follows the microphone and room the last commands came from; one decoder
        serving several microphones saves each one's mean and restores it (`restore_cmn`).
        """
        return str(self._decoder.get_cmn(False))

    @property
    def initial_cmn(self) -> str:
        """The mean a new decoder starts from, as `save_cmn()` writes it."""
        return self._initial_cmn

    def restore_cmn(self, cmn: str) -> None:
        """Puts back a mean from `save_cmn()`; between commands, not during one.

        Given the decoder's first mean back (a satellite that has not spoken yet), the next
        command gets the second pass a new decoder's first command gets.
        """
        self._decoder.set_cmn(cmn)
        self._fresh = cmn == self._initial_cmn


# 100 ms of faint noise (about -75 dBFS); digital zeros would upset the feature extraction.
_ROOM_TONE = np.random.default_rng(0).integers(-4, 5, 1600).astype("<i2").tobytes()


def _filler(word: str) -> bool:
    return not word or (word.startswith(("<", "[", "+")) and not word.startswith(GARBAGE_PREFIX))


def _common_prefix(seqs: list[tuple[str, ...]]) -> tuple[str, ...]:
    first = seqs[0]
    n = len(first)
    for s in seqs[1:]:
        n = min(n, len(s))
        for i in range(n):
            if s[i] != first[i]:
                n = i
                break
    return first[:n]

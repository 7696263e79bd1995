"""The voice loop: audio sources in, one Outcome per spoken command out (and published).

frontend -> (wake phrase) -> VAD endpointing -> streaming recognition -> text pipeline.
Words the recognizer commits while the user is still speaking are fed to the micro-LLM,
whose verdict "this command is complete" lets the endpointer stop after a short pause
instead of the full silence timeout (semantic endpointing).
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
import time
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assistant import hermes
from assistant.asr import Recognizer, Transcript
from assistant.audio import AudioSource, MicSource, PcmStdinSource, WavSource
from assistant.config import Config
from assistant.errors import AssistantError, AudioError
from assistant.feedback import Feedback
from assistant.frontend import Frame, Frontend
from assistant.grammar import answers_only, build_word_graph, with_follow_ups
from assistant.pipeline import Assistant, outcome_line
from assistant.skills import answer_intents, home_lists
from assistant.structs import Outcome, Status
from assistant.vad import Endpointer, EventKind, VadEvent

log = logging.getLogger(__name__)

# After an unsure wake phrase, the command must begin this soon: said in one breath with
# the phrase, as no sound invited the user to go on.
UNSURE_WAIT_MS = 2000
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "packaging" / "samples"
# A command turned down whose loudest moment stood less than this above the room's noise
# floor gets a reply that says the room is loud. On the Festival speech set, speech at
# 20 dB SNR stood 25 dB or more above it; every command turned down in pink noise at 5 dB
# stood below it (docs/benchmarks.md, "Saying why, when the room is loud").
NOISY_ROOM_DB = 22.0


@dataclass
class _Command:
    """The command being heard: its frames (only kept for debug capture) and LM session."""

    started_ms: int
    frames: list[Frame] = field(default_factory=list)
    session: Any = None
    words: list[str] = field(default_factory=list)
    answering: bool = False  # heard as the answer to a question (yes or no)


class CommandRecognizer(Protocol):
    """What the loop needs of a recognizer (a Recognizer, or a handle on a shared one)."""

    def start(self, answering: bool = False) -> None: ...
    def feed(self, frames: Iterable[Frame]) -> list[str]: ...
    @property
    def committed(self) -> list[str]: ...
    def finish(self) -> Transcript: ...
    def cancel(self) -> None: ...


# Reasons of a file's outcome when nothing in it was taken as a command (`run --wav`).
NO_SPEECH = "no speech heard"
NO_WAKE_PHRASE = "no wake phrase heard"
NOTHING_AFTER_WAKE = "nothing heard after the wake phrase"


class VoiceLoop:
    """Listens to one audio source at a time; the Assistant does the rest.

    `recognizer` shares a decoder between loops (satellites); `toggles=False` leaves the
    hermes/hotword/toggleOn|Off subscription to whoever runs several loops.
    """

    def __init__(self, assistant: Assistant, config: Config, *, wake: bool = True,
                 on_outcome: Callable[[Outcome], None] | None = None,
                 recognizer: CommandRecognizer | None = None, toggles: bool = True) -> None:
        self.assistant = assistant
        self.config = config
        self.on_outcome = on_outcome
        self.feedback = Feedback(config.feedback)
        self.recognizer = recognizer or make_recognizer(assistant, config)
        self.wake = _make_wake(config) if wake else None
        self.listening = True  # hermes/hotword/toggleOff pauses wake detection
        # Woken by the wake phrase, not listening on after a reply: a question that still
        # waits is not what the user is answering then, so the whole grammar is searched.
        self._woken = False
        # Woken by a phrase the wake check turned down (wake.py): what follows is acted on
        # only if it is plainly a command, and otherwise dropped without a sound.
        self._unsure = False
        self._dropped = False  # the command that just ended was dropped (after an unsure phrase)
        self.wakes = 0  # wake phrases heard (for benchmarks)
        self.unsure_wakes = 0  # of which unsure, and of those, commands taken
        self.unsure_taken = 0
        self.muted_frames = 0  # heard from a microphone while this board played a sound
        if assistant.link is not None and toggles:
            assistant.link.subscribe(hermes.HOTWORD_TOGGLE_ON_TOPIC, self._on_toggle)
            assistant.link.subscribe(hermes.HOTWORD_TOGGLE_OFF_TOPIC, self._on_toggle)

    def _on_toggle(self, topic: str, payload: bytes) -> None:
        toggle = hermes.parse_hotword_toggle(topic, payload)
        if isinstance(toggle, hermes.Malformed):
            log.warning("ignored %s: %s", topic, toggle.reason)
        elif toggle.site_id in (self.assistant.site_id, hermes.DEFAULT_SITE_ID):
            self.listening = toggle.on

    # --- one source -----------------------------------------------------------------

    def run(self, source: AudioSource, wav: str | None = None) -> list[Outcome]:
        frontend = Frontend(self.config.audio)
        endpointer = self._endpointer = Endpointer(self.config.vad, frontend.frame_ms)
        awake_until_ms = -1 if self.wake is not None else sys.maxsize
        command: _Command | None = None
        outcomes: list[Outcome] = []
        last_ms = 0
        endpointer.reset(timeout=False)
        for frame in frontend.frames(source.chunks()):
            last_ms = frame.end_ms
            if source.live and self.feedback.playing():
                # The microphone hears our own beep or reply: not a command, not a wake phrase
                # (the reply may well name a device: "turning off the kitchen lights").
                self.muted_frames += 1
                continue
            asleep = frame.end_ms > awake_until_ms and command is None
            if asleep:
                self._unsure = False
            if (asleep or self._unsure) and self.wake is not None and self.listening:
                # Asleep, only the wake phrase matters. After an unsure one it still counts:
                # a television that keeps such listening busy must not hide the user's.
                if self.wake.process(frame):
                    if command is not None:
                        self.recognizer.cancel()
                        command = None
                    awake_until_ms = frame.end_ms + self.config.vad.no_speech_timeout_ms
                    self._woken = True
                    self._unsure = False
                    self._woke()
                    endpointer.reset(timeout=False)
                    continue
                if asleep and self.wake.unsure and self.config.wake.listen_when_unsure:
                    awake_until_ms = frame.end_ms + UNSURE_WAIT_MS
                    self._woken = self._unsure = True
                    self.unsure_wakes += 1
                    endpointer.reset(timeout=False)
                    continue
            if asleep:
                continue
            if command is not None and self.config.debug_capture.enabled:
                command.frames.append(frame)
            for event in endpointer.process(frame):
                command = self._on_event(event, command, outcomes, wav)
                if event.kind in (EventKind.END, EventKind.TIMEOUT):
                    endpointer.reset(timeout=False)
                if event.kind is EventKind.END and self.wake is not None:
                    # One follow-up ("yes", a retry, "and the hallway too") needs no second
                    # wake phrase; a command heard that way opens no further window unless a
                    # question waits, or one false wake before a television would chain
                    # its talk into command after command. After an unsure phrase whose
                    # words were dropped, back to sleep.
                    again = not self._dropped and (self._woken or self.assistant.waiting_for_yes)
                    awake_until_ms = (event.time_ms + self.config.wake.follow_up_window_ms
                                      if again else -1)
                    self._woken = self._unsure = self._dropped = False
        for event in endpointer.finish(last_ms):
            command = self._on_event(event, command, outcomes, wav)
        return outcomes

    def _woke(self, sound: bool = True) -> None:
        self.wakes += 1
        if sound:
            self.feedback.event("wake")
        if self.assistant.link is not None:
            self.assistant.link.publish([hermes.hotword_detected_message(
                _wake_id(self.config), self.assistant.site_id)], durable=False)

    def _on_event(self, event: VadEvent, command: _Command | None, outcomes: list[Outcome],
                  wav: str | None) -> _Command | None:
        if event.kind is EventKind.START:
            # Right after "Should I unlock the front door?", the user answers: the recognizer
            # listens for yes or no only, which it hears far better than among every command.
            answering = not self._woken and self.assistant.waiting_for_yes
            self.recognizer.start(answering=answering)
            lm = self.assistant.understanding.lm
            command = _Command(started_ms=event.time_ms,
                               session=lm.session() if lm is not None else None,
                               answering=answering)
            self._feed(command, event.frames)
            return command
        if event.kind is EventKind.AUDIO and command is not None:
            self._feed(command, event.frames)
            return command
        if event.kind is EventKind.CANCEL:
            self.recognizer.cancel()
            return None
        if event.kind is EventKind.END and command is not None:
            decided = time.perf_counter()
            transcript = self.recognizer.finish()
            outcome = self._outcome(transcript, event, decided, wav, command.answering)
            self._capture(command)
            if outcome is None:
                self._dropped = True
                return None
            outcomes.append(outcome)
            if self.on_outcome is not None:
                self.on_outcome(outcome)
            return None
        return command

    def _feed(self, command: _Command, frames: Iterable[Frame]) -> None:
        self.recognizer.feed(frames)
        committed = self.recognizer.committed
        if committed != command.words and command.session is not None:
            # Usually more words; fewer or others when the recognizer started again at
            # louder speech, the earlier words being other talk in the room.
            command.session.update(committed, final=True)
            command.words = committed
        # The endpointer may stop after a short pause once the words make a whole command.
        complete = (command.session is not None and bool(command.words)
                    and bool(command.session.is_complete()))
        self._endpointer.set_semantic_complete(complete)

    def _outcome(self, transcript: Transcript, event: VadEvent, decided: float,
                 wav: str | None, answering: bool = False) -> Outcome | None:
        """The command's outcome, published; None when dropped after an unsure wake phrase."""
        if self._unsure and (transcript.rejected or not transcript.text
                             or transcript.garbage_ms > 0):
            log.info("unsure wake phrase, then %s: dropped",
                     transcript.reason or f"'{transcript.text}' with other sounds")
            return None
        # Silence heard after the last word before the command was closed: the endpoint cost.
        start_ms = self._endpointer.command_start_ms
        timings = {"asr": transcript.decode_ms,
                   "endpoint_wait": float(event.time_ms - start_ms - event.speech_ms)}
        if transcript.rejected or not transcript.text:
            reason = transcript.reason or "nothing recognized"
            self.feedback.event("error")
            speech = "Sorry, I didn't catch that."
            what = "yes or no" if answering else "it again"  # a question still waits
            over = self._endpointer.speech_over_floor_db
            if over is not None and over < NOISY_ROOM_DB:
                log.info("turned down %.1f dB above the room's noise floor", over)
                speech += f" It's noisy here: please say {what}, closer to me."
            elif answering:
                speech += f" Please say {what}."
            return Outcome(input="", source="audio", status=Status.REJECTED, reason=reason,
                           heard="", wav=wav, speech=speech, timings_ms=timings)
        if self._unsure:
            why = self.assistant.not_plainly_a_command(transcript.text)
            if why is not None:
                log.info("unsure wake phrase, then '%s' (%s): dropped", transcript.text, why)
                return None
            self.unsure_taken += 1
            self._woke(sound=False)
        if self.assistant.link is not None:
            self.assistant.link.publish([hermes.text_captured_message(
                transcript.text, 1.0, transcript.audio_ms / 1000, self.assistant.site_id)],
                durable=False)
        outcome = self.assistant.handle(transcript.text, source="audio", wav=wav,
                                        heard=transcript.text, timings_ms=timings)
        outcome.timings_ms["end_of_speech_to_publish"] = (time.perf_counter() - decided) * 1000
        self.feedback.event("done" if outcome.status is not Status.REJECTED else "error")
        self.feedback.say(outcome.speech)
        if self.wake is not None:
            self.wake.reset()  # our own reply must not count towards a wake phrase
        return outcome

    def _capture(self, command: _Command) -> None:
        """Debug capture: only when switched on, and never more than max_files files."""
        cap = self.config.debug_capture
        if not cap.enabled or not command.frames:
            return
        folder = self.config.resolve(cap.directory)
        folder.mkdir(parents=True, exist_ok=True)
        # Nanoseconds keep names unique (and in order) for commands within one second.
        path = folder / f"command-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns():020d}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(b"".join(f.pcm() for f in command.frames))
        old = sorted(folder.glob("command-*.wav"), key=lambda p: p.stat().st_mtime)
        for stale in old[: max(0, len(old) - cap.max_files)]:
            stale.unlink(missing_ok=True)


def make_recognizer(assistant: Assistant, config: Config) -> Recognizer:
    commands, answers = _word_graphs(assistant, config)
    return Recognizer(commands, config.asr_resolved(), answers=answers)


def _graphs_in_child(intents: Any, answers: Any) -> tuple[Any, Any]:
    return build_word_graph(intents), build_word_graph(answers, chain=False)


def _word_graphs(assistant: Assistant, config: Config) -> tuple[Any, Any]:
    """The recognizer's grammars (commands; answers to a question), compiled in a
    short-lived child process: compiling peaks at about 60 MB of Python objects that the
    service would otherwise keep as resident."""
    lists = home_lists(config)
    intents = with_follow_ups(assistant.skills.hassil_intents(lists))
    answers = answers_only(assistant.skills.hassil_intents(lists),
                           answer_intents(assistant.skills))
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: compile here
        return _graphs_in_child(intents, answers)
    with ctx.Pool(1) as pool:
        return pool.apply(_graphs_in_child, (intents, answers))


def _wake_id(config: Config) -> str:
    return config.wake.phrase.replace(" ", "_")


def _make_wake(config: Config) -> Any:
    try:
        from assistant.wake import WakeDetector
    except ImportError as exc:
        raise AssistantError(f"wake phrase detection is unavailable ({exc}); "
                             "use --no-wake") from None
    asr = config.asr_resolved()
    adapted = None
    if asr.adaptation:  # the recognizer's adaptation serves the wake phrase too
        from assistant.adapt import adapted_files, shipped_model

        adapted = adapted_files(Path(asr.adaptation), Path(asr.model_dir or shipped_model()))
    return WakeDetector(config.wake, model_dir=asr.model_dir, adapted=adapted)


Sources = list[tuple[Callable[[], AudioSource], str | None]]  # opened one at a time


def _sources(wavs: list[str] | None, mic: bool, config: Config, pcm: bool = False) -> Sources:
    def wav(path: str) -> Callable[[], AudioSource]:
        return lambda: WavSource(Path(path))

    if wavs:
        return [(wav(p), p) for p in wavs]
    if pcm:
        return [(PcmStdinSource, None)]
    try:
        mic_source = MicSource(config.audio.device)
    except AudioError as exc:
        samples = sorted(SAMPLES_DIR.glob("*.wav"))
        if mic or not samples:
            raise
        print(f"assistant: no microphone ({exc}); playing the bundled samples "
              f"from {SAMPLES_DIR} instead", file=sys.stderr)
        return [(wav(str(p)), str(p)) for p in samples]
    return [(lambda: mic_source, None)]


def _nothing_heard(loop: VoiceLoop, wakes_before: int) -> str:
    """Why a file gave no outcome: it held no speech, no wake phrase, or nothing after one."""
    if loop.wake is None:
        return NO_SPEECH
    return NO_WAKE_PHRASE if loop.wakes == wakes_before else NOTHING_AFTER_WAKE


def run_voice(config: Config, *, wavs: list[str] | None, mic: bool, wake: bool,
              json_out: bool, engine: str | None, pcm: bool = False) -> int:
    """`assistant run` with audio: prints outcomes as they come, publishes actions."""
    sources = _sources(wavs, mic, config, pcm)

    def show(outcome: Outcome) -> None:
        if json_out:
            print(outcome_line(outcome), flush=True)
        elif outcome.heard or outcome.speech:
            print(f"> {outcome.heard or '(nothing)'}\n  {outcome.speech}", flush=True)
        else:  # a file in which nothing was heard
            print(f"> (nothing: {outcome.reason})", flush=True)

    assistant = Assistant(config, engine=engine)
    failed = 0
    try:
        loop = VoiceLoop(assistant, config, wake=wake, on_outcome=show)
        for open_source, name in sources:
            wakes = loop.wakes
            try:
                with open_source() as source:
                    heard = loop.run(source, wav=name)
            except AudioError as exc:  # one unreadable file must not stop the others
                print(f"assistant: {exc}", file=sys.stderr)
                failed += 1
                if json_out:
                    show(Outcome(input="", source="audio", status=Status.ERROR,
                                 reason=str(exc), heard="", wav=name))
                continue
            if name is not None and not heard:
                # Each file answers: a silent line would look like a hang or a crash.
                show(Outcome(input="", source="audio", status=Status.REJECTED,
                             reason=_nothing_heard(loop, wakes), heard="", wav=name))
        loop.feedback.close()
    finally:
        left = assistant.close()
    return 1 if failed else 3 if left else 0

"""The endpointing state machine, driven by voiced/unvoiced tables and by real fixture audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.audio import WavSource
from assistant.config import VadConfig
from assistant.frontend import Frame, Frontend
from assistant.vad import Endpointer, EndReason, EventKind, VadEvent

FIXTURES = Path(__file__).parent / "fixtures" / "audio"
SILENT = np.zeros(480, dtype=np.int16)


def run(pattern: str, config: VadConfig | None = None, timeout: bool = True,
        semantic_at: int | None = None, finish: bool = False) -> tuple[list[str], list[int]]:
    """Feeds frames voiced where the pattern has X; returns "kind@frame[:reason]" and fed frames."""
    ep = Endpointer(config or VadConfig())
    ep.reset(timeout)
    events: list[str] = []
    fed: list[int] = []
    for i, ch in enumerate(pattern.replace(" ", "")):
        if semantic_at is not None and i == semantic_at:
            ep.set_semantic_complete(True)
        for e in ep.process(Frame(SILENT, i, 30), voiced=ch == "X"):
            record(e, i, events, fed)
    if finish:
        for e in ep.finish(len(pattern) * 30):
            record(e, len(pattern), events, fed)
    return events, fed


def record(e: VadEvent, i: int, events: list[str], fed: list[int]) -> None:
    fed.extend(f.index for f in e.frames)
    if e.kind is not EventKind.AUDIO:
        events.append(f"{e.kind.value}@{i}" + (f":{e.reason.value}" if e.reason else ""))


SPEECH = "X" * 20  # 600 ms
QUIET = "." * 25  # 750 ms, more than the 600 ms trailing silence


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("....." + SPEECH + QUIET, ["start@7", "end@44:silence"]),  # 3 voiced start it
        ("..X....X....X...." + QUIET, []),  # isolated clicks never start a command
        ("X.X.X" + "X" * 15 + QUIET, ["start@4", "end@39:silence"]),  # a gap between syllables
        ("XXXX" + QUIET, ["start@2", "cancel@23"]),  # 120 ms: too short to be a command
        ("XXXXX.........X" + QUIET, ["start@2", "cancel@24"]),  # a blip does not resume
        ("X" * 400, ["start@2", "end@333:max_length"]),  # 10 s cap from the first voiced
        (SPEECH + "." * 10 + SPEECH + QUIET, ["start@2", "end@69:silence"]),  # a pause inside
    ],
)
def test_endpointing_table(pattern: str, expected: list[str]) -> None:
    assert run(pattern)[0] == expected


def test_no_speech_timeout_only_when_armed() -> None:
    assert run("." * 200)[0] == ["timeout@166"]  # 5000 ms = frame 166 ends at 5010 ms
    assert run("." * 200, timeout=False)[0] == []
    assert run("." * 20, timeout=False, finish=True)[0] == ["timeout@20"]


def test_semantic_completion_ends_after_a_short_pause() -> None:
    pattern = SPEECH + QUIET
    plain, _ = run(pattern)
    early, _ = run(pattern, semantic_at=18)
    assert plain == ["start@2", "end@39:silence"]
    assert early == ["start@2", "end@26:semantic"]  # 210 ms of silence, not 600
    # A pause shorter than semantic_silence_ms does not end it; the verdict stands until the
    # pipeline withdraws it, so the next 210 ms pause does.
    assert run(SPEECH + "...." + SPEECH + QUIET, semantic_at=18)[0] == ["start@2",
                                                                         "end@50:semantic"]
    assert run(SPEECH + "...." + SPEECH + QUIET, semantic_at=22)[0] == ["start@2",
                                                                         "end@50:semantic"]


def test_stream_end_closes_a_command_in_progress() -> None:
    assert run(SPEECH, finish=True)[0] == ["start@2", "end@20:stream_end"]


def test_preroll_and_pause_frames_reach_the_recognizer_but_not_long_silence() -> None:
    cfg = VadConfig(trailing_silence_ms=3000, pre_roll_ms=300, pause_fed_ms=300)
    pattern = "......" + SPEECH + "." * 40 + SPEECH + QUIET
    events, fed = run(pattern, cfg, finish=True)
    assert events == ["start@8", "end@111:stream_end"]
    # Pre-roll: everything up to and including the trigger frame (less than 300 ms here).
    assert fed[:9] == list(range(9))
    assert fed == sorted(fed) and len(set(fed)) == len(fed)
    # Of the 40-frame pause, the first 300 ms and the 300 ms before speech resumed (frame 67;
    # frame 66 alone was a blip) are passed on; the 20 frames between are skipped.
    pause = range(26, 66)
    assert [i for i in pause if i in fed] == [*range(26, 36), *range(57, 66)]
    # Trailing silence beyond 300 ms is never passed on.
    assert max(fed) == 86 + 10 - 1


def read(path: Path) -> list[Frame]:
    with WavSource(path) as source:
        return list(Frontend().frames(source.chunks()))


@pytest.mark.parametrize("name", ["cmd_kitchen_off_us.wav", "cmd_hallway_on.wav",
                                  "cmd_bedroom_lamp_50.wav", "cmd_loud_clipped.wav"])
def test_real_speech_in_noise_is_found(name: str) -> None:
    frames = read(FIXTURES / name)
    ep = Endpointer()
    events = [e for f in frames for e in ep.process(f)] + ep.finish(frames[-1].end_ms)
    kinds = [e.kind for e in events if e.kind is not EventKind.AUDIO]
    assert kinds == [EventKind.START, EventKind.END]
    start = next(e for e in events if e.kind is EventKind.START)
    # Speech sits between 500 ms of noise on either side.
    assert 450 <= start.time_ms <= 750
    assert events[-1].speech_ms >= frames[-1].end_ms - 1000 - 400


def test_a_five_minute_monologue_is_cut_into_bounded_commands() -> None:
    # Unrelated speech with no pause long enough to end a command: the cap must hold.
    talk = read(FIXTURES / "ood_garden.wav") + read(FIXTURES / "ood_train.wav")
    stream: list[Frame] = []
    while len(stream) * 30 < 5 * 60 * 1000:
        stream += [Frame(f.samples, len(stream) + i, 30, 0, f.input_level_dbfs)
                   for i, f in enumerate(talk)]
    cfg = VadConfig(trailing_silence_ms=2000)  # the clips' 1 s of noise between them is no end
    ep = Endpointer(cfg)
    ends = []
    for f in stream:
        for e in ep.process(f):
            if e.kind is EventKind.END:
                ends.append(e)
                ep.reset(timeout=False)
    assert len(ends) >= 5 * 60 // 10 - 2
    assert all(e.speech_ms <= cfg.max_command_ms + 30 for e in ends)  # within a frame
    assert {e.reason.value for e in ends if e.reason} == {"max_length"}


def levelled(pattern: str, config: VadConfig | None = None) -> list[str]:
    """Like `run`, every frame voiced: "L" a loud one (-20 dBFS), "q" one 15 dB quieter."""
    ep = Endpointer(config or VadConfig())
    events: list[str] = []
    for i, ch in enumerate(pattern.replace(" ", "")):
        frame = Frame(SILENT, i, 30, input_level_dbfs=-20.0 if ch == "L" else -35.0)
        for e in ep.process(frame, voiced=True):
            record(e, i, events, [])
    return events


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # The speaker, then a television 15 dB quieter that talks on: the command ends as if
        # it had fallen silent (600 ms after the last loud frame) ...
        ("L" * 20 + "q" * 60, ["start@2", "end@39:silence"]),
        # ... a quieter start is still the command's start, and a quiet moment inside it
        # shorter than the trailing silence does not end it ...
        ("q" * 10 + "L" * 10 + "q" * 10 + "L" * 10 + "q" * 30, ["start@2", "end@59:silence"]),
        # ... and without the louder speaker, talk at one level is all voice (the cap ends it).
        ("q" * 400, ["start@2", "end@333:max_length"]),
    ],
)
def test_talk_much_quieter_than_the_speaker_ends_a_command(pattern: str,
                                                          expected: list[str]) -> None:
    assert levelled(pattern) == expected
    # Switched off, voice is voice however quiet: the command stays open.
    off = levelled(pattern, VadConfig(other_talk_below_db=0))
    assert off == ["start@2"] or off == ["start@2", "end@333:max_length"]


@pytest.mark.parametrize(("room_dbfs", "over_db"), [(-50.0, 30.0), (-35.0, 15.0)])
def test_how_far_a_command_stands_above_the_room_is_measured(room_dbfs: float,
                                                            over_db: float) -> None:
    # A room, a command at -20 dBFS, the room again: the command's loudest moment against
    # the quietest frame of the last two seconds.
    ep = Endpointer(VadConfig())
    levels = [room_dbfs] * 20 + [-20.0] * 30 + [room_dbfs] * 25
    events = []
    for i, level in enumerate(levels):
        if i == 20:
            assert ep.speech_over_floor_db is None  # no voice heard yet
        events += ep.process(Frame(SILENT, i, 30, input_level_dbfs=level),
                             voiced=level > room_dbfs)
    assert [e.kind for e in events if e.kind is not EventKind.AUDIO] == [EventKind.START,
                                                                      EventKind.END]
    assert ep.speech_over_floor_db == pytest.approx(over_db)


def test_a_room_that_talks_on_does_not_keep_a_real_command_open() -> None:
    # A spoken command, and as it ends other talkers (the babble fixture, 10 dB below it)
    # who go on for four seconds.
    with WavSource(FIXTURES / "noise_babble.wav") as source:
        babble = np.concatenate(list(source.chunks())).astype(float)
    with WavSource(FIXTURES / "cmd_kitchen_off_us.wav") as source:
        speech = np.concatenate(list(source.chunks())).astype(float)

    def rms(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(x**2)))

    talk = np.tile(babble, 3)[: 4 * 16000]
    talk *= rms(speech[8000:-8000]) / rms(talk) * 10 ** (-10 / 20)
    # The clip's last 400 ms of its own quiet noise give way to the talk.
    samples = np.concatenate([speech[:-6400], talk]).astype(np.int16)

    def ends(samples: np.ndarray, config: VadConfig) -> VadEvent:
        frames = list(Frontend().frames([samples.astype(np.int16)]))
        ep = Endpointer(config)
        events = [e for f in frames for e in ep.process(f)] + ep.finish(frames[-1].end_ms)
        return next(e for e in events if e.kind is EventKind.END)

    alone = ends(speech, VadConfig())
    end = ends(samples, VadConfig())
    # It ends as the command alone does, after the usual trailing silence ...
    assert end.reason is alone.reason is EndReason.SILENCE
    assert end.time_ms <= alone.time_ms + 100
    # ... where without the rule the other talk held it open to the end of the audio.
    assert ends(samples, VadConfig(other_talk_below_db=0)).reason is EndReason.STREAM_END

"""Satellites end to end: noisy WAV fixtures cut into Hermes audioFrames, through mosquitto."""

from __future__ import annotations

import io
import json
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from assistant import hermes
from assistant.asr import Recognizer
from assistant.audio import WavFrameDecoder, WavSource
from assistant.config import Config, FeedbackConfig, SatellitesConfig, load_config
from assistant.feedback import tone_wav
from assistant.frontend import Frontend
from assistant.pcm import Resampler, to_int16
from assistant.pipeline import Assistant
from assistant.satellite import SatelliteHub, site_outcome_line
from assistant.sitedecoder import SharedRecognizer
from assistant.structs import Outcome, Status
from assistant.voice import CommandRecognizer, make_recognizer

rh_audio = pytest.importorskip("rhasspyhermes.audioserver")

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "tests" / "fixtures" / "audio"
FRAME_SAMPLES = 320  # 20 ms at 16 kHz, as a satellite sends them
WAIT_S = 20.0
SHUTDOWN_WAIT_S = 45.0  # the longest a clean stop may take: joins, replies, outbox flush


def satellite_frames(path: Path, frames_per_chunk: int = FRAME_SAMPLES) -> list[bytes]:
    """The file as a Rhasspy satellite streams it: rhasspy-hermes' own WAV chunking."""
    with open(path, "rb") as f:
        return [rh_audio.AudioFrame(wav_bytes=chunk).payload()
                for chunk in rh_audio.AudioFrame.iter_wav_chunked(f, frames_per_chunk)]


def wav_bytes(samples: np.ndarray, rate_hz: int) -> bytes:
    """int16 samples, shape (frames, channels), as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


def far_copy(src: Path, dst: Path) -> Path:
    """The file as a distant, muffled microphone hears it: 20 dB quieter, highs cut."""
    with wave.open(str(src), "rb") as w:
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64)
    y = np.convolve(x, np.ones(4) / 4, mode="same") * 0.1
    dst.write_bytes(wav_bytes(np.round(y).astype(np.int16)[:, None], 16000))
    return dst


class Satellite:
    """A plain paho client publishing audio frames, as a satellite's audio server does."""

    def __init__(self, broker: Any) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"test-satellite-{uuid.uuid4().hex[:8]}")
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def send(self, site_id: str, frames: list[bytes]) -> None:
        for frame in frames:
            self.client.publish(rh_audio.AudioFrame.topic(site_id=site_id), frame)
            time.sleep(0.002)  # ten times faster than real time, in order

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def parts(mosquitto: Any, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Config, Assistant, CommandRecognizer]]:
    """One Assistant and one compiled recognizer for the module: they take seconds to build."""
    config = load_config(ROOT / "config.yaml")
    outbox = tmp_path_factory.mktemp("satellite") / "outbox.sqlite3"
    config = replace(config, mqtt=replace(config.mqtt, host=mosquitto.host, port=mosquitto.port,
                                          outbox_path=str(outbox)),
                     site_id=f"board-{uuid.uuid4().hex[:8]}")  # its own MQTT client id
    assistant = Assistant(config)
    assert assistant.link is not None and assistant.link.wait_connected(5)
    yield config, assistant, make_recognizer(assistant, config)
    assistant.close(5)


@pytest.fixture
def satellite(broker: Any) -> Iterator[Satellite]:
    sat = Satellite(broker)
    yield sat
    sat.close()


class Run:
    """A started hub and the (siteId, outcome) pairs it produced."""

    def __init__(self, parts: tuple[Config, Assistant, CommandRecognizer], *, wake: bool = False,
                 feedback: FeedbackConfig | None = None, **settings: Any) -> None:
        config, assistant, recognizer = parts
        if isinstance(recognizer, Recognizer):  # as a new hub's: whatever earlier tests heard
            recognizer.restore_cmn(recognizer.initial_cmn)
        config = replace(config, satellites=SatellitesConfig(**{"idle_timeout_ms": 400,
                                                                **settings}),
                         feedback=feedback or config.feedback)
        self.outcomes: queue.Queue[tuple[str, Outcome]] = queue.Queue()
        self.hub = SatelliteHub(assistant, config, wake=wake, recognizer=recognizer,
                                on_outcome=lambda site, o: self.outcomes.put((site, o)))
        self.hub.start()

    def ready(self, satellite: Satellite) -> None:
        """Waits until our subscription is in place: empty frames come back counted as bad."""
        deadline = time.monotonic() + 5
        while self.hub.stats().bad_frames == 0:
            assert time.monotonic() < deadline, "the hub never received a frame"
            satellite.send("probe", [b""])
            time.sleep(0.05)

    def outcome_list(self, n: int) -> list[tuple[str, Outcome]]:
        return [self.outcomes.get(timeout=WAIT_S) for _ in range(n)]

    def idle(self) -> None:
        """Waits until every site was dropped and its listener has finished."""
        deadline = time.monotonic() + WAIT_S
        while self.hub.active_sites():
            assert time.monotonic() < deadline, self.hub.active_sites()
            time.sleep(0.05)

    def settle(self) -> None:
        """Waits until frames still in flight have arrived, so none reach the next test."""
        deadline = time.monotonic() + WAIT_S
        seen = None
        while (now := self.hub.stats()) != seen or self.hub.active_sites():
            if time.monotonic() > deadline:
                break
            seen = now
            time.sleep(0.3)


@pytest.fixture
def run(parts: tuple[Config, Assistant, CommandRecognizer]) -> Iterator[Any]:
    made: list[Run] = []

    def make(**kwargs: Any) -> Run:
        made.append(Run(parts, **kwargs))
        return made[-1]

    yield make
    for r in made:
        r.settle()
        r.hub.close()


def collect(listener: Any, wanted: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """Messages per topic until each wanted topic came the wanted number of times."""
    got: dict[str, list[dict[str, Any]]] = {}
    deadline = time.monotonic() + WAIT_S
    while any(len(got.get(t, [])) < n for t, n in wanted.items()):
        assert time.monotonic() < deadline, f"still waiting: got {sorted(got)}"
        try:
            topic, payload, retained = listener.get(0.5)
        except queue.Empty:
            continue
        if not retained:  # other tests leave retained device states on the shared broker
            got.setdefault(topic, []).append(json.loads(payload))
    return got


def test_topics_are_what_rhasspy_hermes_uses() -> None:
    topic = hermes.audio_frame_topic("kitchen")
    assert topic == rh_audio.AudioFrame.topic(site_id="kitchen")
    assert rh_audio.AudioFrame.get_site_id(topic) == "kitchen"
    assert hermes.audio_frame_site(topic) == "kitchen"
    assert rh_audio.AudioFrame.topic() == hermes.AUDIO_FRAME_TOPIC_FILTER
    for other in ("hermes/audioServer/kitchen/playBytes/1", "hermes/audioServer//audioFrame",
                  "hermes/hotword/toggleOn", "x/hermes/audioServer/a/audioFrame"):
        assert hermes.audio_frame_site(other) is None, other


def test_frames_of_a_48_khz_stereo_satellite_decode_as_one_stream(tmp_path: Path) -> None:
    # Frame by frame, the resampler must carry its state: no seam every 20 ms.
    with WavSource(AUDIO / "cmd_hallway_on.wav") as source:
        ref = np.concatenate(list(source.chunks()))
    up = Resampler(16000, 48000)
    wide = to_int16(np.concatenate([up.process(ref / 32768.0), up.flush()]))
    stereo = np.stack([wide, wide], axis=1)
    frames = [wav_bytes(stereo[i:i + 960], 48000) for i in range(0, len(stereo), 960)]
    decoder = WavFrameDecoder("satellite test")
    streamed = np.concatenate([decoder.decode(f) for f in frames])
    (tmp_path / "whole.wav").write_bytes(wav_bytes(stereo, 48000))
    with WavSource(tmp_path / "whole.wav") as whole:  # the same audio as one file
        as_file = np.concatenate(list(whole.chunks()))
    assert len(streamed) > len(ref) - 200
    assert np.array_equal(streamed, as_file[:len(streamed)])


def test_a_satellite_command_is_acted_on_for_its_site(run: Any, satellite: Satellite,
                                                      listen: Any) -> None:
    heard = listen(["zigbee2mqtt/kitchen_ceiling/set", "zigbee2mqtt/kitchen_counter/set",
                    "hermes/asr/textCaptured", "hermes/intent/#", "hermes/tts/say"])
    r = run()
    r.ready(satellite)
    satellite.send("kitchen-sat", satellite_frames(AUDIO / "cmd_kitchen_off_us.wav"))
    [(site, outcome)] = r.outcome_list(1)
    assert site == "kitchen-sat"
    assert outcome.status is Status.OK, outcome
    assert outcome.heard == "turn off the kitchen lights"
    got = collect(heard, {"zigbee2mqtt/kitchen_ceiling/set": 1, "hermes/asr/textCaptured": 1,
                          "hermes/intent/HassTurnOff": 1, "hermes/tts/say": 1})
    assert got["zigbee2mqtt/kitchen_ceiling/set"] == [{"state": "OFF"}]
    for topic in ("hermes/asr/textCaptured", "hermes/intent/HassTurnOff", "hermes/tts/say"):
        assert [m["siteId"] for m in got[topic]] == ["kitchen-sat"], topic
    assert json.loads(site_outcome_line(site, outcome))["site_id"] == "kitchen-sat"
    r.idle()
    stats = r.hub.stats()
    assert stats.sites_dropped >= 1 and stats.frames >= 100 and stats.dropped_frames == 0


def test_two_sites_streaming_at_once_do_not_mix(run: Any, satellite: Satellite,
                                                listen: Any) -> None:
    heard = listen(["hermes/intent/#"])
    r = run()
    r.ready(satellite)
    hall = satellite_frames(AUDIO / "cmd_hallway_on.wav")
    # (Each is its site's first command, decoded from the hub's first mean.)
    lamp = satellite_frames(AUDIO / "cmd_temperature.wav")
    for i in range(max(len(hall), len(lamp))):  # both rooms speak at the same time
        satellite.send("hall", hall[i:i + 1])
        satellite.send("den", lamp[i:i + 1])
    outcomes = dict(r.outcome_list(2))
    assert sorted(outcomes) == ["den", "hall"]
    assert [a.targets for a in outcomes["hall"].actions] == [("light.hallway",)], outcomes
    assert [(a.intent, a.slots["temperature"]) for a in outcomes["den"].actions] == [
        ("HassClimateSetTemperature", 21)], outcomes
    got = collect(heard, {"hermes/intent/HassTurnOn": 1,
                          "hermes/intent/HassClimateSetTemperature": 1})
    assert got["hermes/intent/HassTurnOn"][0]["siteId"] == "hall"
    assert got["hermes/intent/HassClimateSetTemperature"][0]["siteId"] == "den"
    assert r.hub.stats().decoder_waits >= 1  # one command waited for the other's decoding
    # Each room's microphone normalisation is its own.
    hall_cmn, den_cmn = r.hub.shared.saved_cmn("hall"), r.hub.shared.saved_cmn("den")
    assert hall_cmn is not None and den_cmn is not None and hall_cmn != den_cmn


def cmn_values(cmn: str) -> np.ndarray:
    return np.array([float(v) for v in cmn.split(",")])


def test_each_site_gets_its_own_normalisation_back(
        parts: tuple[Config, Assistant, CommandRecognizer], tmp_path: Path) -> None:
    config, _, recognizer = parts
    assert isinstance(recognizer, Recognizer)
    shared = SharedRecognizer(recognizer)
    at_start = recognizer.save_cmn()
    near, far = shared.for_site("near"), shared.for_site("far")

    def command(site: Any, path: Path) -> str:
        with WavSource(path) as source:
            frames = list(Frontend(config.audio).frames(source.chunks()))
        site.start()
        site.feed(frames)
        return str(site.finish().text)

    said = "turn off the kitchen lights"  # ("my" or "the" kitchen lights, as the mean goes)
    assert command(near, AUDIO / "cmd_kitchen_off_us.wav").replace(" my ", " the ") == said
    near_left = recognizer.save_cmn()
    assert shared.saved_cmn("near") == near_left and shared.saved_cmn("far") is None
    assert command(far, far_copy(AUDIO / "cmd_kitchen_off_us.wav", tmp_path / "far.wav"))
    far_left = recognizer.save_cmn()
    assert shared.saved_cmn("far") == far_left
    # The two microphones differ a lot: several units in the cepstral means.
    assert np.max(np.abs(cmn_values(near_left) - cmn_values(far_left))) > 3
    for site, left in ((near, near_left), (far, far_left), (near, near_left)):
        site.start()
        assert recognizer.save_cmn() == left  # what the site left, not what the last one did
        site.cancel()
    newcomer = shared.for_site("attic")
    newcomer.start()
    assert recognizer.save_cmn() == at_start  # a new site starts from the hub's first mean
    newcomer.cancel()


def test_a_garbage_payload_is_counted_and_ignored(run: Any, satellite: Satellite) -> None:
    r = run()
    r.ready(satellite)
    before = r.hub.stats().bad_frames
    frames = satellite_frames(AUDIO / "cmd_hallway_on.wav")
    junk = [b"RIFF\x00\x00", b"not a wav at all", frames[5][:30], b"\x00" * 5000]
    satellite.send("porch", frames[:10] + junk + frames[10:])
    [(site, outcome)] = r.outcome_list(1)
    assert (site, outcome.status) == ("porch", Status.OK)
    assert outcome.actions[0].targets == ("light.hallway",)
    assert r.hub.stats().bad_frames - before == len(junk)


def test_only_listed_sites_are_heard(run: Any, satellite: Satellite) -> None:
    r = run(sites=["kitchen"])
    satellite.send("garage", satellite_frames(AUDIO / "cmd_hallway_on.wav")[:50])
    deadline = time.monotonic() + 5
    while r.hub.stats().refused_frames < 50:
        assert time.monotonic() < deadline, r.hub.stats()
        time.sleep(0.05)
    assert r.hub.active_sites() == [] and r.hub.stats().sites_started == 0
    assert r.outcomes.empty()


def test_sites_beyond_the_limit_are_refused(run: Any, satellite: Satellite) -> None:
    r = run(max_sites=1)
    frames = satellite_frames(AUDIO / "cmd_hallway_on.wav")
    satellite.send("first", frames[:20])
    satellite.send("second", frames[:20])
    deadline = time.monotonic() + 5
    while r.hub.stats().frames + r.hub.stats().refused_frames < 40:
        assert time.monotonic() < deadline, r.hub.stats()
        time.sleep(0.05)
    assert r.hub.stats().refused_frames == 20
    r.idle()  # once "first" has gone quiet, another site may take its place
    satellite.send("second", frames)
    [(site, outcome)] = r.outcome_list(1)
    assert (site, outcome.status) == ("second", Status.OK)


def test_the_wake_phrase_is_announced_for_its_site(run: Any, satellite: Satellite,
                                                   listen: Any) -> None:
    heard = listen(["hermes/hotword/+/detected"])
    r = run(wake=True)
    r.ready(satellite)
    satellite.send("bedroom", satellite_frames(AUDIO / "cmd_hallway_on.wav"))  # no wake phrase
    satellite.send("attic", satellite_frames(AUDIO / "wake_hallway_on.wav"))
    [(site, outcome)] = r.outcome_list(1)
    assert (site, outcome.status) == ("attic", Status.OK)
    got = collect(heard, {"hermes/hotword/hey_house/detected": 1})
    assert [m["siteId"] for m in got["hermes/hotword/hey_house/detected"]] == ["attic"]
    r.idle()
    assert r.outcomes.empty()  # the bedroom said no wake phrase: nothing heard there


def test_a_toggled_off_site_hears_no_wake_phrase(run: Any, satellite: Satellite) -> None:
    r = run(wake=True)
    r.ready(satellite)
    satellite.client.publish(hermes.HOTWORD_TOGGLE_OFF_TOPIC,
                             json.dumps({"siteId": "attic", "reason": "playing music"}))
    time.sleep(0.3)
    satellite.send("attic", satellite_frames(AUDIO / "wake_hallway_on.wav"))
    r.idle()
    assert r.outcomes.empty()


def played(listener: Any, n: int) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """The first n playBytes messages (topic, WAV file), and the others that came meanwhile."""
    sounds: list[tuple[str, bytes]] = []
    others: list[tuple[str, bytes]] = []
    deadline = time.monotonic() + WAIT_S
    while len(sounds) < n:
        assert time.monotonic() < deadline, f"only {len(sounds)} sounds played"
        try:
            topic, payload, _ = listener.get(0.5)
        except queue.Empty:
            continue
        (sounds if rh_audio.AudioPlayBytes.is_topic(topic) else others).append((topic, payload))
    return sounds, others


def wav_format(data: bytes) -> tuple[int, int, int, int]:
    """(rate Hz, channels, sample bytes, frames) of a WAV file, as the stdlib reads it."""
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_beep_and_reply_are_played_on_the_satellite(
        parts: tuple[Config, Assistant, CommandRecognizer], run: Any, satellite: Satellite,
        listen: Any) -> None:
    heard = listen([hermes.PLAY_BYTES_TOPIC_FILTER, "hermes/tts/say"])
    r = run(feedback=replace(parts[0].feedback, sounds=True, speak=True))
    r.ready(satellite)
    satellite.send("porch", satellite_frames(AUDIO / "cmd_hallway_on.wav"))
    [(site, outcome)] = r.outcome_list(1)
    assert (site, outcome.status) == ("porch", Status.OK)
    [(beep_topic, beep), (reply_topic, reply)], others = played(heard, 2)
    ids = []
    for topic in (beep_topic, reply_topic):
        assert rh_audio.AudioPlayBytes.get_site_id(topic) == "porch"
        ids.append(rh_audio.AudioPlayBytes.get_request_id(topic))
    assert all(re.fullmatch("[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]
    rate, channels, width, n = wav_format(beep)
    assert (rate, channels, width) == (16000, 1, 2) and n > 0
    assert beep == tone_wav("done")
    rate, channels, width, n = wav_format(reply)
    assert (channels, width) == (1, 2) and n > rate // 2  # espeak-ng's own rate, 22.05 kHz
    # Hubs that speak replies themselves still get them (sent before the sounds).
    says = [json.loads(payload) for topic, payload in others if topic == "hermes/tts/say"]
    assert [(m["siteId"], m["text"]) for m in says] == [("porch", outcome.speech)]
    deadline = time.monotonic() + 5  # counted once sent: the listener may hear it first
    while r.hub.stats().sounds_played < 2:
        assert time.monotonic() < deadline, r.hub.stats()
        time.sleep(0.02)
    r.idle()
    assert r.hub.stats().sounds_played == 2


def test_nothing_is_played_when_play_replies_is_off(
        parts: tuple[Config, Assistant, CommandRecognizer], run: Any, satellite: Satellite,
        listen: Any) -> None:
    heard = listen([hermes.PLAY_BYTES_TOPIC_FILTER, "hermes/tts/say"])
    r = run(feedback=replace(parts[0].feedback, sounds=True, speak=True), play_replies=False)
    r.ready(satellite)
    satellite.send("porch", satellite_frames(AUDIO / "cmd_hallway_on.wav"))
    [(site, outcome)] = r.outcome_list(1)
    assert (site, outcome.status) == ("porch", Status.OK)
    assert collect(heard, {"hermes/tts/say": 1})["hermes/tts/say"][0]["siteId"] == "porch"
    r.idle()
    assert r.hub.stats().sounds_played == 0
    assert not [t for t, _, _ in list(heard.messages.queue)
                if rh_audio.AudioPlayBytes.is_topic(t)]


def test_a_satellite_is_not_heard_while_it_plays(run: Any, satellite: Satellite) -> None:
    r = run()
    r.ready(satellite)
    noise = satellite_frames(AUDIO / "noise_hum.wav")
    satellite.send("den", noise[:5])
    deadline = time.monotonic() + 5
    while "den" not in r.hub.active_sites():
        assert time.monotonic() < deadline, r.hub.stats()
        time.sleep(0.02)
    # A hub's chime of two seconds for the den; the command said meanwhile is the chime's
    # echo as far as we can tell, and is left out.
    chime = wav_bytes(np.zeros((32000, 1), np.int16), 16000)
    played_at = time.monotonic()
    satellite.client.publish(hermes.play_bytes_topic("den", "chime-1"), chime)
    command = satellite_frames(AUDIO / "cmd_hallway_on.wav")
    satellite.send("den", command)
    deadline = time.monotonic() + 5
    while r.hub.stats().muted_frames < len(command):
        assert time.monotonic() < deadline, r.hub.stats()
        time.sleep(0.02)
    assert time.monotonic() - played_at < 2.0, "too slow to test: the chime was over"
    while time.monotonic() - played_at < 2.0 + 0.5:  # the den goes on streaming its room
        satellite.send("den", noise[:10])
        time.sleep(0.1)
    assert r.outcomes.empty()
    satellite.send("den", command)  # once played, the den is heard again
    [(site, outcome)] = r.outcome_list(1)
    assert (site, outcome.status) == ("den", Status.OK)
    assert outcome.actions[0].targets == ("light.hallway",)


def test_assistant_run_satellites_serves_until_interrupted(broker: Any, satellite: Satellite,
                                                           tmp_path: Path, site_id: str) -> None:
    config = tmp_path / "config.yaml"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config.write_text(text.replace("skills_dir: skills", f"skills_dir: {ROOT / 'skills'}")
                      .replace("model_dir: models", f"model_dir: {ROOT / 'models'}")
                      .replace("host: embedded", "host: 127.0.0.1")
                      .replace("port: 1883 ", f"port: {broker.port} ")
                      # Our own MQTT client id: another client with the same one (another
                      # test's Assistant) would keep knocking this one off the broker.
                      .replace("site_id: default", f"site_id: {site_id}"), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--debug", "run", "--config", str(config),
         "--satellites", "--no-wake", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        # Ctrl-C as at a terminal, even where the tests run as a background job of a script
        # (which starts with SIGINT ignored, and children inherit that)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stderr is not None and proc.stdout is not None
        errors: list[str] = []  # --debug is chatty: keep reading, or the pipe fills up
        drain = threading.Thread(target=lambda: errors.extend(proc.stderr or ()), daemon=True)
        drain.start()
        deadline = time.monotonic() + 60
        while not any("is not audio" in line for line in errors):  # subscribed: it hears us
            assert proc.poll() is None and time.monotonic() < deadline, "".join(errors)
            satellite.send("probe", [b""])
            time.sleep(0.1)
        satellite.send("office", satellite_frames(AUDIO / "cmd_kitchen_off_us.wav"))
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(proc.stdout.readline() if proc.stdout
                                                  else ""), daemon=True).start()
        try:
            outcome = json.loads(lines.get(timeout=WAIT_S))
        except queue.Empty:
            raise AssertionError("no outcome printed:\n" + "".join(errors)) from None
        assert (outcome["source"], outcome["site_id"], outcome["status"]) == (
            "audio", "office", "ok"), outcome
        proc.send_signal(signal.SIGINT)
        try:
            # bounded by design: each site's join, the replies' worker and the outbox's
            # flush wait a few seconds at most (about 40 s together)
            code = proc.wait(SHUTDOWN_WAIT_S)
        except subprocess.TimeoutExpired:
            raise AssertionError("no exit after Ctrl-C:\n" + "".join(errors[-40:])) from None
        assert code == 130
        drain.join(5)
        assert not any("Traceback" in line for line in errors), "".join(errors)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_waiting_for_satellites_heeds_ctrl_c_caught_by_another_thread() -> None:
    """The kernel may hand Ctrl-C to any of the service's threads (paho's, a site's); the
    waiting main thread must still stop. Here a helper thread takes the signal itself."""
    class Waiting:
        _closed = threading.Event()

    def interrupt() -> None:
        time.sleep(0.2)
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)  # caught in this thread
        time.sleep(3)
        Waiting._closed.set()  # the old wait would only return here, without the interrupt

    # Python's own Ctrl-C handler, even where the test run was started with SIGINT ignored
    # (a background job of a script)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        helper = threading.Thread(target=interrupt, daemon=True)
        helper.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            SatelliteHub.wait(Waiting())  # type: ignore[arg-type]
        assert time.monotonic() - started < 2
    finally:
        signal.signal(signal.SIGINT, previous)

"""Satellites: memory and processor time of the service while 1 or 3 sites stream at once.

    taskset -c 1 .venv/bin/python benchmarks/satellites.py [--sites 1 3] [--rounds 2]

Each site count runs in a fresh process (so peak memory is its own): the real service
parts (templates, micro-LLM, one shared recognizer, a wake detector per site) behind a
loopback mosquitto, fed by a separate publisher process that streams every site in real
time as 20 ms Hermes audioFrames: noise, "hey house, turn on the hallway lights", babble,
"hey house, set the bedroom lamp to fifty percent", noise (16 s per round), each site a
second behind the previous so that commands overlap. Reported per run: resident memory
before and at peak (VmHWM), processor seconds per second of audio (real-time factor,
all sites' audio summed) and the share of one core used, commands acted on, waits for
the shared decoder, and end of speech to publish. Then, for comparison, what one more
recognizer (a decoder per site instead of a shared one) would add.

The recognizer carries some state from one command to the next (its running cepstral
mean and noise estimate), so with one shared decoder a room's last command slightly
colours the next room's recognition: identical streams need not be heard identically, and
"1 stream" (the same audio through a plain voice loop afterwards) is a guide, not an oracle.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.audio import WavSource  # noqa: E402
from assistant.config import SatellitesConfig, load_config  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.satellite import SatelliteHub  # noqa: E402
from assistant.structs import Outcome, Status  # noqa: E402
from assistant.voice import VoiceLoop, make_recognizer  # noqa: E402

AUDIO = ROOT / "tests" / "fixtures" / "audio"
STREAM = ["noise_hum.wav", "wake_hallway_on.wav", "noise_hum.wav", "wake_bedroom_f3.wav",
          "noise_hum.wav"]
EXPECTED = [("light.hallway",), ("light.bedside_lamp",)]  # per round, in order
FRAME_SAMPLES = 320  # 20 ms at 16 kHz
SITE_OFFSET_S = 1.0


def status_mb(key: str) -> float:
    text = Path("/proc/self/status").read_text()
    return int(text.split(key + ":")[1].split()[0]) / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the publisher (its own process, so its work is not counted) -------------------------

def frame_wav(samples: np.ndarray) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


def stream_frames(rounds: int) -> list[bytes]:
    parts = []
    for name in STREAM * rounds:
        with WavSource(AUDIO / name) as source:
            parts += list(source.chunks())
    audio = np.concatenate(parts)
    return [frame_wav(audio[i:i + FRAME_SAMPLES]) for i in range(0, len(audio), FRAME_SAMPLES)]


def publish(port: int, sites: list[str], rounds: int) -> None:
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="satellite-benchmark")
    client.connect("127.0.0.1", port)
    client.loop_start()
    frames = stream_frames(rounds)
    frame_s = FRAME_SAMPLES / 16000
    published = dict.fromkeys(sites, 0)
    start = time.monotonic()
    end_s = len(frames) * frame_s + SITE_OFFSET_S * (len(sites) - 1)
    while (now := time.monotonic() - start) < end_s:
        for i, site in enumerate(sites):  # every site's frames that are due, in real time
            k = int((now - i * SITE_OFFSET_S) / frame_s)
            sent = published[site]
            for j in range(sent, min(k + 1, len(frames))):
                client.publish(f"hermes/audioServer/{site}/audioFrame", frames[j])
            published[site] = max(sent, min(k + 1, len(frames)))
        time.sleep(0.005)
    client.disconnect()
    client.loop_stop()


# --- one run: the service with N streaming sites ------------------------------------------

def acted_on(outcomes: list[Outcome], rounds: int) -> int:
    """Expected commands carried out (in any order) among one site's outcomes."""
    got = Counter(tuple(t for a in o.actions for t in a.targets) for o in outcomes
                  if o.status is Status.OK)
    return sum((got & Counter(EXPECTED * rounds)).values())


def write_stream(rounds: int, path: Path) -> Path:
    frames = b"".join(f[44:] for f in stream_frames(rounds))  # the PCM behind the headers
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(frames)
    return path


def serve(n_sites: int, rounds: int) -> dict[str, Any]:
    base = load_config(ROOT / "config.yaml")
    tmp = Path(tempfile.mkdtemp(prefix="satellite-bench-"))
    port = free_port()
    config = replace(base, mqtt=replace(base.mqtt, host="embedded", port=port,
                                        outbox_path=str(tmp / "outbox.sqlite3")),
                     satellites=SatellitesConfig(enabled=True, max_sites=max(4, n_sites)))
    assistant = Assistant(config)
    assert assistant.link is not None and assistant.link.wait_connected(10)
    outcomes: list[tuple[str, Outcome]] = []
    hub = SatelliteHub(assistant, config, wake=True,
                       on_outcome=lambda site, o: outcomes.append((site, o)))
    hub.start()
    time.sleep(1.0)  # the subscription is acknowledged
    ready_mb = status_mb("VmRSS")
    sites = [f"room{i + 1}" for i in range(n_sites)]
    audio_s = len(stream_frames(rounds)) * FRAME_SAMPLES / 16000 * n_sites
    cpu0, wall0 = time.process_time(), time.monotonic()
    subprocess.run([sys.executable, __file__, "--publish", str(port), "--rounds", str(rounds),
                    *sites], check=True)
    while hub.active_sites():  # the last commands finish, then the sites go quiet
        time.sleep(0.05)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    peak_mb = status_mb("VmHWM")  # before the comparisons below add their own
    stats = hub.stats()
    hub.close()
    right = sum(acted_on([o for s, o in outcomes if s == site], rounds) for site in sites)
    # The same stream through a plain voice loop: what the satellite path should match.
    reference = VoiceLoop(assistant, config, wake=True, toggles=False,
                          recognizer=hub.shared.for_site("reference"))
    with WavSource(write_stream(rounds, tmp / "stream.wav")) as source:
        single = acted_on(reference.run(source), rounds)
    latency = [o.timings_ms["end_of_speech_to_publish"] for _, o in outcomes
               if "end_of_speech_to_publish" in o.timings_ms]
    before_extra = status_mb("VmRSS")
    extra = make_recognizer(assistant, config)  # what a decoder per site would cost
    extra_mb = status_mb("VmRSS") - before_extra
    del extra
    assistant.close(5)
    return {"sites": n_sites, "audio_s": audio_s, "ready_mb": ready_mb, "peak_mb": peak_mb,
            "rtf": cpu / audio_s, "core_share": cpu / wall,
            "commands": len(EXPECTED) * rounds * n_sites, "right": right,
            "single_stream_right": single * n_sites, "outcomes": len(outcomes),
            "decoder_waits": stats.decoder_waits,
            "lost_frames": len(stream_frames(rounds)) * n_sites - stats.frames,
            "latency_p50_ms": statistics.median(latency) if latency else None,
            "latency_max_ms": max(latency) if latency else None,
            "extra_recognizer_mb": extra_mb}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--rounds", type=int, default=2, help="16 s of audio per round")
    parser.add_argument("--publish", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        publish(args.publish, args.names, args.rounds)
        return 0
    if args.one:
        print(json.dumps(serve(args.sites[0], args.rounds)))
        return 0
    rows = []
    for n in args.sites:  # a fresh process each, so that peak memory is that run's own
        out = subprocess.run([sys.executable, __file__, "--one", "--sites", str(n),
                              "--rounds", str(args.rounds)], check=True, capture_output=True,
                             text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"{'sites':>5} {'audio s':>8} {'ready MB':>9} {'peak MB':>8} {'RTF':>6} "
          f"{'core %':>7} {'acted on':>9} {'1 stream':>9} {'waits':>6} {'lost':>5} "
          f"{'EoS->pub p50/max ms':>20}")
    for r in rows:
        lat = (f"{r['latency_p50_ms']:.0f}/{r['latency_max_ms']:.0f}"
               if r["latency_p50_ms"] is not None else "-")
        print(f"{r['sites']:>5} {r['audio_s']:>8.1f} {r['ready_mb']:>9.0f} {r['peak_mb']:>8.0f} "
              f"{r['rtf']:>6.3f} {100 * r['core_share']:>6.1f}% "
              f"{r['right']:>4}/{r['commands']:<4} "
              f"{r['single_stream_right']:>4}/{r['commands']:<4} {r['decoder_waits']:>6} "
              f"{r['lost_frames']:>5} {lat:>20}")
    extra = statistics.mean(r["extra_recognizer_mb"] for r in rows)
    print(f"one more recognizer (a decoder per site instead of one shared): +{extra:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

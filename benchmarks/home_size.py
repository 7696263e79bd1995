"""How the voice path grows with the home: config.yaml with more rooms and devices added.

The recognizer's grammar holds every name of the home at every place a command may say one,
so a larger home means a larger search. For each size this prints, from a fresh process (so
the figures do not mix): the home's rooms and devices, the grammar's states, word arcs and
words, the time to compile it (what an installer waits for after an edit), and the
service's resident memory as `service_memory.py` measures it (templates and micro-LLM, then
recognizer and wake detector, peak after the bundled samples).

Each added room gets six devices named after it (light, lamp, blind, radiator, speaker,
fan) and one with a name of its own (a dehumidifier, an aquarium ...), so the shipped home's
names and the commands that use them are unchanged: `--write-config N FILE` writes the
home with N added rooms, to run `voice.py --config FILE asr SET --actions` on the same
speech and see what the larger vocabulary costs in accuracy.

    python benchmarks/home_size.py                 # the shipped home, +5, +10 and +20 rooms
    python benchmarks/home_size.py --rooms 0 10
    python benchmarks/home_size.py --write-config 10 /tmp/home10.yaml
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROOMS = ["Guest Room", "Laundry Room", "Attic", "Basement", "Playroom", "Den", "Pantry",
         "Loft", "Gym", "Library", "Sunroom", "Workshop", "Shed", "Cellar", "Studio",
         "Balcony", "Terrace", "Spare Room", "Music Room", "Games Room"]
OWN_NAMES = ["Dehumidifier", "Aquarium", "Printer", "Kettle", "Towel Rail", "Fountain",
             "Air Purifier", "Lava Lamp", "Record Player", "Treadmill", "Reading Light",
             "Soldering Station", "Lawn Mower", "Wine Fridge", "Easel Light", "Heat Lamp",
             "Patio Heater", "Sewing Machine", "Piano Light", "Pinball Machine"]


def home_text(rooms: int) -> str:
    """config.yaml with `rooms` more rooms (each with seven devices) added."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    areas: list[str] = []
    entities: list[str] = []
    for i, room in enumerate(ROOMS[:rooms]):
        a = room.lower().replace(" ", "_")
        areas.append(f"  - {{id: {a}, name: {room}, floor: first}}")
        entities += [
            f"  - {{id: light.{a}_ceiling, name: {room} Light, area: {a}}}",
            f"  - {{id: light.{a}_lamp, name: {room} Lamp, area: {a}}}",
            f"  - {{id: cover.{a}_blind, name: {room} Blind, area: {a}, device_class: blind}}",
            f"  - {{id: climate.{a}, name: {room} Radiator, area: {a}}}",
            f"  - {{id: media_player.{a}_speaker, name: {room} Speaker, area: {a}}}",
            f"  - {{id: fan.{a}_fan, name: {room} Fan, area: {a}}}",
            f"  - {{id: switch.{a}_own, name: {OWN_NAMES[i]}, area: {a}}}"]
    lines = text.splitlines()
    for key, extra in (("areas:", areas), ("entities:", entities)):
        at = lines.index(key) + 1
        lines[at:at] = extra
    return "\n".join(lines) + "\n"


def measure(rooms: int) -> dict[str, float]:
    """One size, in this process (run it in a fresh one)."""
    from service_memory import status_mb as rss

    from assistant.audio import WavSource
    from assistant.config import load_config
    from assistant.pipeline import Assistant
    from assistant.voice import SAMPLES_DIR, VoiceLoop, _word_graphs

    config = load_config(ROOT / "config.yaml", home_text(rooms))
    assistant = Assistant(config, publish=False)
    out: dict[str, float] = {"rooms": len(config.areas), "devices": len(config.entities),
           "templates + micro-LLM MB": rss("VmRSS")}
    t0 = time.perf_counter()
    graph, _ = _word_graphs(assistant, config)
    out["compile s"] = time.perf_counter() - t0
    out["states"] = graph.n_states
    out["word arcs"] = sum(1 for a in graph.arcs if a[2])
    out["words"] = len(graph.words)
    del graph  # the service keeps only the search built from it
    t0 = time.perf_counter()
    loop = VoiceLoop(assistant, config, wake=True)  # compiles again, then builds the search
    out["grammar + search s"] = time.perf_counter() - t0
    out["+ recognizer and wake MB"] = rss("VmRSS")
    for wav in sorted(SAMPLES_DIR.glob("*.wav")):
        with WavSource(wav) as source:
            loop.run(source, wav=str(wav))
    out["peak MB"] = rss("VmHWM")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rooms", type=int, nargs="+", default=[0, 5, 10, 20],
                    help=f"rooms added to the shipped home (at most {len(ROOMS)})")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a size, in this process
    ap.add_argument("--write-config", nargs=2, metavar=("ROOMS", "FILE"),
                    help="write the home with ROOMS added rooms to FILE, and stop")
    args = ap.parse_args(argv)
    if args.write_config:
        n, path = int(args.write_config[0]), Path(args.write_config[1])
        text = home_text(n).replace("skills_dir: skills", f"skills_dir: {ROOT / 'skills'}")
        path.write_text(text.replace("model_dir: models", f"model_dir: {ROOT / 'models'}"),
                        encoding="utf-8")
        return 0
    if args.one is not None:
        print(json.dumps(measure(args.one)))
        return 0
    rows = []
    for n in args.rooms:
        if not 0 <= n <= len(ROOMS):
            ap.error(f"--rooms: 0 to {len(ROOMS)}")
        done = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True,
                              capture_output=True, text=True, cwd=ROOT)
        rows.append(json.loads(done.stdout.splitlines()[-1]))
    keys = list(rows[0])
    print(f"{'':28s}" + "".join(f"{'+' + str(n) + ' rooms':>12s}" for n in args.rooms))
    for k in keys:
        print(f"{k:28s}" + "".join(f"{r[k]:12.1f}" if isinstance(r[k], float)
                                   else f"{r[k]:12d}" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

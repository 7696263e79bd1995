"""Understanding benchmark: the hand-written sets in benchmarks/data through rules, lm and auto.

    PYTHONPATH=. .venv/bin/python benchmarks/nlu.py [--engines rules,lm,auto] [--json FILE]

Every sentence goes through the real text path without publishing (understanding, mapper,
rules), so the engines are compared on the same resolved actions. Per engine and set:
exact (the case passes exactly as `assistant test-sentences` checks it), wrong actions
(an action that does not belong to the expected ones: "should not have happened"),
rejected (no action at all), latency p50/p95 per utterance, micro-LLM runs per utterance
and per-run latency, and peak resident memory: of `assistant parse` fed every sentence
(the product's process) and of the benchmark's own process (which also holds the cases
and results). Each engine runs in its own process so that memory figures do not mix.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import load_config  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.resolve import PICKING_SLOTS  # noqa: E402
from assistant.sentences import Case, check_case, load_cases  # noqa: E402
from assistant.structs import Action, Outcome  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
ENGINES = ("rules", "lm", "auto")


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return str(a).lower() == str(b).lower()


# Where a case lists its devices, the slots that only pick devices (PICKING_SLOTS) are
# compared through the devices acted on ("the dining room light" may come out as the room
# or as the light's name; the same lamp goes on either way).


def wrong_actions(case: Case, outcome: Outcome) -> int:
    """Actions taken (or awaiting a yes) that match none of the expected ones: another
    intent, another value, or a device the case does not name."""
    expected = case.intents or ([case.intent] if case.intent else [])
    acts: list[Action] = [*outcome.actions, *getattr(outcome, "pending", ())]
    allowed_targets = set(case.targets) if case.targets is not None else None
    wrong = 0
    for act in acts:
        if not act.targets and not act.messages:
            continue  # answers, "never mind": nothing happened in the home
        fits = any(e.name == act.intent and all(
            (k in PICKING_SLOTS and allowed_targets is not None)
            or (k in act.slots and _same(act.slots[k], v)) for k, v in e.slots.items())
                   for e in expected)
        if case.status == "rejected" or not fits or (
                allowed_targets is not None and not set(act.targets) <= allowed_targets):
            wrong += 1
    return wrong


def service_rss_mb(engine: str, files: list[Path]) -> float:
    """Peak resident memory of `assistant parse --engine ENGINE` fed every sentence on
    stdin: the product's own process, without this benchmark's cases and results. Run
    before this process has any other child, so the children's peak is that one's."""
    text = "".join(s + "\n" for path in files for case in load_cases(path).tests
                   for s in case.sentences)
    subprocess.run([sys.executable, "-m", "assistant", "parse", "--engine", engine], input=text,
                   capture_output=True, text=True, check=True, cwd=ROOT)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_engine(engine: str, files: list[Path], models: Path | None = None) -> dict[str, Any]:
    service_mb = service_rss_mb(engine, files) if models is None else None
    config = load_config(ROOT / "config.yaml")
    if models is not None:  # a candidate model, before it is installed
        config = replace(config, understanding=replace(config.understanding,
                                                       model_dir=str(models.resolve())))
    assistant = Assistant(config, engine=engine, publish=False)
    lm = assistant.understanding.lm
    sets: dict[str, Any] = {}
    all_run_ms: list[float] = []
    for path in files:
        data = load_cases(path)
        assistant.states.clear()
        assistant.states.update(data.states)
        n = exact = wrong_utts = rejected = 0
        lat: list[float] = []
        runs: list[int] = []
        failures: list[str] = []
        for case in data.tests:
            for sentence in case.sentences:
                t0 = time.perf_counter()
                outcome = assistant.handle_text(sentence)
                lat.append((time.perf_counter() - t0) * 1000)
                if lm is not None and outcome.engine == "lm" and lm.last_stats is not None:
                    runs.append(lm.last_stats.model_runs)
                    all_run_ms.extend(lm.last_stats.run_ms)
                n += 1
                problem = check_case(case, outcome)
                exact += problem is None
                wrong = wrong_actions(case, outcome) > 0
                if problem is not None and len(failures) < 400:
                    failures.append(f"{'[wrong action] ' if wrong else ''}{sentence!r}: {problem}")
                wrong_utts += wrong
                rejected += not outcome.actions and not getattr(outcome, "pending", ())
                assistant.forget()  # no pending question or "it" leaks onwards
        sets[path.stem] = {
            "n": n, "exact": exact / n, "wrong_action": wrong_utts / n,
            "rejected": rejected / n, "ms_p50": pct(lat, 50), "ms_p95": pct(lat, 95),
            "lm_runs_mean": statistics.mean(runs) if runs else 0.0, "failures": failures,
        }
    return {
        "engine": engine, "sets": sets,
        "lm_run_ms_p50": pct(all_run_ms, 50), "lm_run_ms_p95": pct(all_run_ms, 95),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "service_rss_mb": service_mb,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| engine | set | n | exact | wrong action | no action | p50 ms | p95 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for name, s in r["sets"].items():
            lines.append(f"| {r['engine']} | {name} | {s['n']} | {s['exact']:.1%} | "
                         f"{s['wrong_action']:.1%} | {s['rejected']:.1%} | {s['ms_p50']:.2f} | "
                         f"{s['ms_p95']:.2f} |")
    lines.append("")
    for r in results:
        service = (f"{r['service_rss_mb']:.0f} MB" if r["service_rss_mb"] is not None
                   else "not measured for a candidate model")
        lines.append(f"{r['engine']}: micro-LLM run p50 {r['lm_run_ms_p50']:.3f} ms, "
                     f"p95 {r['lm_run_ms_p95']:.3f} ms; peak RSS of `assistant parse` over "
                     f"every sentence {service}, of this benchmark's process "
                     f"{r['max_rss_mb']:.0f} MB")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--files", nargs="*", type=Path, help="case files (default: all in data/)")
    ap.add_argument("--json", type=Path, help="also write the full results here")
    ap.add_argument("--failures", action="store_true", help="list failing sentences")
    ap.add_argument("--models", type=Path, help="model folder (default: the config's)")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # child mode: one engine, JSON on stdout
    args = ap.parse_args()
    files = args.files or sorted(DATA.glob("*.yaml"))
    if args.one:
        print(json.dumps(run_engine(args.one, files, args.models)))
        return 0
    results = []
    for engine in args.engines.split(","):
        cmd = [sys.executable, __file__, "--one", engine, "--files", *map(str, files),
               *(["--models", str(args.models)] if args.models else [])]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(table(results))
    if args.failures:
        for r in results:
            for name, s in r["sets"].items():
                for f in s["failures"]:
                    print(f"{r['engine']} {name}: {f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Takes the config (skills, model folder) and returns an exit code: `assistant train`.

Stages, each runnable alone once the earlier ones have left their files in `.train-work/`
next to config.yaml: data -> tokenizer -> fit -> export -> gate. Only `gate` writes to the
model folder, and only when the model passes. This package is the one place torch is used.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from assistant.config import Config
from assistant.errors import AssistantError
from assistant.skills import load_skills
from assistant.train.settings import TrainSettings
from assistant.train.stages import Work, run_stage

log = logging.getLogger(__name__)

STAGES = ("data", "tokenizer", "fit", "export", "gate")
WORK_DIR = ".train-work"


def run_training(config: Config, stages: Sequence[str] | None = None,
                 settings: TrainSettings | None = None, out: TextIO | None = None) -> int:
    """Run the given stages (default: all) and return 0 on success, 1 on a failed gate."""
    out = out or sys.stderr
    wanted = [s for s in STAGES if not stages or s in stages]
    unknown = sorted(set(stages or ()) - set(STAGES))
    if unknown:
        raise AssistantError(f"unknown training stage(s): {', '.join(unknown)} "
                             f"(stages: {', '.join(STAGES)})")
    skills = load_skills(config.resolve(config.skills_dir))
    work = Work(
        dir=config.base_dir / WORK_DIR,
        model_dir=config.resolve(config.understanding.model_dir),
        eval_dir=config.base_dir / "benchmarks" / "data",
        skills=skills,
        settings=settings or TrainSettings(),
        out=out,
    )
    work.dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for stage in wanted:
        t0 = time.perf_counter()
        ok = run_stage(stage, work)
        print(f"{stage}: done in {time.perf_counter() - t0:.1f} s", file=out, flush=True)
        if not ok:
            print(f"training stopped at stage {stage}", file=out, flush=True)
            return 1
    total = time.perf_counter() - started
    print(f"training finished in {total:.1f} s", file=out, flush=True)
    _record_time(work.dir, wanted, total)
    return 0


def _record_time(work_dir: Path, stages: list[str], seconds: float) -> None:
    (work_dir / "last_run.json").write_text(json.dumps({"stages": stages,
                                                        "seconds": round(seconds, 1)}))


__all__ = ["STAGES", "TrainSettings", "run_training"]

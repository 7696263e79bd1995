"""The command line: `assistant run|parse|check|train|adapt|test-sentences`, one job each."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant import __version__
from assistant.config import Config, load_config
from assistant.errors import AssistantError, ConfigError, ModelError, Problem
from assistant.pipeline import FLUSH_TIMEOUT_S, Assistant, outcome_line
from assistant.skills import cross_check, load_skills
from assistant.yamlsrc import Located, load_yaml

EXIT_OK = 0
EXIT_PROBLEM = 1  # the user's input/config is wrong; the message says what to fix
EXIT_UNDELIVERED = 3  # ran, but accepted actions are still queued for an absent broker


def _lines(texts: Sequence[str]) -> Iterator[str]:
    if texts:
        yield from texts
        return
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield line


def _load(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def cmd_parse(args: argparse.Namespace) -> int:
    assistant = Assistant(_load(args), engine=args.engine, publish=False)
    for text in _lines(args.text):
        print(outcome_line(assistant.handle(text)), flush=True)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.text:
        return _run_text(config, args)
    if args.satellites or (config.satellites.enabled
                           and not (args.wav or args.mic or args.pcm)):
        from assistant.satellite import run_satellites

        return run_satellites(config, wake=not args.no_wake, json_out=args.json,
                              engine=args.engine)
    from assistant.voice import run_voice  # the audio stack loads only when listening

    return int(run_voice(config, wavs=args.wav, mic=args.mic, wake=not args.no_wake,
                         json_out=args.json, engine=args.engine, pcm=args.pcm))


def _run_text(config: Config, args: argparse.Namespace) -> int:
    assistant = Assistant(config, engine=args.engine)
    try:
        for text in _lines([]):
            outcome = assistant.handle(text)
            if args.json:
                print(outcome_line(outcome), flush=True)
            else:
                print(f"> {text}\n  {outcome.speech}", flush=True)
    finally:
        left = assistant.close(args.flush_timeout)
    if left:
        print(f"assistant: the broker did not take {left} message(s) within "
              f"{args.flush_timeout:g} s; they are kept in {config.mqtt.outbox_path} and "
              "will be delivered on the next start", file=sys.stderr)
        return EXIT_UNDELIVERED
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    problems = []
    config = None
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        problems += exc.problems
    skills = None
    skills_dir = (config.resolve(config.skills_dir) if config
                  else Path(args.config).parent / "skills")
    try:
        skills = load_skills(skills_dir)
    except ConfigError as exc:
        problems += exc.problems
    if config is not None and skills is not None:
        problems += cross_check(config, skills)
    if config is not None and config.asr.adaptation:
        problems += _check_adaptation(config)
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(f"assistant check: {len(problems)} problem(s)", file=sys.stderr)
        return EXIT_PROBLEM
    assert config is not None and skills is not None
    exposed = sum(1 for e in config.entities if e.expose)
    print(f"{args.config}: ok: {len(config.floors)} floors, {len(config.areas)} areas, "
          f"{len(config.entities)} entities ({exposed} exposed to voice)")
    print(f"{skills_dir}: ok: {len(skills.specs)} intents in {len(skills.files)} skill files")
    try:
        from assistant.lm import MicroLM

        MicroLM.load(config.resolve(config.understanding.model_dir), skills)
        print(f"{config.understanding.model_dir}: ok: micro-LLM matches the skills")
    except (AssistantError, ImportError, OSError) as exc:
        print(f"{config.understanding.model_dir}: warning: {exc} "
              "(templates still work; run `assistant train` to rebuild the model)")
    return EXIT_OK


def _check_adaptation(config: Config) -> list[Problem]:
    """asr.adaptation, when set, must hold an adaptation made for the acoustic model."""
    asr = config.asr_resolved()
    try:
        from assistant.adapt import adapted_files, shipped_model

        adapted_files(Path(str(asr.adaptation)), Path(asr.model_dir or shipped_model()))
    except ImportError:
        return []  # the voice extras are not installed; the text path does not need them
    except ModelError as exc:
        try:
            src = load_yaml(config.path) if config.path else Located(None, "config")
        except ConfigError:
            src = Located(None, config.path)
        return [src.problem("asr.adaptation", str(exc))]
    return []


def cmd_train(args: argparse.Namespace) -> int:
    try:
        from assistant.train import run_training  # torch is only needed here
    except ImportError as exc:
        raise AssistantError(
            f"training needs the [train] extra ({exc}); install it with "
            "`pip install -e '.[train]'`") from None
    return int(run_training(_load(args), stages=args.stage))


def cmd_adapt(args: argparse.Namespace) -> int:
    # numpy and pocketsphinx load here
    from assistant.adapt import adapt, check_speaker, find_recordings, read_prompts, record

    config = _load(args)
    named = config.asr.adaptation
    out = Path(args.out) if args.out else config.resolve(named or "var/adaptation")
    if args.record:
        from assistant.audio import MicSource

        check_speaker(args.speaker)
        prompts = read_prompts(Path(args.prompts)) if args.prompts else read_prompts()
        print(f"Recording {len(prompts)} sentences into {args.folder} as '{args.speaker}'. "
              "Say each one when it appears, as you would speak to the assistant; "
              "Ctrl-C stops (what is recorded stays).", flush=True)
        try:
            with MicSource(config.audio.device) as mic:
                record(mic, prompts, Path(args.folder), args.speaker, config.audio,
                       config.vad, say=lambda m: print(m, flush=True))
        except KeyboardInterrupt:
            print("stopped", flush=True)
    recordings = find_recordings(Path(args.folder))
    print(f"{args.folder}: {len(recordings)} recordings", flush=True)
    tuning = {} if args.prior_frames is None else {"prior_frames": args.prior_frames}
    report = adapt(recordings, out, config.audio, non_rhotic=config.asr.non_rhotic, **tuning,
                   progress=lambda m: print(f"  {m}", flush=True))
    for line in report.skipped[:10]:
        print(f"  skipped {line}")
    if len(report.skipped) > 10:
        print(f"  ... {len(report.skipped) - 10} more skipped (each transcript must hold "
              "exactly the words said; very noisy recordings do not align)")
    print(f"{out}: adapted on {report.aligned} of {report.recordings} recordings "
          f"({report.frames / 100:.0f} s of speech) in {report.seconds:g} s; log-likelihood per "
          f"frame {report.log_likelihood_before:g} -> {report.log_likelihood_after:g}")
    if named is None or config.resolve(named) != out:
        print(f"To use it, add to {args.config}:\n  asr:\n    adaptation: {out}")
    else:
        print("The next `assistant run` uses it.")
    return EXIT_OK


def cmd_test_sentences(args: argparse.Namespace) -> int:
    from assistant.sentences import run_sentence_tests

    return run_sentence_tests(_load(args), [Path(f) for f in args.files], engine=args.engine,
                              verbose=args.verbose)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant", description="Offline smart-home voice assistant.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="log what each stage does")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", default="config.yaml", help="config file (default: %(default)s)")

    def engine(p: argparse.ArgumentParser, default: str | None = None) -> None:
        p.add_argument("--engine", choices=["auto", "rules", "lm"], default=default,
                       help="understanding engine (default: config's understanding.engine)")

    p = sub.add_parser("run", help="listen (or read text) and publish actions")
    common(p)
    engine(p)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--wav", nargs="+", metavar="FILE",
                     help="stream WAV files through the voice path")
    src.add_argument("--text", action="store_true", help="read one command per stdin line")
    src.add_argument("--mic", action="store_true", help="listen on the microphone (the default)")
    src.add_argument("--pcm", action="store_true",
                     help="listen to raw 16 kHz mono 16-bit little-endian PCM on stdin, as a "
                          "capture program writes it (arecord -t raw -f S16_LE -r 16000 -c 1)")
    src.add_argument("--satellites", action="store_true",
                     help="listen to Hermes satellites streaming over MQTT (config: satellites)")
    p.add_argument("--no-wake", action="store_true", help="no wake phrase: every utterance counts")
    p.add_argument("--json", action="store_true", help="print one outcome JSON per utterance")
    p.add_argument("--flush-timeout", type=float, default=FLUSH_TIMEOUT_S, metavar="S",
                   help="at end of input, wait this long for the broker (default: %(default)s)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("parse", help="understand text; print outcome JSON; publish nothing")
    common(p)
    engine(p)
    p.add_argument("text", nargs="*", help="commands (default: one per stdin line)")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("check", help="validate config.yaml, the skills and the model")
    common(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("train", help="rebuild the tokenizer and micro-LLM into models/")
    common(p)
    p.add_argument("--stage", action="append",
                   choices=["data", "tokenizer", "fit", "export", "gate"],
                   help="run only these stages (repeatable; default: all)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("adapt", help="adapt speech recognition to your voices and microphone")
    common(p)
    p.add_argument("folder", help="recordings: NAME.wav with NAME.txt (the words said) beside it")
    p.add_argument("--out", help="folder for the adapted model (default: asr.adaptation, "
                   "else var/adaptation)")
    p.add_argument("--record", action="store_true",
                   help="first record sentences from the microphone into FOLDER")
    p.add_argument("--speaker", default="speaker",
                   help="with --record: the name the files start with (default: %(default)s)")
    p.add_argument("--prompts", metavar="FILE",
                   help="with --record: sentences to say, one per line (default: 40 built in)")
    p.add_argument("--prior-frames", type=float, metavar="N",
                   help="how many frames of a sound outweigh the model's own (default: 5)")
    p.set_defaults(func=cmd_adapt)

    p = sub.add_parser("test-sentences", help="run YAML sentence tests for your own phrasing")
    common(p)
    engine(p)
    p.add_argument("files", nargs="+", help="YAML files of test cases")
    p.add_argument("-v", "--verbose", action="store_true", help="show passing cases too")
    p.set_defaults(func=cmd_test_sentences)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        return EXIT_PROBLEM
    except AssistantError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK

"""Voice-path benchmark: transcripts (and actions) per SNR, out-of-domain rejection, speed, memory.

Each clip of a make_speech.py set is streamed through the real path: WavSource -> Frontend
-> Endpointer (no wake phrase) -> Recognizer, one decoder for the whole run, as the service
would. Prints one table; `--json` also writes the figures.

    python benchmarks/make_speech.py sentences -n 60 > var/speech/cmds.txt
    python benchmarks/make_speech.py sentences --ood > var/speech/ood.txt
    python benchmarks/make_speech.py bench --out var/speech/bench --sentences var/speech/cmds.txt \\
        --ood var/speech/ood.txt --per-snr 100
    python benchmarks/voice.py asr var/speech/bench [--actions] [--transcripts FILE]
    (make_speech.py bench --voices festival:... renders the same set in real speakers' voices)
    python benchmarks/voice.py wake var/speech/long.wav var/speech/bench [--loop]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import wave
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.adapt import adapted_files, shipped_model
from assistant.asr import AsrConfig, Recognizer, Transcript
from assistant.audio import WavSource
from assistant.config import AudioConfig, Config, VadConfig, load_config
from assistant.frontend import Frontend
from assistant.grammar import build_word_graph, with_follow_ups
from assistant.resolve import PICKING_SLOTS
from assistant.skills import home_lists, load_skills
from assistant.vad import Endpointer, EventKind
from assistant.voice import NOISY_ROOM_DB


def grammar_for(cfg: Config) -> Any:
    skills = load_skills(cfg.resolve(cfg.skills_dir))
    return build_word_graph(with_follow_ups(skills.hassil_intents(home_lists(cfg))))


FINISH_MS: list[float] = []  # time from the endpoint to the final transcript, per command
COMMITTED: list[str] = []  # words passed on early (to the micro-LLM) for the current clip
REVISED: list[str] = []  # clips whose final transcript changed a word passed on early
STREAMED = [0, 0]  # commands with words passed on early; of them, heard (not rejected) at the end
# Why each command ended (vad.EndReason): "stream_end" means the endpointer never heard the
# speaker stop, only the file ending (in a room that talks on, `max_command_ms` later).
ENDED: Counter[str] = Counter()
PASSES: Counter[int] = Counter()  # decodes at the end of each command (2: loud stretch again)
OVER_FLOOR: list[float | None] = [None]  # the last command's loudest moment over the room, dB


def _finish(rec: Recognizer, path: Path | None = None) -> Transcript:
    t0 = time.perf_counter()
    tr = rec.finish()
    FINISH_MS.append(1000 * (time.perf_counter() - t0))
    PASSES[tr.passes] += 1
    if path is not None and COMMITTED:
        STREAMED[0] += 1
        STREAMED[1] += bool(tr.text)
        if tr.text and tr.text.split()[: len(COMMITTED)] != COMMITTED:
            REVISED.append(f"{path.name}: passed on '{' '.join(COMMITTED)}', heard '{tr.text}'")
    return tr


def recognize(path: Path, rec: Recognizer, audio: AudioConfig, vad: VadConfig,
              use_vad: bool = True) -> tuple[Transcript, float]:
    """Streams one file through frontend, endpointer and recognizer; returns the first command."""
    frontend = Frontend(audio)
    ep = Endpointer(vad, audio.frame_ms)
    ep.reset(timeout=False)
    started = False
    t_audio = 0.0
    COMMITTED.clear()
    with WavSource(path) as source:
        for frame in frontend.frames(source.chunks()):
            t_audio = frame.end_ms / 1000
            if not use_vad:
                if not started:
                    rec.start()
                    started = True
                rec.feed([frame])
                COMMITTED[:] = rec.committed
                continue
            for e in ep.process(frame):
                if e.kind is EventKind.START:
                    rec.start()
                    started = True
                    COMMITTED.clear()
                if e.kind in (EventKind.START, EventKind.AUDIO) and started:
                    rec.feed(e.frames)
                    COMMITTED[:] = rec.committed
                elif e.kind is EventKind.CANCEL:
                    rec.cancel()
                    started = False
                elif e.kind is EventKind.END:
                    ENDED[str(e.reason)] += 1
                    OVER_FLOOR[0] = ep.speech_over_floor_db
                    return _finish(rec, path), t_audio
        for e in ep.finish(int(t_audio * 1000)):
            if e.kind is EventKind.END and started:
                ENDED[str(e.reason)] += 1
                OVER_FLOOR[0] = ep.speech_over_floor_db
                return _finish(rec, path), t_audio
    if started and not use_vad:
        return _finish(rec, path), t_audio
    return Transcript("", rejected=True, reason="no speech"), t_audio


def normalized(text: str) -> str:
    """Words with possessive and plural endings and spacing variants evened out."""
    text = text.replace("per cent", "percent").replace("nevermind", "never mind")
    return " ".join(w.removesuffix("'s").rstrip("s") for w in text.split())


class ActionJudge:
    """Whether heard text leads to the same actions as the reference text, through the
    service's own understanding (the config's engine: templates and the micro-LLM)."""

    def __init__(self, cfg: Config) -> None:
        from assistant.pipeline import Assistant

        self.assistant = Assistant(cfg, publish=False)
        self.cache: dict[str, Any] = {}

    def actions(self, text: str) -> Any:
        if text not in self.cache:
            o = self.assistant.handle_text(text, source="audio").to_json()
            # The effect on the home: "the hallway light" may come out as the room's lights
            # or as the light's name; the same lamp goes on either way.
            self.cache[text] = (o["status"], [
                (a["intent"], {k: v for k, v in a["slots"].items() if k not in PICKING_SLOTS},
                 sorted(a["targets"])) for a in o["actions"]])
            self.assistant.forget()  # each clip is a new conversation
        return self.cache[text]

    def acts(self, heard: str) -> bool:
        """Heard text that would change something in the home (or ask to)."""
        status, actions = self.actions(heard)
        return bool(heard) and (status == "confirm" or any(a[2] for a in actions))

    def same(self, ref: str, heard: str) -> bool:
        if not heard:
            return False
        return bool(self.actions(ref) == self.actions(heard))


def bench_asr(args: argparse.Namespace) -> dict[str, Any]:
    cfg = load_config(args.config)
    asr = AsrConfig(rejection=args.rejection, cmn_warmup_ms=args.warmup_ms,
                    grammar_weight=args.grammar_weight, commit_stable_ms=args.commit_stable_ms,
                    adaptation=str(args.adaptation) if args.adaptation else None)
    audio = replace(cfg.audio, agc=not args.no_agc)
    vad = replace(cfg.vad, pre_roll_ms=args.pre_roll_ms if args.pre_roll_ms is not None
                  else cfg.vad.pre_roll_ms,
                  pause_fed_ms=args.pause_fed_ms if args.pause_fed_ms is not None
                  else cfg.vad.pause_fed_ms)
    t0 = time.perf_counter()
    graph = grammar_for(cfg)
    rec = Recognizer(graph, asr)
    build_s = time.perf_counter() - t0
    manifest = json.loads((args.set / "manifest.json").read_text())
    manifest = [c for c in manifest if c["file"].startswith(args.only)]
    if args.limit:
        manifest = manifest[: args.limit]
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    judge = ActionJudge(cfg) if args.actions else None
    audio_s = decode_s = 0.0
    misses: list[str] = []
    heard: list[dict[str, Any]] = []
    first_cmn = rec.save_cmn()
    for clip in manifest:
        if args.fresh:  # every clip as a new service's first command
            rec.restore_cmn(first_cmn)
        OVER_FLOOR[0] = None
        tr, secs = recognize(args.set / clip["file"], rec, audio, vad, not args.no_vad)
        if tr.rejected or not tr.text:  # what the service's reply to it says about the room
            over = OVER_FLOOR[0]
            for nk in (f"turned down, the reply says it is noisy @ {clip['snr_db']:g} dB",
                       f"turned down, the reply says it is noisy, {clip['noise']} noise"):
                stats[nk][0] += over is not None and over < NOISY_ROOM_DB
                stats[nk][1] += 1
        audio_s += secs
        decode_s += tr.decode_ms / 1000
        ref = " ".join(clip["text"].replace(",", "").split())
        if clip["kind"] == "ood":
            key = "ood rejected"
            good = tr.rejected or not tr.text
            if judge is not None:  # what the user gets: nothing done in the home
                stats["ood: nothing done"][0] += good or not judge.acts(tr.text)
                stats["ood: nothing done"][1] += 1
        else:
            key = f"exact @ {clip['snr_db']:g} dB"
            good = tr.text == ref
            nk = f"normalized @ {clip['snr_db']:g} dB"
            stats[nk][0] += normalized(tr.text) == normalized(ref)
            stats[nk][1] += 1
            if judge is not None:
                ak = f"actions @ {clip['snr_db']:g} dB"
                same = judge.same(ref, tr.text)
                stats[ak][0] += same
                stats[ak][1] += 1
                # the harm that matters: something done that was not asked for
                stats["commands: a wrong action done"][0] += not same and judge.acts(tr.text)
                stats["commands: a wrong action done"][1] += 1
            for by in (f"normalized, {clip['noise']} noise", f"normalized, voice {clip['voice']}"):
                stats[by][0] += normalized(tr.text) == normalized(ref)
                stats[by][1] += 1
            stats["commands falsely rejected"][1] += 1
            stats["commands falsely rejected"][0] += tr.rejected
            stats["commands heard wrong, not rejected"][1] += 1
            stats["commands heard wrong, not rejected"][0] += (
                not tr.rejected and normalized(tr.text) != normalized(ref))
        stats[key][0] += good
        stats[key][1] += 1
        heard.append({"file": clip["file"], "kind": clip["kind"], "ref": ref, "heard": tr.text,
                      "rejected": tr.rejected})
        if not good:
            misses.append(f"{clip['file']}: said '{ref}' heard '{tr.text}' {tr.reason or ''}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out: dict[str, Any] = {
        k: {"ok": v[0], "n": v[1], "pct": round(100 * v[0] / max(1, v[1]), 1)}
        for k, v in sorted(stats.items())}
    # Words are passed on to the micro-LLM before the end; one the end changes may have let
    # semantic endpointing close the command early.
    out["heard, with a passed-on word changed at the end"] = {
        "ok": len(REVISED), "n": STREAMED[1],
        "pct": round(100 * len(REVISED) / max(1, STREAMED[1]), 1)}
    for reason, n in sorted(ENDED.items()):
        out[f"commands ended by {reason}"] = {"ok": n, "n": sum(ENDED.values()),
                                              "pct": round(100 * n / sum(ENDED.values()), 1)}
    out["commands decoded again at the end"] = {
        "ok": sum(n for k, n in PASSES.items() if k > 1), "n": sum(PASSES.values()),
        "pct": round(100 * sum(n for k, n in PASSES.items() if k > 1)
                     / max(1, sum(PASSES.values())), 1)}
    out["rtf"] = round(decode_s / max(audio_s, 1e-9), 4)
    ordered = sorted(FINISH_MS) or [0.0]
    out["endpoint -> transcript ms p50"] = round(ordered[len(ordered) // 2], 2)
    out["endpoint -> transcript ms p95"] = round(ordered[int(len(ordered) * 0.95)], 2)
    out["grammar_build_s"] = round(build_s, 2)
    out["peak_rss_mb"] = round(peak_mb, 1)
    if args.verbose:
        print("\n".join(misses + REVISED))
    if args.transcripts:  # every clip's reference and transcript, to judge again later
        args.transcripts.write_text("".join(json.dumps(h) + "\n" for h in heard))
    return out


def bench_wake(args: argparse.Namespace) -> dict[str, Any]:
    """Wake hits on spoken "hey house, ..." clips and false wakes per hour of other speech."""
    from assistant.wake import WakeDetector

    cfg = load_config(args.config)
    import assistant.wake

    # Read when each detector builds its checks.
    if args.check_price is not None:
        assistant.wake.VERIFY_PHONE_LOG10 = args.check_price
    if args.run_on_price is not None:
        assistant.wake.RUN_ON_PHONE_LOG10 = args.run_on_price
    if args.loop:
        return bench_wake_loop(args, cfg)
    out: dict[str, Any] = {}
    for sens in args.sensitivity:
        det = WakeDetector(replace(cfg.wake, sensitivity=sens), adapted=(
            adapted_files(args.adaptation, shipped_model()) if args.adaptation else None))
        manifest = json.loads((args.set / "manifest.json").read_text())
        hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for clip in manifest:
            det.reset()
            found = False
            with WavSource(args.set / clip["file"]) as source:
                for frame in Frontend(cfg.audio).frames(source.chunks()):
                    found = det.process(frame) or found
            key = f"hits @ {clip['snr_db']:g} dB"
            hits[key][0] += found
            hits[key][1] += 1
        det.reset()
        false = 0
        seconds = 0.0
        t0 = time.process_time()
        with WavSource(args.long) as source:
            for frame in Frontend(cfg.audio).frames(source.chunks()):
                false += det.process(frame)
                seconds = frame.end_ms / 1000
        cpu = time.process_time() - t0
        row: dict[str, Any] = {k: {"ok": v[0], "n": v[1], "pct": round(100 * v[0] / v[1], 1)}
                               for k, v in sorted(hits.items())}
        row["false wakes per hour"] = round(false / (seconds / 3600), 2)
        row["listening cpu % of one core (frontend + wake)"] = round(100 * cpu / seconds, 1)
        out[f"sensitivity {sens:g}"] = row
    return out


def bench_wake_loop(args: argparse.Namespace, cfg: Config) -> dict[str, Any]:
    """The same clips and speech through the service's voice loop, as a user meets it: a
    clip is a hit when the assistant woke (a sure wake phrase) or acted on the command after
    an unsure one (`wake.listen_when_unsure`); in the unrelated speech, each such is a false
    wake, and every action done is counted too."""
    from assistant.pipeline import Assistant
    from assistant.voice import VoiceLoop

    if args.adaptation:
        cfg = replace(cfg, asr=replace(cfg.asr, adaptation=str(args.adaptation.resolve())))
    judge = ActionJudge(cfg)
    out: dict[str, Any] = {}
    for sens in args.sensitivity:
        c = replace(cfg, wake=replace(cfg.wake, sensitivity=sens,
                                      listen_when_unsure=not args.sure_only))
        assistant = Assistant(c, publish=False)
        loop = VoiceLoop(assistant, c, wake=True)
        assert loop.wake is not None
        manifest = json.loads((args.set / "manifest.json").read_text())
        hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        right: Counter[str] = Counter()
        unsure: Counter[str] = Counter()
        for clip in manifest:
            loop.wake.reset()
            assistant.forget()
            wakes, taken = loop.wakes, loop.unsure_taken
            with WavSource(args.set / clip["file"]) as source:
                outcomes = loop.run(source, wav=clip["file"])
            key = f"hits @ {clip['snr_db']:g} dB"
            woke = loop.wakes > wakes
            hits[key][0] += woke
            hits[key][1] += 1
            unsure[key] += loop.unsure_taken > taken
            ref = clip["text"].split(",", 1)[1].strip()
            right[key] += woke and any(judge.same(ref, o.heard or "") for o in outcomes)
            if args.verbose and not woke:
                print(f"missed {clip['file']} {clip['snr_db']:g} dB {clip['voice']} "
                      f"{clip['noise']}: {ref}", file=sys.stderr)
        loop.wake.reset()
        assistant.forget()
        wakes, unsure_wakes, taken = loop.wakes, loop.unsure_wakes, loop.unsure_taken
        t0 = time.process_time()
        with WavSource(args.long) as source:
            outcomes = loop.run(source, wav=str(args.long))
        cpu = time.process_time() - t0
        with wave.open(str(args.long)) as w:
            hours = w.getnframes() / w.getframerate() / 3600
        acted = [o for o in outcomes if o.actions and any(a.targets for a in o.actions)]
        if args.verbose:
            for o in acted:
                print(f"acted in unrelated speech: {o.heard}", file=sys.stderr)
        row: dict[str, Any] = {k: {"ok": v[0], "n": v[1], "pct": round(100 * v[0] / v[1], 1)}
                               for k, v in sorted(hits.items())}
        for k, v in sorted(hits.items()):
            row[k.replace("hits", "of which after an unsure phrase")] = unsure[k]
            row[k.replace("hits", "woken, right action")] = {
                "ok": right[k], "n": v[1], "pct": round(100 * right[k] / v[1], 1)}
        row["false wakes per hour"] = round((loop.wakes - wakes) / hours, 2)
        row["unsure phrases per hour of unrelated speech"] = round(
            (loop.unsure_wakes - unsure_wakes) / hours, 1)
        row["of which taken as commands, per hour"] = round(
            (loop.unsure_taken - taken) / hours, 2)
        row["actions done per hour of unrelated speech"] = round(len(acted) / hours, 2)
        row["cpu % of one core over the unrelated speech"] = round(
            100 * cpu / (hours * 3600), 1)
        out[f"sensitivity {sens:g}"] = row
        assistant.close()
    return out


def bench_confirm(args: argparse.Namespace) -> dict[str, Any]:
    """While a risky action waits for "yes": the user's yes heard, and other talk not.

    The service listens without a wake phrase for a while after each reply, so that "yes"
    can answer a confirmation. `--answers` clips (make_speech.py bench of "yes please" and
    the like) are each said with "unlock the front door" waiting: how many confirm it. Then
    the whole stretch of unrelated speech is heard that way (no wake phrase at all), with
    the question always waiting again: a pessimistic figure for how often a television or
    other talk would say yes for the user.
    """
    from assistant.pipeline import Assistant
    from assistant.structs import Status
    from assistant.voice import VoiceLoop, make_recognizer

    cfg = load_config(args.config)
    cfg = replace(cfg, safety=replace(cfg.safety, confirm_window_s=1e9))
    if args.adaptation:
        cfg = replace(cfg, asr=replace(cfg.asr, adaptation=str(args.adaptation.resolve())))
    assistant = Assistant(cfg, publish=False)
    # --whole-grammar, as before: the answer searched among every command
    recognizer = (Recognizer(grammar_for(cfg), cfg.asr) if args.whole_grammar
                  else make_recognizer(assistant, cfg))
    out: dict[str, Any] = {}
    counts: dict[str, int] = defaultdict(int)
    examples: list[str] = []
    last: list[Transcript] = []
    finish = recognizer.finish

    def keep() -> Transcript:
        last[:] = [finish()]
        return last[0]

    recognizer.finish = keep  # type: ignore[method-assign]

    def timing() -> str:
        if not last or not last[0].words:
            return ""
        from assistant.lexicon import pronounce
        words = last[0].words
        prons = pronounce([w.text for w in words])
        # as the recognizer's rule for answers counts them: the longest pronunciations
        phones = sum(max(len(p.split()) for p in prons[w.text]) for w in words
                     if w.text in prons)
        span = words[-1].end_ms - words[0].start_ms
        return f" [{span} ms, {phones} phones, {span / max(phones, 1):.0f} ms/phone]"

    def arm() -> None:
        assistant.forget()
        asked = assistant.handle_text(args.risky)
        if asked.status is not Status.CONFIRM:
            raise SystemExit(f"{args.risky!r} does not ask for confirmation here")

    def kind(outcome: Any) -> str:
        acted = [a for a in outcome.actions if a.targets]
        if outcome.status is Status.REJECTED:
            return "nothing understood"
        if any(a.risky for a in acted):
            return "risky action confirmed"
        return "another action done" if acted else "answered without acting"

    if args.answers:
        manifest = json.loads((args.answers / "manifest.json").read_text())
        said: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for clip in manifest:
            arm()
            loop = VoiceLoop(assistant, cfg, wake=False, recognizer=recognizer)
            with WavSource(args.answers / clip["file"]) as source:
                outcomes = loop.run(source)
            yes = any(kind(o) == "risky action confirmed" for o in outcomes)
            said[f"yes confirms @ {clip['snr_db']:g} dB"][0] += yes
            said[f"yes confirms @ {clip['snr_db']:g} dB"][1] += 1
            examples.append(f"{'yes' if yes else 'NO'}: {clip['text']!r} ({clip['voice']}, "
                            f"{clip['noise']}) heard as {[o.heard for o in outcomes]}{timing()}")
        out.update({k: {"ok": v[0], "n": v[1], "pct": round(100 * v[0] / v[1], 1)}
                    for k, v in sorted(said.items())})

    def heard(outcome: Any) -> None:
        counts["utterances"] += 1
        what = kind(outcome)
        counts[what] += 1
        if what != "nothing understood":
            examples.append(f"talk {what}: {outcome.heard!r}{timing()}")
        arm()

    arm()
    loop = VoiceLoop(assistant, cfg, wake=False, on_outcome=heard, recognizer=recognizer)
    with WavSource(args.long) as source:
        loop.run(source)
    with wave.open(str(args.long)) as w:
        seconds = w.getnframes() / w.getframerate()
    out["talk heard (minutes)"] = round(seconds / 60, 1)
    for k in ("utterances", "nothing understood", "answered without acting",
              "another action done", "risky action confirmed"):
        out[f"talk: {k}"] = counts[k]
    out["talk: risky actions confirmed per hour"] = round(
        counts["risky action confirmed"] / (seconds / 3600), 2)
    if args.verbose:
        print("\n".join(examples))
    return out


def show(figures: dict[str, Any], indent: str = "") -> None:
    for k, v in figures.items():
        if isinstance(v, dict) and "pct" in v:
            print(f"{indent}{k:40s} {v['pct']:6.1f} %  ({v['ok']}/{v['n']})")
        elif isinstance(v, dict):
            print(f"{indent}{k}")
            show(v, indent + "  ")
        else:
            print(f"{indent}{k:40s} {v}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", type=Path, default=Path("config.yaml"))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("-v", "--verbose", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("asr", help="transcripts per SNR and out-of-domain rejection")
    a.add_argument("set", type=Path, help="a folder made by make_speech.py bench")
    a.add_argument("--rejection", type=float, default=AsrConfig.rejection)
    a.add_argument("--warmup-ms", type=int, default=AsrConfig.cmn_warmup_ms)
    a.add_argument("--adaptation", type=Path, default=None,
                   help="an acoustic adaptation written by `assistant adapt`")
    a.add_argument("--fresh", action="store_true",
                   help="give every clip the decoder's first cepstral mean, as a new "
                        "service's first command")
    a.add_argument("--grammar-weight", type=float, default=AsrConfig.grammar_weight)
    a.add_argument("--commit-stable-ms", type=int, default=AsrConfig.commit_stable_ms,
                   help="a partial word unchanged this long is passed on early")
    a.add_argument("--no-agc", action="store_true")
    a.add_argument("--pre-roll-ms", type=int)
    a.add_argument("--pause-fed-ms", type=int)
    a.add_argument("--no-vad", action="store_true", help="feed every frame, not only speech")
    a.add_argument("--limit", type=int, default=0)
    a.add_argument("--only", default="", help="only clips whose file name starts with this")
    a.add_argument("--actions", action="store_true", help="compare actions via the pipeline")
    a.add_argument("--transcripts", type=Path, help="write each clip's reference and transcript"
                   " here (JSON lines)")
    w = sub.add_parser("wake", help="wake hits and false wakes per hour")
    w.add_argument("long", type=Path, help="long unrelated speech (make_speech.py long)")
    w.add_argument("set", type=Path, help="'hey house, ...' clips (make_speech.py bench)")
    w.add_argument("--sensitivity", type=float, nargs="+", default=[0.5])
    w.add_argument("--adaptation", type=Path, default=None,
                   help="an acoustic adaptation written by `assistant adapt`")
    w.add_argument("--loop", action="store_true",
                   help="through the whole voice loop: a hit is the assistant woken or "
                        "acting; slower")
    w.add_argument("--sure-only", action="store_true",
                   help="with --loop: wake.listen_when_unsure off")
    w.add_argument("--check-price", type=float, default=None, metavar="LOG10",
                   help="the wake check's phone-loop price per phone (default: "
                        "wake.VERIFY_PHONE_LOG10); higher is stricter")
    w.add_argument("--run-on-price", type=float, default=None, metavar="LOG10",
                   help="the same for a phrase run on from speech as loud as itself "
                        "(default: wake.RUN_ON_PHONE_LOG10)")
    c = sub.add_parser("confirm", help="background speech answering a pending confirmation")
    c.add_argument("long", type=Path, help="long unrelated speech (make_speech.py long)")
    c.add_argument("--risky", default="unlock the front door",
                   help="the command that waits for yes")
    c.add_argument("--answers", type=Path, help="spoken yeses (make_speech.py bench)")
    c.add_argument("--adaptation", type=Path, default=None,
                   help="an acoustic adaptation written by `assistant adapt`")
    c.add_argument("--whole-grammar", action="store_true",
                   help="search every command for the answer, not the answers only")
    args = ap.parse_args(argv)
    run = {"asr": bench_asr, "wake": bench_wake, "confirm": bench_confirm}[args.cmd]
    figures = run(args)
    show(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

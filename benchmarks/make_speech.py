"""Synthesizes spoken test sets: espeak-ng voices mixed with noise at a chosen SNR, plus a manifest.

Speech comes from espeak-ng (several voices and speeds), is resampled by sox to 16 kHz mono
int16 and mixed with one of three noises: pink noise (sox synth), babble (other espeak-ng
speech summed), or a mains hum with room rumble. Every clip carries a noise floor and about
half a second of noise before and after the speech, because perfect digital silence is
nothing a microphone ever delivers and it skews recognisers' running normalisation.

    python benchmarks/make_speech.py fixtures            # the committed set in tests/fixtures/audio
    python benchmarks/make_speech.py bench --out var/speech --sentences cmds.txt
    python benchmarks/make_speech.py long --out var/speech/long.wav --minutes 30
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE_HZ = 16000
VOICES = ("en-us", "en-gb", "en+f3", "en-us+m3")
FESTIVAL = "festival:"
# Voices of real speakers (the packages in APT_FOR), for `--voices`: two diphone voices and
# one HTS voice.
FESTIVAL_VOICES = ("festival:kal_diphone", "festival:ked_diphone",
                   "festival:cmu_us_slt_arctic_hts")
FESTIVAL_WPM = 165
SPEEDS_WPM = (150, 185)
SNRS_DB = (20.0, 10.0, 5.0)
NOISES = ("pink", "babble", "hum")
PAD_S = 0.5  # noise before and after the speech
FLOOR_DBFS = -62.0  # a quiet room's self-noise under everything
SPEECH_DBFS = -22.0  # RMS level of the active speech before level variation
FIXTURE_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"

Audio = NDArray[np.float64]  # samples in [-1, 1] at SAMPLE_RATE_HZ


@dataclass(frozen=True)
class Clip:
    """One clip to synthesize and the manifest entry that describes it."""

    file: str
    text: str  # what is said; "" for noise only
    voice: str
    speed_wpm: int
    noise: str
    snr_db: float | None  # None for noise only
    level_db: float = 0.0  # gain applied to speech and noise together, tests level handling
    kind: str = "command"  # command | wake | ood | noise


APT_FOR = {"text2wave": "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"}


def _need(program: str) -> None:
    if shutil.which(program) is None:
        packages = APT_FOR.get(program, "espeak-ng sox")
        sys.exit(f"make_speech: '{program}' is not installed (apt-get install {packages})")


def _sox_raw(inputs: list[str], effects: Sequence[str] = (), stdin: bytes | None = None) -> Audio:
    """Runs sox with raw s16le 16 kHz mono output and returns floats."""
    out = subprocess.run(
        ["sox", "-R", *inputs, "-t", "raw", "-r", str(SAMPLE_RATE_HZ), "-c", "1", "-b", "16",
         "-e", "signed-integer", "-", *effects],
        input=stdin, capture_output=True, check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64) / 32768.0


def synth(text: str, voice: str, speed_wpm: int) -> Audio:
    """Speech for `text` from espeak-ng (or Festival, for a "festival:NAME" voice), resampled
    by sox to 16 kHz mono, edges trimmed."""
    if voice.startswith(FESTIVAL):
        return _trim(_festival(text, voice.removeprefix(FESTIVAL), speed_wpm))
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed_wpm), "--stdout", text],
        capture_output=True, check=True,
    ).stdout
    audio = _sox_raw(["-t", "wav", "-"], stdin=wav)
    return _trim(audio)


def _festival(text: str, name: str, speed_wpm: int) -> Audio:
    # Festival's voices are made from recordings of real speakers (diphones, or HTS models
    # trained on them): nearer to a person than espeak-ng's formant synthesis. Its own pace
    # is about FESTIVAL_WPM; durations are stretched to the wanted speed.
    stretch = FESTIVAL_WPM / speed_wpm
    with tempfile.TemporaryDirectory(prefix="festival-") as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(
            ["text2wave", "-o", str(out), "-eval", f"(voice_{name})",
             "-eval", f"(Parameter.set 'Duration_Stretch {stretch:.3f})"],
            input=text.encode(), capture_output=True, check=True)
        return _sox_raw([str(out)])


def _trim(audio: Audio, threshold: float = 1e-3) -> Audio:
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio
    return audio[loud[0] : loud[-1] + 1]


def _rms(audio: Audio) -> float:
    return float(np.sqrt(np.mean(audio**2) + 1e-20))


def _active_rms(speech: Audio) -> float:
    """RMS over the 20 ms windows that hold speech, so pauses do not dilute the level."""
    win = SAMPLE_RATE_HZ // 50
    n = len(speech) // win
    if n == 0:
        return _rms(speech)
    energy = np.sqrt(np.mean(speech[: n * win].reshape(n, win) ** 2, axis=1))
    active = energy[energy > 0.1 * energy.max()]
    return float(np.sqrt(np.mean(active**2)))


def _db(x: float) -> float:
    return float(10 ** (x / 20))


class NoiseBank:
    """Long noise recordings made once; clips take random stretches of them."""

    def __init__(self, rng: np.random.Generator, seconds: float = 60.0) -> None:
        self.rng = rng
        dur = str(seconds)
        self.pink = _sox_raw(["-n"], ["synth", dur, "pinknoise"])
        self.floor = _sox_raw(["-n"], ["synth", dur, "whitenoise", "lowpass", "6000"])
        self.babble = self._babble(seconds)
        self.hum = self._hum(seconds)

    def _babble(self, seconds: float) -> Audio:
        # Four overlapping talkers reading unrelated sentences: a room with people in it.
        n = int(seconds * SAMPLE_RATE_HZ)
        out = np.zeros(n)
        voices = ("en-gb", "en-us+f2", "en+m4", "en-us+f4")
        for t, voice in enumerate(voices):
            talk = np.concatenate(
                [synth(s, voice, 170) for s in BABBLE_TEXT[t::4]] or [np.zeros(1)]
            )
            talk = talk / (_rms(talk) + 1e-9)
            reps = int(np.ceil(n / len(talk))) + 1
            start = int(self.rng.integers(0, len(talk)))
            out += np.tile(talk, reps)[start : start + n]
        return out

    def _hum(self, seconds: float) -> Audio:
        # Mains hum with harmonics, slow wobble and a low rumble, like a fridge or a fan.
        t = np.arange(int(seconds * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
        hum = sum(a * np.sin(2 * np.pi * f * t + p)
                  for f, a, p in ((50, 1.0, 0), (100, 0.5, 1), (150, 0.35, 2), (250, 0.15, 3)))
        hum = hum * (1 + 0.2 * np.sin(2 * np.pi * 0.3 * t))
        rumble = _sox_raw(["-n"], ["synth", str(seconds), "brownnoise"])[: len(t)]
        return np.asarray(hum / _rms(hum) + 0.7 * rumble / _rms(rumble))

    def take(self, kind: str, n: int) -> Audio:
        src = {"pink": self.pink, "babble": self.babble, "hum": self.hum, "floor": self.floor}[kind]
        if n > len(src):
            src = np.tile(src, int(np.ceil(n / len(src))) + 1)
        start = int(self.rng.integers(0, len(src) - n + 1))
        seg = src[start : start + n]
        return seg / _rms(seg)


def mix(speech: Audio, bank: NoiseBank, noise: str, snr_db: float | None,
        level_db: float = 0.0, pad_s: float = PAD_S,
        after_s: float | None = None) -> NDArray[np.int16]:
    """Pads speech with noise on both sides and mixes it at `snr_db` over a noise floor.

    `after_s`: noise after the speech, if not `pad_s` (a room that goes on talking).
    """
    pad = int(pad_s * SAMPLE_RATE_HZ)
    after = pad if after_s is None else int(after_s * SAMPLE_RATE_HZ)
    voice = np.concatenate([np.zeros(pad), speech, np.zeros(after)])
    level = _db(SPEECH_DBFS)
    if np.any(speech):
        voice *= level / _active_rms(speech)
    out = voice + bank.take("floor", len(voice)) * _db(FLOOR_DBFS)
    if snr_db is not None:
        out += bank.take(noise, len(voice)) * level / _db(snr_db)
    else:  # noise only: at the level a 10 dB SNR command would have
        out += bank.take(noise, len(voice)) * level / _db(10.0)
    out *= _db(level_db)
    return np.asarray(np.clip(np.round(out * 32767), -32768, 32767).astype(np.int16))


def write_wav(path: Path, samples: NDArray[np.int16]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE_HZ)
        w.writeframes(samples.astype("<i2").tobytes())


def render(clips: Sequence[Clip], out_dir: Path, seed: int, after_s: float = PAD_S) -> None:
    """Synthesizes every clip into out_dir and writes out_dir/manifest.json."""
    _need("espeak-ng")
    _need("sox")
    if any(c.voice.startswith(FESTIVAL) for c in clips):
        _need("text2wave")
    rng = np.random.default_rng(seed)
    bank = NoiseBank(rng)
    for clip in clips:
        speech = synth(clip.text, clip.voice, clip.speed_wpm) if clip.text else np.zeros(
            int(2.0 * SAMPLE_RATE_HZ))
        write_wav(out_dir / clip.file, mix(speech, bank, clip.noise, clip.snr_db, clip.level_db,
                                           after_s=after_s))
    manifest = [asdict(c) for c in clips]
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


# Unrelated speech: babble noise and the long false-wake test read these (our own text).
BABBLE_TEXT = [
    "the weather tomorrow looks mild with a little rain in the afternoon",
    "she said the train was late again so we waited on the platform",
    "add two cups of flour and stir until the mixture is smooth",
    "the meeting has been moved to thursday because of the holiday",
    "my brother bought a new bicycle and rides it to work every day",
    "the museum opens at ten and closes early on sundays",
    "please remember to water the plants while i am away",
    "the football match ended in a draw after extra time",
    "we watched a documentary about whales in the arctic ocean",
    "the library has a new section for children's books",
    "i could not find my keys this morning so i was late",
    "the price of coffee has gone up again this year",
]

FIXTURES = [
    Clip("cmd_kitchen_off_us.wav", "turn off the kitchen lights", "en-us", 150, "pink", 20.0),
    Clip("cmd_kitchen_off_gb_babble.wav", "turn off the kitchen lights", "en-gb", 185, "babble",
         10.0),
    Clip("cmd_bedroom_lamp_50.wav", "set the bedroom lamp to fifty percent", "en-gb", 150,
         "pink", 10.0),
    Clip("cmd_bedroom_lamp_50_f3.wav", "set the bedroom lamp to fifty percent", "en+f3", 185,
         "hum", 5.0),
    Clip("cmd_hallway_on.wav", "turn on the hallway light", "en-us+m3", 150, "hum", 20.0),
    Clip("cmd_blind_close.wav", "close the kitchen blind", "en+f3", 150, "babble", 20.0),
    Clip("cmd_temperature.wav", "set the temperature to twenty one degrees", "en-us", 185,
         "pink", 5.0),
    Clip("cmd_living_room_on.wav", "turn on the living room lights", "en-gb", 150, "hum", 10.0,
         level_db=-14.0),
    Clip("cmd_music_pause.wav", "pause the music", "en-us+m3", 185, "babble", 10.0),
    Clip("cmd_loud_clipped.wav", "turn off the kitchen lights", "en-us", 150, "pink", 20.0,
         level_db=26.0),
    Clip("wake_hallway_on.wav", "hey house, turn on the hallway light", "en-us", 150, "pink",
         20.0, kind="wake"),
    Clip("wake_kitchen_off_gb.wav", "hey house, turn off the kitchen lights", "en-gb", 150,
         "babble", 10.0, kind="wake"),
    Clip("wake_bedroom_f3.wav", "hey house, set the bedroom lamp to fifty percent", "en+f3", 185,
         "hum", 10.0, kind="wake"),
    Clip("ood_garden.wav", "i think we should plant tomatoes in the garden this spring",
         "en-us", 150, "pink", 20.0, kind="ood"),
    Clip("ood_train.wav", "the train to london leaves from platform nine", "en-gb", 185,
         "hum", 10.0, kind="ood"),
    Clip("noise_babble.wav", "", "", 0, "babble", None, kind="noise"),
    Clip("noise_hum.wav", "", "", 0, "hum", None, kind="noise"),
    # a conversation: a command, then follow-ups that only make sense after it
    Clip("follow_kitchen_on.wav", "turn on the kitchen lights", "en-us+m3", 150, "hum", 20.0),
    Clip("follow_hallway_too.wav", "and the hallway too", "en-us", 150, "hum", 20.0),
    Clip("follow_them_off.wav", "turn them off", "en-us+m3", 150, "pink", 20.0),
    # a question and its answer: a risky command waits for "yes"
    Clip("confirm_garage.wav", "open the garage door", "en-us", 150, "pink", 20.0),
    Clip("confirm_yes_please.wav", "yes please", "en-us+m3", 150, "pink", 20.0),
    Clip("confirm_yes.wav", "yes", "en-gb", 150, "hum", 20.0),
    # the wake phrase in loud noise, where its check turns it down: the command still counts
    Clip("wake_hallway_5db.wav", "hey house, turn on the hallway light", "en-us", 150, "pink",
         5.0, kind="wake"),
    # a command lost in steady noise: turned down, with a reply that says the room is loud
    Clip("noisy_blind_pink_0db.wav", "close the kitchen blind", "en-us", 150, "pink", 0.0),
]


SAMPLES_DIR = Path(__file__).resolve().parent.parent / "packaging" / "samples"
SAMPLES = [  # for users without a microphone: `assistant run --wav packaging/samples/*.wav`
    Clip("hallway_light_on.wav", "hey house, turn on the hallway light", "en-us", 150, "pink",
         20.0, kind="wake"),
    Clip("kitchen_blind_close.wav", "hey house, close the kitchen blind", "en-us", 150, "pink",
         20.0, kind="wake"),
    Clip("bedroom_lamp_fifty.wav", "hey house, set the bedroom lamp to fifty percent", "en-us",
         150, "pink", 20.0, kind="wake"),
]


def bench_clips(sentences: Sequence[str], kind: str, per_snr: int,
                rng: np.random.Generator, prefix: str,
                voices: Sequence[str] = VOICES) -> list[Clip]:
    """Each sentence at every SNR with a voice, speed and noise drawn in rotation."""
    clips: list[Clip] = []
    for snr in SNRS_DB:
        for i in range(min(per_snr, len(sentences))):
            text = sentences[i]
            voice = voices[int(rng.integers(len(voices)))]
            speed = SPEEDS_WPM[int(rng.integers(len(SPEEDS_WPM)))]
            noise = NOISES[int(rng.integers(len(NOISES)))]
            level = float(rng.choice([-12.0, -6.0, 0.0, 6.0]))
            name = f"{prefix}_{int(snr):02d}db_{i:04d}.wav"
            clips.append(Clip(name, text, voice, speed, noise, snr, level, kind))
    return clips


def long_speech(out: Path, minutes: float, seed: int, snr_db: float = 15.0,
                voices: Sequence[str] = VOICES) -> None:
    """A long stretch of unrelated speech in noise (for false wakes per hour) and its manifest."""
    _need("espeak-ng")  # the babble noise
    _need("sox")
    if any(v.startswith(FESTIVAL) for v in voices):
        _need("text2wave")
    rng = np.random.default_rng(seed)
    bank = NoiseBank(rng)
    lines = list(BABBLE_TEXT) + _license_sentences()
    target = int(minutes * 60 * SAMPLE_RATE_HZ)
    pieces: list[NDArray[np.int16]] = []
    total = 0
    i = 0
    while total < target:
        text = lines[i % len(lines)]
        voice = voices[i % len(voices)]
        speech = synth(text, voice, SPEEDS_WPM[i % 2])
        pieces.append(mix(speech, bank, NOISES[i % 3], snr_db, pad_s=0.3))
        total += len(pieces[-1])
        i += 1
    write_wav(out, np.concatenate(pieces)[:target])
    meta = {"file": out.name, "minutes": minutes, "sentences": i, "snr_db": snr_db}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")


def _license_sentences() -> list[str]:
    # Plenty of ordinary English prose is already on every Debian system.
    path = Path("/usr/share/common-licenses/GPL-3")
    if not path.exists():
        return []
    text = " ".join(path.read_text(errors="ignore").split())
    return [s.strip() for s in text.split(".") if 20 < len(s.strip()) < 200]


# Natural numbers for the number slots the skills use; other ranges are clamped to 0..100.
SLOT_RANGES = {"temperature": (16, 26), "brightness": (10, 100), "position": (0, 100),
               "volume_level": (10, 100)}


def sample_commands(config_path: Path, n: int, seed: int) -> list[str]:
    """Random commands from the skills' templates with the home's names (for benchmarks)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from hassil.expression import (
        Alternative,
        ListReference,
        Permutation,
        RuleReference,
        Sequence,
        TextChunk,
    )
    from hassil.intents import RangeSlotList, TextSlotList

    from assistant.config import load_config
    from assistant.grammar import number_words
    from assistant.skills import home_lists, load_skills

    cfg = load_config(config_path)
    intents = load_skills(cfg.resolve(cfg.skills_dir)).hassil_intents(home_lists(cfg))
    rng = np.random.default_rng(seed)

    def expand(e: object, data: object) -> str:
        if isinstance(e, TextChunk):
            return e.original_text or ""
        if isinstance(e, Alternative):
            if e.is_optional and rng.random() < 0.6:
                return ""
            items = [i for i in e.items if not (isinstance(i, TextChunk) and
                                                i.original_text in ("s", "'s"))] or e.items
            return expand(items[int(rng.integers(len(items)))], data)
        if isinstance(e, Permutation):
            return " ".join(expand(i, data) for i in rng.permutation(e.items))
        if isinstance(e, Sequence):
            return "".join(expand(i, data) for i in e.items)
        if isinstance(e, RuleReference):
            rule = data.expansion_rules.get(e.rule_name) or intents.expansion_rules[e.rule_name]
            return expand(rule.expression, data)
        if isinstance(e, ListReference):
            lst = intents.slot_lists.get(e.list_name)
            if isinstance(lst, RangeSlotList):
                lo, hi = SLOT_RANGES.get(e.slot_name, (0, 100))
                return f" {number_words(int(rng.integers(lo, hi + 1)))} "
            if isinstance(lst, TextSlotList) and lst.values:
                value = lst.values[int(rng.integers(len(lst.values)))]
                return f" {expand(value.text_in, data)} "
            raise ValueError(f"cannot sample list {e.list_name}")
        return ""

    blocks = [(d, s) for i in intents.intents.values() for d in i.data for s in d.sentences]
    out: list[str] = []
    while len(out) < n:
        data, sentence = blocks[int(rng.integers(len(blocks)))]
        try:
            text = expand(sentence.expression, data)
        except ValueError:
            continue
        text = text.replace("%", " percent ").replace("°", " degrees ").replace(" pct", " percent")
        text = " ".join(text.split()).lower()
        text = " ".join(w for w in text.split() if w not in ("s", "'s"))  # glued suffixes
        if text and text not in out:
            out.append(text)
    return out


# Commands as people in the sample home (config.yaml) would say them.
NATURAL_COMMANDS = [
    "turn off the kitchen lights", "turn on the hallway light", "switch off the big light",
    "set the bedroom light to fifty percent", "dim the living room lights to thirty percent",
    "turn on the floor lamp", "turn off all the lights downstairs", "close the kitchen blind",
    "open the living room curtains", "close the bedroom curtains", "open the office blind",
    "set the living room thermostat to twenty one degrees", "make it warmer in the bedroom",
    "what is the temperature in the living room", "what's the temperature outside",
    "pause the tv", "turn up the volume", "set the volume to forty percent",
    "next song on the kitchen speaker", "start the vacuum", "send the vacuum back to its dock",
    "turn on the coffee maker", "turn off the christmas tree", "turn on the bedroom fan",
    "turn the porch light on", "turn off the desk lamp", "set the mirror light to blue",
    "is the front door locked", "lock the back door", "turn on movie night",
    "turn off the kids room light and close the office blind", "what time is it",
    "turn on the night light", "switch off the extractor fan", "make the lounge light brighter",
    "set the kitchen ceiling light to warm white", "never mind", "turn on the sprinkler",
    "close the bathroom window", "turn off the garage light",
]

OOD_SENTENCES = [
    "i think we should plant tomatoes in the garden this spring",
    "the train to london leaves from platform nine",
    "what did you have for lunch today",
    "my sister is coming to visit next weekend",
    "can you believe how expensive petrol has become",
    "the dog needs a walk before it gets dark",
    "we should book the restaurant for saturday evening",
    "have you seen my blue jacket anywhere",
    "the children are doing their homework upstairs",
    "i read an interesting article about volcanoes",
    "the plumber said he would come on tuesday morning",
    "this soup needs a little more salt",
    "remind me why we bought such a big sofa",
    "the football results were a big surprise",
    "let us go for a swim at the beach tomorrow",
    "my phone battery is almost empty again",
    "the neighbours are having a party tonight",
    "she plays the violin in the school orchestra",
    "there is a strange noise coming from the car",
    "we need to buy milk eggs and bread",
    "how many people are coming to dinner",
    "the new bridge will open next summer",
    "he fixed the bicycle with an old screwdriver",
    "the movie was much longer than i expected",
    "tell me a joke about penguins",
    "who won the election last year",
    "the cat is sleeping on the windowsill",
    "grandma sent us a postcard from spain",
    "i forgot to call the dentist yesterday",
    "the paint on the fence is still wet",
    "my favourite colour used to be green",
    "the lights in the theatre were beautiful last night",
    "i left the kitchen window open by mistake yesterday",
    "the music at the wedding was far too loud",
    "we turned the old garage into a workshop",
    "the heating bill was enormous this winter",
    "close your eyes and count to ten",
    "open the book at page forty two",
    "the fan club meets every second friday",
    "a warm bath helps me sleep",
]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    fx = sub.add_parser("fixtures", help="the small committed fixture set")
    fx.add_argument("--out", type=Path, default=FIXTURE_DIR)
    sm = sub.add_parser("samples", help="the sample commands bundled for users")
    sm.add_argument("--out", type=Path, default=SAMPLES_DIR)
    b = sub.add_parser("bench", help="a benchmark set: sentences x SNRs")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--sentences", type=Path, required=True, help="one command per line")
    b.add_argument("--ood", type=Path, help="one out-of-domain sentence per line")
    b.add_argument("--per-snr", type=int, default=100)
    b.add_argument("--after-s", type=float, default=PAD_S,
                   help="seconds of noise after the speech (babble: a room that talks on)")
    sn = sub.add_parser("sentences", help="print random commands sampled from the skills")
    sn.add_argument("--config", type=Path, default=Path("config.yaml"))
    sn.add_argument("-n", type=int, default=200)
    sn.add_argument("--ood", action="store_true", help="print the out-of-domain sentences")
    lg = sub.add_parser("long", help="long unrelated speech for false-wake rates")
    lg.add_argument("--out", type=Path, required=True)
    lg.add_argument("--minutes", type=float, default=30.0)
    for p in (b, lg):
        p.add_argument("--voices", default=",".join(VOICES),
                       help=f"comma-separated; espeak-ng names or {FESTIVAL}NAME (real "
                            f"speakers: {','.join(FESTIVAL_VOICES)})")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    if args.cmd == "fixtures":
        render(FIXTURES, args.out, args.seed)
    elif args.cmd == "samples":
        render(SAMPLES, args.out, args.seed)
    elif args.cmd == "bench":
        rng = np.random.default_rng(args.seed)
        cmds = [s.strip() for s in args.sentences.read_text().splitlines() if s.strip()]
        voices = [v for v in args.voices.split(",") if v]
        clips = bench_clips(cmds, "command", args.per_snr, rng, "cmd", voices)
        if args.ood:
            ood = [s.strip() for s in args.ood.read_text().splitlines() if s.strip()]
            clips += bench_clips(ood, "ood", args.per_snr, rng, "ood", voices)
        render(clips, args.out, args.seed, args.after_s)
    elif args.cmd == "sentences":
        lines = (OOD_SENTENCES if args.ood else
                 NATURAL_COMMANDS + sample_commands(args.config, args.n, args.seed))
        print("\n".join(lines))
    else:
        long_speech(args.out, args.minutes, args.seed,
                    voices=[v for v in args.voices.split(",") if v])
    return 0


if __name__ == "__main__":
    sys.exit(main())

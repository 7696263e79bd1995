"""Takes words; returns ARPAbet pronunciations for the recognizer's dictionary.

Known words come from the CMU dictionary shipped with pocketsphinx (only the needed lines
are kept, so memory stays small). Words it lacks, such as made-up device names, are
pronounced by espeak-ng when it is installed (its IPA output mapped onto the acoustic
model's phones) and otherwise by a small letter-to-sound rule set.

The dictionary is American. Speakers of non-rhotic accents (most of England, Wales,
Australia, New Zealand, South Africa) drop the r after a vowel: "turn" is T AH N, "door" is
D AO. `non_rhotic()` derives that variant, and `pronounce(..., non_rhotic_variants=True)`
adds it next to the American one, so those speakers are not heard as something else.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

ESPEAK_TIMEOUT_S = 10.0

# IPA as espeak-ng writes it for en-us, longest symbols first when matching.
_IPA = {
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "ɔɪ": "OY", "tʃ": "CH", "dʒ": "JH",
    "ɑː": "AA", "ɔː": "AO", "oː": "AO", "iː": "IY", "uː": "UW", "ɜː": "ER", "ɛː": "EH",
    "ɪə": "IY AH", "eə": "EH", "ʊə": "UH",
    "ə": "AH", "ʌ": "AH", "ɐ": "AH", "æ": "AE", "a": "AE", "ɑ": "AA", "ɒ": "AA", "ɔ": "AO",
    "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "ʊ": "UH", "u": "UW", "ɜ": "ER",
    "ɚ": "ER", "ɝ": "ER", "o": "OW", "y": "UW",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G", "g": "G", "f": "F",
    "v": "V", "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH",
    "m": "M", "n": "N", "ŋ": "NG", "l": "L", "ɹ": "R", "r": "R", "ɾ": "T", "j": "Y",
    "w": "W", "x": "K", "ç": "HH", "ʔ": "",
}
_IPA_IGNORED = "ˈˌ‍̩ .-"  # stress, joiners, syllabic marks

# Letter-to-sound fallback: (spelling, phones), longest spellings tried first.
_LTS = sorted({
    "tch": "CH", "sch": "S K", "igh": "AY", "ough": "AO", "tion": "SH AH N", "sion": "ZH AH N",
    "ch": "CH", "sh": "SH", "th": "TH", "ph": "F", "ng": "NG", "ck": "K", "qu": "K W",
    "wh": "W", "gh": "G", "kn": "N", "wr": "R",
    "ee": "IY", "ea": "IY", "oo": "UW", "ai": "EY", "ay": "EY", "ou": "AW", "ow": "OW",
    "oi": "OY", "oy": "OY", "au": "AO", "aw": "AO", "ie": "IY", "ei": "EY", "ey": "IY",
    "er": "ER", "ir": "ER", "ur": "ER", "ar": "AA R", "or": "AO R",
    "a": "AE", "e": "EH", "i": "IH", "o": "AA", "u": "AH", "y": "IY",
    "b": "B", "c": "K", "d": "D", "f": "F", "g": "G", "h": "HH", "j": "JH", "k": "K",
    "l": "L", "m": "M", "n": "N", "p": "P", "q": "K", "r": "R", "s": "S", "t": "T",
    "v": "V", "w": "W", "x": "K S", "z": "Z",
}.items(), key=lambda kv: -len(kv[0]))


VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
# Vowels that keep a schwa glide where the r was: "near" N IH AH, "there" DH EH AH.
_CENTRING = frozenset({"IH", "IY", "EH", "UH"})


def non_rhotic(phones: str) -> str | None:
    """The pronunciation without r after a vowel (unless a vowel follows), or None if the same."""
    ph = phones.split()
    out: list[str] = []
    for i, p in enumerate(ph):
        before_vowel = i + 1 < len(ph) and ph[i + 1] in VOWELS
        if p == "ER" and not before_vowel:
            out.append("AH")  # "turn", "water": a long or short schwa
        elif p == "R" and out and out[-1] in VOWELS and not before_vowel:
            if out[-1] in _CENTRING:
                out.append("AH")
        else:
            out.append(p)
    variant = " ".join(out)
    return variant if variant != phones else None


def default_dictionary() -> Path:
    """The CMU dictionary inside the pocketsphinx wheel."""
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"


def lookup(words: Iterable[str], dictionary: Path | None = None) -> dict[str, list[str]]:
    """Every pronunciation the dictionary has for each word (alternates included)."""
    wanted = set(words)
    found: dict[str, list[str]] = {}
    with open(dictionary or default_dictionary(), encoding="utf-8") as f:
        for line in f:
            head, _, phones = line.partition(" ")
            word = head.split("(", 1)[0]
            if word in wanted:
                found.setdefault(word, []).append(phones.strip())
    return found


def pronounce(words: Iterable[str], dictionary: Path | None = None, use_espeak: bool = True,
              non_rhotic_variants: bool = False) -> dict[str, list[str]]:
    """Pronunciations for all words: the dictionary's, else espeak-ng's, else spelling rules."""
    wanted = sorted(set(words))
    found = lookup(wanted, dictionary)
    missing = [w for w in wanted if w not in found]
    if missing:
        guessed = _espeak(missing) if use_espeak else {}
        for w in missing:
            phones = guessed.get(w) or letter_to_sound(w)
            if phones:
                found[w] = [phones]
        log.info("guessed pronunciations for %d word(s) not in the dictionary: %s",
                 len(missing), ", ".join(f"{w} [{found.get(w, ['?'])[0]}]" for w in missing))
    if non_rhotic_variants:
        for prons in found.values():
            prons += [v for p in list(prons) if (v := non_rhotic(p)) and v not in prons]
    return found


def _espeak(words: list[str]) -> dict[str, str]:
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        return {}
    cleaned = {w: c for w in words
               if re.search("[a-z]", c := " ".join(re.sub(r"[^a-z']", " ", w).split()))}
    if not cleaned:
        return {}
    # espeak-ng reads its input as running text: lines run together into one clause unless a
    # blank line ends each word, and then it answers one line of IPA per word.
    text = "\n\n".join(cleaned.values()) + "\n"
    try:
        out = subprocess.run(
            [exe, "-v", "en-us", "-q", "--ipa", "--sep=_", "--stdin"], input=text,
            capture_output=True, text=True, timeout=ESPEAK_TIMEOUT_S, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("espeak-ng failed (%s); using spelling rules for new words", e)
        return {}
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    if len(lines) != len(cleaned):
        log.warning("espeak-ng gave %d pronunciations for %d words; using spelling rules",
                    len(lines), len(cleaned))
        return {}
    return {w: p for w, ln in zip(cleaned, lines, strict=True) if (p := ipa_to_arpabet(ln))}


def ipa_to_arpabet(ipa: str) -> str:
    """espeak-ng IPA ("_"-separated phonemes, words split by spaces) to ARPAbet phones."""
    phones: list[str] = []
    for seg in re.split(r"[_\s]+", ipa):
        seg = "".join(ch for ch in seg if ch not in _IPA_IGNORED)
        i = 0
        while i < len(seg):
            for size in (2, 1):
                piece = seg[i : i + size]
                if piece in _IPA:
                    if _IPA[piece]:
                        phones.append(_IPA[piece])
                    i += size
                    break
            else:
                i += 1  # a symbol we do not know: skip it rather than fail
    return " ".join(phones)


def letter_to_sound(word: str) -> str:
    """A rough pronunciation from spelling alone; good enough for short made-up names."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if len(w) > 3 and w.endswith("e") and w[-2] not in "aeiou":
        w = w[:-1]  # silent final e
    phones: list[str] = []
    i = 0
    while i < len(w):
        for spelling, sound in _LTS:
            if w.startswith(spelling, i):
                if spelling == "c" and w[i + 1 : i + 2] in ("e", "i", "y"):
                    sound = "S"
                elif spelling == "g" and w[i + 1 : i + 2] in ("e", "i", "y"):
                    sound = "JH"
                elif spelling == "y" and i == 0:
                    sound = "Y"
                if not phones or phones[-1] != sound:  # doubled letters sound once
                    phones.append(sound)
                i += len(spelling)
                break
        else:
            i += 1
    return " ".join(phones)

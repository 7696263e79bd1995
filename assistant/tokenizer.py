"""Takes text or streamed words and returns normalised words with their sentencepiece ids.

Text is cut into lowercase words first (keeping each word's character offsets into the
input), and every word is encoded on its own. A sentence therefore tokenizes to exactly
the concatenation of its words, which is what lets the streaming path commit one finished
word at a time and lets the step loop copy whole words from the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sentencepiece as spm

from assistant.errors import ModelError

# Words are letters/digits with inner apostrophes or decimal points; "%" and "°" are spoken.
_WORD_RE = re.compile(r"['’]s\b|[^\W_]+(?:[.'’][^\W_]+)*|%|°")
_SPOKEN_SYMBOLS = {"%": "percent", "°": "degrees"}
_POSSESSIVE_RE = re.compile(r"^(.+?)(['’]s)$")
WORD_CACHE_SIZE = 4096  # distinct words remembered per tokenizer; a home uses a few hundred


@dataclass(frozen=True)
class Word:
    """One normalised word and where it sits in the input (end exclusive)."""

    text: str
    start_char: int
    end_char: int


def split_words(text: str) -> list[Word]:
    """Lowercase words with offsets; punctuation dropped, "'s" split off, % and ° spoken."""
    words: list[Word] = []
    for m in _WORD_RE.finditer(text):
        raw = m.group(0)
        start, end = m.span()
        if raw in _SPOKEN_SYMBOLS:
            words.append(Word(_SPOKEN_SYMBOLS[raw], start, end))
            continue
        lowered = raw.lower().replace("’", "'")
        poss = _POSSESSIVE_RE.match(lowered)
        if poss:
            # "kitchen's" copies as "kitchen": names resolve without the possessive
            cut = start + len(poss.group(1))
            words.append(Word(poss.group(1), start, cut))
            words.append(Word("'s", cut, end))
        else:
            words.append(Word(lowered, start, end))
    return words


def normalize(text: str) -> str:
    """The words of `text` joined by single spaces, as the model sees them."""
    return " ".join(w.text for w in split_words(text))


class Tokenizer:
    """A sentencepiece model that encodes one normalised word at a time."""

    def __init__(self, processor: spm.SentencePieceProcessor) -> None:
        self._sp = processor
        self.vocab_size: int = int(processor.get_piece_size())
        self.word_ids = lru_cache(maxsize=WORD_CACHE_SIZE)(self._word_ids)

    @classmethod
    def load(cls, path: Path) -> Tokenizer:
        """Load a .model file; raises ModelError when it is missing or unreadable."""
        if not path.is_file():
            raise ModelError(f"{path}: tokenizer model not found")
        processor = spm.SentencePieceProcessor()
        try:
            processor.load(str(path))
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"{path}: not a sentencepiece model ({exc})") from exc
        return cls(processor)

    @classmethod
    def from_bytes(cls, data: bytes) -> Tokenizer:
        processor = spm.SentencePieceProcessor()
        processor.load_from_serialized_proto(data)
        return cls(processor)

    def _word_ids(self, word: str) -> tuple[int, ...]:
        return tuple(int(i) for i in self._sp.encode(word))

    def encode(self, text: str) -> list[int]:
        """Token ids of the normalised text, word by word."""
        return [i for w in split_words(text) for i in self.word_ids(w.text)]

    def decode(self, ids: list[int]) -> str:
        return str(self._sp.decode(ids))

    def piece(self, token_id: int) -> str:
        return str(self._sp.id_to_piece(token_id))


@dataclass(frozen=True)
class TokenizedWord:
    text: str
    ids: tuple[int, ...]


class IncrementalTokenizer:
    """Commits words as a recogniser finishes them and rolls back revised ones.

    A streaming recogniser revises its latest words; only words followed by another word
    (or every word, once the hypothesis is final) are treated as finished.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.committed: list[TokenizedWord] = []

    def _tokenized(self, words: list[str]) -> list[TokenizedWord]:
        out: list[TokenizedWord] = []
        for raw in words:
            for w in split_words(raw):
                out.append(TokenizedWord(w.text, self.tokenizer.word_ids(w.text)))
        return out

    def commit(self, words: list[str]) -> list[TokenizedWord]:
        """Append finished words; returns the newly committed (normalised) words."""
        new = self._tokenized(words)
        self.committed.extend(new)
        return new

    def update(self, hypothesis: list[str], final: bool) -> tuple[int, list[TokenizedWord]]:
        """Take a whole partial hypothesis; returns (words kept, words newly committed)."""
        words = self._tokenized(hypothesis)
        stable = words if final else words[:-1]
        keep = 0
        while (keep < len(self.committed) and keep < len(stable)
               and self.committed[keep].text == stable[keep].text):
            keep += 1
        del self.committed[keep:]
        new = stable[keep:]
        self.committed.extend(new)
        return keep, new

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.committed)

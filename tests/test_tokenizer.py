"""The tokenizer: word splitting with offsets, round trips, and incremental commits."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.errors import ModelError
from assistant.tokenizer import IncrementalTokenizer, Tokenizer, Word, normalize, split_words

MODEL = Path(__file__).resolve().parent.parent / "models" / "tokenizer.model"


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer.load(MODEL)


def test_split_words_keeps_offsets_into_the_input() -> None:
    text = "Turn OFF the Kitchen's lights, please!"
    words = split_words(text)
    assert [w.text for w in words] == ["turn", "off", "the", "kitchen", "'s", "lights", "please"]
    for w in words:
        assert text[w.start_char:w.end_char].lower().replace("’", "'") == w.text


@pytest.mark.parametrize(("text", "expected"), [
    ("set it to 50%", "set it to 50 percent"),
    ("21.5° please", "21.5 degrees please"),
    ("twenty-one", "twenty one"),
    ("  lots   of\tspace ", "lots of space"),
    ("what’s up", "what 's up"),  # typographic apostrophe, possessive split like "'s"
    ("", ""),
])
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_is_idempotent_on_possessives() -> None:
    once = normalize("the kitchen's blind")
    assert once == "the kitchen 's blind"
    assert normalize(once) == once


def test_possessive_offsets_split_the_word() -> None:
    assert split_words("kitchen's") == [Word("kitchen", 0, 7), Word("'s", 7, 9)]


@pytest.mark.parametrize("text", [
    "turn off the kitchen lights", "set the blorvakian lamp to 37 percent",
    "zzqx mmmph 12345 ünïcødé naïve café", "what's the temperature in emma's room",
])
def test_round_trip(tok: Tokenizer, text: str) -> None:
    assert tok.decode(tok.encode(text)) == normalize(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_round_trip_any_text(text: str) -> None:
    tok = Tokenizer.load(MODEL)
    assert tok.decode(tok.encode(text)) == normalize(text)


def test_sentence_is_the_concatenation_of_its_words(tok: Tokenizer) -> None:
    text = "please open the living room blinds halfway"
    assert tok.encode(text) == [i for w in text.split() for i in tok.word_ids(w)]


def test_incremental_commit_matches_whole_text(tok: Tokenizer) -> None:
    inc = IncrementalTokenizer(tok)
    for word in ["dim", "the", "bedroom", "lights"]:
        inc.commit([word])
    assert [i for w in inc.committed for i in w.ids] == tok.encode("dim the bedroom lights")


def test_update_commits_only_finished_words_and_rolls_back(tok: Tokenizer) -> None:
    inc = IncrementalTokenizer(tok)
    assert inc.update(["turn"], final=False) == (0, [])
    keep, new = inc.update(["turn", "of"], final=False)
    assert (keep, [w.text for w in new]) == (0, ["turn"])
    keep, new = inc.update(["turn", "of", "the"], final=False)
    assert (keep, [w.text for w in new]) == (1, ["of"])
    # the recogniser revises "of" to "off": one word is kept, the rest re-committed
    keep, new = inc.update(["turn", "off", "the", "light"], final=True)
    assert keep == 1
    assert [w.text for w in new] == ["off", "the", "light"]
    assert inc.text == "turn off the light"


def test_missing_or_broken_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        Tokenizer.load(tmp_path / "nope.model")
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a sentencepiece model"):
        Tokenizer.load(bad)

"""textnorm: an utterance in, lower-case tokens with digits for spoken numbers out, spans kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.textnorm import normalize


@pytest.mark.parametrize(("text", "expected"), [
    ("Turn OFF the Kitchen-Lights, please!", "turn off the kitchen lights please"),
    ("um turn uh off the the lights", "turn off the lights"),
    ("Erm, hmm, lights ON", "lights on"),
    ("turn turn off", "turn off"),
    ("", ""),
    ("   ", ""),
    ("!!! ???", ""),
    ("kids' room", "kids room"),
    ("children's room", "children's room"),
    ("it's too bright", "it's too bright"),
])
def test_case_punctuation_fillers_and_stutters(text: str, expected: str) -> None:
    assert normalize(text).text == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("set it to fifty percent", "set it to 50 percent"),
    ("twenty one degrees", "21 degrees"),
    ("twenty-one degrees", "21 degrees"),
    ("ninety nine", "99"),
    ("forty two", "42"),
    ("fourty", "40"),  # a common misspelling
    ("nineteen", "19"),
    ("zero", "0"),
    ("a hundred percent", "100 percent"),
    ("one hundred and fifty", "150"),
    ("three hundred and twenty five", "325"),
    ("a hundred and", "100 and"),
    ("twenty one point five", "21.5"),
    ("eighteen point five degrees", "18.5 degrees"),
    ("seventeen point", "17 point"),
    ("50%", "50 percent"),
    ("50 %", "50 percent"),
    ("21.5°", "21.5 degrees"),
    ("50 50", "50 50"),  # digits are never collapsed as stutters
    ("twenty twenty", "20 20"),
])
def test_spoken_numbers_become_digits(text: str, expected: str) -> None:
    assert normalize(text).text == expected


@pytest.mark.parametrize("text", ["a", "oh", "a lamp", "hundred"])
def test_words_that_only_look_like_numbers_stay_words(text: str) -> None:
    assert normalize(text).text == text


def test_tokens_keep_their_input_spans() -> None:
    text = "Um, set the KITCHEN lights to twenty one %"
    norm = normalize(text)
    assert norm.text == "set the kitchen lights to 21 percent"
    assert [(t.text, text[t.start_char:t.end_char]) for t in norm.tokens] == [
        ("set", "set"), ("the", "the"), ("kitchen", "KITCHEN"), ("lights", "lights"),
        ("to", "to"), ("21", "twenty one"), ("percent", "%")]


def test_span_of_normalised_text_maps_back_to_the_input() -> None:
    text = "uh turn off the the kitchen lights at fifty percent"
    norm = normalize(text)
    start = norm.text.index("kitchen lights")
    s, e = norm.span_to_input(start, start + len("kitchen lights"))
    assert text[s:e] == "kitchen lights"
    start = norm.text.index("50")
    s, e = norm.span_to_input(start, start + 2)
    assert text[s:e] == "fifty"


def test_percent_sign_glued_to_a_number_splits_into_two_spans() -> None:
    text = "set it to 50%"
    tokens = normalize(text).tokens
    assert [(t.text, t.start_char, t.end_char) for t in tokens[-2:]] == [
        ("50", 10, 12), ("percent", 12, 13)]


@given(st.text(max_size=200))
def test_any_text_normalises_without_error_and_spans_stay_inside(text: str) -> None:
    norm = normalize(text)
    assert norm.text == " ".join(t.text for t in norm.tokens)
    assert norm.text == norm.text.strip() and "  " not in norm.text
    for tok in norm.tokens:
        assert 0 <= tok.start_char < tok.end_char <= len(text)
    starts = [t.start_char for t in norm.tokens]
    assert starts == sorted(starts)


@given(st.lists(st.sampled_from(["turn", "on", "the", "twenty", "one", "a", "hundred", "and",
                                 "point", "five", "um", "lights", "50%", "oh", "zero"]),
                max_size=12))
def test_number_words_in_any_order_never_crash(words: list[str]) -> None:
    text = " ".join(words)
    norm = normalize(text)
    assert normalize(norm.text).text == norm.text  # normalising twice changes nothing

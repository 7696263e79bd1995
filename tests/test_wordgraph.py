"""Word graphs: sharing word lists behind free moves keeps the language and the weights."""

from __future__ import annotations

from hassil import Intents

from assistant.grammar import build_word_graph
from assistant.wordgraph import SHARE_MIN, WordGraph, determinize, factor, optimize

NAMES = ["kitchen light", "hallway light", "bedroom lamp", "desk lamp", "porch light",
         "ceiling fan", "tv", "heater", "kettle", "radio"]
TEMPLATES = {
    "language": "en",
    "intents": {
        "HassTurnOn": {"data": [{"sentences": ["(turn|switch) on <name> [in <area>]",
                                               "<name> on"]}]},
        "HassTurnOff": {"data": [{"sentences": ["(turn|switch) off <name> [in <area>]"]}]},
        "HassLightSet": {"data": [{"sentences": ["set <name> to {brightness} percent",
                                                 "dim <name>"]}]},
        "HassGetState": {"data": [{"sentences": ["is <name> on", "what is on in <area>"]}]},
    },
    "lists": {
        "name": {"values": NAMES},
        "area": {"values": ["kitchen", "hallway", "bedroom", "living room"]},
        "brightness": {"range": {"from": 0, "to": 100, "step": 10}},
    },
    "expansion_rules": {"name": "[the] {name}", "area": "[the] {area}"},
}


def same_language(g: WordGraph, h: WordGraph) -> bool:
    """Whether both graphs accept exactly the same word sequences (of any length)."""
    (dg, ag), (dh, ah) = determinize(g), determinize(h)
    live_g, live_h = _live(dg, ag), _live(dh, ah)
    todo = [(0, 0)]
    seen = set(todo)
    while todo:
        a, b = todo.pop()
        if (a in ag) != (b in ah):
            return False
        nxt_g = {w: t for w, t in dg[a].items() if t in live_g}
        nxt_h = {w: t for w, t in dh[b].items() if t in live_h}
        if nxt_g.keys() != nxt_h.keys():
            return False
        for w, t in nxt_g.items():
            if (t, nxt_h[w]) not in seen:
                seen.add((t, nxt_h[w]))
                todo.append((t, nxt_h[w]))
    return True


def _live(delta: list[dict[str, int]], accepting: set[int]) -> set[int]:
    live = set(accepting)
    while True:
        more = {s for s, row in enumerate(delta) if s not in live and live & set(row.values())}
        if not more:
            return live
        live |= more


def word_arcs(g: WordGraph) -> int:
    return sum(1 for _, _, w, _ in g.arcs if w)


def test_sharing_lists_keeps_exactly_the_sentences() -> None:
    compiled = build_word_graph(Intents.from_dict(TEMPLATES))
    plain = optimize(compiled, samples=2000)  # the same grammar with no list shared
    assert same_language(plain, compiled)
    for min_saving in (0, SHARE_MIN):
        shared = factor(plain, min_saving)
        assert same_language(shared, plain)
        assert shared.sentences(max_words=6) == plain.sentences(max_words=6)
    everything = factor(plain, 0)
    assert word_arcs(everything) < 0.6 * word_arcs(plain)  # 98 of 180
    assert not same_language(everything, optimize(build_word_graph(Intents.from_dict(
        {**TEMPLATES, "lists": {**TEMPLATES["lists"], "name": {"values": NAMES[:-1]}}}))))


def test_shared_lists_are_one_free_move_away_and_keep_each_states_weight() -> None:
    plain = optimize(build_word_graph(Intents.from_dict(TEMPLATES)), samples=2000)
    shared = factor(plain, 0)
    free = [(a, b) for a, b, w, _ in shared.arcs if w is None]
    targets = {b for _, b in free} - {shared.final}
    # pocketsphinx follows one free move: none leaves a state that a free move enters.
    assert not {a for a, _ in free} & targets
    assert all(w is not None for a, _, w, _ in shared.arcs if a in targets)
    # Every state but the final one hands on all of its probability, before and after.
    for g in (plain, shared):
        out: dict[int, float] = {}
        for a, _, _, p in g.arcs:
            out[a] = out.get(a, 0.0) + p
        assert set(out) == set(range(g.n_states)) - {g.final}
        assert all(abs(total - 1.0) < 1e-9 for total in out.values())


def test_the_recognizer_hears_follow_ups_after_a_command() -> None:
    from assistant.grammar import with_follow_ups
    from assistant.wordgraph import accepts

    g = build_word_graph(with_follow_ups(Intents.from_dict(TEMPLATES)))
    for said in ("and the hallway too", "the kitchen as well", "and the desk lamp",
                 "a bit more", "do that again", "turn them off", "switch it back on",
                 "turn on the kitchen light and the hallway too"):
        assert accepts(g, said), said
    assert not accepts(g, "the hallway")  # a name alone is no follow-up
    assert not accepts(build_word_graph(Intents.from_dict(TEMPLATES)), "and the hallway too")

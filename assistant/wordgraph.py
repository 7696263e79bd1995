"""Takes a word graph with free moves; returns a small equivalent weighted graph for the search.

pocketsphinx's finite-state search follows a free (null) move only one step: it expects
their closure, which grammars made through its Python API never get. Here free moves are
removed by determinising the graph (which also merges the many templates that share their
first words), the result is minimised (which merges shared endings), and every accepting
state gets one free move into a single final state, the only kind of end the search
supports. Each word then gets a probability given its state, estimated from random
sentences of the original graph, so that common phrasings beat contrived ones the
templates happen to allow. Finally the word lists that many states share (the home's
names, areas, numbers) are moved behind one free move each (`factor`): the search pays
memory for every (state, word) pair, so this is where most of its memory goes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_DFA_STATES = 500_000  # a safety stop: real grammars need a few thousand
MAX_SAMPLE_WORDS = 40  # random sentences longer than this are cut (loops through "and")
SMOOTHING = 0.5  # added to every word's count, so that unsampled words stay possible
# When sharing a word list pays (see `factor`): the search's cost of a word is one model of
# its last sound per sound that may follow it (~160 bytes each), counted here as the words
# that may follow, up to FOLLOW_CAP; an extra state costs about SHARE_MIN of those in memory
# and, as pocketsphinx visits every state every frame, in time. Chosen on the shipped home:
# the recognizer's memory 70 -> 52 MB at the same speed (sharing every list: 48 MB, but
# ~10 % slower).
FOLLOW_CAP = 20
SHARE_MIN = 100

Arc = tuple[int, int, "str | None", float]  # from, to, word (None: a free move), probability


@dataclass
class WordGraph:
    """States 0..n_states-1; arcs with their probability given the state; one start, one end."""

    n_states: int
    start: int
    final: int
    arcs: list[Arc]
    words: set[str] = field(default_factory=set)

    def sentences(self, max_words: int = 12, limit: int = 200_000) -> set[str]:
        """Every word sequence of up to max_words the graph accepts (for tests, small graphs)."""
        nxt: dict[int, list[tuple[int, str | None]]] = {}
        for a, b, w, _ in self.arcs:
            nxt.setdefault(a, []).append((b, w))
        out: set[str] = set()
        stack: list[tuple[int, tuple[str, ...], int]] = [(self.start, (), 0)]
        while stack and len(out) < limit:
            s, words, free = stack.pop()
            if s == self.final:
                out.add(" ".join(words))
            for b, w in nxt.get(s, []):
                if w is None:
                    if free < self.n_states:  # guards against loops of free moves
                        stack.append((b, words, free + 1))
                elif len(words) < max_words:
                    stack.append((b, (*words, w), 0))
        return out


def _moves(g: WordGraph) -> tuple[dict[int, list[int]], dict[int, list[tuple[str, int]]]]:
    """Per state: where its free moves lead, and its (word, next state) moves."""
    free: dict[int, list[int]] = {}
    words: dict[int, list[tuple[str, int]]] = {}
    for a, b, w, _ in g.arcs:
        if w is None:
            free.setdefault(a, []).append(b)
        else:
            words.setdefault(a, []).append((w, b))
    return free, words


def accepts(g: WordGraph, sentence: str) -> bool:
    """Whether the graph can produce exactly these words."""
    free, words = _moves(g)
    states: frozenset[int] = _closure([g.start], free)
    for word in sentence.split():
        states = _closure([b for s in states for w, b in words.get(s, []) if w == word], free)
    return g.final in states


def sample(g: WordGraph, n: int, seed: int = 0) -> list[tuple[str, ...]]:
    """Random sentences: a walk from the start taking each move with its probability."""
    nxt: dict[int, tuple[list[tuple[int, str | None]], list[float]]] = {}
    for a, b, w, p in g.arcs:
        moves, weights = nxt.setdefault(a, ([], []))
        moves.append((b, w))
        weights.append(p)
    rng = random.Random(seed)
    out: list[tuple[str, ...]] = []
    while len(out) < n:
        s, steps = g.start, 0
        words: list[str] = []
        while s != g.final and s in nxt and len(words) <= MAX_SAMPLE_WORDS and steps < 10_000:
            moves, weights = nxt[s]
            s, w = rng.choices(moves, weights)[0]
            steps += 1
            if w:
                words.append(w)
        if s == g.final and len(words) <= MAX_SAMPLE_WORDS:
            out.append(tuple(words))
    return out


def _closure(states: Iterable[int], free: dict[int, list[int]]) -> frozenset[int]:
    seen = set(states)
    todo = list(seen)
    while todo:
        for b in free.get(todo.pop(), []):
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return frozenset(seen)


def determinize(g: WordGraph) -> tuple[list[dict[str, int]], set[int]]:
    """Subset construction: per state its word -> next state, and the accepting states."""
    free, words = _moves(g)
    first = _closure([g.start], free)
    index = {first: 0}
    sets = [first]
    delta: list[dict[str, int]] = []
    accepting: set[int] = set()
    i = 0
    while i < len(sets):
        if len(sets) > MAX_DFA_STATES:
            raise ValueError("the grammar is too large to compile (more than "
                             f"{MAX_DFA_STATES} states)")
        cur = sets[i]
        if g.final in cur:
            accepting.add(i)
        moves: dict[str, set[int]] = {}
        for s in cur:
            for w, b in words.get(s, []):
                moves.setdefault(w, set()).add(b)
        row: dict[str, int] = {}
        for w, targets in sorted(moves.items()):
            nxt = _closure(targets, free)
            if nxt not in index:
                index[nxt] = len(sets)
                sets.append(nxt)
            row[w] = index[nxt]
        delta.append(row)
        i += 1
    return delta, accepting


def minimize(delta: list[dict[str, int]], accepting: set[int]) -> tuple[list[dict[str, int]],
                                                                          set[int]]:
    """Moore's partition refinement: states with the same futures become one."""
    n = len(delta)
    block = [1 if s in accepting else 0 for s in range(n)]
    count = len(set(block))
    while True:
        sigs: dict[tuple[object, ...], int] = {}
        new = [0] * n
        for s in range(n):
            sig = (block[s], tuple(sorted((w, block[t]) for w, t in delta[s].items())))
            new[s] = sigs.setdefault(sig, len(sigs))
        block = new
        if len(sigs) == count:
            break
        count = len(sigs)
    # Renumber so that the start (old state 0) stays state 0.
    order = {block[0]: 0}
    for s in range(n):
        order.setdefault(block[s], len(order))
    out: list[dict[str, int]] = [{} for _ in range(count)]
    for s in range(n):
        out[order[block[s]]] = {w: order[block[t]] for w, t in delta[s].items()}
    return out, {order[block[s]] for s in accepting}


def _trim(delta: list[dict[str, int]], accepting: set[int]) -> list[dict[str, int]]:
    """Drops moves into states from which no accepting state can be reached."""
    back: dict[int, set[int]] = {}
    for a, row in enumerate(delta):
        for b in row.values():
            back.setdefault(b, set()).add(a)
    live = set(accepting)
    todo = list(live)
    while todo:
        for a in back.get(todo.pop(), ()):
            if a not in live:
                live.add(a)
                todo.append(a)
    return [{w: b for w, b in row.items() if b in live} for row in delta]


def _probabilities(delta: list[dict[str, int]], accepting: set[int],
                   sentences: list[tuple[str, ...]]) -> tuple[list[dict[str, float]],
                                                            list[float]]:
    """P(word | state) and P(stop | state) from how often the sentences take each move."""
    counts: list[dict[str, float]] = [dict.fromkeys(row, SMOOTHING) for row in delta]
    stops = [SMOOTHING if s in accepting else 0.0 for s in range(len(delta))]
    for words in sentences:
        s = 0
        path: list[tuple[int, str]] = []
        for w in words:
            if w not in delta[s]:
                break
            path.append((s, w))
            s = delta[s][w]
        else:
            if s in accepting:
                for a, w in path:
                    counts[a][w] += 1
                stops[s] += 1
    probs: list[dict[str, float]] = []
    stop_p: list[float] = []
    for row, stop in zip(counts, stops, strict=True):
        total = sum(row.values()) + stop
        probs.append({w: c / total for w, c in row.items()})
        stop_p.append(stop / total if total else 1.0)
    return probs, stop_p


def optimize(g: WordGraph, samples: int = 0) -> WordGraph:
    """An equivalent graph whose only free moves lead into its single final state, with
    minimal states and word probabilities estimated from `samples` random sentences of `g`
    (uniform if 0)."""
    delta, accepting = determinize(g)
    delta, accepting = minimize(_trim(delta, accepting), accepting)
    probs, stop = _probabilities(delta, accepting, sample(g, samples) if samples else [])
    final = len(delta)
    arcs: list[Arc] = []
    for a, row in enumerate(delta):
        for w, b in row.items():
            # A state that leads nowhere is the final state itself.
            arcs.append((a, b if delta[b] or b == 0 else final, w, probs[a][w]))
        if a in accepting and (row or a == 0):  # may end here or go on
            arcs.append((a, final, None, stop[a]))
    used = {0, final} | {s for a, b, _, _ in arcs for s in (a, b)}
    num = {s: i for i, s in enumerate(sorted(used))}
    arcs = [(num[a], num[b], w, p) for a, b, w, p in arcs]
    return WordGraph(len(num), 0, num[final], arcs, {w for _, _, w, _ in arcs if w})


def factor(g: WordGraph, min_saving: int = SHARE_MIN) -> WordGraph:
    """Shares word arcs that many states have in common behind one free move each.

    After minimisation the home's names still appear once for every state that can be
    followed by a name, and the search pays memory for every (state, word) pair. Arcs with
    the same word and target whose source states are the same set are moved to one new
    state, entered from each of those sources by a free move: the same sentences with a
    fraction of the word arcs. Each source keeps its total probability on its free move;
    the shared words get the mean of their sources' probabilities. Free moves stay one step
    long: they lead from states of `g` into new states, which have words only. A list is
    shared only where that saves `min_saving` word ends (see SHARE_MIN; 0: every list).
    """
    sources: dict[tuple[str | None, int], set[int]] = {}
    prob: dict[tuple[int, int, str | None], float] = {}
    follow: dict[int, int] = {}
    for a, b, w, p in g.arcs:
        sources.setdefault((w, b), set()).add(a)
        prob[(a, b, w)] = prob.get((a, b, w), 0.0) + p
        if w:
            follow[a] = follow.get(a, 0) + 1
    groups: dict[frozenset[int], list[tuple[str | None, int]]] = {}
    for key, srcs in sources.items():
        if key[0] is not None and len(srcs) > 1:
            groups.setdefault(frozenset(srcs), []).append(key)
    moved: set[tuple[int, int, str | None]] = set()
    arcs: list[Arc] = []
    n = g.n_states
    for group, keys in sorted(groups.items(), key=lambda kv: sorted(kv[0])):
        srcs = set(group)
        ends = sum(min(1 + follow.get(b, 0), FOLLOW_CAP) for _, b in keys)
        if (len(srcs) - 1) * ends < min_saving:
            continue  # too few word ends saved to pay for another state
        shared = n
        n += 1
        mass = {a: sum(prob[(a, b, w)] for w, b in keys) for a in srcs}
        for a in sorted(srcs):
            arcs.append((a, shared, None, mass[a]))
        for w, b in keys:
            p = sum(prob[(a, b, w)] / mass[a] for a in srcs) / len(srcs)
            arcs.append((shared, b, w, p))
            moved |= {(a, b, w) for a in srcs}
    arcs += [(a, b, w, p) for (a, b, w), p in prob.items() if (a, b, w) not in moved]
    return _bypass(WordGraph(n, g.start, g.final, arcs, set(g.words)))


def _bypass(g: WordGraph) -> WordGraph:
    """Drops states left with nothing but one free move: words into them go on directly."""
    words: set[int] = set()
    free: dict[int, list[tuple[int, float]]] = {}
    for a, b, w, p in g.arcs:
        if w:
            words.add(a)
        else:
            free.setdefault(a, []).append((b, p))
    via = {s: moves[0] for s, moves in free.items()
           if len(moves) == 1 and s not in words and s not in (g.start, g.final)}
    arcs: list[Arc] = []
    for a, b, w, p in g.arcs:
        if a in via:
            continue
        seen = set()
        while b in via and b not in seen:  # a loop of such states leads nowhere either way
            seen.add(b)
            b, q = via[b]
            p *= q
        arcs.append((a, b, w, p))
    used = {g.start, g.final} | {s for a, b, _, _ in arcs for s in (a, b)}
    num = {s: i for i, s in enumerate(sorted(used))}
    arcs = [(num[a], num[b], w, p) for a, b, w, p in arcs]
    return WordGraph(len(num), num[g.start], num[g.final], arcs, set(g.words))

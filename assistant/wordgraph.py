"""Takes a word graph with free moves; returns the smallest equivalent graph without them.

pocketsphinx's finite-state search follows free (null) moves only when it computed their
closure itself, which grammars made through its Python API never get, so results that
end after a free move come back empty. Here free moves are removed by determinising the
graph (which also merges the many templates that share their first words), the result is
minimised (which merges shared endings), and every accepting state is folded into one
final state, the only kind of end the search supports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_DFA_STATES = 500_000  # a safety stop: real grammars need a few thousand


@dataclass
class WordGraph:
    """States 0..n_states-1; arcs (from, to, word or None for a free move); one start, one end."""

    n_states: int
    start: int
    final: int
    arcs: list[tuple[int, int, str | None]]
    words: set[str] = field(default_factory=set)

    def sentences(self, max_words: int = 12, limit: int = 200_000) -> set[str]:
        """Every word sequence of up to max_words the graph accepts (for tests, small graphs)."""
        nxt: dict[int, list[tuple[int, str | None]]] = {}
        for a, b, w in self.arcs:
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
    free: dict[int, list[int]] = {}
    words: dict[int, list[tuple[str, int]]] = {}
    for a, b, w in g.arcs:
        if w is None:
            free.setdefault(a, []).append(b)
        else:
            words.setdefault(a, []).append((w, b))
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


def optimize(g: WordGraph) -> WordGraph:
    """An equivalent graph with no free moves, minimal states and a single final state."""
    delta, accepting = determinize(g)
    delta, accepting = minimize(_trim(delta, accepting), accepting)
    final = len(delta)
    arcs: list[tuple[int, int, str | None]] = []
    for a, row in enumerate(delta):
        for w, b in row.items():
            if delta[b] or b == 0:  # the state still leads on: keep it
                arcs.append((a, b, w))
            if b in accepting:
                arcs.append((a, final, w))
    used = {0, final} | {s for a, b, _ in arcs for s in (a, b)}
    num = {s: i for i, s in enumerate(sorted(used))}
    arcs = [(num[a], num[b], w) for a, b, w in arcs]
    return WordGraph(len(num), 0, num[final], arcs, {w for _, _, w in arcs if w})

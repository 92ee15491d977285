"""How many distinct candidates a space has: the number of distinct sets of drawn values.

Layers exist only for the repeat counts drawn, and a shared value is drawn only when some
layer of the candidate uses it, so the count is a sum over repeat counts and layer options
of products, with the shared values multiplied in once per used set of shared fields.
"""

from __future__ import annotations

import math
from collections import Counter

from nas.space.fields import LAYER_FIELDS
from nas.space.layers import LayerOption, Templates


def shared_used_by(option: LayerOption, shared: frozenset[str]) -> frozenset[str]:
    """The shared fields a layer made from ``option`` takes (those it does not set itself)."""
    own = {name for name, _ in option.fields}
    return frozenset(name for name in LAYER_FIELDS[option.type] if name in shared - own)


def count_candidates(space: Templates) -> int | None:
    """The number of distinct value sets :meth:`Space.sample` can draw; ``None`` when a
    continuous parameter can be drawn. Two value sets may still build equal architectures
    (e.g. two optional templates of the same layer), so this bounds the distinct
    architectures from above."""
    if space.continuous_params():
        return None
    shared = dict(space.shared)
    names = frozenset(shared)
    # Candidates counted so far, keyed by the set of shared fields their layers use.
    counts: Counter[frozenset[str]] = Counter({frozenset(): 1})
    for template in space.layers:
        if template.repeats() == (0,):
            continue
        one_layer: Counter[frozenset[str]] = Counter()
        for option in template.options:
            one_layer[shared_used_by(option, names)] += math.prod(
                p.count() for _, p in option.fields
            )
        repeats = template.repeats()
        merged: Counter[frozenset[str]] = Counter()
        for r in range(repeats[-1] + 1):
            if r in repeats:
                merged.update(counts)
            if r < repeats[-1]:
                counts = _extend(counts, one_layer)
        counts = merged
    total = sum(n * math.prod(shared[k].count() for k in used) for used, n in counts.items())
    return total * space.skip.count() * math.prod(p.count() for _, p in space.optimizer)


def _extend(
    counts: Counter[frozenset[str]], layer: Counter[frozenset[str]]
) -> Counter[frozenset[str]]:
    out: Counter[frozenset[str]] = Counter()
    for used, n in counts.items():
        for more, m in layer.items():
            out[used | more] += n * m
    return out

"""`theory.suggest_lr` picks the log-middle of the first longest stretch of good rates."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.engine.theory import suggest_lr


def longest_stretch(flags: list[bool]) -> tuple[int, int] | None:
    """The first longest run of True as (first, last) indices, by a plain scan."""
    best, start = None, None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if best is None or i - 1 - start > best[1] - best[0]:
                best = (start, i - 1)
            start = None
    return best


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_the_suggestion_is_the_middle_of_the_first_longest_good_stretch(cells):
    # each rate either ends at the floor (good) or where it started (not good); some are
    # unusable (diverged or oscillating) whatever their loss
    lrs = np.geomspace(1e-3, 1.0, len(cells))[::-1]  # given in descending order on purpose
    final = np.array([0.0 if low else 10.0 for low, _ in cells])
    usable = [ok for _, ok in cells]
    good = [low and ok for low, ok in cells]
    got = suggest_lr(lrs, final, usable, initial_loss=10.0, floor=0.0)
    ascending = np.argsort(lrs)
    stretch = longest_stretch([good[k] for k in ascending])
    if stretch is None:
        assert got is None or not any(good)
        return
    lo, hi = lrs[ascending[stretch[0]]], lrs[ascending[stretch[1]]]
    assert got == math.sqrt(lo * hi)


def test_a_known_sweep():
    lrs = [0.001, 0.01, 0.1, 1.0, 10.0]
    final = [5.0, 1e-8, 1e-8, 1e-8, 50.0]
    assert suggest_lr(lrs, final, [True] * 4 + [False], 10.0) == math.sqrt(0.01 * 1.0)

"""Decimation: keep a figure to what a screen can show without hiding what happened.

A zig-zagging run alternates sides every step. Keeping every k-th point with an even k would
sample one side only and draw a smooth path that never happened, so strides are always odd:
consecutive kept points are an odd number of steps apart and the alternation stays visible.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def odd_stride(n: int, max_points: int) -> int:
    """The smallest odd stride that keeps at most ``max_points`` of ``n`` points (plus extras)."""
    stride = max(1, -(-n // max(1, max_points)))
    return stride if stride % 2 == 1 else stride + 1


def keep_indices(n: int, max_points: int, must: Iterable[int | None] = ()) -> np.ndarray:
    """Sorted indices into ``n`` points: every ``odd_stride``-th one, the last one and ``must``.

    ``must`` holds indices that carry meaning (a divergence step, say); ``None`` entries and
    out-of-range ones are ignored.
    """
    if n <= 0:
        return np.zeros(0, dtype=int)
    idx = set(range(0, n, odd_stride(n, max_points)))
    idx.add(n - 1)
    idx.update(int(k) for k in must if k is not None and 0 <= int(k) < n)
    return np.array(sorted(idx), dtype=int)


def frame_steps(n_steps: int, max_frames: int, dense: int = 40) -> np.ndarray:
    """Step numbers for at most ``max_frames`` animation frames, from 0 to ``n_steps``.

    Every one of the first ``dense`` steps gets a frame (that is where overshoot and blow-ups
    happen, step by step); the rest of the run is spread evenly over the remaining frames.
    """
    max_frames = max(2, max_frames)
    if n_steps + 1 <= max_frames:
        return np.arange(n_steps + 1)
    head = np.arange(min(dense, max_frames // 2, n_steps) + 1)
    tail = np.linspace(head[-1], n_steps, max_frames - len(head) + 1)[1:]
    return np.unique(np.concatenate([head, np.round(tail).astype(int)]))

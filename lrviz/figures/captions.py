"""Text alternatives for the charts: what happened, in words and numbers.

Each chart in the app gets a caption built here from the same runs the chart shows, so a
learner who cannot see the colours (or the chart at all) reads the same story.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lrviz.engine.simulate import Run
from lrviz.figures.curves import stability_limit
from lrviz.figures.labels import fmt_number


def _point(p) -> str:
    return f"({float(p[0]):.2f}, {float(p[1]):.2f})"


def map_caption(runs: Sequence[Run], labels: Sequence[str]) -> str:
    """Start, end and regime of every run on the map."""
    parts = []
    for run, label in zip(runs, labels, strict=True):
        end = (f"blew up at step {run.diverged_at}" if run.diverged_at is not None else
               f"ended at {_point(run.points[-1])} after {len(run.lrs)} steps")
        parts.append(f"{label}: started at {_point(run.points[0])}, {end} — "
                     f"{run.regime.label}.")
    return " ".join(parts)


def first_crossing(run: Run) -> int | None:
    """The first update whose lr x lambda_max exceeded the optimizer's limit (if any)."""
    limit, ratio = stability_limit(run), run.stability_ratio
    if limit is None or ratio is None:
        return None
    over = np.flatnonzero(ratio > limit)
    return int(over[0]) if over.size else None


def curves_caption(runs: Sequence[Run], labels: Sequence[str]) -> str:
    """Loss change, learning-rate range and the stability meter's verdict for every run."""
    parts = []
    for run, label in zip(runs, labels, strict=True):
        text = (f"{label}: loss {fmt_number(run.losses[0])} → {fmt_number(run.losses[-1])}; "
                f"lr {fmt_number(run.lrs.min())}–{fmt_number(run.lrs.max())}")
        limit, ratio = stability_limit(run), run.stability_ratio
        if ratio is not None and len(ratio):
            text += f"; lr × λ_max peaked at {fmt_number(ratio.max())}"
            if limit is not None:
                k = first_crossing(run)
                text += (f", above the limit {fmt_number(limit)} first at update {k}"
                         if k is not None else f", always below the limit {fmt_number(limit)}")
            else:
                text += " (adaptive optimizer: no fixed limit)"
        parts.append(text + ".")
    return " ".join(parts)

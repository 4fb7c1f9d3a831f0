"""Short human-readable names for runs, used in legends, captions and pinned-run lists."""

from __future__ import annotations

from collections.abc import Sequence

from lrviz.engine.config import RunConfig
from lrviz.engine.numbers import fmt_number  # the one number formatter, re-exported here
from lrviz.engine.schedules import get_schedule
from lrviz.engine.simulate import Run


def describe(cfg: RunConfig) -> str:
    """E.g. ``"momentum μ=0.9 · lr 0.01 · cosine"``: what distinguishes a run at a glance."""
    parts = [cfg.optimizer]
    values = cfg.optimizer_values()
    if "momentum" in values:
        parts[0] += f" μ={fmt_number(values['momentum'])}"
    parts.append(f"lr {fmt_number(cfg.lr)}")
    if cfg.schedule != "constant":
        parts.append(get_schedule(cfg.schedule).title.lower())
    if cfg.noise > 0:
        parts.append(f"noise {fmt_number(cfg.noise)}")
    return " · ".join(parts)


# Plotly reads trace names, hover text and annotations as a small HTML dialect (<a href>, <b>,
# <br>, <span style>), as templates (%{...}) and, between $...$, as LaTeX. Entities are decoded
# once, so writing these characters as entities shows them exactly as typed.
_PLOTLY_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "{": "&#123;",
                                  "}": "&#125;", "$": "&#36;"})


def plotly_text(text: str) -> str:
    """``text`` as Plotly displays it literally (no tags, no template fields, no LaTeX)."""
    return str(text).translate(_PLOTLY_ENTITIES)


def run_labels(runs: Sequence[Run], labels: Sequence[str] | None) -> list[str]:
    """The given labels, or ``describe`` of each run, ready for Plotly (`plotly_text`); the
    lengths must match."""
    if labels is None:
        return [plotly_text(describe(r.config)) for r in runs]
    if len(labels) != len(runs):
        raise ValueError(f"got {len(labels)} labels for {len(runs)} runs")
    return [plotly_text(label) for label in labels]

"""Short human-readable names for runs, used in legends, captions and pinned-run lists."""

from __future__ import annotations

import re
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


def _tokens(text: str) -> list[str]:
    """Lower-case words and numbers of ``text``, numbers in `fmt_number` form (1.0 -> 1)."""
    words = re.findall(r"[a-z]+|\d*\.?\d+(?:e[-+]?\d+)?", text.lower())
    return [fmt_number(float(w)) if w[0].isdigit() or w[0] == "." else w for w in words]


def _says(label: list[str], fact: list[str]) -> bool:
    """Whether the token run ``fact`` occurs in ``label`` (contiguously, in order)."""
    n = len(fact)
    return any(label[i:i + n] == fact for i in range(len(label) - n + 1))


def describe_beyond(label: str, cfg: RunConfig) -> str:
    """The facts of `describe` (optimizer, lr, schedule, noise) that ``label`` does not state.

    A pinned run is listed as its label plus this, so every fact is said once: a label
    "SGD, lr 0.09" or "sgd lr=0.09" adds nothing to ``sgd · lr 0.09``, while "constant lr 0.03"
    still gets "sgd". Facts are compared as word/number sequences, so "lr 0.1" is not found
    in "lr 0.15" and 1.0 equals 1; a schedule's name counts as stated by its first word.
    """
    said = _tokens(label)

    def stated(fact: str) -> bool:
        words = _tokens(fact)
        if not words:
            return False
        # A name without numbers ("cosine annealing") is stated by its first word ("cosine").
        named = not any(w[0].isdigit() for w in words) and words[0] in said
        return named or _says(said, words)

    return " · ".join(f for f in describe(cfg).split(" · ") if not stated(f))

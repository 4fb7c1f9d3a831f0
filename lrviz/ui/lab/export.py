"""Downloads: runs as CSV and JSON, figures as standalone interactive HTML (no streamlit).

The HTML embeds plotly.js itself (``include_plotlyjs=True``, ~4.5 MB) so the file works
offline in a classroom; the page builds it only when the button is clicked.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Sequence
from html import escape

import plotly.graph_objects as go

from lrviz.engine.simulate import Run
from lrviz.learning.export import csv_text


def runs_csv(runs: Sequence[Run], labels: Sequence[str]) -> str:
    """One row per (run, step): label, step, x, y, loss, and the lr of the update from there.

    The label may come from a link: `csv_text` keeps a spreadsheet from reading it as a
    formula. The numbers are written by us (``repr`` of floats), so a leading ``-`` is a sign.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["run", "step", "x", "y", "loss", "lr", "lr_times_lambda_max"])
    for run, label in zip(runs, labels, strict=True):
        ratio = run.stability_ratio
        for t, ((x, y), loss) in enumerate(zip(run.points, run.losses, strict=True)):
            lr = run.lrs[t] if t < len(run.lrs) else ""
            r = ratio[t] if ratio is not None and t < len(ratio) else ""
            writer.writerow([csv_text(label), t, repr(float(x)), repr(float(y)),
                             repr(float(loss)),
                             lr if lr == "" else repr(float(lr)),
                             r if r == "" else repr(float(r))])
    return out.getvalue()


def run_record(run: Run, label: str) -> dict:
    """Everything needed to reproduce and inspect one run, JSON-ready."""
    return {
        "label": label,
        "config": json.loads(run.config.model_dump_json()),
        "regime": run.regime.value,
        "diverged_at": run.diverged_at,
        "explanation": run.explanation,
        "facts": {k: v for k, v in run.facts.items() if isinstance(v, str | int | float)
                  or v is None},
        "points": run.points.tolist(),
        "losses": run.losses.tolist(),
        "lrs": run.lrs.tolist(),
        "lambda_max": None if run.lambda_max is None else run.lambda_max.tolist(),
    }


def runs_json(runs: Sequence[Run], labels: Sequence[str], *, link: str | None = None) -> str:
    """The runs (config, regime, explanation and every step) plus the link that reproduces
    the view."""
    doc = {"lrviz": "lab export", "link": link,
           "runs": [run_record(r, label) for r, label in zip(runs, labels, strict=True)]}
    return json.dumps(doc, indent=1, allow_nan=False)


def figure_html(fig: go.Figure, *, title: str = "lrviz") -> str:
    """A standalone interactive HTML page with plotly.js inlined (works without a network)."""
    # A validated copy (the app's figures skip validation) of a deep copy: the lab's
    # figures hand out the spec their sessions share (`lrviz.ui.lab.runs.SharedSpecFigure`).
    full = go.Figure(copy.deepcopy(fig.to_dict()))
    full.update_layout(template="plotly_white")
    html = full.to_html(include_plotlyjs=True, full_html=True, config={"responsive": True},
                        div_id="lrviz-figure", auto_play=False)
    return html.replace("<head>", f"<head><title>{escape(title)}</title>", 1)

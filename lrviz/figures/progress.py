"""Progress charts: flashcard reviews per day (stacked by rating) and quiz scores per attempt."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import plotly.graph_objects as go

from lrviz.figures.style import base_layout

RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
RATING_COLORS = {1: "#D55E00", 2: "#E69F00", 3: "#009E73", 4: "#0072B2"}  # Okabe–Ito


def review_counts(reviews: Sequence[tuple[datetime, int]], today: date,
                  days: int) -> tuple[list[date], dict[int, list[int]]]:
    """Reviews per UTC day for the ``days`` days ending ``today``, one count list per rating."""
    first = today - timedelta(days=days - 1)
    axis = [first + timedelta(days=k) for k in range(days)]
    counts = Counter((when.astimezone(UTC).date(), int(rating)) for when, rating in reviews)
    return axis, {r: [counts[(d, r)] for d in axis] for r in RATING_NAMES}


def reviews_figure(reviews: Sequence[tuple[datetime, int]], now: datetime, days: int = 30,
                   height: int = 320) -> go.Figure:
    """Bars: flashcard reviews per day over the last ``days`` days, stacked Again…Easy."""
    axis, per_rating = review_counts(reviews, now.astimezone(UTC).date(), days)
    fig = go.Figure()
    for rating, counts in per_rating.items():
        fig.add_trace(go.Bar(
            x=[d.isoformat() for d in axis], y=counts, name=RATING_NAMES[rating],
            marker_color=RATING_COLORS[rating],
            hovertemplate=f"%{{x}}: %{{y}} × {RATING_NAMES[rating]}<extra></extra>"))
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_xaxes(title=f"day (UTC), last {days} days", type="date")
    busiest = max((sum(day) for day in zip(*per_rating.values(), strict=True)), default=0)
    # Whole reviews only: a tick every ceil(max/5) reviews, never at fractions.
    fig.update_yaxes(title="reviews", rangemode="tozero", dtick=max(1, math.ceil(busiest / 5)))
    return base_layout(fig, height=height)


def scores_figure(attempts: Sequence[tuple[datetime, float, str]], threshold: float,
                  height: int = 300) -> go.Figure:
    """Markers: the score of every finished quiz attempt over time, one trace per quiz."""
    fig = go.Figure()
    for name in dict.fromkeys(label for _, _, label in attempts):
        mine = [(when, score) for when, score, label in attempts if label == name]
        fig.add_trace(go.Scatter(
            x=[w.isoformat() for w, _ in mine], y=[100 * s for _, s in mine],
            mode="lines+markers", name=name,
            hovertemplate=f"{name}<br>%{{x}}: %{{y:.0f}} %<extra></extra>"))
    fig.add_hline(y=100 * threshold, line_dash="dash", line_color="#555",
                  annotation_text=f"mastery {threshold:.0%}", annotation_position="top left")
    fig.update_yaxes(title="score (%)", range=[0, 105])
    fig.update_xaxes(title="finished at (UTC)", type="date")
    return base_layout(fig, height=height)

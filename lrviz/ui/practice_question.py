"""The widgets of one quiz question: the answer form, reading it back, and the feedback.

Widget keys live under a ``prefix`` that changes with every retry, so a retry gets a fresh,
reshuffled form (tune challenges keep theirs: adjusting and re-running is the point).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lrviz.engine.diagnose import Regime
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.schedules import SCHEDULES
from lrviz.learning import grading
from lrviz.learning.grading import Grade
from lrviz.learning.schema import Tune
from lrviz.ui.practice_common import show_run


def answer_form(q: Any, prefix: str, seed: int) -> list[int]:
    """The answer widgets; returns the option order shown (for multiple choice)."""
    if q.type == "single":
        order = grading.option_order(len(q.options), seed)
        st.radio("Your answer", order, index=None, key=f"{prefix}-choice",
                 format_func=lambda i: q.options[i].text)
        return order
    if q.type == "multiple":
        order = grading.option_order(len(q.options), seed)
        st.caption("Tick every option that is right.")
        for i in order:
            st.checkbox(q.options[i].text, key=f"{prefix}-opt{i}")
        return order
    if q.type == "numeric":
        st.text_input(f"Your answer{f' ({q.unit})' if q.unit else ''}", key=f"{prefix}-value",
                      placeholder="e.g. 0.1, 1e-3 or 2/20", max_chars=40)
    elif q.type == "ordering":
        items = [q.items[i] for i in grading.option_order(len(q.items), seed)]
        for k in range(len(q.items)):
            st.selectbox(f"Position {k + 1}", items, index=None, key=f"{prefix}-pos{k}",
                         placeholder="choose an item")
    elif q.type == "matching":
        rights = [q.pairs[i].right for i in grading.option_order(len(q.pairs), seed)]
        for j, pair in enumerate(q.pairs):
            st.selectbox(pair.left, rights, index=None, key=f"{prefix}-match{j}",
                         placeholder="choose a match")
    elif q.type == "predict":
        choices = [q.choices[i].value for i in grading.option_order(len(q.choices), seed)]
        st.radio("Your prediction: this run will end…", choices, index=None,
                 key=f"{prefix}-choice", format_func=lambda v: Regime(v).label)
    else:
        tune_widgets(q, prefix)
    return []


def tune_widgets(q: Tune, prefix: str) -> None:
    """The goal in words and one input per adjustable setting, starting from the base run."""
    base = q.base
    forbidden = ", ".join(r.label for r in q.goal.forbid)
    goal = (f"Goal: within **{q.goal.max_final_loss:g}** of the minimum after **{base.steps}** "
            f"steps on **{base.surface}**" + (f"; the run must not end {forbidden}." if forbidden
                                               else "."))
    st.markdown(goal)
    opt_names, sched_names = list(OPTIMIZERS), list(SCHEDULES)
    if "lr" in q.adjustable:
        st.text_input("Learning rate", value=f"{base.lr:g}", key=f"{prefix}-lr", max_chars=20,
                      help="Any positive number, e.g. 0.05 or 3e-3.")
    if "optimizer" in q.adjustable:
        st.selectbox("Optimizer", opt_names, index=opt_names.index(base.optimizer),
                     key=f"{prefix}-optimizer")
    if "schedule" in q.adjustable:
        st.selectbox("Schedule", sched_names, index=sched_names.index(base.schedule),
                     key=f"{prefix}-schedule")
    if "momentum" in q.adjustable:
        st.slider("Momentum (momentum and nesterov only)", 0.0, 0.99,
                  float(base.optimizer_params.get("momentum", 0.9)), 0.01,
                  key=f"{prefix}-momentum")


def show_feedback(q: Any, grade: Grade | None, prefix: str) -> None:
    """The verdict, per-option lines and misconceptions; the run beside them if there is one."""
    if grade is None:
        return
    text, figure = st.columns([3, 2]) if grade.config is not None else (st.container(), None)
    with text:
        # A tune run that misses the goal is exploration, not a wrong answer: a warning, not red.
        verdict = st.success if grade.correct else st.warning if q.type == "tune" else st.error
        verdict(grade.message)
        for line in grade.details:
            st.markdown(f"- {line}")
        for statement in grade.misconceptions:
            st.warning(f"Common misconception: “{statement}”")
    if figure is not None:
        with figure:
            show_run(grade.config, f"{prefix}-run", "your run" if q.type == "tune" else "the run")


def read_answer(q: Any, prefix: str, order: list[int]) -> Any:
    """The learner's answer, read from the form's widgets (keys under ``prefix``)."""
    ss = st.session_state
    if q.type in ("single", "predict"):
        return ss.get(f"{prefix}-choice")
    if q.type == "multiple":
        return [i for i in order if ss.get(f"{prefix}-opt{i}")]
    if q.type == "numeric":
        return ss.get(f"{prefix}-value", "")
    if q.type == "ordering":
        return [ss.get(f"{prefix}-pos{k}") for k in range(len(q.items))]
    if q.type == "matching":
        return {p.left: ss.get(f"{prefix}-match{j}") for j, p in enumerate(q.pairs)}
    settings = {k: ss.get(f"{prefix}-{k}") for k in q.adjustable}
    return {k: v for k, v in settings.items() if v is not None}

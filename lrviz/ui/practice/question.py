"""The widgets of one quiz question: the answer form, reading it back, and the feedback.

Widget keys live under a ``prefix`` that changes with every retry, so a retry gets a fresh,
reshuffled form (tune challenges keep theirs: adjusting and re-running is the point).
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from lrviz.engine.diagnose import Regime
from lrviz.engine.optimizers import OPTIMIZERS, hyperparameter, optimizers_with
from lrviz.engine.schedules import SCHEDULES
from lrviz.learning import grading
from lrviz.learning.grading import Grade
from lrviz.learning.schema import Tune
from lrviz.ui.practice.common import show_run

# --- options that contain math ---------------------------------------------------------------
# Lesson files are authored content, so their $...$ formulas may render as Markdown math. A
# selectbox shows plain text only, so where options hold math the rendered list is shown above
# the widgets with letters, and each dropdown entry shows its letter and a plain-text version.

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")
_TEX_SYMBOLS = {
    **{name: chr(code) for name, code in (
        ("alpha", 945), ("beta", 946), ("gamma", 947), ("delta", 948), ("epsilon", 949),
        ("varepsilon", 949), ("eta", 951), ("theta", 952), ("kappa", 954), ("lambda", 955),
        ("mu", 956), ("nu", 957), ("xi", 958), ("pi", 960), ("rho", 961), ("sigma", 963),
        ("tau", 964), ("phi", 966), ("omega", 969), ("Delta", 916), ("Lambda", 923),
        ("Sigma", 931), ("nabla", 8711))},
    "times": "×", "cdot": "·", "approx": "≈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "neq": "≠", "ne": "≠", "to": "→", "rightarrow": "→", "infty": "∞", "pm": "±",
    "max": "max", "min": "min", "log": "log", "exp": "exp", "ln": "ln", "sqrt": "√",
}


def has_math(text: str) -> bool:
    """Whether ``text`` holds a $...$ formula."""
    return _MATH.search(text) is not None


def _script(mark: str, body: str) -> str:
    return f"{mark}{body}" if re.fullmatch(r"[\w.√-]+", body) else f"{mark}({body})"


def _tex_plain(tex: str) -> str:
    """A LaTeX formula as plain Unicode text: ``\\frac{2}{\\lambda_{\\max}}`` -> "2/λ_max"."""
    tex = re.sub(r"\\(?:text|mathrm|mathbf|operatorname|hat|bar|tilde)\s*\{([^{}]*)\}", r"\1",
                 tex)
    tex = re.sub(r"\\(?:hat|bar|tilde|vec)\s*", "", tex)  # accents: keep the letter only
    tex = re.sub(r"\\([A-Za-z]+)", lambda m: _TEX_SYMBOLS.get(m.group(1), m.group(1)), tex)
    tex = re.sub(r"\\[,;! ]", " ", tex)
    for _ in range(4):  # nested groups: innermost first
        tex = re.sub(r"([_^])\{([^{}]*)\}", lambda m: _script(m.group(1), m.group(2)), tex)
        tex = re.sub(r"[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}",
                     lambda m: f"{_script('', m.group(1))}/{_script('', m.group(2))}", tex)
        tex = re.sub(r"√\{([^{}]*)\}", lambda m: _script("√", m.group(1)), tex)
    return re.sub(r"\s+", " ", tex.replace("{", "").replace("}", "")).strip()


def plain_math(text: str) -> str:
    """``text`` with every $...$ formula in plain Unicode (for widgets that show plain text)."""
    return _MATH.sub(lambda m: _tex_plain(m.group(1)), text).replace("\\$", "$")


def lettered_options(items: list[str]) -> dict[str, str]:
    """Each option's letter in the order shown (A, B, ...), for a rendered list and dropdowns."""
    return {item: LETTERS[k % len(LETTERS)] for k, item in enumerate(items)}


def show_options(items: list[str], what: str) -> dict[str, str]:
    """The options, rendered as Markdown math, in a lettered list above the dropdowns."""
    letters = lettered_options(items)
    st.markdown(f"{what}:\n\n" + "\n".join(f"- **{letters[item]}.** {item}" for item in items))
    return letters


def _dropdown_label(letters: dict[str, str] | None):
    if letters is None:
        return str
    return lambda item: f"{letters[item]}. {plain_math(item)}"


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
        letters = show_options(items, "The items") if any(map(has_math, items)) else None
        for k in range(len(q.items)):
            st.selectbox(f"Position {k + 1}", items, index=None, key=f"{prefix}-pos{k}",
                         placeholder="choose an item", format_func=_dropdown_label(letters))
    elif q.type == "matching":
        rights = [q.pairs[i].right for i in grading.option_order(len(q.pairs), seed)]
        letters = show_options(rights, "The choices") if any(map(has_math, rights)) else None
        for j, pair in enumerate(q.pairs):
            st.selectbox(pair.left, rights, index=None, key=f"{prefix}-match{j}",
                         placeholder="choose a match", format_func=_dropdown_label(letters))
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
    for key in q.adjustable:  # optimizer hyperparameters (momentum), ranges from the registry
        param = hyperparameter(key)
        if param is None:
            continue
        label = f"{param.label} ({' and '.join(optimizers_with(key))} only)"
        st.slider(label[0].upper() + label[1:], float(param.low), float(param.high),
                  float(base.optimizer_params.get(key, param.default)), 0.01,
                  key=f"{prefix}-{key}")


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

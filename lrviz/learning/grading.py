"""Grade one answer to one quiz question, with the feedback a learner sees.

Answers come in the shape the question type suggests:

========== ==========================================================
single     the index of the chosen option (in the lesson's order)
multiple   the indices of the chosen options
numeric    a number or the text the learner typed ("0.1", "1e-1", "2/20", "0,1")
ordering   the items in the learner's order
matching   ``{left: right}`` for every pair
predict    the predicted regime (``Regime`` or its string value)
tune       ``{"lr": ..., "optimizer": ..., "schedule": ..., "momentum": ...}``
========== ==========================================================

An answer that cannot be read (an empty choice, "banana" as a number, an unknown optimizer)
gives ``Grade(valid=False)`` with a message; it is not a wrong answer and costs no credit.
Predict and tune questions are graded by running the engine (`lrviz.learning.simcheck`):

* a prediction is right when it names the run's regime or a regime the run *counts as*
  (`COUNTS_AS`: an overshooting run that reached the minimum converged, so "converged" is
  right for it);
* a tune run's headline (`tune_feedback`) phrases the one verdict of `simcheck.tune_outcome`
  from the same numbers (final loss gap, goal, regime), so the verdict and its reasons agree.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Regime
from lrviz.engine.optimizers import hyperparameter
from lrviz.engine.simulate import Run
from lrviz.engine.spec import LR_RANGE  # the learning rates a tune challenge accepts
from lrviz.learning.schema import (
    MISCONCEPTIONS,
    Matching,
    MultipleChoice,
    Numeric,
    Ordering,
    Predict,
    SingleChoice,
    Tune,
)
from lrviz.learning.simcheck import predict_run, tune_config, tune_outcome


@dataclass(frozen=True)
class Grade:
    """The verdict on one answer and everything the page shows next to it."""

    valid: bool
    correct: bool
    message: str  # the headline: right, wrong and why, or why the answer could not be read
    details: tuple[str, ...] = ()  # per-option / per-item feedback lines
    misconceptions: tuple[str, ...] = ()  # statements of misconceptions the answer reveals
    config: RunConfig | None = None  # the simulated run, for predict and tune
    run: Run | None = field(default=None, compare=False)

    def without_run(self) -> Grade:
        """A copy without the arrays (small enough to keep in session state)."""
        return Grade(self.valid, self.correct, self.message, self.details, self.misconceptions,
                     self.config, None)


def invalid(message: str) -> Grade:
    return Grade(valid=False, correct=False, message=message)


def option_order(n: int, seed: int) -> list[int]:
    """A permutation of ``range(n)``, the same for the same seed (retries use a new seed)."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return order


def credit(first_correct: bool, hints_used: int) -> float:
    """Credit for a question: 1 if right first time unaided, 0.5 if hints were needed, else 0."""
    if not first_correct:
        return 0.0
    return 1.0 if hints_used == 0 else 0.5


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(value: Any) -> float | None:
    """A finite float from what the learner typed, or None when it is not a number.

    Accepts ``0.1``, ``1e-3``, ``0,1`` (decimal comma), ``2/20`` and a trailing ``%``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip().replace(" ", "").replace("\u2212", "-")
    if not text or len(text) > 40:
        return None
    percent = text.endswith("%")
    text = text.rstrip("%")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    parts = text.split("/")
    if len(parts) > 2 or not all(_NUMBER.match(p) for p in parts):
        return None
    try:
        number = float(parts[0]) / float(parts[1]) if len(parts) == 2 else float(parts[0])
    except (ZeroDivisionError, OverflowError):
        return None
    if percent:
        number /= 100
    return number if math.isfinite(number) else None


def _misconception_text(ids: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(MISCONCEPTIONS[i] for i in ids if i in MISCONCEPTIONS))


# --- one grader per question type ----------------------------------------------------------


def grade_single(q: SingleChoice, answer: Any) -> Grade:
    if not isinstance(answer, int) or isinstance(answer, bool) or not (
            0 <= answer < len(q.options)):
        return invalid("Choose one of the options first.")
    option = q.options[answer]
    verdict = "Correct." if option.correct else "Not quite."
    return Grade(True, option.correct, f"{verdict} {option.feedback}",
                 misconceptions=_misconception_text([option.misconception]))


def grade_multiple(q: MultipleChoice, answer: Any) -> Grade:
    try:
        chosen = {int(i) for i in answer}
    except (TypeError, ValueError):
        return invalid("Tick the options you think are right.")
    if not chosen:
        return invalid("Tick at least one option.")
    if not chosen <= set(range(len(q.options))):
        return invalid("That answer names an option this question does not have.")
    right = {i for i, o in enumerate(q.options) if o.correct}
    details = []
    for i, option in enumerate(q.options):
        if i in chosen:
            mark = "✓" if option.correct else "✗"
            details.append(f"{mark} {option.text}: {option.feedback}")
    missed = len(right - chosen)
    wrong = len(chosen - right)
    if chosen == right:
        message = f"Correct: all {len(right)} right options and nothing else."
    else:
        bits = []
        if wrong:
            bits.append(f"{wrong} of your choices {'is' if wrong == 1 else 'are'} wrong")
        if missed:
            bits.append(f"you missed {missed} right option{'s' if missed > 1 else ''}")
        message = "Not quite: " + " and ".join(bits) + "."
    chosen_wrong = [q.options[i].misconception for i in sorted(chosen - right)]
    return Grade(True, chosen == right, message, tuple(details),
                 _misconception_text(chosen_wrong))


def grade_numeric(q: Numeric, answer: Any) -> Grade:
    value = parse_number(answer)
    if value is None:
        return invalid(f"{str(answer).strip()[:40]!r} is not a number I can read; type something "
                       f"like 0.1, 1e-3 or 2/20.")
    unit = f" {q.unit}" if q.unit else ""
    # A hair of slack so an answer exactly at answer ± tolerance is not lost to float rounding.
    slack = 1e-9 * max(1.0, abs(q.answer), q.tolerance)
    error = value - q.answer
    if abs(error) <= q.tolerance + slack:
        return Grade(True, True, f"Correct: {value:g}{unit} is within ±{q.tolerance:g} of "
                                 f"{q.answer:g}{unit}.")
    return Grade(True, False, q.feedback_low if error < 0 else q.feedback_high,
                 (f"You answered {value:g}{unit}.",))


def grade_ordering(q: Ordering, answer: Any) -> Grade:
    try:
        order = [str(x) for x in answer]
    except TypeError:
        return invalid("Put every item in a position first.")
    if len(order) != len(q.items) or any(x not in q.items for x in order):
        return invalid(f"Place each of the {len(q.items)} items in one position.")
    if len(set(order)) != len(order):
        return invalid("Each item goes in exactly one position; one is used twice.")
    in_place = sum(a == b for a, b in zip(order, q.items, strict=True))
    details = tuple(f"{'✓' if a == b else '✗'} position {k + 1}: {a}"
                    for k, (a, b) in enumerate(zip(order, q.items, strict=True)))
    if in_place == len(q.items):
        return Grade(True, True, f"Correct order. {q.feedback}", details)
    return Grade(True, False, f"{in_place} of {len(q.items)} items are in the right place.",
                 details)


def grade_matching(q: Matching, answer: Any) -> Grade:
    if not isinstance(answer, Mapping):
        return invalid("Match every item first.")
    lefts = [p.left for p in q.pairs]
    rights = {p.right for p in q.pairs}
    if any(answer.get(left) in (None, "") for left in lefts):
        return invalid("Match every item before checking.")
    if any(answer[left] not in rights for left in lefts):
        return invalid("One of the matches is not among the choices.")
    right_count = sum(answer[p.left] == p.right for p in q.pairs)
    details = tuple(f"{'✓' if answer[p.left] == p.right else '✗'} {p.left} → {answer[p.left]}"
                    for p in q.pairs)
    if right_count == len(q.pairs):
        return Grade(True, True, f"All {len(q.pairs)} matched. {q.feedback}", details)
    return Grade(True, False, f"{right_count} of {len(q.pairs)} matches are right.", details)


# A prediction may name a broader regime than the engine's: a run that *overshoots* and reaches
# the minimum converged (it zig-zagged across the valley on the way in, DESIGN.md), so
# "converged" is a right prediction for it. The engine also calls a run overshooting while it
# is still zig-zagging in when the steps run out; that run has not converged, and only
# "overshooting" is right. The relation is one-way: predicting "overshooting" for a run that
# slid straight in claims a zig-zag that did not happen. Other regimes count only as themselves.
COUNTS_AS: Mapping[Regime, frozenset[Regime]] = {
    Regime.OVERSHOOTING: frozenset({Regime.CONVERGED}),
}
_ALSO_TRUE = {  # how the feedback says that a broader prediction was right
    (Regime.OVERSHOOTING, Regime.CONVERGED): "Yes — it converged, zig-zagging on the way "
                                             "(overshooting).",
}


def reached_minimum(run: Run) -> bool:
    """Whether the run arrived at its minimum within its steps (and stayed there).

    Network runs (`net_questions.NetPrediction`) have no known minimum: never.
    """
    facts, config = getattr(run, "facts", None), getattr(run, "config", None)
    if not facts or config is None:
        return False
    arrival = facts.get("arrival_step")
    return isinstance(arrival, int) and arrival <= config.steps


def prediction_holds(guess: Regime, actual: Regime, *, arrived: bool) -> bool:
    """Whether predicting ``guess`` is right for a run whose regime is ``actual``.

    True when they are equal, or when ``actual`` counts as ``guess`` (`COUNTS_AS`) and the run
    ``arrived`` at the minimum (`reached_minimum`).
    """
    return guess == actual or (arrived and guess in COUNTS_AS.get(actual, frozenset()))


def grade_predict(q: Predict, answer: Any, run: Run | None = None) -> Grade:
    """Right when the prediction holds for the regime the engine actually produces."""
    try:
        guess = Regime(answer)
    except ValueError:
        return invalid("Pick a prediction first.")
    if guess not in q.choices:
        return invalid("That prediction is not one of the choices.")
    run = run if run is not None else predict_run(q)
    actual = run.regime
    right = prediction_holds(guess, actual, arrived=reached_minimum(run))
    if guess == actual:
        headline = f"Correct: the run {actual.label}."
    elif right:
        headline = _ALSO_TRUE.get((actual, guess),
                                  f"Yes — it {guess.label}, more precisely {actual.label}.")
    else:
        headline = f"Not this time: you predicted {guess.label}, the run {actual.label}."
    # A broader right guess shows the engine's precise regime's feedback, not the lesson's
    # line for the broader choice (which may have been written as a "close, but" distractor).
    details = [] if right and guess != actual else [q.feedback[guess]]
    if guess != actual and actual in q.feedback:
        details.append(q.feedback[actual])
    details.append(run.explanation)
    return Grade(True, right, headline, tuple(details), config=run.config, run=run)


def tune_settings(q: Tune, answer: Any) -> dict[str, float | str] | str:
    """The learner's settings cleaned up, or a message saying what is wrong with them."""
    if not isinstance(answer, Mapping):
        return "Set the values first."
    settings: dict[str, float | str] = {}
    for key in q.adjustable:
        if key not in answer or answer[key] in (None, ""):
            continue
        param = hyperparameter(key)  # an optimizer hyperparameter, e.g. momentum
        if key == "lr" or param is not None:
            value = parse_number(answer[key])
            if value is None:
                return f"The {key} {str(answer[key])[:30]!r} is not a number."
            if key == "lr" and not LR_RANGE[0] <= value <= LR_RANGE[1]:
                return (f"A learning rate of {value:g} is outside the range this challenge "
                        f"accepts ({LR_RANGE[0]:g} to {LR_RANGE[1]:g}).")
            if param is not None and value not in param.valid:
                return f"The {param.label} must lie in {param.valid}, got {value:g}."
            settings[key] = value
        else:
            settings[key] = str(answer[key])
    try:
        tune_config(q, settings)
    except ValueError as exc:
        first = str(exc).splitlines()
        return f"Those settings are not valid: {' '.join(first[:3])}"
    return settings


# What to try next when a run misses a tune goal, by the regime it ended in.
_NEXT_STEP: Mapping[Regime, str] = {
    Regime.CONVERGED: "it settles too slowly along its slowest direction: a larger rate, still "
                      "below the stability limit, closes the gap sooner",
    Regime.OVERSHOOTING: "the zig-zag shrinks slowly when lr × λ_max is close to 2: a slightly "
                         "smaller rate damps it faster",
    Regime.SLOW: "it was still descending when the steps ran out: a larger rate covers the "
                 "distance sooner",
    Regime.LOCAL_MINIMUM: "it settled in a minimum that is not the global one: a different rate "
                          "or optimizer can carry it to another basin",
    Regime.STUCK: "the gradient is nearly zero where it stopped: a larger rate or another "
                  "optimizer moves it on",
    Regime.OSCILLATING: "it bounces without settling: a smaller rate lets it settle",
    Regime.DIVERGED: "it blew up: a smaller rate keeps lr × λ_max below the limit",
}
_NOISY_NEXT_STEP = ("with gradient noise the run hovers in a noise ball around the minimum: a "
                    "smaller or decaying rate shrinks it")


_ENDED: Mapping[Regime, str] = {  # "the run ..." for each regime
    Regime.CONVERGED: "converged",
    Regime.OVERSHOOTING: "converged while zig-zagging (overshooting)",
    Regime.LOCAL_MINIMUM: "settled in a local minimum",
    Regime.SLOW: "was still descending slowly",
    Regime.STUCK: "got stuck",
    Regime.OSCILLATING: "kept oscillating",
    Regime.DIVERGED: "diverged",
}


def _ended(run: Run) -> str:
    """How the run ended, in words ("diverged at step 7", "converged", ...)."""
    if run.regime is Regime.DIVERGED and run.diverged_at is not None:
        return f"diverged at step {run.diverged_at}"
    if run.regime is Regime.OVERSHOOTING and not reached_minimum(run):
        return "was still zig-zagging in (overshooting)"
    return _ENDED[run.regime]


def tune_feedback(q: Tune, run: Run, gap: float, success: bool) -> str:
    """The headline for one tune run: the verdict ``success`` phrased from the same numbers.

    ``gap`` is the final loss minus the surface's global minimum value, the number the goal
    bounds. The three cases never contradict one another: the goal is reached; the run ended in
    a regime the goal forbids; or the regime is allowed but ``gap`` is above the goal.
    """
    goal, steps = q.goal, run.config.steps
    if success:
        return (f"Goal reached: the run {_ended(run)}; after {steps} steps the loss ends {gap:.3g} "
                f"above the minimum, below the goal {goal.max_final_loss:g}.")
    if run.regime in goal.forbid:
        return (f"Not yet: the run {_ended(run)}, which this challenge rules out — "
                f"{_NEXT_STEP[run.regime]}.")
    next_step = (_NOISY_NEXT_STEP if run.config.noise > 0 and run.regime in (
        Regime.CONVERGED, Regime.OVERSHOOTING) else _NEXT_STEP[run.regime])
    return (f"Not yet: the run {_ended(run)}, but after {steps} steps the loss ends {gap:.3g} "
            f"above the minimum, and the goal is below {goal.max_final_loss:g} — {next_step}.")


def grade_tune(q: Tune, answer: Any) -> Grade:
    """Run the learner's settings; right when the run reaches the goal (simcheck decides).

    The headline comes from `tune_feedback` (verdict and numbers from the one `tune_outcome`);
    the engine's explanation of the run follows as a detail line.
    """
    settings = tune_settings(q, answer)
    if isinstance(settings, str):
        return invalid(settings)
    result = tune_outcome(q, settings)
    if result.run is None or result.gap is None:
        return invalid(result.message)
    message = tune_feedback(q, result.run, result.gap, result.success)
    return Grade(True, result.success, message, (result.run.explanation,),
                 config=result.run.config, run=result.run)


def grade(question: Any, answer: Any) -> Grade:
    """Grade ``answer`` to ``question`` (any of the seven question types)."""
    graders = {
        "single": grade_single, "multiple": grade_multiple, "numeric": grade_numeric,
        "ordering": grade_ordering, "matching": grade_matching, "predict": grade_predict,
        "tune": grade_tune,
    }
    return graders[question.type](question, answer)


def solution_text(question: Any, run: Run | None = None) -> str:
    """The answer in words (Markdown), shown after the hint ladder is used up.

    For a predict question the answer is the regime of its run (``run``, or simulated here).
    """
    q = question
    if isinstance(q, SingleChoice | MultipleChoice):
        return "The right answer: " + "; ".join(f"**{o.text}**" for o in q.options if o.correct)
    if isinstance(q, Numeric):
        unit = f" {q.unit}" if q.unit else ""
        return f"The answer is **{q.answer:g}{unit}** (±{q.tolerance:g})."
    if isinstance(q, Ordering):
        return "The right order: " + " → ".join(f"**{x}**" for x in q.items)
    if isinstance(q, Matching):
        return "The matches: " + "; ".join(f"**{p.left}** → {p.right}" for p in q.pairs)
    if isinstance(q, Predict):
        run = run if run is not None else predict_run(q)
        actual, arrived = run.regime, reached_minimum(run)
        also = [c.label for c in q.choices
                if c != actual and prediction_holds(c, actual, arrived=arrived)]
        broader = f" (“{'”, “'.join(also)}” counts too)" if also else ""
        return f"The run ends **{actual.label}**: that is the right prediction{broader}."
    if isinstance(q, Tune):
        parts = ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                          for k, v in q.solution.items())
        return f"One setting that works: **{parts}**."
    raise TypeError(f"unknown question type {type(q).__name__}")


def model_answer(question: Any) -> Any:
    """An answer that `grade` accepts as right (predict questions run the engine to know)."""
    q = question
    if isinstance(q, SingleChoice):
        return next(i for i, o in enumerate(q.options) if o.correct)
    if isinstance(q, MultipleChoice):
        return [i for i, o in enumerate(q.options) if o.correct]
    if isinstance(q, Numeric):
        return q.answer
    if isinstance(q, Ordering):
        return list(q.items)
    if isinstance(q, Matching):
        return {p.left: p.right for p in q.pairs}
    if isinstance(q, Predict):
        return predict_run(q).regime.value
    if isinstance(q, Tune):
        return dict(q.solution)
    raise TypeError(f"unknown question type {type(q).__name__}")

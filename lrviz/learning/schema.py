"""The course content schema: what a lesson file may contain, validated by pydantic.

A lesson is a folder in ``lessons/`` whose Markdown files carry YAML front matter; the loader
merges the front matter of all files in the folder (a key may appear in only one file) and
validates the result as a `Lesson`. The Markdown body of ``lesson.md`` becomes the intro.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lrviz.engine.diagnose import Regime
from lrviz.engine.spec import SEED_VALID, STEPS_VALID, as_number, check_range
from lrviz.learning.net_questions import NetRunSpec

SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"

# The concepts the course must teach (CONTENT_BRIEF), by stable id.
COURSE_CONCEPTS: dict[str, str] = {
    "update-rule": "update rule and step size",
    "hyperparameter": "hyperparameter vs parameter",
    "convergence": "convergence",
    "overshoot": "overshoot",
    "divergence": "divergence / NaN",
    "slow-convergence": "slow convergence",
    "local-minimum": "local minimum",
    "saddle-point": "saddle point",
    "plateau": "plateau",
    "curvature": "curvature and the 2/lambda bound",
    "condition-number": "condition number and ravines",
    "momentum": "momentum",
    "nesterov": "Nesterov",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp",
    "adam": "Adam / AdamW (moments, bias correction)",
    "scheduler": "learning-rate scheduler",
    "warmup": "warmup",
    "cosine-annealing": "cosine annealing",
    "one-cycle": "one-cycle",
    "restarts": "restarts",
    "reduce-on-plateau": "reduce on plateau",
    "lr-range-test": "LR range test",
    "log-scale-search": "log-scale search",
    "gradient-noise": "gradient noise / mini-batches",
}

# The misconceptions the course must voice and use as distractors (CONTENT_BRIEF).
MISCONCEPTIONS: dict[str, str] = {
    "bigger-is-faster": "A bigger learning rate is always faster.",
    "adam-needs-no-tuning": "Adam means I don't need to tune the learning rate.",
    "range-test-minimum": "Pick the learning rate at the minimum of the range-test curve.",
    "nan-is-data-bug": "NaN loss always means a data bug.",
    "linear-grid": "Search learning rates on a linear grid.",
    "local-minima-main-obstacle": "Local minima are the main obstacle in deep networks.",
    "smaller-is-better-minimum": "A smaller learning rate always finds a better minimum.",
    "warmup-small-forever": "Warmup means a small learning rate all the way.",
    "one-lr-all-batch-sizes": "One learning rate fits every batch size.",
    "schedule-rescues-anything": "A schedule can rescue any starting rate.",
}

MemoryAidKind = Literal["rhyme", "story", "acronym", "mnemonic"]
MEMORY_AID_KINDS: tuple[str, ...] = ("rhyme", "story", "acronym", "mnemonic")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Turn(_Strict):
    speaker: Literal["teacher", "student"]
    text: str = Field(min_length=1)


class SceneEnding(_Strict):
    """How a scene closes: a memory aid to keep, or a pointer to a lab preset."""

    kind: Literal["memory_aid", "lab"]
    text: str = Field(min_length=1)
    preset: str | None = None

    @model_validator(mode="after")
    def _lab_needs_preset(self) -> SceneEnding:
        if self.kind == "lab" and not self.preset:
            raise ValueError("a scene ending of kind 'lab' needs a 'preset'")
        return self


class Scene(_Strict):
    title: str = Field(min_length=1)
    turns: list[Turn] = Field(min_length=2)
    ending: SceneEnding
    misconceptions: list[str] = Field(default_factory=list)

    @field_validator("misconceptions")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        return _check_known(v, MISCONCEPTIONS, "misconception")

    @model_validator(mode="after")
    def _both_speak(self) -> Scene:
        if {t.speaker for t in self.turns} != {"teacher", "student"}:
            raise ValueError("a scene needs turns by both the teacher and the student")
        return self


class Summaries(_Strict):
    basic: str = Field(min_length=1)
    medium: str = Field(min_length=1)
    detailed: str = Field(min_length=1)


class Chapter(_Strict):
    """An audiobook chapter built around one everyday analogy."""

    title: str = Field(min_length=1)
    analogy: str = Field(min_length=1)  # a short phrase: "driving in an unknown city"
    limits: str = Field(min_length=1)  # where the analogy stops being true
    text: str = Field(min_length=200)  # the narration, Markdown paragraphs


class Concept(_Strict):
    term: str = Field(min_length=1)
    meaning: str = Field(min_length=1)


class Example(_Strict):
    """A real-world scenario tied to a lab preset; ``expect`` is checked against the simulator."""

    title: str = Field(min_length=1)
    scenario: str = Field(min_length=1)
    preset: str
    run: int = 0  # which run of the preset the claim is about
    expect: Regime | None = None  # the regime the text claims that run shows
    takeaway: str = Field(min_length=1)


class MemoryAid(_Strict):
    kind: MemoryAidKind
    concept: str = Field(min_length=1)
    text: str = Field(min_length=1)


class GlossaryEntry(_Strict):
    """A term of the shared glossary (``lessons/glossary.md``); lessons list its ``id``."""

    id: str = Field(pattern=SLUG)
    term: str = Field(min_length=1)
    definition: str = Field(min_length=1)


class Flashcard(_Strict):
    id: str = Field(pattern=SLUG)
    front: str = Field(min_length=1)
    back: str = Field(min_length=1)


# --- quiz questions ------------------------------------------------------------------------


class _Question(_Strict):
    id: str = Field(pattern=SLUG)
    prompt: str = Field(min_length=1)
    hints: list[str] = Field(min_length=1)  # from gentle to nearly the answer
    explanation: str = Field(min_length=1)  # shown after answering


class Option(_Strict):
    text: str = Field(min_length=1)
    correct: bool = False
    feedback: str = Field(min_length=1)
    misconception: str | None = None

    @field_validator("misconception")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        return None if v is None else _check_known([v], MISCONCEPTIONS, "misconception")[0]


class SingleChoice(_Question):
    type: Literal["single"]
    options: list[Option] = Field(min_length=2)

    @model_validator(mode="after")
    def _one_correct(self) -> SingleChoice:
        if sum(o.correct for o in self.options) != 1:
            raise ValueError("a single-choice question needs exactly one correct option")
        return self


class MultipleChoice(_Question):
    type: Literal["multiple"]
    options: list[Option] = Field(min_length=3)

    @model_validator(mode="after")
    def _some_correct(self) -> MultipleChoice:
        if not any(o.correct for o in self.options):
            raise ValueError("a multiple-choice question needs at least one correct option")
        return self


class Numeric(_Question):
    type: Literal["numeric"]
    answer: float
    tolerance: float = Field(gt=0)  # absolute
    unit: str = ""
    feedback_low: str = Field(min_length=1)
    feedback_high: str = Field(min_length=1)


class Ordering(_Question):
    type: Literal["ordering"]
    items: list[str] = Field(min_length=3)  # in the correct order
    feedback: str = Field(min_length=1)


class Pair(_Strict):
    left: str = Field(min_length=1)
    right: str = Field(min_length=1)


class Matching(_Question):
    type: Literal["matching"]
    pairs: list[Pair] = Field(min_length=3)
    feedback: str = Field(min_length=1)


class RunSpec(_Strict):
    """RunConfig fields for a simulation-graded question (validated against the engine)."""

    surface: str
    optimizer: str = "sgd"
    lr: float = 0.01
    schedule: str = "constant"
    start: tuple[float, float] | None = None
    steps: int = 100
    surface_params: dict[str, float] = Field(default_factory=dict)
    optimizer_params: dict[str, float] = Field(default_factory=dict)
    schedule_params: dict[str, float] = Field(default_factory=dict)
    noise: float = 0.0
    seed: int = 0

    @model_validator(mode="before")
    @classmethod
    def _huge_ints_as_inf(cls, data: Any) -> Any:
        # YAML may hold integers too large for a float, or inf/fractions for counts: checked
        # here with the engine's messages (naming the field and its valid range) rather than
        # pydantic's bare "not a valid number / integer".
        if not isinstance(data, dict):
            return data

        def fix(v: Any) -> Any:
            if isinstance(v, dict):
                return {n: fix(x) for n, x in v.items()}
            if isinstance(v, list | tuple):
                return [fix(x) for x in v]
            return as_number(v, "") if isinstance(v, int) and abs(v) > 2**1023 else v

        out = {k: fix(v) for k, v in data.items()}
        for key, valid in (("steps", STEPS_VALID), ("seed", SEED_VALID)):
            if key in data:
                out[key] = int(check_range(key, data[key], valid, integer=True))
        return out

    @model_validator(mode="after")
    def _valid_config(self) -> RunSpec:
        # RunConfig checks every number against its valid range (Param.valid, LR_VALID,
        # the start box ...) and raises a ValueError naming it.
        self.to_config()
        return self

    def to_config(self, **changes):
        from lrviz.engine.config import RunConfig

        return RunConfig(**{**self.model_dump(), **changes})


# What a claim can measure on a run; ``at`` is the extra number some of them need.
CLAIM_QUANTITIES: dict[str, str] = {
    "final_loss": "the loss after the last step",
    "final_gap": "the final loss minus the surface's global minimum",
    "diverged_at": "the first step whose point or loss blew up",
    "steps_to_gap": "the first step whose loss is within `at` of the global minimum",
    "max_edge_ratio": "the largest lr_t x lambda_max(theta_t) over the run",
    "steps_over_edge": "how many updates have lr_t x lambda_max(theta_t) above `at` (default 2)",
    "edge_ratio_at_step": "lr_t x lambda_max(theta_t) at update `at`",
    "first_over_edge": "the first update with lr_t x lambda_max(theta_t) above `at` (default 2)",
    "max_loss_tail": "the largest loss over the last `at` steps",
    "arrival_step": "the step by which the run reached its minimum (the diagnosis's count)",
    "crossings": "how often the path crossed the valley floor (the diagnosis's count)",
    "final_distance": "the distance from the final point to the nearest known minimum",
    "distance_moved": "the straight-line distance from the start to the final point",
    "min_loss_tail": "the smallest loss over the last `at` steps",
    "lambda_at_step": "the largest Hessian eigenvalue at the point before update `at`",
    "mean_loss_tail": "the mean loss over the last `at` steps (the level a noisy run hovers at)",
    "settles_at": "the step from which the loss stays within `at` of the global minimum",
    "lr_at_step": "the learning rate update `at` uses",
    "first_lr_cut": "the first update whose learning rate is below the previous update's",
    "lr_cuts": "how many times the learning rate goes down during the run",
    "loss_at_step": "the loss after `at` steps",
}
ClaimQuantity = Literal["final_loss", "final_gap", "diverged_at", "steps_to_gap",
                        "max_edge_ratio", "steps_over_edge", "edge_ratio_at_step",
                        "lambda_at_step", "mean_loss_tail", "loss_at_step", "settles_at",
                        "lr_at_step", "first_lr_cut", "lr_cuts", "first_over_edge",
                        "max_loss_tail", "min_loss_tail", "arrival_step", "crossings",
                        "final_distance", "distance_moved"]
CLAIM_MARKER = re.compile(r"\{\{claim:([a-z0-9]+(?:-[a-z0-9]+)*)\}\}")


class Claim(_Strict):
    """A number the prose states about a run, re-measured by ``simcheck``.

    The text writes ``{{claim:<id>}}`` where the number goes; the loader replaces the marker
    with ``expected`` (formatted with ``format``), and simcheck fails when the engine's value
    drifts more than ``tolerance`` (absolute) from it. With ``seeds: n`` the measured value is
    the median over seeds 0..n-1 (for noisy runs).
    """

    id: str = Field(pattern=SLUG)
    run: RunSpec | NetRunSpec | None = None  # a network run (``dataset``) is measured by lrviz.nets
    preset: str | None = None
    preset_run: int = Field(default=0, ge=0)
    quantity: ClaimQuantity
    at: float | None = None
    seeds: int = Field(default=1, ge=1, le=50)
    expected: float
    tolerance: float = Field(ge=0)
    format: str = "g"  # a Python format spec, or "words" for narrated text ("one point six")

    @model_validator(mode="after")
    def _one_source(self) -> Claim:
        if (self.run is None) == (self.preset is None):
            raise ValueError("a claim needs exactly one of 'run' or 'preset'")
        if self.at is None and self.quantity in (
                "steps_to_gap", "loss_at_step", "edge_ratio_at_step", "lambda_at_step",
                "mean_loss_tail", "settles_at", "lr_at_step", "max_loss_tail",
                "min_loss_tail"):
            raise ValueError(f"quantity {self.quantity!r} needs 'at'")
        try:
            self.shown()
        except ValueError as exc:
            raise ValueError(f"format {self.format!r} cannot show {self.expected}: {exc}") from None
        return self

    def shown(self) -> str:
        """``expected`` as the prose shows it."""
        if self.format == "words":
            return number_words(self.expected)
        return format(self.expected, self.format)


_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def number_words(value: float) -> str:
    """A number as narrated text: 28 -> "twenty-eight", 0.07 -> "zero point zero seven".

    Integers below a million are spelled out; decimals read their digits after "point",
    as written with up to six significant digits.
    """
    if value < 0:
        return "minus " + number_words(-value)
    text = f"{value:.6g}"
    if "e" in text or value >= 1e6:
        raise ValueError("only numbers from 0 to 999999 without exponent can be spelled out")
    whole, _, digits = text.partition(".")
    words = _integer_words(int(whole))
    if digits:
        words += " point " + " ".join(_ONES[int(d)] for d in digits)
    return words


def _integer_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + _integer_words(rest))
    rest = n % 1000
    return _integer_words(n // 1000) + " thousand" + ("" if rest == 0 else
                                                      " " + _integer_words(rest))


class Predict(_Question):
    """Predict, then run: the correct answer is whatever the simulation does."""

    type: Literal["predict"]
    run: RunSpec | NetRunSpec  # a network run (``dataset``) is graded by lrviz.nets
    choices: list[Regime] = Field(min_length=2)
    feedback: dict[Regime, str]  # one line per choice, shown next to the run

    @model_validator(mode="after")
    def _feedback_for_each(self) -> Predict:
        missing = [c.value for c in self.choices if c not in self.feedback]
        if missing:
            raise ValueError(f"feedback is missing for choices: {', '.join(missing)}")
        return self


class Goal(_Strict):
    max_final_loss: float  # the loss gap to the global minimum the final point must beat
    forbid: list[Regime] = Field(default_factory=lambda: [Regime.DIVERGED])


class Tune(_Question):
    """Tune-it challenge: the learner sets some fields of ``base`` to reach ``goal``."""

    type: Literal["tune"]
    base: RunSpec
    adjustable: list[Literal["lr", "optimizer", "schedule", "momentum"]] = Field(min_length=1)
    goal: Goal
    solution: dict[str, float | str]  # a known answer (tests check it reaches the goal)

    @model_validator(mode="after")
    def _valid_solution(self) -> Tune:
        # The solution applied to the base must itself be a valid run (lr, momentum ... in
        # their valid ranges); simcheck builds that run, and needs this module, hence the
        # late import.
        from lrviz.learning.simcheck import tune_config

        tune_config(self, self.solution)
        return self


Question = Annotated[
    SingleChoice | MultipleChoice | Numeric | Ordering | Matching | Predict | Tune,
    Field(discriminator="type"),
]
QUESTION_TYPES: tuple[str, ...] = (
    "single", "multiple", "numeric", "ordering", "matching", "predict", "tune",
)


class Lesson(_Strict):
    id: str = Field(pattern=SLUG)
    order: int = Field(ge=1)
    title: str = Field(min_length=1)
    minutes: int = Field(ge=1, le=240)  # estimated time to work through it
    objectives: list[str] = Field(min_length=2, max_length=4)
    prerequisites: list[str] = Field(default_factory=list)
    concepts: list[str] = Field(min_length=1)  # ids from COURSE_CONCEPTS this lesson covers
    intro: str = ""
    dialogue: list[Scene] = Field(min_length=3)
    summaries: Summaries
    chapters: list[Chapter] = Field(min_length=2)
    key_concepts: list[Concept] = Field(min_length=4, max_length=8)
    examples: list[Example] = Field(min_length=1)
    memory_aids: list[MemoryAid] = Field(min_length=4)
    glossary: list[GlossaryEntry] = Field(min_length=1)
    flashcards: list[Flashcard] = Field(min_length=8)
    quiz: list[Question] = Field(min_length=10)
    claims: list[Claim] = Field(default_factory=list)

    @field_validator("concepts")
    @classmethod
    def _known_concepts(cls, v: list[str]) -> list[str]:
        return _check_known(v, COURSE_CONCEPTS, "concept")

    @model_validator(mode="after")
    def _complete(self) -> Lesson:
        kinds = {a.kind for a in self.memory_aids}
        missing = [k for k in MEMORY_AID_KINDS if k not in kinds]
        if missing:
            raise ValueError(f"memory_aids: needs at least one of each kind; missing {missing}")
        for field_name, ids in (("flashcards", [c.id for c in self.flashcards]),
                                ("quiz", [q.id for q in self.quiz]),
                                ("claims", [c.id for c in self.claims])):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{field_name}: duplicate ids {dupes}")
        return self

    @property
    def misconceptions_voiced(self) -> set[str]:
        return {m for scene in self.dialogue for m in scene.misconceptions}

    @property
    def misconceptions_as_distractors(self) -> set[str]:
        return {o.misconception for q in self.quiz for o in getattr(q, "options", [])
                if o.misconception and not o.correct}


def _check_known(values: list[str], known: dict[str, str], what: str) -> list[str]:
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(f"unknown {what} id(s) {unknown}; known: {', '.join(known)}")
    return values


def slug_ok(text: str) -> bool:
    return re.fullmatch(SLUG, text) is not None

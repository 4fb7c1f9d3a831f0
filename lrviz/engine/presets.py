"""One-click scenarios: a few runs each, the regime each must show, and what to look for.

Lessons, the lab and quizzes refer to presets by id (``/lab?preset=<id>``). The test suite runs
every preset and checks that each run lands in the regime its caption promises, so a caption
can never drift away from what the simulator does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Regime


@dataclass(frozen=True)
class PresetRun:
    label: str
    config: RunConfig
    expect: Regime


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    caption: str  # what to look for, in one or two plain sentences
    runs: tuple[PresetRun, ...]
    lesson: str  # id of the lesson it illustrates best

    @property
    def config(self) -> RunConfig:
        """The main run (the lab's controls take its settings; the others are pinned)."""
        return self.runs[0].config


def _run(label: str, expect: Regime, **fields) -> PresetRun:
    return PresetRun(label, RunConfig(**fields), expect)


_RAVINE = dict(surface="ravine", surface_params={"condition": 20.0, "angle": 30.0},
               start=(-2.5, 1.5), optimizer="sgd")
_RAVINE100 = dict(surface="ravine", surface_params={"condition": 100.0, "angle": 30.0},
                  start=(-2.5, 1.5), steps=150)

_ALL: tuple[Preset, ...] = (
    Preset(
        "overshoot", "Overshoot: zig-zag across a ravine",
        "lr × λ_max = 1.8 on the steep side: every step jumps past the valley floor and the "
        "path zig-zags, yet it still converges because 1.8 < 2.",
        (_run("SGD, lr 0.09", Regime.OVERSHOOTING, lr=0.09, steps=150, **_RAVINE),),
        "lr-basics",
    ),
    Preset(
        "divergence", "Divergence: the loss explodes",
        "On Rosenbrock's steep wall lr = 0.003 gives lr × λ_max ≈ 6: each step lands farther "
        "out than the last and the run blows up within a few steps.",
        (_run("SGD, lr 0.003", Regime.DIVERGED, surface="rosenbrock", optimizer="sgd",
              lr=0.003, steps=100),),
        "lr-basics",
    ),
    Preset(
        "slow", "Slow convergence: a rate that is too small",
        "On a bowl of curvature 1, lr = 0.01 removes only 1% of the distance per step: after "
        "200 steps the run is still far from the bottom.",
        (_run("SGD, lr 0.01", Regime.SLOW, surface="bowl", optimizer="sgd", lr=0.01,
              steps=200),
         _run("SGD, lr 1.0 (= 1/λ)", Regime.CONVERGED, surface="bowl", optimizer="sgd",
              lr=1.0, steps=200)),
        "lr-basics",
    ),
    Preset(
        "stability-limit", "The 2/λ limit",
        "Curvature λ_max = 20, so 2/λ_max = 0.1. At lr = 0.098 the run zig-zags in; at "
        "lr = 0.102 the same zig-zag grows a little every step until it blows up.",
        (_run("SGD, lr 0.098", Regime.OVERSHOOTING, lr=0.098, steps=300, **_RAVINE),
         _run("SGD, lr 0.102", Regime.DIVERGED, lr=0.102, steps=300, **_RAVINE)),
        "lr-basics",
    ),
    Preset(
        "local-minimum", "Trapped in a local minimum",
        "Starting at (4, 4) on Styblinski–Tang, gradient descent rolls into the nearest basin "
        "and stops there, 28 loss units above the global minimum.",
        (_run("SGD, lr 0.01", Regime.LOCAL_MINIMUM, surface="styblinski_tang",
              optimizer="sgd", lr=0.01, steps=300, start=(4.0, 4.0)),),
        "minima-saddles",
    ),
    Preset(
        "saddle", "Stuck at a saddle point",
        "The run arrives along the ridge of a saddle: the gradient vanishes there, and the "
        "tiny sideways offset (1e-6) needs hundreds of steps to grow. Gradient noise kicks it "
        "off at once; without noise it does leave, but only after about 780 steps.",
        (_run("SGD, lr 0.01", Regime.STUCK, surface="saddle", optimizer="sgd", lr=0.01,
              steps=300, start=(2.0, 1e-6)),
         _run("SGD, lr 0.01, gradient noise 0.5", Regime.CONVERGED, surface="saddle",
              optimizer="sgd", lr=0.01, steps=400, start=(2.0, 1e-6), noise=0.5),
         _run("SGD, lr 0.01, 1000 steps", Regime.CONVERGED, surface="saddle", optimizer="sgd",
              lr=0.01, steps=1000, start=(2.0, 1e-6))),
        "minima-saddles",
    ),
    Preset(
        "plateau", "Stuck on a plateau",
        "Far from the basin the surface is almost flat: the gradient is about 0.002, so plain "
        "gradient descent barely moves, while Adam rescales the tiny gradient and walks out.",
        (_run("SGD, lr 0.1", Regime.STUCK, surface="plateau", optimizer="sgd", lr=0.1,
              steps=300, start=(3.0, 2.5)),
         _run("Adam, lr 0.05", Regime.CONVERGED, surface="plateau", optimizer="adam",
              lr=0.05, steps=300, start=(3.0, 2.5))),
        "minima-saddles",
    ),
    Preset(
        "momentum-ravine", "Momentum fixes the ravine",
        "In a ravine with condition number 100, SGD at lr = 0.01 crawls along the flat "
        "direction; heavy-ball momentum (μ = 0.9) with the same rate builds up speed there and "
        "arrives, swinging past the floor a few times on the way.",
        (_run("SGD, lr 0.01", Regime.SLOW, optimizer="sgd", lr=0.01, **_RAVINE100),
         _run("Momentum 0.9, lr 0.01", Regime.OVERSHOOTING, optimizer="momentum", lr=0.01,
              **_RAVINE100),
         _run("Nesterov 0.9, lr 0.01", Regime.CONVERGED, optimizer="nesterov", lr=0.01,
              **_RAVINE100)),
        "momentum-adaptive",
    ),
    Preset(
        "schedule-rescue", "A schedule rescues an oscillating run",
        "At lr = 0.03 Himmelblau's minimum is too sharp (lr × λ_max ≈ 2.5): the constant-rate "
        "run bounces forever. Exponential decay shrinks the rate below 2/λ_max and the same run "
        "settles.",
        (_run("constant lr 0.03", Regime.OSCILLATING, surface="himmelblau", optimizer="sgd",
              lr=0.03, steps=300),
         _run("exponential decay, gamma 0.99", Regime.OVERSHOOTING, surface="himmelblau",
              optimizer="sgd", lr=0.03, steps=300, schedule="exponential",
              schedule_params={"gamma": 0.99})),
        "schedules",
    ),
    Preset(
        "warmup", "Warmup prevents an early blow-up",
        "The start sits on a very steep wall. At a constant lr = 0.0016 the first steps "
        "overshoot and the run diverges; ramping up from 1% of that rate over 50 steps lets it "
        "slide into the valley first, where the full rate is safe.",
        (_run("constant lr 0.0016", Regime.DIVERGED, surface="rosenbrock", optimizer="sgd",
              lr=0.0016, steps=1000, start=(-1.8, -0.8)),
         _run("linear warmup (50 steps) + cosine", Regime.SLOW, surface="rosenbrock",
              optimizer="sgd", lr=0.0016, steps=1000, start=(-1.8, -0.8),
              schedule="warmup_cosine",
              schedule_params={"warmup_steps": 50, "start_factor": 0.01})),
        "schedules",
    ),
    Preset(
        "adam-vs-sgd", "Adam vs SGD on Rosenbrock",
        "SGD's rate is capped by the steep walls (2/λ_max ≈ 0.002) and it crawls along the "
        "banana valley; Adam divides by the gradient's size and covers the valley floor, "
        "but only with a suitable rate of its own.",
        (_run("SGD, lr 0.001", Regime.SLOW, surface="rosenbrock", optimizer="sgd", lr=0.001,
              steps=500),
         _run("Adam, lr 1.0", Regime.CONVERGED, surface="rosenbrock", optimizer="adam",
              lr=1.0, steps=500),
         _run("Adam, lr 0.02", Regime.SLOW, surface="rosenbrock", optimizer="adam", lr=0.02,
              steps=500)),
        "momentum-adaptive",
    ),
    Preset(
        "one-step", "lr = 1/λ: one step to the bottom",
        "On a round bowl of curvature 1, lr = 1 jumps straight to the minimum; lr = 1.5 "
        "overshoots and zig-zags in; lr = 2 bounces between two points forever; lr = 2.01 "
        "zig-zags out.",
        (_run("lr 1.0", Regime.CONVERGED, surface="bowl", optimizer="sgd", lr=1.0, steps=50),
         _run("lr 1.5", Regime.OVERSHOOTING, surface="bowl", optimizer="sgd", lr=1.5,
              steps=50),
         _run("lr 2.0", Regime.OSCILLATING, surface="bowl", optimizer="sgd", lr=2.0, steps=50),
         _run("lr 2.01", Regime.DIVERGED, surface="bowl", optimizer="sgd", lr=2.01, steps=50)),
        "lr-basics",
    ),
    Preset(
        "basins", "Same rate, different start, different minimum",
        "Himmelblau has four equally good minima; the start point decides which one gradient "
        "descent reaches.",
        (_run("start (0, 0)", Regime.CONVERGED, surface="himmelblau", optimizer="sgd",
              lr=0.01, steps=300, start=(0.0, 0.0)),
         _run("start (-1, 0.5)", Regime.CONVERGED, surface="himmelblau", optimizer="sgd",
              lr=0.01, steps=300, start=(-1.0, 0.5)),
         _run("start (-0.5, -1.5)", Regime.CONVERGED, surface="himmelblau", optimizer="sgd",
              lr=0.01, steps=300, start=(-0.5, -1.5))),
        "minima-saddles",
    ),
    Preset(
        "plateau-schedule-stall", "Reduce-on-plateau cuts too hard",
        "Adam at lr = 0.5 overshoots Booth's valley early; ReduceLROnPlateau sees no new best "
        "loss for 10 steps at a time and divides the rate by 10 again and again, until the run "
        "freezes far from the minimum.",
        (_run("Adam 0.5 + reduce on plateau", Regime.STUCK, surface="booth",
              optimizer="adam", lr=0.5, steps=300, schedule="reduce_on_plateau"),
         _run("Adam 0.5, constant", Regime.OVERSHOOTING, surface="booth", optimizer="adam",
              lr=0.5, steps=300)),
        "schedules",
    ),
)

_HIMMELBLAU = dict(surface="himmelblau", optimizer="sgd", lr=0.03, steps=300, noise=0.05)

_ALL += (
    Preset(
        "schedule-zoo", "Four schedules, one rate that is too large",
        "lr = 0.03 is too large for Himmelblau's minimum at a constant rate (lr × λ_max ≈ 2.5), "
        "and a little gradient noise (0.05) keeps the instability from hiding: the constant run "
        "keeps bouncing. Each schedule starts at (or peaks at) the same rate and brings it "
        "below 2/λ_max in its own way; compare when each run calms down.",
        (_run("constant", Regime.OSCILLATING, **_HIMMELBLAU),
         _run("cosine", Regime.CONVERGED, schedule="cosine", **_HIMMELBLAU),
         _run("step decay (halve every 100)", Regime.CONVERGED, schedule="step",
              schedule_params={"step_size": 100, "gamma": 0.5}, **_HIMMELBLAU),
         _run("one-cycle", Regime.CONVERGED, schedule="one_cycle", **_HIMMELBLAU)),
        "schedules",
    ),
    Preset(
        "adam-needs-tuning", "Adam still needs a learning rate",
        "Four Adam runs that differ only in lr: 10 flies off the surface, 3 keeps zig-zagging, "
        "1 converges, 0.02 is still crawling after 500 steps.",
        (_run("Adam, lr 1", Regime.CONVERGED, surface="rosenbrock", optimizer="adam", lr=1.0,
              steps=500),
         _run("Adam, lr 10", Regime.DIVERGED, surface="rosenbrock", optimizer="adam",
              lr=10.0, steps=500),
         _run("Adam, lr 3", Regime.OVERSHOOTING, surface="rosenbrock", optimizer="adam",
              lr=3.0, steps=500),
         _run("Adam, lr 0.02", Regime.SLOW, surface="rosenbrock", optimizer="adam", lr=0.02,
              steps=500)),
        "momentum-adaptive",
    ),
    Preset(
        "noise-ball", "Gradient noise and the learning rate",
        "With noisy (mini-batch-like) gradients a constant lr = 0.5 keeps bouncing around the "
        "minimum; the same start with cosine decay calms down as the rate shrinks, and so does "
        "a 10x smaller constant rate.",
        (_run("lr 0.5, noise 1", Regime.OSCILLATING, surface="bowl", optimizer="sgd", lr=0.5,
              steps=300, noise=1.0),
         _run("lr 0.5 + cosine, noise 1", Regime.CONVERGED, surface="bowl", optimizer="sgd",
              lr=0.5, steps=300, noise=1.0, schedule="cosine"),
         _run("lr 0.05, noise 1", Regime.CONVERGED, surface="bowl", optimizer="sgd",
              lr=0.05, steps=300, noise=1.0)),
        "lr-in-practice",
    ),
    Preset(
        "momentum-escapes", "Momentum rolls over a small hill",
        "On the six-hump camel, plain SGD from (2, 1) stops in a shallow local minimum; with "
        "momentum 0.9 the accumulated speed carries it over the ridge to a global minimum.",
        (_run("SGD, lr 0.01", Regime.LOCAL_MINIMUM, surface="six_hump_camel", optimizer="sgd",
              lr=0.01, steps=300, start=(2.0, 1.0)),
         _run("momentum 0.9, lr 0.01", Regime.OVERSHOOTING, surface="six_hump_camel",
              optimizer="momentum", lr=0.01, steps=300, start=(2.0, 1.0))),
        "minima-saddles",
    ),
    Preset(
        "wells", "Two wells: the trap and the prize",
        "Two Gaussian wells: the one near the start is shallower. Gradient descent settles in it "
        "and never sees the deeper one.",
        (_run("SGD, lr 0.5", Regime.LOCAL_MINIMUM, surface="gaussian_wells", optimizer="sgd",
              lr=0.5, steps=300, start=(2.5, 2.5)),),
        "minima-saddles",
    ),
)

_RAVINE_EDGE = dict(surface="ravine", surface_params={"condition": 100.0, "angle": 30.0},
                    start=(-2.5, 1.5), steps=150)
_CAMEL = dict(surface="six_hump_camel", optimizer="sgd", start=(2.0, 1.0), steps=300)
_WELLS = dict(surface="gaussian_wells", optimizer="sgd", lr=0.5, start=(2.5, 2.5), steps=1000)
_ROSEN_WALL = dict(surface="rosenbrock", optimizer="sgd", lr=0.0016, start=(-1.8, -0.8),
                   steps=1000, schedule="warmup_cosine")

_ALL += (
    Preset(
        "momentum-edge", "Where momentum's stability ends",
        "λ_max = 100. Heavy-ball momentum 0.9 is stable up to lr = 3.8/100 = 0.038: 0.03 "
        "spirals in, 0.039 blows up. Nesterov 0.9 (PyTorch form) stops at "
        "2(1.9)/(2.8)/100 ≈ 0.0136: 0.013 converges, 0.014 diverges.",
        (_run("momentum 0.9, lr 0.03", Regime.OVERSHOOTING, optimizer="momentum", lr=0.03,
              **_RAVINE_EDGE),
         _run("momentum 0.9, lr 0.039", Regime.DIVERGED, optimizer="momentum", lr=0.039,
              **_RAVINE_EDGE),
         _run("Nesterov 0.9, lr 0.013", Regime.OVERSHOOTING, optimizer="nesterov", lr=0.013,
              **_RAVINE_EDGE),
         _run("Nesterov 0.9, lr 0.014", Regime.DIVERGED, optimizer="nesterov", lr=0.014,
              **_RAVINE_EDGE)),
        "momentum-adaptive",
    ),
    Preset(
        "adaptive-axes", "AdaGrad likes axis-aligned ravines",
        "AdaGrad scales each coordinate separately. When the ravine runs along the axes that "
        "fixes the conditioning and the run converges fast; turned by 30°, the steep direction "
        "mixes both coordinates and the same rate crawls.",
        (_run("AdaGrad, ravine along the axes", Regime.CONVERGED, optimizer="adagrad", lr=0.5,
              surface="ravine", surface_params={"condition": 100.0, "angle": 0.0},
              start=(-2.5, 1.5), steps=150),
         _run("AdaGrad, ravine turned 30°", Regime.SLOW, optimizer="adagrad", lr=0.5,
              **_RAVINE_EDGE)),
        "momentum-adaptive",
    ),
    Preset(
        "camel-big-step", "A bigger step can skip a shallow minimum",
        "From (2, 1) on the six-hump camel, lr = 0.001 and 0.01 both roll into the nearby "
        "local minimum; lr = 0.1 overshoots it and lands in a global minimum. (Bigger is not "
        "always better: 0.13 already bounces, since 2/λ_max ≈ 0.12 there.)",
        (_run("lr 0.001", Regime.LOCAL_MINIMUM, lr=0.001, **_CAMEL),
         _run("lr 0.01", Regime.LOCAL_MINIMUM, lr=0.01, **_CAMEL),
         _run("lr 0.1", Regime.OVERSHOOTING, lr=0.1, **_CAMEL)),
        "minima-saddles",
    ),
    Preset(
        "noisy-wells", "Noise shakes a run out of a shallow well",
        "Without noise SGD stays in the shallow well. With strong gradient noise at a constant "
        "rate it hops between the wells and never settles; letting the rate decay (cosine) "
        "calms it down, here in the deep well. Noise is random: change the seed and some runs "
        "end in the shallow well instead — noise improves the odds, it does not guarantee.",
        (_run("no noise", Regime.LOCAL_MINIMUM, **_WELLS),
         _run("noise 1, constant rate", Regime.OSCILLATING, noise=1.0, **_WELLS),
         _run("noise 1, cosine decay (seed 1)", Regime.CONVERGED, noise=1.0,
              schedule="cosine", seed=1, **_WELLS)),
        "minima-saddles",
    ),
    Preset(
        "warmup-length", "How much warmup is enough?",
        "The same steep start as the warmup preset. No warmup (0 steps) blows up at step 3; "
        "even 5 warmup steps from 1% of the rate get the run past the steep wall.",
        (_run("no warmup", Regime.DIVERGED, schedule_params={"warmup_steps": 0},
              **_ROSEN_WALL),
         _run("5 warmup steps", Regime.SLOW,
              schedule_params={"warmup_steps": 5, "start_factor": 0.01}, **_ROSEN_WALL),
         _run("50 warmup steps", Regime.SLOW,
              schedule_params={"warmup_steps": 50, "start_factor": 0.01}, **_ROSEN_WALL)),
        "schedules",
    ),
)

PRESETS: Mapping[str, Preset] = {p.id: p for p in _ALL}

# Ids that were renamed (old -> new): links that use the old id open the new preset, with a
# notice. "edge-of-stability" named a research phenomenon its runs do not show.
RENAMED_PRESETS: Mapping[str, str] = {"edge-of-stability": "stability-limit"}


def get_preset(preset_id: str) -> Preset:
    try:
        return PRESETS[preset_id]
    except KeyError:
        raise ValueError(
            f"unknown preset {preset_id!r}; choose one of: {', '.join(PRESETS)}"
        ) from None

"""lrviz: see how the learning rate steers gradient-based training.

>>> import lrviz
>>> run = lrviz.simulate(lrviz.RunConfig(surface="rosenbrock", optimizer="adam", lr=0.01))
>>> run.regime, run.explanation  # doctest: +SKIP
"""

from lrviz import nets as nets  # small neural networks: lrviz.nets.train(lrviz.nets.NetConfig(...))
from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Regime
from lrviz.engine.optimizers import OPTIMIZERS, OptimizerSpec
from lrviz.engine.schedules import SCHEDULES, ScheduleSpec, schedule_values
from lrviz.engine.simulate import (
    PhaseMap,
    Run,
    SweepResult,
    lr_sweep,
    phase_map,
    simulate,
    simulate_many,
)
from lrviz.engine.surfaces import SURFACES, Minimum, Surface
from lrviz.engine.theory import Stability, stability, suggest_lr

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SURFACES",
    "Minimum",
    "OptimizerSpec",
    "PhaseMap",
    "Regime",
    "Run",
    "RunConfig",
    "ScheduleSpec",
    "Stability",
    "Surface",
    "SweepResult",
    "lr_sweep",
    "phase_map",
    "schedule_values",
    "simulate",
    "simulate_many",
    "stability",
    "suggest_lr",
]
__version__ = "0.1.0"

"""Cached engine calls for the pages: configs go in as JSON, results are bounded in number.

Pages never call the engine directly, so a rerun with unchanged settings costs a cache lookup;
the first view of a structure pays its compile once (and the persistent compilation cache
makes that cheap after a restart).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lrviz.engine.config import RunConfig
from lrviz.engine.schedules import schedule_values
from lrviz.engine.simulate import PhaseMap, Run, SweepResult, lr_sweep, phase_map, simulate_many
from lrviz.figures import curves, trajectory
from lrviz.figures.style import SpecFigure
from lrviz.ui.memory import cap_malloc_arenas

# Bounded caches are only half of bounded memory: see lrviz.ui.memory (first import, early).
cap_malloc_arenas()


@st.cache_data(max_entries=256, show_spinner=False)
def _simulate_json(configs: tuple[str, ...]) -> list[Run]:
    return simulate_many([RunConfig.model_validate_json(c) for c in configs])


def run(cfg: RunConfig) -> Run:
    """One simulated run (cached by its full configuration)."""
    return _simulate_json((cfg.model_dump_json(),))[0]


def runs(cfgs: list[RunConfig]) -> list[Run]:
    """Several runs in one batched engine call (cached as a group)."""
    return _simulate_json(tuple(c.model_dump_json() for c in cfgs))


@st.cache_data(max_entries=64, show_spinner=False)
def _sweep_json(config: str, lrs: tuple[float, ...]) -> SweepResult:
    return lr_sweep(RunConfig.model_validate_json(config), list(lrs))


def sweep(cfg: RunConfig, lrs) -> SweepResult:
    return _sweep_json(cfg.model_dump_json(), tuple(float(x) for x in lrs))


@st.cache_data(max_entries=128, show_spinner=False)
def _schedule_curve(name: str, lr: float, steps: int,
                    params: tuple[tuple[str, float], ...]) -> np.ndarray:
    return schedule_values(name, lr, steps, **dict(params))


def schedule_curve(name: str, lr: float, steps: int, params: dict[str, float]) -> np.ndarray:
    """The learning rate of each of ``steps`` updates (reduce-on-plateau: its starting rate)."""
    return _schedule_curve(name, float(lr), int(steps), tuple(sorted(params.items())))


@st.cache_data(max_entries=32, show_spinner=False)
def _phase_json(config: str, lrs: tuple[float, ...], kind: str, name: str,
                values: tuple[float, ...]) -> PhaseMap:
    return phase_map(RunConfig.model_validate_json(config), list(lrs), kind, name, list(values))


def phase(cfg: RunConfig, lrs, kind: str, name: str, values) -> PhaseMap:
    """Regimes over learning rate x one parameter, in one vmapped batch (cached)."""
    return _phase_json(cfg.model_dump_json(), tuple(float(x) for x in lrs), kind, name,
                       tuple(float(v) for v in values))


# --- figures ---------------------------------------------------------------------------------

_BUILDERS: dict[str, Callable[..., go.Figure]] = {
    "trajectory": trajectory.trajectory_figure,
    "curves": curves.curves_figure,
}


def _frozen(value):
    return tuple(value) if isinstance(value, list | tuple) else value


# A resource cache: every session shares one read-only spec per figure instead of unpickling
# its own copy. A map spec is ~150 kB, so the cache stays under ~10 MB.
@st.cache_resource(max_entries=64, show_spinner=False)
def _figure_spec(kind: str, configs: tuple[str, ...], options: tuple[tuple[str, object], ...],
                 _runs: tuple[Run, ...]) -> dict:
    figure = _BUILDERS[kind](list(_runs), **{k: list(v) if isinstance(v, tuple) else v
                                             for k, v in options})
    spec = figure.to_dict()
    for trace in spec.get("data", []):  # Plotly's to_json pops it; shared specs stay unedited
        trace.pop("uid", None)
    return spec


class SharedSpecFigure(SpecFigure):
    """A `SpecFigure` over a spec shared by every session (the cache above): ``to_dict()``
    hands out the spec itself instead of a copy.

    ``st.plotly_chart`` only reads what ``to_dict()`` returns (Plotly's ``to_json`` pops each
    trace's ``uid``, which these specs never have), and a copy of an animated map costs more
    than the rest of the chart's trip to the browser. Whoever edits the figure (presenter
    mode resizes it) gets Plotly objects built from a copy first, as with any `SpecFigure`;
    whoever edits the returned dict must copy it (the downloads do)."""

    def to_dict(self) -> dict:
        spec = object.__getattribute__(self, "_spec")
        return spec if spec is not None else super().to_dict()


def _figure(kind: str, shown: Sequence[Run], options: dict) -> go.Figure:
    """The ``kind`` figure of these runs, built once per (runs' configs, options): a run is a
    pure function of its config, so the configs stand for the runs in the cache key."""
    configs = tuple(r.config.model_dump_json() for r in shown)
    key = tuple(sorted((k, _frozen(v)) for k, v in options.items()))
    return SharedSpecFigure.from_json_ready(_figure_spec(kind, configs, key, tuple(shown)))


def trajectory_figure(shown: Sequence[Run], **options) -> go.Figure:
    """`lrviz.figures.trajectory.trajectory_figure`, shared between reruns and sessions.

    A rerun that changes nothing on the map (or comes back to a learning rate seen before, by
    anyone) reuses the finished spec instead of rebuilding the animation frames.
    """
    return _figure("trajectory", shown, options)


def curves_figure(shown: Sequence[Run], **options) -> go.Figure:
    """`lrviz.figures.curves.curves_figure`, shared like `trajectory_figure`."""
    return _figure("curves", shown, options)

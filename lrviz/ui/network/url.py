"""The /network page's URL scheme, both ways, without streamlit (so it is unit-testable).

A /network URL is an optional network ``preset`` plus flat settings: ``dataset``, ``hidden``
(widths such as ``64-32``), ``activation``, ``loss``, ``optimizer`` and its parameters, ``lr``,
``schedule`` and its parameters, ``steps``, ``batch`` (``full`` or a size), ``wd`` (L2 weight
decay), ``seed``, ``sharp`` (measure the sharpness every so many steps), ``view`` (``run``,
``range`` or ``map``), the range test's span (``rt_lo``, ``rt_hi``: log10 rates; ``rt_steps``)
and the trainability map's zoom (``tm_lo1``, ``tm_hi1``, ``tm_lo2``, ``tm_hi2``: log10 rate
ranges of layer 1 and 2; ``tm_n``: grid size; ``tm_steps``). The settings override the
preset's first run. The keys, their types and ranges are rows of `lrviz.ui.url_table`.
`parse_query` never raises: an unusable value becomes a notice naming the parameter and is
listed in ``rejected`` so the page can drop it and show the fallback.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from lrviz.engine.optimizers import get_optimizer
from lrviz.engine.schedules import get_schedule
from lrviz.nets.config import NetConfig
from lrviz.ui import url_table as table
from lrviz.ui.url_table import NETWORK, BadValueError, plain_quote, read_batch, read_hidden

__all__ = ["BadValueError"]

DEFAULT = NetConfig(dataset="moons", hidden=(32,), activation="tanh", optimizer="sgd", lr=0.1,
                    steps=300, sharpness_every=10)


def _span(name: str) -> tuple[float, float]:
    valid = table.row(name, NETWORK).valid
    assert valid is not None
    lo, hi = valid.lo, valid.hi
    return (int(lo), int(hi)) if table.row(name, NETWORK).type == "int" else (lo, hi)


LR_RANGE = _span("lr")
STEPS_RANGE = _span("steps")
WD_RANGE = _span("wd")
SEED_RANGE = _span("seed")
SHARP_RANGE = _span("sharp")
ARCHITECTURES = ("8", "16", "32", "64", "128", "16-16", "32-32", "64-32", "64-64", "128-64",
                 "32-32-32")
BATCHES = ("full", "8", "16", "32", "64", "128", "256")
ACTIVATIONS = table.row("activation", NETWORK).choices()
LOSSES = table.row("loss", NETWORK).choices()
VIEWS = table.row("view", NETWORK).choices()
MAP_SIZES = table.row("tm_n", NETWORK).choices()
MAP_EXP_RANGE = _span("tm_lo1")  # log10 of the rates the map, range test and sweep may span
MAP_DEFAULTS = {"tm_lo1": -3.0, "tm_hi1": 0.5, "tm_lo2": -3.0, "tm_hi2": 0.5, "tm_n": "32",
                "tm_steps": 100, "tm_ex": 0}
MAP_EXAMPLES_RANGE = _span("tm_ex")  # training examples the map uses (0: all)
MAP_STEPS_RANGE = _span("tm_steps")
# The range test's span (log10 rates) and steps, and the sweep's span and number of runs.
RANGE_DEFAULTS = {"rt_lo": -4.0, "rt_hi": 1.0, "rt_steps": 200, "sw_lo": -4.0, "sw_hi": 1.0,
                  "sw_n": 24}
RANGE_STEPS_RANGE = _span("rt_steps")
SWEEP_RANGE = _span("sw_n")
PRESET_VIEWS = {"train": "run", "compare": "run", "range_test": "range", "map": "map"}
GRID_POINTS = 120  # per axis of the decision-boundary grid

# LR log-slider stops: 20 per decade from 1e-5 to 10, 3 significant digits.
LR_OPTIONS: tuple[float, ...] = tuple(float(f"{10 ** (k / 20):.3g}") for k in range(-100, 21))


def net_presets() -> Mapping:
    """The engine's network presets by id (empty if the engine has none yet)."""
    try:
        from lrviz.nets.presets import PRESETS
    except ImportError:  # pragma: no cover - the presets module ships with the engine
        return {}
    return PRESETS


# --- the URL, without streamlit: rows and checks come from `lrviz.ui.url_table` -------------

parse_hidden = read_hidden
parse_batch = read_batch
hidden_text = table.write_hidden
batch_text = table.write_batch


def short(text: str, limit: int = 40) -> str:
    """URL text cut to ``limit`` characters for a notice (shown as plain text, never Markdown)."""
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class NetQuery:
    """What a /network URL asks for, after validation."""

    base: NetConfig  # the preset's first run, or DEFAULT
    config: NetConfig  # base overridden by every usable setting in the URL
    preset: str | None
    view: str
    map_settings: dict = field(default_factory=dict)  # the map's and range test's settings
    view_defaults: dict = field(default_factory=dict)  # what they are without the URL
    notices: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()


GENERAL_KEYS = ("dataset", "hidden", "activation", "loss", "optimizer", "lr", "schedule", "steps",
                "batch", "wd", "seed", "sharp")  # the rows that fill a NetConfig field


def preset_base(preset_id: str | None) -> NetConfig:
    preset = net_presets().get(preset_id or "")
    return preset.config if preset is not None else DEFAULT


def view_defaults(preset_id: str | None) -> dict:
    """The view and the range test's, sweep's and map's settings of a preset (or the page's
    defaults): what the view controls show when the URL does not set them."""
    out = {"view": "run", **MAP_DEFAULTS, **RANGE_DEFAULTS}
    preset = net_presets().get(preset_id or "")
    if preset is None:
        return out
    out["view"] = PRESET_VIEWS.get(preset.view, "run")
    exp = lambda v: round(math.log10(v), 4)  # noqa: E731
    if preset.range_test:
        lo, hi, steps = preset.range_test
        out.update(rt_lo=exp(lo), rt_hi=exp(hi), rt_steps=int(steps), sw_lo=exp(lo),
                   sw_hi=exp(hi))
    if preset.sweep_lrs:
        lo, hi, n = preset.sweep_lrs
        out.update(sw_lo=exp(lo), sw_hi=exp(hi), sw_n=int(n))
    if preset.map_ranges:
        (lo1, hi1), (lo2, hi2), n = preset.map_ranges
        out.update(tm_lo1=exp(lo1), tm_hi1=exp(hi1), tm_lo2=exp(lo2), tm_hi2=exp(hi2),
                   tm_n=str(n), tm_steps=int(preset.config.steps),
                   tm_ex=int(preset.map_examples or 0))
    return out


def config_values(cfg: NetConfig) -> dict[str, object]:
    """Every setting of ``cfg`` by URL key (a parameter of the optimizer or schedule by its
    name)."""
    out: dict[str, object] = {}
    for key in GENERAL_KEYS:
        entry = table.row(key, NETWORK)
        out[key] = getattr(cfg, entry.field or key)
    out.update(cfg.optimizer_values())
    out.update(cfg.schedule_values())
    return out


def _component_defaults(base: NetConfig, kind: str, name: str) -> dict[str, float]:
    """What a parameter control shows: the base's value for the base's component, else the
    registry default (as `network_controls` resets them)."""
    if getattr(base, kind) == name:
        return getattr(base, f"{kind}_values")()
    getter = get_optimizer if kind == "optimizer" else get_schedule
    return getter(name).resolve({})


def page_defaults(base: NetConfig, preset: str | None, optimizer: str, schedule: str) -> dict:
    """What every control of the page shows when the URL leaves it out."""
    return {**config_values(base), **_component_defaults(base, "optimizer", optimizer),
            **_component_defaults(base, "schedule", schedule), **view_defaults(preset)}


def parse_query(params: Mapping[str, str | Sequence[str]],
                live: Collection[str] = ()) -> NetQuery:
    """The settings a /network URL asks for; every unusable value becomes a notice naming its
    parameter (and is listed in ``rejected``), and the fallback is used instead; a key given
    several times keeps its last value, with a notice. Notices are plain text (the page shows
    them with ``st.text``), values quoted with ``repr``. An unknown key in ``live`` (the
    parameter of an optimizer or schedule just switched away from) gets no notice."""
    quote = plain_quote
    single = table.single_values(params, quote=quote)
    params = {k: str(v) for k, v in single.values.items()}
    found = single.report() + table.parse(params, [table.row("preset", NETWORK)], quote=quote)
    preset = str(found.values["preset"]) if "preset" in found.values else None
    base = preset_base(preset)
    defaults = page_defaults(base, preset, base.optimizer, base.schedule)
    names = table.parse(params, [table.row(k, NETWORK) for k in ("optimizer", "schedule")],
                        defaults, quote=quote)
    optimizer = str(names.values.get("optimizer", base.optimizer))
    schedule = str(names.values.get("schedule", base.schedule))
    defaults = page_defaults(base, preset, optimizer, schedule)
    rows = [e for e in table.page_rows(NETWORK, optimizer=optimizer, schedule=schedule)
            if e.name not in ("preset", "optimizer", "schedule")]
    found = found + names + table.parse(params, rows, defaults, quote=quote)
    found = found + table.unknown_keys(params, {e.name for e in rows} | {
        "preset", "optimizer", "schedule"}, quote=quote, sep=":", live=live)
    values = {**defaults, **found.values}
    run_keys = (*GENERAL_KEYS, *_component_defaults(base, "optimizer", optimizer),
                *_component_defaults(base, "schedule", schedule))
    try:
        config = _net_config(values, optimizer, schedule)
    except ValueError as exc:
        first = str(exc).splitlines()
        found = found + table.Parsed({}, (
            "Link: these settings cannot run together ("
            f"{' '.join(first[1:3]).strip() or first[0]}); showing the "
            f"{'preset' if preset else 'default'} settings instead.",),
            tuple(k for k in params if k in run_keys))
        config = base
    view_keys = ("view", *MAP_DEFAULTS, *RANGE_DEFAULTS)
    settings = {k: values[k] for k in view_keys if k != "view"}
    return NetQuery(base, config, preset, str(values["view"]), map_settings=settings,
                    view_defaults=view_defaults(preset), notices=found.notices,
                    rejected=found.rejected)


def _net_config(values: Mapping[str, object], optimizer: str, schedule: str) -> NetConfig:
    """A `NetConfig` from the page's values by URL key."""
    fields: dict[str, object] = {table.row(k, NETWORK).field or k: values[k]
                                 for k in GENERAL_KEYS}
    for kind, spec in (("optimizer", get_optimizer(optimizer)),
                       ("schedule", get_schedule(schedule))):
        fields[f"{kind}_params"] = {p.name: float(values[p.name])  # type: ignore[arg-type]
                                    for p in spec.params}
    return NetConfig(**fields)


def query_params(cfg: NetConfig, preset: str | None = None) -> dict[str, str]:
    """A link that shows exactly this run: the preset, then only the settings that differ from
    what the page shows without them, in table order."""
    base = preset_base(preset)
    defaults = page_defaults(base, preset, cfg.optimizer, cfg.schedule)
    defaults.update(optimizer=base.optimizer, schedule=base.schedule)
    rows = table.page_rows(NETWORK, optimizer=cfg.optimizer, schedule=cfg.schedule)
    out = {} if preset is None else {"preset": preset}
    out.update(table.link_pairs(config_values(cfg), rows, defaults))
    return out

"""The /network page's URL scheme, both ways, without streamlit (so it is unit-testable).

A /network URL is an optional network ``preset`` plus flat settings: ``dataset``, ``hidden``
(widths such as ``64-32``), ``activation``, ``loss``, ``optimizer`` and its parameters, ``lr``,
``schedule`` and its parameters, ``steps``, ``batch`` (``full`` or a size), ``wd`` (L2 weight
decay), ``seed``, ``sharp`` (measure the sharpness every so many steps), ``view`` (``run``,
``range`` or ``map``), the range test's span (``rt_lo``, ``rt_hi``: log10 rates; ``rt_steps``)
and the trainability map's zoom (``tm_lo1``, ``tm_hi1``, ``tm_lo2``, ``tm_hi2``: log10 rate
ranges of layer 1 and 2; ``tm_n``: grid size; ``tm_steps``). The settings override the
preset's first run. `parse_query` never raises: an unusable value becomes a notice naming the
parameter and is listed in ``rejected`` so the page can drop it and show the fallback.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from lrviz.engine.optimizers import OPTIMIZERS, get_optimizer
from lrviz.engine.schedules import SCHEDULES, get_schedule
from lrviz.engine.spec import Param
from lrviz.nets.config import MAX_HIDDEN_LAYERS, MAX_WIDTH, NetConfig
from lrviz.nets.data import DATASETS

DEFAULT = NetConfig(dataset="moons", hidden=(32,), activation="tanh", optimizer="sgd", lr=0.1,
                    steps=300, sharpness_every=10)
LR_RANGE = (1e-5, 10.0)
STEPS_RANGE = (10, 1000)
WD_RANGE = (0.0, 0.1)
SEED_RANGE = (0, 9999)
SHARP_RANGE = (0, 100)
ARCHITECTURES = ("8", "16", "32", "64", "128", "16-16", "32-32", "64-32", "64-64", "128-64",
                 "32-32-32")
BATCHES = ("full", "8", "16", "32", "64", "128", "256")
ACTIVATIONS = ("tanh", "relu")
LOSSES = ("cross_entropy", "mse")
VIEWS = ("run", "range", "map")
MAP_SIZES = ("16", "32", "64", "128")
MAP_EXP_RANGE = (-5.0, 3.0)  # log10 of the rates the map, range test and sweep may span
MAP_DEFAULTS = {"tm_lo1": -3.0, "tm_hi1": 0.5, "tm_lo2": -3.0, "tm_hi2": 0.5, "tm_n": "32",
                "tm_steps": 100, "tm_ex": 0}
MAP_EXAMPLES_RANGE = (0, 2000)  # training examples the map uses (0: all)
MAP_STEPS_RANGE = (10, 500)
# The range test's span (log10 rates) and steps, and the sweep's span and number of runs.
RANGE_DEFAULTS = {"rt_lo": -4.0, "rt_hi": 1.0, "rt_steps": 200, "sw_lo": -4.0, "sw_hi": 1.0,
                  "sw_n": 24}
RANGE_STEPS_RANGE = (20, 1000)
SWEEP_RANGE = (2, 64)
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


# --- the URL, without streamlit -------------------------------------------------------------


class BadValueError(ValueError):
    """A URL value that cannot be used; the message says why."""


def hidden_text(hidden: tuple[int, ...]) -> str:
    return "-".join(str(w) for w in hidden)


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"64-32"`` (or ``"64,32"``) as layer widths; BadValueError says what is wrong."""
    parts = [p for p in text.replace(",", "-").replace("x", "-").split("-")]
    if not 1 <= len(parts) <= MAX_HIDDEN_LAYERS or not all(p.strip().isdigit() for p in parts):
        raise BadValueError(f"expected 1 to {MAX_HIDDEN_LAYERS} layer widths such as 32 or "
                            f"64-32")
    widths = tuple(int(p) for p in parts)
    if not all(1 <= w <= MAX_WIDTH for w in widths):
        raise BadValueError(f"every width must be between 1 and {MAX_WIDTH}")
    return widths


def batch_text(batch_size: int | None) -> str:
    return "full" if batch_size is None else str(batch_size)


def parse_batch(text: str) -> int | None:
    if text == "full":
        return None
    if not text.isdigit() or int(text) < 1:
        raise BadValueError("expected full or a positive whole number")
    return int(text)


def _float(text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadValueError("not a number") from None
    if not math.isfinite(value):
        raise BadValueError("not a finite number")
    if not low <= value <= high:
        raise BadValueError(f"outside the allowed range {low:g} to {high:g}")
    return value


def _int(text: str, low: int, high: int) -> int:
    value = _float(text, low, high)
    if not value.is_integer():
        raise BadValueError("not a whole number")
    return int(value)


def _choice(text: str, options) -> str:
    if text not in options:
        raise BadValueError(f"choose one of {', '.join(options)}")
    return text


def _param(p: Param, text: str) -> float:
    return float(_int(text, int(p.low), int(p.high))) if p.integer else _float(text, p.low,
                                                                               p.high)


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
                "batch", "wd", "seed", "sharp")
OTHER_KEYS = ("preset", "view", *MAP_DEFAULTS, *RANGE_DEFAULTS, "embed", "embed_options")


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


def parse_query(params: Mapping[str, str]) -> NetQuery:
    """The settings a /network URL asks for; every unusable value becomes a notice naming its
    parameter (and is listed in ``rejected``), and the fallback is used instead."""
    notices: list[str] = []
    rejected: list[str] = []

    def bad(key: str, why: str, fallback) -> None:
        notices.append(f"Link: ignored {key}={short(str(params[key]))!r} ({why}); using "
                       f"{key}={fallback}.")
        rejected.append(key)

    preset = params.get("preset")
    if preset is not None and preset not in net_presets():
        notices.append(f"Link: ignored preset={short(preset)!r} (no such network preset; "
                       f"choose one of {', '.join(net_presets()) or 'none'}).")
        rejected.append("preset")
        preset = None
    base = preset_base(preset)
    fields = base.model_dump()
    simple = {
        "dataset": (lambda t: _choice(t, DATASETS), "dataset", base.dataset),
        "hidden": (parse_hidden, "hidden", hidden_text(base.hidden)),
        "activation": (lambda t: _choice(t, ACTIVATIONS), "activation", base.activation),
        "loss": (lambda t: _choice(t, LOSSES), "loss", base.loss),
        "optimizer": (lambda t: _choice(t, tuple(OPTIMIZERS)), "optimizer", base.optimizer),
        "schedule": (lambda t: _choice(t, tuple(SCHEDULES)), "schedule", base.schedule),
        "lr": (lambda t: _float(t, *LR_RANGE), "lr", f"{base.lr:g}"),
        "steps": (lambda t: _int(t, *STEPS_RANGE), "steps", base.steps),
        "batch": (parse_batch, "batch_size", batch_text(base.batch_size)),
        "wd": (lambda t: _float(t, *WD_RANGE), "weight_decay", f"{base.weight_decay:g}"),
        "seed": (lambda t: _int(t, *SEED_RANGE), "seed", base.seed),
        "sharp": (lambda t: _int(t, *SHARP_RANGE), "sharpness_every", base.sharpness_every),
    }
    for key, (parse, name, fallback) in simple.items():
        if key in params:
            try:
                fields[name] = parse(str(params[key]))
            except BadValueError as why:
                bad(key, str(why), fallback)
    if fields["optimizer"] != base.optimizer:
        fields["optimizer_params"] = {}
    if fields["schedule"] != base.schedule:
        fields["schedule_params"] = {}
    owned = {p.name: ("optimizer_params", p) for p in get_optimizer(fields["optimizer"]).params}
    owned.update({p.name: ("schedule_params", p)
                  for p in get_schedule(fields["schedule"]).params})
    for key, (group, p) in owned.items():
        if key in params:
            try:
                fields[group] = {**fields[group], key: _param(p, str(params[key]))}
            except BadValueError as why:
                bad(key, str(why), f"{p.default:g}")
    for key in params:
        if key not in (*GENERAL_KEYS, *OTHER_KEYS, *owned):
            notices.append(f"Link: ignored unknown parameter {short(key)!r}: this page has no "
                           "such setting.")
            rejected.append(key)
    try:
        config = NetConfig(**fields)
    except ValueError as exc:
        first = str(exc).splitlines()
        notices.append("Link: these settings cannot run together ("
                       f"{' '.join(first[1:3]).strip() or first[0]}); showing the "
                       f"{'preset' if preset else 'default'} settings instead.")
        rejected += [k for k in params if k in (*GENERAL_KEYS, *owned)]
        config = base
    defaults = view_defaults(preset)
    view = params.get("view", defaults["view"])
    if view not in VIEWS:
        bad("view", f"choose one of {', '.join(VIEWS)}", defaults["view"])
        view = defaults["view"]
    settings = {k: v for k, v in defaults.items() if k != "view"}
    for key, default in list(settings.items()):
        if key not in params:
            continue
        try:
            settings[key] = _view_value(key, str(params[key]))
        except BadValueError as why:
            bad(key, str(why), default)
    return NetQuery(base, config, preset, view, map_settings=settings, view_defaults=defaults,
                    notices=tuple(notices), rejected=tuple(rejected))


def _view_value(key: str, text: str) -> float | int | str:
    """One setting of the range test, sweep or map, validated."""
    if key == "tm_n":
        return _choice(text, MAP_SIZES)
    integers = {"tm_steps": MAP_STEPS_RANGE, "rt_steps": RANGE_STEPS_RANGE,
                "sw_n": SWEEP_RANGE, "tm_ex": MAP_EXAMPLES_RANGE}
    if key in integers:
        return _int(text, *integers[key])
    return _float(text, *MAP_EXP_RANGE)


def query_params(cfg: NetConfig, preset: str | None = None) -> dict[str, str]:
    """Every setting of ``cfg`` as URL parameters (a link that shows exactly this run)."""
    out = {} if preset is None else {"preset": preset}
    out.update({"dataset": cfg.dataset, "hidden": hidden_text(cfg.hidden),
                "activation": cfg.activation, "loss": cfg.loss, "optimizer": cfg.optimizer,
                "lr": f"{cfg.lr:g}", "schedule": cfg.schedule, "steps": str(cfg.steps),
                "batch": batch_text(cfg.batch_size), "wd": f"{cfg.weight_decay:g}",
                "seed": str(cfg.seed), "sharp": str(cfg.sharpness_every)})
    for values in (cfg.optimizer_values(), cfg.schedule_values()):
        out.update({k: f"{v:g}" for k, v in values.items()})
    return out

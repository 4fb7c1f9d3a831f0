"""The lab's URL scheme, both ways, without streamlit (so it is unit-testable).

A lab URL is a preset (optional) plus flat settings: ``surface``, ``optimizer``, ``lr``,
``schedule``, ``steps``, ``x0``, ``y0``, the parameter names of the chosen surface, optimizer and
schedule, ``noise`` and ``seed``, plus view switches. The settings override the preset's first
run. Pinned runs travel as ``pins`` values, each a compact ``key:value,key:value`` string; with a
preset and no ``pins`` the preset's other runs are pinned.

`parse_lab_query` never raises: a value it cannot use is reported in ``notices`` (naming the
parameter) and listed in ``rejected`` so that the page can drop it and show the default instead.
Every number is range-checked here, before any widget sees it (Streamlit's own URL seeding of an
integer input raises OverflowError on ``inf``). A key given several times keeps its last value
(as Streamlit's widgets do) and says so. Notices are Markdown written by the app; every URL
value or key in them is quoted with `lrviz.ui.safe_text.shown` (escaped, cut), so none of it
can become markup.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from lrviz.engine.config import RunConfig
from lrviz.engine.optimizers import OPTIMIZERS, get_optimizer
from lrviz.engine.presets import PRESETS, Preset
from lrviz.engine.schedules import SCHEDULES, get_schedule
from lrviz.engine.spec import Param
from lrviz.engine.surfaces import SURFACES, get_surface
from lrviz.figures.labels import describe
from lrviz.ui.safe_text import clean_label, md, shown

LR_RANGE = (1e-5, 10.0)
STEPS_RANGE = (10, 2000)
NOISE_RANGE = (0.0, 3.0)
SEED_RANGE = (0, 2**31 - 1)
MAX_PINS = 4
NO_PINS = "none"  # ``pins=none``: explicitly no pinned runs (overrides a preset's)
VIEW_KEYS = ("view3d",)
IGNORED_KEYS = ("embed", "embed_options",  # Streamlit's own parameters
                "present")  # presenter mode, read by lrviz.ui.presenter on any page
DEFAULT_CONFIG = RunConfig()


def normalized(cfg: RunConfig) -> RunConfig:
    """``cfg`` with the start point and every parameter written out (equal runs compare equal)."""
    return cfg.with_(start=cfg.start_point, surface_params=cfg.surface_values(),
                     optimizer_params=cfg.optimizer_values(),
                     schedule_params=cfg.schedule_values())


def _num(value: float) -> str:
    """Numbers as Streamlit writes them into the URL: 5.0 -> "5", 0.01 -> "0.01"."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def config_params(cfg: RunConfig, *, with_noise: bool = True) -> dict[str, str]:
    """Every setting of ``cfg`` as URL parameters, in the order of DESIGN.md's example.

    All parameters of the chosen surface, optimizer and schedule are written (resolved), so the
    URL reproduces the run whatever preset or defaults the reader starts from.
    """
    x0, y0 = cfg.start_point
    out = {"surface": cfg.surface, "optimizer": cfg.optimizer, "lr": _num(cfg.lr),
           "schedule": cfg.schedule, "steps": str(cfg.steps), "x0": _num(x0), "y0": _num(y0)}
    for values in (cfg.surface_values(), cfg.optimizer_values(), cfg.schedule_values()):
        out.update({k: _num(v) for k, v in values.items()})
    if with_noise or cfg.noise > 0:
        out["noise"] = _num(cfg.noise)
        out["seed"] = str(cfg.seed)
    return out


def encode_pin(cfg: RunConfig, label: str | None = None) -> str:
    """A pinned run as one compact URL value: ``surface:ravine,optimizer:sgd,lr:0.09,...``.

    A label travels last, with the separators ``,`` and ``:`` replaced by ``;`` and ``=``.
    """
    text = ",".join(f"{k}:{v}" for k, v in config_params(cfg, with_noise=False).items())
    if label:
        text += ",label:" + label.replace(",", ";").replace(":", "=")
    return text


@dataclass(frozen=True)
class Pin:
    """A pinned run: its own settings and the label the legend shows."""

    label: str
    config: RunConfig


@dataclass(frozen=True)
class LabQuery:
    """What a lab URL asks for, after validation."""

    base: RunConfig  # the preset's first run, or the default settings
    config: RunConfig  # base overridden by every valid setting in the URL
    preset: Preset | None
    pins: tuple[Pin, ...]
    pins_explicit: bool  # the URL had ``pins`` (else the preset's other runs are pinned)
    view3d: bool
    notices: tuple[str, ...]
    rejected: tuple[str, ...]  # URL keys whose value was unusable (the page drops them)
    repair_pins: bool = False  # some pinned run had unusable values: rewrite ``pins``


def _last(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else (str(value[-1]) if len(value) else "")


def single_values(params: Mapping[str, str | Sequence[str]], notices: list[str],
                  repeatable: Collection[str] = ()) -> dict[str, str]:
    """One value per key (the last, as Streamlit's widgets read it); a key given several times
    outside ``repeatable`` gets a notice saying which value is used."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if key in repeatable:
            continue
        out[key] = _last(value)
        if not isinstance(value, str) and len(value) > 1:
            notices.append(f"Link: {shown(key)} was given {len(value)} times; using the last "
                           f"value, {shown(out[key])}.")
    return out


def _all(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


class _BadValueError(ValueError):
    """A URL value that cannot be used; the message says why."""


def _float(text: str, low: float, high: float) -> float:
    if not text.strip():
        raise _BadValueError("empty")
    try:
        value = float(text)
    except (ValueError, OverflowError):
        raise _BadValueError("not a number") from None
    if not math.isfinite(value):
        raise _BadValueError("not a finite number")
    if not low <= value <= high:
        raise _BadValueError(f"outside the allowed range {_num(low)} … {_num(high)}")
    return value


def _int(text: str, low: int, high: int) -> int:
    value = _float(text, low, high)
    if not value.is_integer():
        raise _BadValueError("not a whole number")
    return int(value)


def _param(p: Param, text: str) -> float:
    return float(_int(text, int(p.low), int(p.high))) if p.integer else _float(text, p.low,
                                                                               p.high)


def start_range(surface: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where a start point may lie: the plotted domain of the surface."""
    return get_surface(surface).domain


def general_value(key: str, text: str, surface: str) -> float | int:
    """Validate one of the numeric settings that every lab view has."""
    if key == "lr":
        return _float(text, *LR_RANGE)
    if key == "steps":
        return _int(text, *STEPS_RANGE)
    if key in ("x0", "y0"):
        lo, hi = start_range(surface)[0 if key == "x0" else 1]
        return _float(text, lo, hi)
    if key == "noise":
        return _float(text, *NOISE_RANGE)
    if key == "seed":
        return _int(text, *SEED_RANGE)
    raise KeyError(key)


GENERAL_NUMERIC = ("lr", "steps", "x0", "y0", "noise", "seed")
NAMES = {"surface": SURFACES, "optimizer": OPTIMIZERS, "schedule": SCHEDULES}


def spec_of(kind: str, name: str):
    """The registry entry (surface, optimizer or schedule spec) of one component."""
    return {"surface": get_surface, "optimizer": get_optimizer, "schedule": get_schedule}[kind](
        name)


def component_params(surface: str, optimizer: str, schedule: str) -> dict[str, tuple[str, Param]]:
    """URL key -> (kind, Param) for the parameters of the chosen components."""
    out: dict[str, tuple[str, Param]] = {}
    for kind, spec in (("surface", get_surface(surface)), ("optimizer", get_optimizer(optimizer)),
                       ("schedule", get_schedule(schedule))):
        for p in spec.params:
            out[p.name] = (kind, p)
    return out


@dataclass(frozen=True)
class Scope:
    """Which shared settings a page has controls for, and its own extra URL keys."""

    components: tuple[str, ...] = ("surface", "optimizer", "schedule")
    general: tuple[str, ...] = GENERAL_NUMERIC
    extra: tuple[str, ...] = (*VIEW_KEYS, "preset", "pins")


LAB_SCOPE = Scope()


def _settings(params: Mapping[str, str], base: RunConfig, where: str,
              notices: list[str], rejected: list[str], scope: Scope = LAB_SCOPE,
              live: Collection[str] = ()) -> RunConfig:
    """``base`` overridden by the usable values of ``params`` (each problem noted).

    Keys in ``live`` belong to controls that already hold a value in this session: the control
    rewrites the URL after this rerun, so an unusable URL value of theirs (a stale ``x0`` from
    the previous surface, say) is dropped without a notice.
    """

    def bad(key: str, text: str, why: str, fallback: str) -> None:
        rejected.append(key)
        if key not in live:
            notices.append(f"{where}: ignored {key}={shown(text)} ({why}); using {fallback}.")

    names = {}
    for kind, registry in NAMES.items():
        text = params.get(kind) if kind in scope.components else None
        if text is None:
            continue
        if text in registry:
            names[kind] = text
        else:
            bad(kind, text, f"unknown {kind}; choose one of {', '.join(registry)}",
                f"{getattr(base, kind)}")
    cfg = base.with_(**names) if names else base
    if "surface" in names and names["surface"] != base.surface:
        cfg = cfg.with_(start=None)  # the base start belongs to another surface
    general: dict[str, float] = {}
    for key in scope.general:
        if key in params:
            try:
                general[key] = general_value(key, params[key], cfg.surface)
            except _BadValueError as why:
                current = {"lr": cfg.lr, "steps": cfg.steps, "x0": cfg.start_point[0],
                           "y0": cfg.start_point[1], "noise": cfg.noise, "seed": cfg.seed}[key]
                bad(key, params[key], str(why), f"{key}={_num(current)}")
    owned = {k: v for k, v in component_params(cfg.surface, cfg.optimizer, cfg.schedule).items()
             if v[0] in scope.components}
    changes: dict[str, dict[str, float]] = {"surface": {}, "optimizer": {}, "schedule": {}}
    for key, (kind, p) in owned.items():
        if key in params:
            try:
                changes[kind][key] = _param(p, params[key])
            except _BadValueError as why:
                current = getattr(cfg, f"{kind}_values")()[key]
                bad(key, params[key], str(why), f"{key}={_num(current)}")
    known = {*scope.components, *scope.general, *owned, *scope.extra, *IGNORED_KEYS}
    chosen = ", ".join(f"{kind} {getattr(cfg, kind)}" for kind in scope.components)
    for key in params:
        if key not in known:
            notices.append(f"{where}: ignored unknown parameter {shown(key)} — this page has no "
                           f"such setting (chosen: {chosen}).")
            rejected.append(key)
    start = cfg.start_point
    start = (general.get("x0", start[0]), general.get("y0", start[1]))
    try:
        return normalized(cfg.with_(
            lr=general.get("lr", cfg.lr), steps=int(general.get("steps", cfg.steps)),
            start=start, noise=general.get("noise", cfg.noise),
            seed=int(general.get("seed", cfg.seed)),
            surface_params={**cfg.surface_params, **changes["surface"]},
            optimizer_params={**cfg.optimizer_params, **changes["optimizer"]},
            schedule_params={**cfg.schedule_params, **changes["schedule"]},
        ))
    except ValueError as why:  # each value is in range, but the engine refuses the combination
        dropped = [*general, *changes["surface"], *changes["optimizer"], *changes["schedule"]]
        notices.append(f"{where}: these settings cannot run together ({md(str(why))}); using the "
                       f"defaults for {', '.join(dropped)}.")
        rejected.extend(dropped)
        return normalized(cfg)


def decode_pin(text: str, index: int, notices: list[str]) -> Pin | None:
    """One ``pins`` value back into a run (None, with a notice, when it is unusable)."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition(":")
        if not sep or not key:
            notices.append(f"Link: ignored pinned run {index + 1} ({shown(text)}): expected "
                           f"key:value pairs separated by commas.")
            return None
        fields[key.strip()] = value.strip()
    label = clean_label(fields.pop("label", ""))
    problems: list[str] = []
    cfg = _settings(fields, DEFAULT_CONFIG, f"Pinned run {index + 1}", problems, [])
    notices.extend(problems)
    return Pin(label or describe(cfg), cfg)


def preset_pins(preset: Preset) -> tuple[Pin, ...]:
    return tuple(Pin(r.label, r.config) for r in preset.runs[1:])


def parse_lab_query(params: Mapping[str, str | Sequence[str]],
                    live: Collection[str] = ()) -> LabQuery:
    """Validate a lab URL's parameters (``st.query_params.to_dict()``-like, lists allowed).

    ``live``: keys whose controls already hold a value this session (see `_settings`).
    """
    notices: list[str] = []
    rejected: list[str] = []
    single = single_values(params, notices, repeatable=("pins",))
    preset = None
    if "preset" in single:
        preset = PRESETS.get(single["preset"])
        if preset is None:
            notices.append(f"Link: ignored preset={shown(single['preset'])} (unknown preset; "
                           f"available: {', '.join(PRESETS)}); showing the default settings.")
            rejected.append("preset")
    base = preset.config if preset is not None else DEFAULT_CONFIG
    config = _settings(single, base, "Link", notices, rejected, live=live)
    view3d = single.get("view3d", "false").lower() == "true"
    if "view3d" in single and single["view3d"].lower() not in ("true", "false"):
        if "view3d" not in live:
            notices.append(f"Link: ignored view3d={shown(single['view3d'])} (expected true or "
                           f"false).")
        rejected.append("view3d")
    pins_explicit = "pins" in params
    before = len(notices)
    if pins_explicit:
        values = [v for v in _all(params["pins"]) if v and v != NO_PINS]
        decoded = [decode_pin(v, i, notices) for i, v in enumerate(values)]
        pins = tuple(p for p in decoded if p is not None)
        if len(pins) > MAX_PINS:
            notices.append(f"Link: only the first {MAX_PINS} pinned runs are kept.")
            pins = pins[:MAX_PINS]
    else:
        pins = preset_pins(preset) if preset is not None else ()
    repair = pins_explicit and len(notices) > before
    return LabQuery(base, config, preset, pins, pins_explicit, view3d, tuple(notices),
                    tuple(dict.fromkeys(rejected)), repair)


def component_defaults(base: RunConfig, kind: str, name: str) -> dict[str, float]:
    """Parameters a control shows for component ``name``: the base's while it is the base's
    component, else the component's own defaults."""
    if getattr(base, kind) == name:
        return getattr(base, f"{kind}_values")()
    return spec_of(kind, name).resolve({})


def start_default(base: RunConfig, surface: str) -> tuple[float, float]:
    """The base start on the base surface, else the surface's own first start."""
    return base.start_point if base.surface == surface else get_surface(surface).default_start


def widget_defaults(base: RunConfig, surface: str, optimizer: str,
                    schedule: str) -> dict[str, float | int | str]:
    """What each lab control shows when the URL does not set it.

    That is the base (preset) setting while the component is the base's, else the component's
    own defaults; the URL then only needs the settings that differ from the base.
    """
    cfg = base.with_(surface=surface, optimizer=optimizer, schedule=schedule)
    if surface != base.surface:
        cfg = cfg.with_(start=None)
    x0, y0 = cfg.start_point
    out: dict[str, float | int | str] = {
        "surface": surface, "optimizer": optimizer, "schedule": schedule, "lr": cfg.lr,
        "steps": cfg.steps, "x0": x0, "y0": y0, "noise": cfg.noise, "seed": cfg.seed,
    }
    for values in (cfg.surface_values(), cfg.optimizer_values(), cfg.schedule_values()):
        out.update(values)
    return out


def share_query(preset: Preset | None, config: RunConfig, pins: Sequence[Pin],
                pins_explicit: bool, view3d: bool = False) -> str:
    """The lab URL (path and query) that reproduces this exact view, every setting written."""
    query: list[tuple[str, str]] = [("preset", preset.id)] if preset is not None else []
    query += list(config_params(config, with_noise=preset is not None).items())
    if pins_explicit or preset is None:
        query += [("pins", encode_pin(p.config, p.label)) for p in pins]
        if not pins and preset is not None and len(preset.runs) > 1:
            query.append(("pins", NO_PINS))
    if view3d:
        query.append(("view3d", "true"))
    return "/lab?" + urlencode(query, safe=":,=;")


# --- the other lab pages: shared settings plus their own keys -----------------------------------

def choice(options: Sequence[str]):
    """A check: the value must be one of ``options``."""
    def check(text: str) -> str:
        if text not in options:
            raise _BadValueError(f"choose one of {', '.join(options)}")
        return text
    return check


def number(low: float, high: float, integer: bool = False):
    """A check: a (whole) number in ``[low, high]``."""
    def check(text: str) -> float:
        return float(_int(text, int(low), int(high))) if integer else _float(text, low, high)
    return check


def param_check(p: Param):
    return number(p.low, p.high, p.integer)


def check_page_query(params: Mapping[str, str | Sequence[str]], base: RunConfig, scope: Scope,
                     checks: Mapping[str, object],
                     lists: Mapping[str, Sequence[str]] | None = None,
                     live: Collection[str] = (),
                     ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Notices and rejected keys for a page's URL: the shared settings in ``scope`` are checked
    as on the lab, ``checks`` maps each extra key to a check, ``lists`` maps repeatable keys to
    their allowed values; ``live`` as in `parse_lab_query`."""
    notices: list[str] = []
    rejected: list[str] = []
    lists = dict(lists or {})
    single = single_values(params, notices, repeatable=lists)
    _settings(single, base, "Link", notices, rejected,
              Scope(scope.components, scope.general, (*scope.extra, *checks, *lists)), live)
    for key, check in checks.items():
        if key in single:
            try:
                check(single[key])
            except _BadValueError as why:
                if key not in live:
                    notices.append(f"Link: ignored {key}={shown(single[key])} ({why}); using "
                                   f"the default.")
                rejected.append(key)
    for key, allowed in lists.items():
        if key in params and key not in live:
            values = _all(params[key])
            bad = [v for v in values if v not in allowed]
            if bad:
                notices.append(f"Link: ignored {key}={', '.join(map(shown, bad[:5]))} (choose "
                               f"from {', '.join(allowed)}).")
                if len(bad) == len(values):  # else the widget keeps the valid choices itself
                    rejected.append(key)
            elif len(set(values)) < len(values):
                notices.append(f"Link: {key} lists the same choice twice; each is used once.")
    return tuple(notices), tuple(dict.fromkeys(rejected))


def check_plain_query(params: Mapping[str, str | Sequence[str]], known: Collection[str],
                      checks: Mapping[str, object] | None = None,
                      live: Collection[str] = ()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Notices and rejected keys for a page without lab settings (home, lessons, glossary,
    quiz, flashcards, progress): ``known`` are its URL keys (their own widgets or pickers check
    the values, unless ``checks`` maps a key to a check here); anything else is reported."""
    notices: list[str] = []
    rejected: list[str] = []
    single = single_values(params, notices)
    for key, text in single.items():
        if key not in known and key not in IGNORED_KEYS:
            notices.append(f"Link: ignored unknown parameter {shown(key)} — this page has no "
                           f"such setting.")
            rejected.append(key)
        elif key in (checks or {}) and key not in live:
            try:
                checks[key](text)
            except _BadValueError as why:
                notices.append(f"Link: ignored {key}={shown(text)} ({why}); using the "
                               f"default.")
                rejected.append(key)
    return tuple(notices), tuple(dict.fromkeys(rejected))

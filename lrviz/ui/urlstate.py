"""The lab pages' URLs, both ways, without streamlit (so they are unit-testable).

A lab URL is a preset (optional) plus flat settings: ``surface``, ``optimizer``, ``lr``,
``schedule``, ``steps``, ``x0``, ``y0``, the parameter names of the chosen surface, optimizer and
schedule, ``noise`` and ``seed``, plus view switches. The settings override the preset's first
run. Pinned runs travel as ``pins`` values, each a compact ``key:value,key:value`` string; with a
preset and no ``pins`` the preset's other runs are pinned. /schedules, /race and /finder read
the subset of these settings their page has, plus their own keys.

Which keys exist, their types and ranges is declared once, in `lrviz.ui.url_table`; this
module turns those rows into a `RunConfig`. `parse_lab_query` and `check_page_query` never
raise: a value they cannot use is reported in ``notices`` (naming the parameter) and listed in
``rejected`` so that the page can drop it and show the default instead. Every number is
range-checked before any widget sees it (Streamlit's own URL seeding of an integer input raises
OverflowError on ``inf``). A key given several times keeps its last value (as Streamlit's
widgets do) and says so. Notices are Markdown written by the app; every URL value or key in
them is quoted with `lrviz.ui.safe_text.shown` (escaped, cut), so none of it can become markup.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from lrviz.engine.config import RunConfig
from lrviz.engine.presets import PRESETS, Preset
from lrviz.engine.registry import get_entry
from lrviz.engine.surfaces import get_surface
from lrviz.figures.labels import describe
from lrviz.ui import url_table as table
from lrviz.ui.safe_text import clean_label, md, shown
from lrviz.ui.url_table import (
    COMPONENTS,
    LAB,
    MAX_PINS,
    NO_PINS,
    Parsed,
    row,
)


def _span(name: str) -> tuple[float, float]:
    valid = row(name, LAB).valid
    assert valid is not None
    return valid.lo, valid.hi


LR_RANGE = _span("lr")
STEPS_RANGE = tuple(int(v) for v in _span("steps"))
NOISE_RANGE = _span("noise")
SEED_RANGE = tuple(int(v) for v in _span("seed"))
GENERAL_NUMERIC = ("lr", "steps", "x0", "y0", "noise", "seed")  # the numbers of a RunConfig
DEFAULT_CONFIG = RunConfig()


def normalized(cfg: RunConfig) -> RunConfig:
    """``cfg`` with the start point and every parameter written out (equal runs compare equal)."""
    return cfg.with_(start=cfg.start_point, surface_params=cfg.surface_values(),
                     optimizer_params=cfg.optimizer_values(),
                     schedule_params=cfg.schedule_values())


def config_values(cfg: RunConfig) -> dict[str, object]:
    """Every setting of ``cfg`` by URL key (the start as x0/y0, each parameter by its name)."""
    x0, y0 = cfg.start_point
    out: dict[str, object] = {"surface": cfg.surface, "optimizer": cfg.optimizer, "lr": cfg.lr,
                              "schedule": cfg.schedule, "steps": cfg.steps, "x0": x0, "y0": y0,
                              "noise": cfg.noise, "seed": cfg.seed}
    for values in (cfg.surface_values(), cfg.optimizer_values(), cfg.schedule_values()):
        out.update(values)
    return out


def run_rows(page: str, surface: str, optimizer: str, schedule: str) -> tuple[table.Entry, ...]:
    """The rows of ``page`` that set a run: its component choices, numbers and parameters."""
    kinds = COMPONENTS[page]
    return tuple(e for e in table.page_rows(page, surface, optimizer, schedule)
                 if e.name in kinds or e.name in GENERAL_NUMERIC or e.owner)


def config_params(cfg: RunConfig, *, with_noise: bool = True) -> dict[str, str]:
    """Every setting of ``cfg`` as URL parameters, in table order (a pinned run's value)."""
    values = config_values(cfg)
    if not with_noise and cfg.noise == 0:
        values = {k: v for k, v in values.items() if k not in ("noise", "seed")}
    return dict(table.link_pairs(values, run_rows(LAB, cfg.surface, cfg.optimizer,
                                                  cfg.schedule), {}))


def encode_pin(cfg: RunConfig, label: str | None = None) -> str:
    """A pinned run as one compact URL value: ``surface:ravine,optimizer:sgd,lr:0.09,...``.

    Every setting is written (a pin is a whole run, whatever the page's base). A label travels
    last, with the separators ``,`` and ``:`` replaced by ``;`` and ``=``.
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
    present: bool = False  # presenter mode (``present=1``)


def spec_of(kind: str, name: str):
    """The registry entry (surface, optimizer or schedule spec) of one component."""
    return get_entry(kind, name)


def start_range(surface: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where a start point may lie: the plotted domain of the surface."""
    return get_surface(surface).domain


def component_params(surface: str, optimizer: str, schedule: str) -> dict[str, tuple[str, object]]:
    """URL key -> (kind, Param) for the parameters of the chosen components."""
    out: dict[str, tuple[str, object]] = {}
    for kind, name in (("surface", surface), ("optimizer", optimizer), ("schedule", schedule)):
        out.update({p.name: (kind, p) for p in spec_of(kind, name).params})
    return out


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
    x0, y0 = start_default(base, surface)
    out: dict[str, float | int | str] = {
        "surface": surface, "optimizer": optimizer, "schedule": schedule, "lr": base.lr,
        "steps": base.steps, "x0": x0, "y0": y0, "noise": base.noise, "seed": base.seed,
    }
    for kind, name in (("surface", surface), ("optimizer", optimizer), ("schedule", schedule)):
        out.update(component_defaults(base, kind, name))
    return out


def _config(values: Mapping[str, object]) -> RunConfig:
    """A normalized `RunConfig` from every setting by URL key (as `config_values` gives)."""
    names = {kind: str(values[kind]) for kind in ("surface", "optimizer", "schedule")}
    params = {kind: {p.name: float(values[p.name]) for p in spec_of(kind, name).params}
              for kind, name in names.items()}
    return normalized(RunConfig(
        **names, lr=float(values["lr"]), steps=int(values["steps"]),
        start=(float(values["x0"]), float(values["y0"])), noise=float(values["noise"]),
        seed=int(values["seed"]), surface_params=params["surface"],
        optimizer_params=params["optimizer"], schedule_params=params["schedule"]))


@dataclass(frozen=True)
class Settings:
    """A page's run settings read from its URL."""

    config: RunConfig
    parsed: Parsed  # values by URL key, notices, rejected keys
    known: frozenset[str]  # every key of the page's rows for the chosen components


def read_settings(params: Mapping[str, str], base: RunConfig, page: str = LAB, *,
                  where: str = "Link", live: Collection[str] = ()) -> Settings:
    """``base`` overridden by the usable run settings in ``params`` (one text per key).

    The page's component choices are read first (an unknown one keeps the base's); they decide
    the start range and which parameters exist. Every setting the URL leaves out shows what
    its control shows (`widget_defaults`). Keys in ``live`` belong to controls that already
    hold a value this session: the control rewrites the URL after this rerun, so an unusable
    URL value of theirs (a stale ``x0`` from the previous surface, say) is dropped without a
    notice.
    """
    kinds = COMPONENTS[page]
    names = table.parse(params, [row(k, page) for k in kinds],
                        {k: getattr(base, k) for k in kinds}, where=where, live=live)
    chosen = {k: str(names.values.get(k, getattr(base, k)))
              for k in ("surface", "optimizer", "schedule")}
    defaults = widget_defaults(base, **chosen)
    rows = [e for e in run_rows(page, **chosen) if e.name not in kinds]
    numbers = table.parse(params, rows, defaults, where=where, live=live)
    known = frozenset(e.name for e in table.page_rows(page, **chosen))
    try:
        config = _config({**defaults, **numbers.values})
    except ValueError as why:  # each value is in range, but the engine refuses the combination
        dropped = tuple(numbers.values)
        notice = (f"{where}: these settings cannot run together ({md(str(why))}); using the "
                  f"defaults for {', '.join(dropped)}.")
        return Settings(_config(defaults), names + numbers + Parsed({}, (notice,), dropped),
                        known)
    return Settings(config, names + numbers, known)


def decode_pin(text: str, index: int) -> tuple[Pin | None, tuple[str, ...]]:
    """One ``pins`` value back into a run, and the notices about it (None when unusable)."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition(":")
        if not sep or not key:
            return None, (f"Link: ignored pinned run {index + 1} ({shown(text)}): "
                          "expected key:value pairs separated by commas.",)
        fields[key.strip()] = value.strip()
    label = clean_label(fields.pop("label", ""))
    where = f"Pinned run {index + 1}"
    settings = read_settings(fields, DEFAULT_CONFIG, where=where)
    cfg = settings.config
    chosen = ", ".join(f"{kind} {getattr(cfg, kind)}" for kind in COMPONENTS[LAB])
    unknown = table.unknown_keys(fields, settings.known, where=where, chosen=chosen)
    return Pin(label or describe(cfg), cfg), settings.parsed.notices + unknown.notices


def preset_pins(preset: Preset) -> tuple[Pin, ...]:
    return tuple(Pin(r.label, r.config) for r in preset.runs[1:])


def _pins(values: Sequence[str]) -> tuple[tuple[Pin, ...], tuple[str, ...]]:
    """The usable pinned runs (at most `MAX_PINS`) and the notices about the others."""
    pins: list[Pin] = []
    notices: list[str] = []
    for i, text in enumerate(v for v in values if v and v != NO_PINS):
        pin, problems = decode_pin(text, i)
        notices.extend(problems)
        if pin is not None:
            pins.append(pin)
    if len(pins) > MAX_PINS:
        notices.append(f"Link: only the first {MAX_PINS} pinned runs are kept.")
    return tuple(pins[:MAX_PINS]), tuple(notices)


def parse_lab_query(params: Mapping[str, str | Sequence[str]],
                    live: Collection[str] = ()) -> LabQuery:
    """Validate a lab URL's parameters (``st.query_params.to_dict()``-like, lists allowed).

    ``live``: keys whose controls already hold a value this session (see `read_settings`).
    """
    single = table.single_values(params, repeatable=("pins",))
    text = single.values
    switches = table.parse(text, [row(k, LAB) for k in ("preset", "view3d", "present")],
                           live=live)
    preset = PRESETS.get(str(switches.values.get("preset", "")))
    base = preset.config if preset is not None else DEFAULT_CONFIG
    settings = read_settings(text, base, LAB, live=live)
    chosen = ", ".join(f"{kind} {getattr(settings.config, kind)}" for kind in COMPONENTS[LAB])
    unknown = table.unknown_keys(text, settings.known, chosen=chosen, live=live)
    pins_explicit = "pins" in params
    if pins_explicit:
        pins, pin_notices = _pins(table.all_values(params["pins"]))
    else:
        pins, pin_notices = (preset_pins(preset) if preset is not None else ()), ()
    found = single.report() + switches + settings.parsed + unknown
    return LabQuery(base, settings.config, preset, pins, pins_explicit,
                    bool(switches.values.get("view3d", False)), found.notices + pin_notices,
                    found.rejected, bool(pin_notices),
                    bool(switches.values.get("present", False)))


def config_pairs(config: RunConfig, base: RunConfig = DEFAULT_CONFIG) -> list[tuple[str, str]]:
    """The settings of ``config`` that differ from what the lab shows with base settings
    ``base`` (the preset's first run, or the defaults), in table order."""
    defaults = {**widget_defaults(base, config.surface, config.optimizer, config.schedule),
                **{kind: getattr(base, kind) for kind in COMPONENTS[LAB]}}
    rows = run_rows(LAB, config.surface, config.optimizer, config.schedule)
    return table.link_pairs(config_values(config), rows, defaults)


def share_pairs(preset: Preset | None, config: RunConfig, pins: Sequence[Pin] = (),
                pins_explicit: bool = False, view3d: bool = False) -> list[tuple[str, str]]:
    """The (key, value) pairs of a lab link that reproduces this view: the preset, then only
    the settings that differ from what the lab shows without them, in table order."""
    query: list[tuple[str, str]] = [("preset", preset.id)] if preset is not None else []
    query += config_pairs(config, preset.config if preset is not None else DEFAULT_CONFIG)
    if pins_explicit or preset is None:
        query += [("pins", encode_pin(p.config, p.label)) for p in pins]
        if not pins and preset is not None and len(preset.runs) > 1:
            query.append(("pins", NO_PINS))
    if view3d:
        query.append(("view3d", "true"))
    return query


def share_query(preset: Preset | None, config: RunConfig, pins: Sequence[Pin],
                pins_explicit: bool, view3d: bool = False) -> str:
    """The lab URL (path and query) that reproduces this exact view."""
    return "/lab?" + urlencode(share_pairs(preset, config, pins, pins_explicit, view3d),
                               safe=":,=;")


# --- the other pages: shared settings plus their own keys ---------------------------------------


def _slots(text: Mapping[str, str]) -> dict[int, str]:
    """The /schedules slots the URL chooses (an unusable choice keeps the slot's default)."""
    out = {}
    for i in table.SLOTS:
        entry = row(f"s{i}", table.SCHEDULES_PAGE)
        name = text.get(entry.name, entry.default)
        out[i] = name if name in entry.choices() else str(entry.default)
    return out


def check_page_query(page: str, params: Mapping[str, str | Sequence[str]], base: RunConfig,
                     live: Collection[str] = ()) -> Parsed:
    """Notices and rejected keys for the URL of /schedules, /race or /finder: the run settings
    the page has are checked as on the lab, then its own rows (``live`` as in
    `parse_lab_query`). ``values`` holds the typed value of every usable key."""
    lists = [e for e in table.TABLE if page in e.pages and e.type == "list"]
    single = table.single_values(params, repeatable=[e.name for e in lists])
    text = single.values
    settings = read_settings(text, base, page, live=live)
    cfg = settings.config
    rows = table.page_rows(page, cfg.surface, cfg.optimizer, cfg.schedule, _slots(text))
    run = {e.name for e in run_rows(page, cfg.surface, cfg.optimizer, cfg.schedule)}
    own = table.parse(text, [e for e in rows if e.name not in run], where="Link", live=live)
    chosen = ", ".join(f"{kind} {getattr(cfg, kind)}" for kind in COMPONENTS[page])
    unknown = table.unknown_keys(text, {e.name for e in rows}, chosen=chosen, live=live)
    found = single.report() + settings.parsed + own + unknown
    for entry in lists:
        found = found + table.parse_list(params, entry, live)
    return found


def check_plain_query(page: str, params: Mapping[str, str | Sequence[str]],
                      live: Collection[str] = ()) -> Parsed:
    """Notices and rejected keys for a page without run settings (home, lessons, glossary,
    quiz, flashcards, progress): its rows are its known keys; ``str`` rows are checked by the
    page's own pickers (a lesson id against the course), the others here."""
    single = table.single_values(params)
    rows = [e for e in table.TABLE if page in e.pages]
    checked = table.parse(single.values, rows, live=live)
    unknown = table.unknown_keys(single.values, {e.name for e in rows})
    return single.report() + checked + unknown

"""The lab's state between reruns: the URL (preset, pins, bound widgets) and session keys.

Session state holds only settings (widget values, the list of notices); runs and figures are
recomputed (through the bounded caches in `lrviz.ui.runs`). Functions that write widget values
(`apply_config`, `load_preset`, ...) are meant for widget callbacks, which run before the
widgets of the next rerun exist.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import streamlit as st
from streamlit.errors import StreamlitAPIException

from lrviz.engine.config import RunConfig
from lrviz.engine.presets import PRESETS, RENAMED_PRESETS
from lrviz.ui.urlstate import (
    DEFAULT_CONFIG,
    MAX_PINS,
    NO_PINS,
    LabQuery,
    Pin,
    Scope,
    check_page_query,
    component_defaults,
    encode_pin,
    parse_lab_query,
    spec_of,
    start_default,
)

NOTICES_KEY = "_lab_notices"
LR_LOG_KEY = "lr_log"

# 20 rates per decade from 1e-5 to 10, rounded to 3 significant digits: the log slider's stops.
LR_OPTIONS: tuple[float, ...] = tuple(float(f"{10 ** (k / 20):.3g}") for k in range(-100, 21))


def nearest_lr_option(lr: float) -> float:
    """The log-slider stop closest to ``lr`` on a log scale."""
    target = math.log10(max(lr, 1e-12))
    return min(LR_OPTIONS, key=lambda v: abs(math.log10(v) - target))


def query_dict(repeated: tuple[str, ...] = ("pins",)) -> dict[str, str | list[str]]:
    """``st.query_params`` as a dict; keys in ``repeated`` keep every value."""
    out: dict[str, str | list[str]] = {}
    for key in st.query_params:
        out[key] = st.query_params.get_all(key) if key in repeated else st.query_params[key]
    return out


def _drop(keys) -> None:
    for key in keys:
        # A bound key cannot be deleted: Streamlit itself clears its invalid value.
        with contextlib.suppress(KeyError, StreamlitAPIException):
            del st.query_params[key]


def check_url(page: str, base: RunConfig, scope: Scope, checks: dict,
              lists: dict | None = None) -> None:
    """Validate a (non-lab) page's URL; unusable values are dropped and their notices kept
    for the page (see `notices`)."""
    notices_, rejected = check_page_query(query_dict(tuple(lists or ())), base, scope, checks,
                                          lists)
    _drop(rejected)
    if notices_:
        st.session_state[notices_key(page)] = list(notices_)


def notices_key(page: str = "lab") -> str:
    return NOTICES_KEY if page == "lab" else f"{NOTICES_KEY}_{page}"


def load_lab_query() -> LabQuery:
    """Parse the URL, drop the values it cannot use and remember the notices for this view.

    Streamlit ignores invalid values of bound widgets by itself; unknown keys, bad presets and
    bad pins are dropped here so the URL only keeps what the page shows.
    """
    old_id = st.query_params.get("preset", "")
    new_id = RENAMED_PRESETS.get(old_id)
    if new_id is not None:  # an old link: open the renamed preset and say so
        st.query_params["preset"] = new_id
    query = parse_lab_query(query_dict())
    _drop(query.rejected)
    if query.repair_pins:
        set_pins(query.pins)  # keep the usable pinned runs, drop what was wrong with them
    renamed = [f"Link: preset {old_id!r} is now called {new_id!r}; showing it."] if new_id else []
    if query.notices or renamed:
        st.session_state[NOTICES_KEY] = renamed + list(query.notices)
    return query


def notices(page: str = "lab") -> list[str]:
    return list(st.session_state.get(notices_key(page), []))


def dismiss_notices(page: str = "lab") -> None:
    st.session_state.pop(notices_key(page), None)


def current_base() -> RunConfig:
    """The settings that unset controls show: the URL's preset's first run, else defaults."""
    preset = PRESETS.get(st.query_params.get("preset", ""))
    return preset.config if preset is not None else DEFAULT_CONFIG


def set_lr(lr: float) -> None:
    """Set the exact learning rate and move the log slider to the nearest stop."""
    st.session_state["lr"] = float(lr)
    st.session_state[LR_LOG_KEY] = nearest_lr_option(lr)


def apply_config(cfg: RunConfig) -> None:
    """Write every control of the lab from ``cfg`` (for callbacks: presets, remedies, links)."""
    x0, y0 = cfg.start_point
    values = {"surface": cfg.surface, "optimizer": cfg.optimizer, "schedule": cfg.schedule,
              "steps": int(cfg.steps), "x0": float(x0), "y0": float(y0),
              "noise": float(cfg.noise), "seed": int(cfg.seed)}
    for kind in ("surface", "optimizer", "schedule"):
        values.update(_typed(kind, getattr(cfg, f"{kind}_values")(), getattr(cfg, kind)))
    st.session_state.update(values)
    set_lr(cfg.lr)


def _typed(kind: str, params: dict[str, float], name: str) -> dict[str, float | int]:
    """Integer parameters as ints (their number inputs are integer widgets)."""
    integers = {p.name for p in spec_of(kind, name).params if p.integer}
    return {k: int(v) if k in integers else float(v) for k, v in params.items()}


def reset_component(kind: str, key: str | None = None, prefix: str = "",
                    base_json: str | None = None) -> None:
    """Callback after a surface/optimizer/schedule choice changed: its parameters back to their
    defaults (for a new surface also the start point).

    ``key`` is the choice's widget key (default: ``kind``), ``prefix`` the prefix of its
    parameter keys (schedule slots on /schedules), ``base_json`` the page's base settings
    (default: the lab's base, from its preset).
    """
    session = st.session_state
    name = session[key or kind]
    try:
        spec_of(kind, name)
    except ValueError:
        return  # an empty slot ("none") has no parameters
    base = RunConfig.model_validate_json(base_json) if base_json else current_base()
    params = component_defaults(base, kind, name)
    session.update({prefix + k: v for k, v in _typed(kind, params, name).items()})
    if kind == "surface":
        session["x0"], session["y0"] = (float(v) for v in start_default(base, name))


# --- pinned runs -----------------------------------------------------------------------------


def set_pins(pins: Sequence[Pin]) -> None:
    """Store the pinned runs in the URL (``pins=none`` when a preset's pins were removed)."""
    encoded = [encode_pin(p.config, p.label) for p in pins[:MAX_PINS]]
    st.query_params["pins"] = encoded or NO_PINS


def load_preset(preset_id: str) -> None:
    """Callback: show a preset (its first run in the controls, the others pinned)."""
    preset = PRESETS[preset_id]
    st.query_params["preset"] = preset_id
    if "pins" in st.query_params:
        del st.query_params["pins"]
    apply_config(preset.config)
    dismiss_notices()


def reset_lab() -> None:
    """Callback: back to the default settings, no preset, no pins."""
    for key in ("preset", "pins"):
        if key in st.query_params:
            del st.query_params[key]
    apply_config(DEFAULT_CONFIG)
    dismiss_notices()

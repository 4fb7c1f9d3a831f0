"""The lab's state between reruns: the URL (preset, pins, bound widgets) and session keys.

Session state holds only settings (widget values, the list of notices); runs and figures are
recomputed (through the bounded caches in `lrviz.ui.lab.runs`). Functions that write widget values
(`apply_config`, `load_preset`, ...) are meant for widget callbacks, which run before the
widgets of the next rerun exist.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Sequence

import streamlit as st
from streamlit.errors import StreamlitAPIException

from lrviz.engine.config import RunConfig
from lrviz.engine.presets import PRESETS, RENAMED_PRESETS
from lrviz.ui import url_table
from lrviz.ui.urlstate import (
    DEFAULT_CONFIG,
    MAX_PINS,
    NO_PINS,
    LabQuery,
    Pin,
    check_page_query,
    check_plain_query,
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


@functools.lru_cache(maxsize=256)
def nearest_lr_option(lr: float) -> float:
    """The log-slider stop closest to ``lr`` on a log scale."""
    target = math.log10(max(lr, 1e-12))
    return min(LR_OPTIONS, key=lambda v: abs(math.log10(v) - target))


LR_FORMAT = "%.6g"  # the exact-rate number inputs' format; the log sliders' labels use it too


def lr_stop_label(stop: float, exact: float, nearest: float | None = None) -> str:
    """The log slider's label for ``stop``: the exact rate at the stop nearest to it, so the
    slider and the number input beside it show the same number (0.03, not the stop 0.0316).

    ``nearest``: ``nearest_lr_option(exact)`` when the caller has it (a slider labels its 121
    stops per run and needs it once)."""
    nearest = nearest_lr_option(exact) if nearest is None else nearest
    return LR_FORMAT % (exact if stop == nearest else stop)


SCRUBBED_KEY = "_url_before_scrub"  # (the URL as scrubbed, the parameters read before)


def _url_now() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The URL's parameters as they stand, every value of every key, in a comparable form."""
    return tuple(sorted((key, tuple(st.query_params.get_all(key))) for key in st.query_params))


def query_dict(repeated: Sequence[str] = ("pins",)) -> dict[str, str | list[str]]:
    """``st.query_params`` as a dict; keys in ``repeated``, and any key given more than once,
    keep every value (the parser says which one it uses).

    On the run `scrub_url` started again, the parameters read before the scrub instead, so the
    page parses the link it was given once more and shows the same notices.
    """
    replay = st.session_state.pop(SCRUBBED_KEY, None)
    if replay is not None and replay[0] == _url_now():
        return dict(replay[1])
    out: dict[str, str | list[str]] = {}
    for key in st.query_params:
        values = st.query_params.get_all(key)
        out[key] = values if key in repeated or len(values) > 1 else st.query_params[key]
    return out


def _drop(keys) -> bool:
    """Remove unusable values from the URL; whether the URL changed."""
    changed = False
    for key in keys:
        # A key already bound to a widget cannot be deleted: the widget rewrites it.
        with contextlib.suppress(KeyError, StreamlitAPIException):
            del st.query_params[key]
            changed = True
    return changed


def _collapse_repeated(params: dict[str, str | list[str]], rejected, keep=("pins",)) -> bool:
    """A key given several times keeps only the value the page uses (the last) in the URL;
    whether the URL changed."""
    changed = False
    for key, value in params.items():
        if isinstance(value, list) and len(value) > 1 and key not in keep and key not in rejected:
            if st.query_params.get_all(key) == [value[-1]]:
                continue  # already reduced (the run after a scrub parses the old link again)
            with contextlib.suppress(KeyError, StreamlitAPIException):
                st.query_params[key] = value[-1]
                changed = True
    return changed


def scrub_url(params: dict[str, str | list[str]], rejected: Sequence[str],
              keep: Sequence[str] = (), read: dict[str, str | list[str]] | None = None) -> None:
    """After a parse of ``params`` (as `query_dict` read them, or ``read`` amended): drop the
    rejected keys from the URL, and reduce a repeated key (outside ``keep``) to the value the
    parser used. When that changed the URL, the run starts again; call this before any widget
    of the page exists.

    Why: on its first run a widget bound to the URL takes its value from the query string the
    run started with, not from ``st.query_params``. Given ``inf`` or ``1e309`` an integer input
    raises OverflowError (Streamlit catches only ValueError there), and a slider reads a
    repeated key as a range. ``st.rerun()`` starts the next run from the URL as changed here,
    so the widgets only ever see values the parser accepted; that run's `query_dict` hands the
    page what it read again (notices and settings as from the link given), and it finds nothing
    left to scrub, so this cannot loop. A key that could not be removed (already bound to a
    widget on the page, which keeps its own value) does not count as a change.
    """
    dropped = _drop(rejected)
    collapsed = _collapse_repeated(params, rejected, keep=tuple(keep))
    if dropped or collapsed:
        st.session_state[SCRUBBED_KEY] = (_url_now(), dict(params if read is None else read))
        st.rerun()


def live_keys() -> set[str]:
    """URL keys whose controls already hold a value in this session (see `parse_lab_query`)."""
    return {key for key in st.query_params if key in st.session_state}


def _list_keys(page: str) -> tuple[str, ...]:
    """The page's repeatable keys (``pins``, ``optimizers``), from the URL table."""
    return tuple(e.name for e in url_table.TABLE if page in e.pages and e.type == "list")


def check_url(page: str, base: RunConfig) -> None:
    """Validate the URL of /schedules, /race or /finder against the URL table (``base``: the
    page's base settings); unusable values are dropped and their notices kept for the page
    (see `notices`)."""
    lists = _list_keys(page)
    params = query_dict(lists)
    found = check_page_query(page, params, base, live_keys())
    scrub_url(params, found.rejected, keep=lists)
    if found.notices:
        st.session_state[notices_key(page)] = list(found.notices)


def check_plain_url(page: str, *, drop: bool = True) -> None:
    """Validate the URL of a page without lab settings against the URL table and show its
    notices at once (the unusable keys are dropped, so they show once, unless ``drop`` is
    False: the home page, which reads no parameter, leaves the URL alone)."""
    params = query_dict()
    found = check_plain_query(page, params, live_keys())
    if drop:
        scrub_url(params, found.rejected)
    if found.notices:
        st.warning("\n\n".join(found.notices), icon=":material/link_off:")


def notices_key(page: str = "lab") -> str:
    return NOTICES_KEY if page == "lab" else f"{NOTICES_KEY}_{page}"


def load_lab_query() -> LabQuery:
    """Parse the URL, drop the values it cannot use and remember the notices for this view.

    Streamlit ignores invalid values of bound widgets by itself; unknown keys, bad presets and
    bad pins are dropped here so the URL only keeps what the page shows.
    """
    lists = _list_keys(url_table.LAB)
    read = query_dict(lists)
    given = read.get("preset", "")
    old_id = given[-1] if isinstance(given, list) else given
    new_id = RENAMED_PRESETS.get(old_id)
    params = read
    if new_id is not None:  # an old link: open the renamed preset and say so
        st.query_params["preset"] = new_id
        params = {**read, "preset": new_id}
    query = parse_lab_query(params, live_keys())
    scrub_url(params, query.rejected, keep=lists, read=read)
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

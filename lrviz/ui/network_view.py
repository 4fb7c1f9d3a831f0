"""The /network page: train a small real network with the lab's optimizers and schedules.

Every setting is a keyed widget bound to the URL (``bind="query-params"``); a widget's default
is the base setting (the URL's preset, else `DEFAULT`), so a link carries only what differs
from that base and reproduces the view. `parse_query` checks the URL first and never raises:
an unusable value gets a notice naming the parameter and the page shows the fallback.
Training runs are cached (bounded) by their configuration as JSON.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from lrviz import nets
from lrviz.engine.optimizers import OPTIMIZERS, get_optimizer
from lrviz.engine.schedules import SCHEDULES, get_schedule
from lrviz.engine.spec import Param
from lrviz.figures import network as figs
from lrviz.nets.config import MAX_HIDDEN_LAYERS, MAX_WIDTH, NetConfig
from lrviz.nets.data import DATASETS, load_dataset

BIND = "query-params"
PAGE = "network"
NOTICES_KEY = "_network_notices"
LR_LOG_KEY = "net_lr_log"

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
VIEWS = ("run", "map")
MAP_SIZES = ("16", "32", "64", "128")
MAP_EXP_RANGE = (-5.0, 1.0)  # log10 of the per-layer rates the map may span
MAP_DEFAULTS = {"tm_lo1": -3.0, "tm_hi1": 0.5, "tm_lo2": -3.0, "tm_hi2": 0.5, "tm_n": "32",
                "tm_steps": 100}
MAP_STEPS_RANGE = (10, 500)
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
    map_settings: dict = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()


GENERAL_KEYS = ("dataset", "hidden", "activation", "loss", "optimizer", "lr", "schedule", "steps",
                "batch", "wd", "seed", "sharp")
OTHER_KEYS = ("preset", "view", *MAP_DEFAULTS, "embed", "embed_options")


def preset_base(preset_id: str | None) -> NetConfig:
    preset = net_presets().get(preset_id or "")
    return preset.runs[0].config if preset is not None else DEFAULT


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
    view = params.get("view", "run")
    if view not in VIEWS:
        bad("view", f"choose one of {', '.join(VIEWS)}", "run")
        view = "run"
    map_settings = dict(MAP_DEFAULTS)
    for key, default in MAP_DEFAULTS.items():
        if key not in params:
            continue
        try:
            if key == "tm_n":
                map_settings[key] = _choice(str(params[key]), MAP_SIZES)
            elif key == "tm_steps":
                map_settings[key] = _int(str(params[key]), *MAP_STEPS_RANGE)
            else:
                map_settings[key] = _float(str(params[key]), *MAP_EXP_RANGE)
        except BadValueError as why:
            bad(key, str(why), default)
    return NetQuery(base, config, preset, view, map_settings, tuple(notices), tuple(rejected))


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


# --- numbers for the figures and the exports ------------------------------------------------


def predict_grid(params, activation: str, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The class the network predicts at every grid point: ``out[i, j]`` at ``(xs[j], ys[i])``.

    The same forward pass as the engine (``h -> act(h W + b)``, last layer linear), in NumPy.
    """
    gx, gy = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
    h = np.stack([gx.ravel(), gy.ravel()], axis=1)
    act = np.tanh if activation == "tanh" else (lambda z: np.maximum(z, 0.0))
    for W, b in params[:-1]:
        h = act(h @ np.asarray(W, float) + np.asarray(b, float))
    W, b = params[-1]
    scores = h @ np.asarray(W, float) + np.asarray(b, float)
    return scores.argmax(axis=1).reshape(gx.shape)


def grid_axes(X: np.ndarray, n: int = GRID_POINTS, margin: float = 0.5
              ) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    return np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)


def limit_label(cfg: NetConfig) -> str:
    factor = get_optimizer(cfg.optimizer).stability_factor(cfg.optimizer_values())
    if factor is None:
        return ""
    return "2 / learning rate" if abs(factor - 2.0) < 1e-12 else f"{factor:g} / learning rate"


def run_csv(run) -> str:
    """One row per step: training loss, the rate of the update from there, and (where
    measured) validation loss, accuracies and sharpness."""
    evals = {int(s): k for k, s in enumerate(run.eval_steps)}
    sharp = {int(s): k for k, s in enumerate(run.sharpness_steps)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", "train_loss", "lr", "val_loss", "train_acc", "val_acc",
                     "sharpness"])

    def num(a, k) -> str:
        return "" if k is None else repr(float(a[k]))

    for t, loss in enumerate(run.train_loss):
        e, s = evals.get(t), sharp.get(t)
        writer.writerow([t, repr(float(loss)), num(run.lrs, t if t < len(run.lrs) else None),
                         num(run.val_loss, e), num(run.train_acc, e), num(run.val_acc, e),
                         num(run.sharpness, s)])
    return out.getvalue()


def _clean(a: np.ndarray) -> list:
    return [float(v) if math.isfinite(float(v)) else None for v in np.asarray(a).ravel()]


def run_json(run, link: str | None = None) -> str:
    """The run's configuration, verdict and every curve, JSON-ready (non-finite -> null)."""
    doc = {
        "lrviz": "network run", "link": link,
        "config": json.loads(run.config.model_dump_json()),
        "regime": run.regime.value, "diverged_at": run.diverged_at,
        "explanation": run.explanation,
        "train_loss": _clean(run.train_loss), "lrs": _clean(run.lrs),
        "eval_steps": [int(s) for s in run.eval_steps], "val_loss": _clean(run.val_loss),
        "train_acc": _clean(run.train_acc), "val_acc": _clean(run.val_acc),
        "sharpness_steps": [int(s) for s in run.sharpness_steps],
        "sharpness": _clean(run.sharpness),
    }
    return json.dumps(doc, indent=1, allow_nan=False)


# --- cached engine calls ----------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def _train_json(config: str):
    return nets.train(NetConfig.model_validate_json(config))


def train(cfg: NetConfig):
    """One training run, cached by its full configuration."""
    return _train_json(cfg.model_dump_json())


@st.cache_data(max_entries=8, show_spinner=False)
def _map_rows(config: str, lrs1: tuple[float, ...], lrs2: tuple[float, ...]):
    return nets.trainability_map(NetConfig.model_validate_json(config), list(lrs1), list(lrs2))


def trainability(cfg: NetConfig, lrs1: np.ndarray, lrs2: np.ndarray, chunk: int = 16):
    """Trained/diverged and final loss over lrs1 x lrs2, computed in row chunks so the page can
    show progress; each chunk is cached. Returns (trained, final_loss) arrays."""
    bar = st.progress(0.0, text="Training the grid of networks…")
    trained, losses = [], []
    key = cfg.model_dump_json()
    for start in range(0, len(lrs1), chunk):
        rows = tuple(float(v) for v in lrs1[start:start + chunk])
        result = _map_rows(key, rows, tuple(float(v) for v in lrs2))
        trained.append(np.asarray(result.trained))
        losses.append(np.asarray(result.final_loss))
        bar.progress(min(1.0, (start + chunk) / len(lrs1)),
                     text=f"Training the grid of networks… {min(start + chunk, len(lrs1))} of "
                          f"{len(lrs1)} rows")
    bar.empty()
    return np.concatenate(trained), np.concatenate(losses)


# --- session state and notices -----------------------------------------------------------------


def _drop(keys) -> None:
    for key in keys:
        with contextlib.suppress(KeyError, StreamlitAPIException):
            del st.query_params[key]


def load_query() -> NetQuery:
    """Parse the URL, drop what it cannot use, remember the notices for this view."""
    params = {k: st.query_params[k] for k in st.query_params}
    query = parse_query(params)
    _drop(query.rejected)
    if query.notices:
        st.session_state[NOTICES_KEY] = list(query.notices)
    return query


def show_notices() -> None:
    """Problems with the link, as plain text (URL text is never rendered as Markdown)."""
    items = st.session_state.get(NOTICES_KEY, [])
    if not items:
        return
    with st.container(border=True):
        st.warning("Part of this link could not be used; the page shows the fallback values.",
                   icon=":material/link_off:")
        for item in items:
            st.text(item)
        st.button("Dismiss", key="network_dismiss",
                  on_click=lambda: st.session_state.pop(NOTICES_KEY, None))


def apply_config(cfg: NetConfig) -> None:
    """Write every control from ``cfg`` (for callbacks: presets)."""
    ss = st.session_state
    ss.update({"dataset": cfg.dataset, "hidden": hidden_text(cfg.hidden),
               "activation": cfg.activation, "loss": cfg.loss, "optimizer": cfg.optimizer,
               "schedule": cfg.schedule, "steps": int(cfg.steps),
               "batch": batch_text(cfg.batch_size), "wd": float(cfg.weight_decay),
               "seed": int(cfg.seed), "sharp": int(cfg.sharpness_every), "lr": float(cfg.lr)})
    for kind, values in (("optimizer", cfg.optimizer_values()),
                         ("schedule", cfg.schedule_values())):
        spec = get_optimizer(cfg.optimizer) if kind == "optimizer" else get_schedule(cfg.schedule)
        integers = {p.name for p in spec.params if p.integer}
        ss.update({k: int(v) if k in integers else float(v) for k, v in values.items()})
    ss[LR_LOG_KEY] = nearest_lr(cfg.lr)


def nearest_lr(lr: float) -> float:
    target = math.log10(max(lr, 1e-12))
    return min(LR_OPTIONS, key=lambda v: abs(math.log10(v) - target))


def load_preset(preset_id: str) -> None:
    """Callback: show a preset (its first run in the controls)."""
    st.query_params["preset"] = preset_id
    apply_config(net_presets()[preset_id].runs[0].config)
    st.session_state.pop(NOTICES_KEY, None)


def reset() -> None:
    """Callback: back to the default settings, no preset."""
    if "preset" in st.query_params:
        del st.query_params["preset"]
    apply_config(DEFAULT)
    st.session_state.pop(NOTICES_KEY, None)


def _reset_params(kind: str, base_json: str) -> None:
    """Callback after the optimizer or schedule changed: its parameters back to the base's
    values (same component) or the registry defaults."""
    base = NetConfig.model_validate_json(base_json)
    name = st.session_state[kind]
    spec = get_optimizer(name) if kind == "optimizer" else get_schedule(name)
    values = (base.optimizer_values() if kind == "optimizer" else base.schedule_values()) if (
        getattr(base, kind) == name) else spec.resolve({})
    integers = {p.name for p in spec.params if p.integer}
    st.session_state.update({k: int(v) if k in integers else float(v) for k, v in values.items()})


# --- controls ----------------------------------------------------------------------------------


def _options(fixed: tuple[str, ...], *extra: str) -> list[str]:
    """``fixed`` plus any extra value (a preset's or a valid link's) not among them."""
    out = list(fixed)
    out += [e for e in dict.fromkeys(extra) if e not in out]
    return out


def _select(container, label: str, options: list[str], default: str, key: str, **kw) -> str:
    return container.selectbox(label, options, index=options.index(default), key=key,
                               bind=BIND, **kw)


def _on_lr_log() -> None:
    st.session_state["lr"] = float(st.session_state[LR_LOG_KEY])


def _on_lr_exact() -> None:
    st.session_state[LR_LOG_KEY] = nearest_lr(st.session_state["lr"])


def _component_params(container, kind: str, name: str, base: NetConfig) -> dict[str, float]:
    from lrviz.ui.controls import param_input

    spec = get_optimizer(name) if kind == "optimizer" else get_schedule(name)
    same = getattr(base, kind) == name
    values = (base.optimizer_values() if kind == "optimizer" else base.schedule_values()) if (
        same) else spec.resolve({})
    return {p.name: param_input(container, p, values[p.name]) for p in spec.params}


def preset_buttons(container) -> None:
    with container.expander("Presets: one-click scenarios", expanded=False):
        for preset_id, preset in net_presets().items():
            st.button(preset.title, key=f"netpreset_{preset_id}", on_click=load_preset,
                      args=(preset_id,), help=preset.caption, width="stretch")
        st.button("Reset to defaults", key="network_reset", on_click=reset, width="stretch")


def controls(query: NetQuery) -> NetConfig | None:
    """The sidebar controls; returns the configuration they hold, or None (after an error
    message) when the combination cannot run."""
    sb = st.sidebar
    preset_buttons(sb)
    base, cur = query.base, query.config
    base_json = base.model_dump_json()
    dataset = _select(sb, "Data set", list(DATASETS), base.dataset, "dataset",
                      help="digits: 8×8 hand-written digits (64 features, 10 classes); the "
                           "others are 2-D sets whose decision boundary can be drawn.")
    hidden = _select(sb, "Hidden layers (widths)",
                     _options(ARCHITECTURES, hidden_text(base.hidden), hidden_text(cur.hidden)),
                     hidden_text(base.hidden), "hidden")
    activation = _select(sb, "Activation", list(ACTIVATIONS), base.activation, "activation")
    loss = _select(sb, "Loss", list(LOSSES), base.loss, "loss")
    optimizer = _select(sb, "Optimizer", list(OPTIMIZERS), base.optimizer, "optimizer",
                        on_change=_reset_params, args=("optimizer", base_json))
    sb.caption(get_optimizer(optimizer).summary)
    optimizer_params = _component_params(sb, "optimizer", optimizer, base)
    if LR_LOG_KEY not in st.session_state:
        st.session_state[LR_LOG_KEY] = nearest_lr(float(st.session_state.get("lr", cur.lr)))
    sb.select_slider("Learning rate (log scale)", options=LR_OPTIONS, key=LR_LOG_KEY,
                     format_func=lambda v: f"{v:g}", on_change=_on_lr_log,
                     help="Drag across decades; type an exact value below.")
    lr = sb.number_input("exact learning rate", min_value=LR_RANGE[0], max_value=LR_RANGE[1],
                         value=float(base.lr), step=1e-3, format="%.6g", key="lr", bind=BIND,
                         on_change=_on_lr_exact)
    schedule = _select(sb, "Schedule", list(SCHEDULES), base.schedule, "schedule",
                       on_change=_reset_params, args=("schedule", base_json))
    schedule_params = _component_params(sb, "schedule", schedule, base)
    steps = sb.slider("Steps", STEPS_RANGE[0], STEPS_RANGE[1], int(base.steps), step=10,
                      key="steps", bind=BIND)
    batch = _select(sb, "Batch size", _options(BATCHES, batch_text(base.batch_size),
                                               batch_text(cur.batch_size)),
                    batch_text(base.batch_size), "batch",
                    help="full = full-batch gradient descent (no gradient noise).")
    wd = sb.number_input("Weight decay (L2, added to the gradient)", WD_RANGE[0], WD_RANGE[1],
                         float(base.weight_decay), step=1e-4, format="%.4g", key="wd",
                         bind=BIND, help="PyTorch's weight_decay argument; AdamW has its own "
                                         "decoupled weight_decay above.")
    sharp = sb.number_input("Measure sharpness every … steps (0 = never)", SHARP_RANGE[0],
                            SHARP_RANGE[1], int(base.sharpness_every), key="sharp", bind=BIND)
    seed = sb.number_input("Seed (initial weights, batches)", SEED_RANGE[0], SEED_RANGE[1],
                           int(base.seed), key="seed", bind=BIND)
    try:
        return NetConfig(dataset=dataset, hidden=parse_hidden(hidden), activation=activation,
                         loss=loss, optimizer=optimizer, lr=float(lr), schedule=schedule,
                         steps=int(steps), batch_size=parse_batch(batch),
                         weight_decay=float(wd), seed=int(seed),
                         sharpness_every=int(sharp), optimizer_params=optimizer_params,
                         schedule_params=schedule_params)
    except (ValueError, BadValueError) as exc:
        st.error("These settings cannot run together:")
        st.text(str(exc))
        return None


# --- what the page shows -----------------------------------------------------------------------

BADGE = {"converged": ("green", ":material/check_circle:"),
         "overshooting": ("blue", ":material/swap_vert:"),
         "slow": ("orange", ":material/hourglass_top:"),
         "stuck": ("gray", ":material/pause_circle:"),
         "oscillating": ("violet", ":material/waves:"),
         "local_minimum": ("violet", ":material/landscape:"),
         "diverged": ("red", ":material/error:")}


def preset_banner(query: NetQuery, cfg: NetConfig) -> None:
    if query.preset is None:
        return
    preset = net_presets()[query.preset]
    st.info(f"**Preset — {preset.title}.** {preset.caption}", icon=":material/lightbulb:")
    if cfg != preset.runs[0].config:
        st.caption("You changed settings since loading this preset, so the caption may no "
                   "longer describe what you see.")


def verdict(run) -> None:
    colour, icon = BADGE.get(run.regime.value, ("gray", ":material/info:"))
    st.badge(run.regime.label.upper(), icon=icon, color=colour)
    st.markdown(run.explanation)


def curves(run, key: str = "net") -> dict:
    """Loss, accuracy and sharpness figures of one run, drawn; returns them by name."""
    cfg = run.config
    out = {"loss": figs.loss_figure(run.train_loss, run.eval_steps, run.val_loss,
                                    diverged_at=run.diverged_at),
           "accuracy": figs.accuracy_figure(run.eval_steps, run.train_acc, run.val_acc)}
    left, right = st.columns(2)
    with left:
        st.markdown("**Loss** (training at every step, validation dashed)")
        st.plotly_chart(out["loss"], key=f"{key}-loss", width="stretch")
    with right:
        st.markdown("**Accuracy**")
        st.plotly_chart(out["accuracy"], key=f"{key}-acc", width="stretch")
    if run.sharpness.size:
        label = limit_label(cfg)
        out["sharpness"] = figs.sharpness_figure(
            run.sharpness_steps, run.sharpness, run.stability_limit, limit_label=label or "",
            diverged_at=run.diverged_at)
        st.markdown("**Sharpness** (top Hessian eigenvalue of the training loss)"
                    + (f" against the stability limit {label}" if label else ""))
        if not label:
            st.caption("Adaptive optimizers rescale every weight's step, so no single "
                       "2/η line applies to them.")
        st.plotly_chart(out["sharpness"], key=f"{key}-sharp", width="stretch")
    else:
        st.caption("Sharpness is off: set “Measure sharpness every … steps” above 0 to see it "
                   "against 2/η.")
    return out


def decision_boundary(run, key: str = "net") -> None:
    """The class regions the trained network draws over a 2-D data set (skipped for digits)."""
    data = load_dataset(run.config.dataset)
    if data.n_features != 2:
        return
    xs, ys = grid_axes(np.concatenate([data.X_train, data.X_val]))
    predicted = predict_grid(run.params, run.config.activation, xs, ys)
    fig = figs.decision_figure(xs, ys, predicted, data.X_train, data.y_train,
                               n_classes=data.n_classes)
    st.markdown("**Decision boundary** after training (training points; colours are classes)")
    st.plotly_chart(fig, key=f"{key}-boundary", width="stretch")


def preset_runs(query: NetQuery) -> None:
    """All runs of the loaded preset side by side (their curves and verdicts)."""
    if query.preset is None:
        return
    preset = net_presets()[query.preset]
    if len(preset.runs) < 2:
        return
    with st.spinner("Training the preset's runs…"):
        results = [train(r.config) for r in preset.runs]
    st.subheader("The preset's runs")
    labels = [r.label for r in preset.runs]
    st.plotly_chart(figs.compare_figure(labels, [r.train_loss for r in results]),
                    key="net-preset-compare", width="stretch")
    for label, result in zip(labels, results, strict=True):
        st.markdown(f"- **{label}** — {result.regime.label}. {result.explanation}")


def share_and_export(cfg: NetConfig, query: NetQuery, run) -> None:
    from urllib.parse import urlencode

    link = "/network?" + urlencode(query_params(cfg, query.preset))
    st.markdown("**Shareable link** — opens exactly this run:")
    st.code(link, language=None, wrap_lines=True)
    left, right = st.columns(2)
    left.download_button("Curves (CSV)", lambda: run_csv(run), file_name="lrviz-network.csv",
                         mime="text/csv", key="net_dl_csv", on_click="ignore",
                         width="stretch")
    right.download_button("Run (JSON)", lambda: run_json(run, link),
                          file_name="lrviz-network.json", mime="application/json",
                          key="net_dl_json", on_click="ignore", width="stretch")


def run_view(query: NetQuery, cfg: NetConfig) -> None:
    preset_banner(query, cfg)
    with st.spinner("Training the network…"):
        run = train(cfg)
    verdict(run)
    curves(run)
    decision_boundary(run)
    preset_runs(query)
    st.subheader("Share and export")
    share_and_export(cfg, query, run)


# --- the trainability map -------------------------------------------------------------------------


def map_controls(query: NetQuery) -> dict:
    """Zoom: the log10 range of each layer's rate, the grid size and the steps per run."""
    m = query.map_settings
    st.markdown("Choose the range of each layer's learning rate (log10) to zoom in on the "
                "boundary between trainable and divergent rates.")
    c1, c2, c3 = st.columns(3)
    lo1 = c1.number_input("layer 1: lowest log10 rate", *MAP_EXP_RANGE, float(m["tm_lo1"]),
                          step=0.1, key="tm_lo1", bind=BIND)
    hi1 = c1.number_input("layer 1: highest log10 rate", *MAP_EXP_RANGE, float(m["tm_hi1"]),
                          step=0.1, key="tm_hi1", bind=BIND)
    lo2 = c2.number_input("layer 2: lowest log10 rate", *MAP_EXP_RANGE, float(m["tm_lo2"]),
                          step=0.1, key="tm_lo2", bind=BIND)
    hi2 = c2.number_input("layer 2: highest log10 rate", *MAP_EXP_RANGE, float(m["tm_hi2"]),
                          step=0.1, key="tm_hi2", bind=BIND)
    n = c3.selectbox("grid size (per axis)", list(MAP_SIZES), index=MAP_SIZES.index(m["tm_n"]),
                     key="tm_n", bind=BIND)
    steps = c3.number_input("steps per run", *MAP_STEPS_RANGE, int(m["tm_steps"]),
                            key="tm_steps", bind=BIND)
    return dict(lo1=lo1, hi1=hi1, lo2=lo2, hi2=hi2, n=int(n), steps=int(steps))


def map_view(query: NetQuery, cfg: NetConfig) -> None:
    st.markdown("Each cell trains the network once with its own pair of per-layer learning "
                "rates (layer 1: input to hidden, layer 2: the rest), all from the same "
                "initial weights, with the optimizer and schedule from the sidebar. Cells that "
                "blow up are drawn in the divergence colour; the others are shaded by their "
                "final training loss.")
    m = map_controls(query)
    if m["lo1"] >= m["hi1"] or m["lo2"] >= m["hi2"]:
        st.error("Each lowest rate must be below the highest rate of the same layer.")
        return
    lrs1 = np.logspace(m["lo1"], m["hi1"], m["n"])
    lrs2 = np.logspace(m["lo2"], m["hi2"], m["n"])
    map_cfg = cfg.with_(steps=m["steps"], sharpness_every=0)
    trained, losses = trainability(map_cfg, lrs1, lrs2)
    fig = figs.trainability_figure(lrs1, lrs2, trained, losses)
    st.plotly_chart(fig, key="net-map", width="stretch")
    share = float(np.mean(trained))
    st.caption(f"{share:.0%} of the {trained.size} rate pairs trained without diverging in "
               f"{m['steps']} steps.")


# --- lesson examples that link a network preset ---------------------------------------------------

NETWORK_PAGE = "lrviz/ui/pages/network.py"


def open_on_network_page(preset_id: str, label: str = "Open on the Network page") -> None:
    st.page_link(NETWORK_PAGE, label=label, icon=":material/hub:",
                 query_params={"preset": preset_id},
                 help=f"Loads the “{preset_id}” network preset")


def show_net_example(lesson, k: int, example) -> None:
    """A lesson example about a network preset: the scenario beside the preset's live runs
    (trained by the engine, cached), with the claim checked against what they show."""
    preset = net_presets().get(example.preset)
    if preset is None or not 0 <= example.run < len(preset.runs):
        st.warning(f"This example links network preset “{example.preset}” (run {example.run}), "
                   "which the Network page does not have.", icon=":material/warning:")
        st.markdown(example.scenario)
        st.markdown(f"**Takeaway:** {example.takeaway}")
        return
    with st.spinner("Training the preset's networks…"):
        results = [train(r.config) for r in preset.runs]
    text, figure = st.columns([2, 3])
    with text:
        st.markdown(f"**The situation.** {example.scenario}")
        st.markdown(f"**On the Network page:** {preset.title}. {preset.caption}")
        for j, (spec, result) in enumerate(zip(preset.runs, results, strict=True)):
            marker = " ◀ *this example*" if j == example.run and len(results) > 1 else ""
            st.markdown(f"- **{spec.label}** — {result.regime.label}.{marker} "
                        f"{result.explanation}")
        focus = results[example.run]
        if example.expect is not None:
            if focus.regime == example.expect:
                st.caption(f"✔ The network engine agrees: this run is "
                           f"**{focus.regime.label}**.")
            else:
                st.warning(f"The lesson says this run is {example.expect.label}, but the "
                           f"network engine shows {focus.regime.label}. Please tell your "
                           "teacher.", icon=":material/warning:")
        st.markdown(f"**Takeaway.** {example.takeaway}")
        open_on_network_page(example.preset)
    with figure:
        if focus.sharpness.size:
            st.plotly_chart(figs.sharpness_figure(focus.sharpness_steps, focus.sharpness,
                                                  focus.stability_limit,
                                                  limit_label=limit_label(focus.config)),
                            key=f"lesson-{lesson.id}-netex-{k}-sharp", width="stretch")
        st.plotly_chart(figs.compare_figure([r.label for r in preset.runs],
                                            [r.train_loss for r in results]),
                        key=f"lesson-{lesson.id}-netex-{k}", width="stretch")

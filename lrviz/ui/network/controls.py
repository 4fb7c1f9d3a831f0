"""The /network page's controls: every setting is a keyed widget bound to the URL.

A control's default is the base setting (the URL's preset, else `DEFAULT`), so the URL only
carries what differs from that base. Callbacks (presets, reset, a new optimizer or schedule)
write widget values before the next rerun draws the widgets.
"""

from __future__ import annotations

import math

import streamlit as st

from lrviz.engine.optimizers import OPTIMIZERS, get_optimizer
from lrviz.engine.schedules import SCHEDULES, get_schedule
from lrviz.nets.config import NetConfig
from lrviz.nets.data import DATASETS
from lrviz.ui import state
from lrviz.ui.network.url import (
    ACTIVATIONS,
    ARCHITECTURES,
    BATCHES,
    DEFAULT,
    LOSSES,
    LR_OPTIONS,
    LR_RANGE,
    SEED_RANGE,
    SHARP_RANGE,
    STEPS_RANGE,
    WD_RANGE,
    BadValueError,
    NetQuery,
    batch_text,
    hidden_text,
    net_presets,
    parse_batch,
    parse_hidden,
    parse_query,
    view_defaults,
)
from lrviz.ui.state import LR_FORMAT

BIND = "query-params"
NOTICES_KEY = "_network_notices"
LR_LOG_KEY = "net_lr_log"

# --- session state and notices -----------------------------------------------------------------


def load_query() -> NetQuery:
    """Parse the URL, drop what it cannot use (also from the widgets' URL seed: an integer
    input seeded with ``inf`` raises), remember the notices for this view."""
    params = state.query_dict(())
    query = parse_query(params, live={k for k in params if k in st.session_state})
    state.scrub_url(params, query.rejected)
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
    """Callback: show a preset (its main run in the controls, its view and view settings)."""
    st.query_params["preset"] = preset_id
    apply_config(net_presets()[preset_id].config)
    st.session_state.update(view_defaults(preset_id))
    st.session_state.pop(NOTICES_KEY, None)


def reset() -> None:
    """Callback: back to the default settings, no preset."""
    if "preset" in st.query_params:
        del st.query_params["preset"]
    apply_config(DEFAULT)
    st.session_state.update(view_defaults(None))
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
    from lrviz.ui.lab.controls import param_input

    spec = get_optimizer(name) if kind == "optimizer" else get_schedule(name)
    same = getattr(base, kind) == name
    values = (base.optimizer_values() if kind == "optimizer" else base.schedule_values()) if (
        same) else spec.resolve({})
    return {p.name: param_input(container, p, values[p.name]) for p in spec.params}


def preset_buttons(container) -> None:
    with container.expander("Presets: one-click scenarios", expanded=False):
        for preset_id, preset in net_presets().items():
            st.button(preset.title, key=f"netpreset_{preset_id}", on_click=load_preset,
                      args=(preset_id,), help=preset.summary, width="stretch")
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
    exact = float(st.session_state.get("lr", cur.lr))
    if LR_LOG_KEY not in st.session_state:
        st.session_state[LR_LOG_KEY] = nearest_lr(exact)
    # The thumb's stop shows the exact rate, as the number input below does (0.03, not 0.0316).
    sb.select_slider("Learning rate (log scale)", options=LR_OPTIONS, key=LR_LOG_KEY,
                     format_func=lambda v: LR_FORMAT % (exact if v == nearest_lr(exact) else v),
                     on_change=_on_lr_log,
                     help="Drag across decades; type an exact value below.")
    lr = sb.number_input("exact learning rate", min_value=LR_RANGE[0], max_value=LR_RANGE[1],
                         value=float(base.lr), step=1e-3, format=LR_FORMAT, key="lr", bind=BIND,
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

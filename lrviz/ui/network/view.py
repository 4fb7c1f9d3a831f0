"""The /network page: train a small real network with the lab's optimizers and schedules,
and the trainability map of per-layer rates.

The URL scheme lives in `lrviz.ui.network.url`, the widgets in `lrviz.ui.network.controls`.
Training runs and map rows are cached (bounded) by their configuration as JSON; the figures
come from `lrviz.figures.network`.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import streamlit as st

from lrviz import nets
from lrviz.engine.optimizers import get_optimizer
from lrviz.figures import network as figs
from lrviz.nets.config import NetConfig
from lrviz.nets.data import load_dataset
from lrviz.nets.model import predict_proba
from lrviz.ui.network.controls import BIND, controls, load_query, show_notices
from lrviz.ui.network.url import (
    GRID_POINTS,
    MAP_EXAMPLES_RANGE,
    MAP_EXP_RANGE,
    MAP_SIZES,
    MAP_STEPS_RANGE,
    RANGE_STEPS_RANGE,
    SWEEP_RANGE,
    VIEWS,
    NetQuery,
    net_presets,
    query_params,
)

__all__ = ["VIEWS", "controls", "load_query", "map_view", "preset_banner", "range_view", "run_view",
           "show_net_example", "show_notices"]

# --- numbers for the figures and the exports ------------------------------------------------


def predict_grid(cfg: NetConfig, params, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The class the network predicts at every grid point: ``out[i, j]`` at ``(xs[j], ys[i])``
    (the most probable class of the engine's `predict_proba`)."""
    gx, gy = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    return predict_proba(cfg, params, points).argmax(axis=1).reshape(gx.shape)


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


@st.cache_data(max_entries=16, show_spinner=False)
def _map_rows(config: str, lrs1: tuple[float, ...], lrs2: tuple[float, ...],
              examples: int | None) -> tuple[np.ndarray, np.ndarray]:
    result = nets.trainability_map(NetConfig.model_validate_json(config), list(lrs1), list(lrs2),
                                   n_examples=examples)
    return result.diverged, result.final_loss


def trainability(cfg: NetConfig, lrs1: np.ndarray, lrs2: np.ndarray, examples: int | None = None,
                 chunk: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Diverged and final loss over the grid, shape (len(lrs2), len(lrs1)) as the engine
    returns it, computed in chunks of layer-2 rows so the page can show progress (each chunk
    is one vmapped engine call, cached)."""
    bar = st.progress(0.0, text="Training the grid of networks…")
    diverged, losses = [], []
    key, row1 = cfg.model_dump_json(), tuple(float(v) for v in lrs1)
    for start in range(0, len(lrs2), chunk):
        rows = tuple(float(v) for v in lrs2[start:start + chunk])
        bad, loss = _map_rows(key, row1, rows, examples)
        diverged.append(bad)
        losses.append(loss)
        done = min(start + chunk, len(lrs2))
        bar.progress(done / len(lrs2), text=f"Training the grid of networks… {done} of "
                                            f"{len(lrs2)} rows")
    bar.empty()
    return np.concatenate(diverged), np.concatenate(losses)


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
    st.info(f"**Preset — {preset.title}.** {preset.summary}\n\n**What to look for:** "
            f"{preset.expected}", icon=":material/lightbulb:")
    if cfg != preset.config:
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
    predicted = predict_grid(run.config, run.params, xs, ys)
    fig = figs.decision_figure(xs, ys, predicted, data.X_train, data.y_train,
                               n_classes=data.n_classes)
    st.markdown("**Decision boundary** after training (training points; colours are classes)")
    st.plotly_chart(fig, key=f"{key}-boundary", width="stretch")


def preset_runs(query: NetQuery) -> None:
    """All runs of the loaded preset side by side (their curves and verdicts)."""
    if query.preset is None:
        return
    preset = net_presets()[query.preset]
    if not preset.variants:
        return
    labels = [label for label, _ in preset.runs()]
    with st.spinner("Training the preset's runs…"):
        results = [train(cfg) for _, cfg in preset.runs()]
    st.subheader("The preset's runs")
    st.caption("“main” is the run in the controls above; training loss solid, validation "
               "loss dashed.")
    st.plotly_chart(compare_runs(labels, results), key="net-preset-compare", width="stretch")
    for label, result in zip(labels, results, strict=True):
        st.markdown(f"- **{label}** — {result.regime.label}. {result.explanation}")


def compare_runs(labels: list[str], results: list) -> object:
    return figs.compare_figure(labels, [r.train_loss for r in results],
                               validation=[(r.eval_steps, r.val_loss) for r in results])


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
    with st.spinner("Training the network…"):
        run = train(cfg)
    verdict(run)
    curves(run)
    decision_boundary(run)
    preset_runs(query)
    st.subheader("Share and export")
    share_and_export(cfg, query, run)


# --- the range test next to the sweep -----------------------------------------------------------


@st.cache_data(max_entries=16, show_spinner=False)
def _range_json(config: str, lo: float, hi: float, steps: int):
    return nets.range_test(NetConfig.model_validate_json(config), 10 ** lo, 10 ** hi, steps)


@st.cache_data(max_entries=16, show_spinner=False)
def _sweep_json(config: str, lrs: tuple[float, ...]):
    return nets.lr_sweep(NetConfig.model_validate_json(config), list(lrs))


def _log_input(container, label: str, key: str, query: NetQuery, step: float = 0.5) -> float:
    """A log10-rate input bound to ``?<key>=``; its default is the preset's (or the page's)."""
    return float(container.number_input(label, *MAP_EXP_RANGE, float(query.view_defaults[key]),
                                        step=step, format="%.3g", key=key, bind=BIND))


def range_view(query: NetQuery, cfg: NetConfig) -> None:
    """The LR range test (one run, rate rising) beside one full run per rate (the sweep)."""
    st.markdown("The **range test** trains once while the rate rises exponentially and records "
                "the loss after each update (raw and smoothed). The **sweep** trains one full "
                "run of the sidebar's settings per rate, from the same initial weights. Read "
                "the range test where the smoothed loss falls fastest, not at its minimum.")
    d = query.view_defaults
    c1, c2, c3 = st.columns(3)
    lo = _log_input(c1, "range test: lowest log10 rate", "rt_lo", query)
    hi = _log_input(c1, "range test: highest log10 rate", "rt_hi", query)
    steps = c2.number_input("range-test steps", *RANGE_STEPS_RANGE, int(d["rt_steps"]),
                            key="rt_steps", bind=BIND)
    sw_lo = _log_input(c3, "sweep: lowest log10 rate", "sw_lo", query)
    sw_hi = _log_input(c3, "sweep: highest log10 rate", "sw_hi", query)
    n = c2.number_input("sweep: full runs", *SWEEP_RANGE, int(d["sw_n"]), key="sw_n",
                        bind=BIND)
    if lo >= hi or sw_lo >= sw_hi:
        st.error("Each lowest rate must be below the highest rate.")
        return
    key = cfg.with_(sharpness_every=0).model_dump_json()
    lrs = tuple(float(v) for v in np.logspace(sw_lo, sw_hi, int(n)))
    with st.spinner(f"Running the range test and {int(n)} full runs of {cfg.steps} steps…"):
        test = _range_json(key, lo, hi, int(steps))
        sweep = _sweep_json(key, lrs)
    marks = {}
    if test.steepest is not None:
        marks[f"steepest {test.steepest:.3g}"] = test.steepest
    if test.lr_at_min is not None:
        marks[f"minimum {test.lr_at_min:.3g}"] = test.lr_at_min
    diverged = np.array([r.value == "diverged" for r in sweep.regimes])
    fig = figs.range_figure(test.lrs, test.losses, test.smoothed, sweep.lrs, sweep.final_loss,
                            diverged, marks=marks)
    st.plotly_chart(fig, key="net-range", width="stretch")
    lines = []
    if test.steepest is not None:
        lines.append(f"steepest fall of the smoothed loss at lr {test.steepest:.3g}")
    if test.min_over_10 is not None:
        lines.append(f"a tenth of the minimum's rate: {test.min_over_10:.3g}")
    stable = sweep.max_stable_lr
    lines.append(f"largest rate whose full run did not diverge: {stable:.3g}" if stable
                 else "no full run in the sweep diverged")
    if sweep.best_lr is not None:
        lines.append(f"lowest final loss of the sweep at lr {sweep.best_lr:.3g}")
    st.markdown("Range test and sweep: " + "; ".join(lines) + ".")


# --- the trainability map -------------------------------------------------------------------------

MAP_KEYS = ("tm_lo1", "tm_hi1", "tm_lo2", "tm_hi2")


def boundary_point(diverged: np.ndarray, lrs1: np.ndarray, lrs2: np.ndarray
                   ) -> tuple[float, float] | None:
    """The (layer-1, layer-2) rates of the boundary cell nearest the grid's centre: a cell
    that trained next to one that diverged (None when the grid has no boundary)."""
    bad = np.asarray(diverged, bool)
    edge = np.zeros_like(bad)
    edge[:, :-1] |= bad[:, :-1] != bad[:, 1:]
    edge[:-1, :] |= bad[:-1, :] != bad[1:, :]
    rows, cols = np.nonzero(edge)
    if rows.size == 0:
        return None
    n2, n1 = bad.shape
    k = int(np.argmin((rows - (n2 - 1) / 2) ** 2 + (cols - (n1 - 1) / 2) ** 2))
    return float(lrs1[cols[k]]), float(lrs2[rows[k]])


def zoom_exponents(lo1: float, hi1: float, lo2: float, hi2: float, center: tuple[float, float],
                   factor: float) -> dict[str, float]:
    """New log10 ranges ``factor`` times narrower around ``center`` (clamped to the allowed
    span), via the engine's `zoom_ranges`."""
    from lrviz.nets.trainability import zoom_ranges

    r1, r2 = zoom_ranges((10 ** lo1, 10 ** hi1), (10 ** lo2, 10 ** hi2), center, factor)
    low, high = MAP_EXP_RANGE
    values = [math.log10(v) for v in (*r1, *r2)]
    return {k: round(min(max(v, low), high), 3) for k, v in zip(MAP_KEYS, values, strict=True)}


def _zoom(exponents: dict[str, float]) -> None:
    st.session_state.update(exponents)


def map_controls(query: NetQuery) -> dict:
    """Zoom: the log10 range of each layer's rate, the grid size, steps and examples per run."""
    d = query.view_defaults
    c1, c2, c3 = st.columns(3)
    lo1 = _log_input(c1, "layer 1: lowest log10 rate", "tm_lo1", query, 0.1)
    hi1 = _log_input(c1, "layer 1: highest log10 rate", "tm_hi1", query, 0.1)
    lo2 = _log_input(c2, "layer 2: lowest log10 rate", "tm_lo2", query, 0.1)
    hi2 = _log_input(c2, "layer 2: highest log10 rate", "tm_hi2", query, 0.1)
    n = c3.selectbox("grid size (per axis)", list(MAP_SIZES), index=MAP_SIZES.index(d["tm_n"]),
                     key="tm_n", bind=BIND)
    steps = c3.number_input("steps per run", *MAP_STEPS_RANGE, int(d["tm_steps"]),
                            key="tm_steps", bind=BIND)
    examples = c3.number_input("training examples used (0 = all)", *MAP_EXAMPLES_RANGE,
                               int(d["tm_ex"]), key="tm_ex", bind=BIND,
                               help="Sohl-Dickstein's maps train on a handful of examples, "
                                    "which keeps a fine grid fast.")
    return dict(lo1=lo1, hi1=hi1, lo2=lo2, hi2=hi2, n=int(n), steps=int(steps),
                examples=int(examples))


def map_view(query: NetQuery, cfg: NetConfig) -> None:
    st.markdown("Each cell trains the network once, full batch, with its own pair of "
                "learning rates: layer 1 (input to first hidden layer) and layer 2 (every later "
                "layer), from the same initial weights, with the optimizer and schedule from "
                "the sidebar. Cells that blow up are drawn in the divergence colour; the "
                "others are shaded by their final training loss. Choose the ranges (log10 of "
                "the rates) to zoom in on the boundary.")
    m = map_controls(query)
    if m["lo1"] >= m["hi1"] or m["lo2"] >= m["hi2"]:
        st.error("Each lowest rate must be below the highest rate of the same layer.")
        return
    if not cfg.full_batch:
        st.info("The map trains full batch; the sidebar's batch size is not used here.")
    lrs1 = np.logspace(m["lo1"], m["hi1"], m["n"])
    lrs2 = np.logspace(m["lo2"], m["hi2"], m["n"])
    map_cfg = cfg.with_(steps=m["steps"], sharpness_every=0, batch_size=None)
    n_train = load_dataset(cfg.dataset).n_train
    examples = min(m["examples"], n_train) or None
    diverged, losses = trainability(map_cfg, lrs1, lrs2, examples)
    st.plotly_chart(figs.trainability_figure(lrs1, lrs2, diverged, losses), key="net-map",
                    width="stretch")
    st.caption(f"{float(np.mean(~diverged)):.0%} of the {diverged.size} rate pairs trained "
               f"without diverging in {m['steps']} steps.")
    spans = (m["lo1"], m["hi1"], m["lo2"], m["hi2"])
    centre = (10 ** ((m["lo1"] + m["hi1"]) / 2), 10 ** ((m["lo2"] + m["hi2"]) / 2))
    edge = boundary_point(diverged, lrs1, lrs2)
    b1, b2, b3 = st.columns(3)
    b1.button("Zoom in ×4 on the boundary", key="tm_zoom_edge", disabled=edge is None,
              on_click=_zoom, args=(zoom_exponents(*spans, edge or centre, 4.0),),
              help="Centres the view on the trainable/divergent boundary cell nearest the "
                   "middle and narrows both ranges fourfold.")
    b2.button("Zoom in ×4 on the centre", key="tm_zoom_in", on_click=_zoom,
              args=(zoom_exponents(*spans, centre, 4.0),))
    b3.button("Zoom out ×4", key="tm_zoom_out", on_click=_zoom,
              args=(zoom_exponents(*spans, centre, 0.25),))


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
    runs = preset.runs() if preset is not None else ()
    if preset is None or not 0 <= example.run < len(runs):
        st.warning(f"This example links network preset “{example.preset}” (run {example.run}), "
                   "which the Network page does not have.", icon=":material/warning:")
        st.markdown(example.scenario)
        st.markdown(f"**Takeaway:** {example.takeaway}")
        return
    text, figure = st.columns([2, 3])
    with text:
        st.markdown(f"**The situation.** {example.scenario}")
        st.markdown(f"**On the Network page:** {preset.title}. {preset.summary}")
        live = st.toggle(f"Train the {len(runs)} run{'s' if len(runs) > 1 else ''} here",
                         key=f"lesson-{lesson.id}-netex-{k}-live",
                         help="Real networks take seconds to minutes to train the first time; "
                              "afterwards the results are cached.")
        if not live:
            st.markdown(f"**Takeaway.** {example.takeaway}")
            open_on_network_page(example.preset)
            return
        with st.spinner("Training the preset's networks…"):
            results = [train(cfg) for _, cfg in runs]
        focus = results[example.run]
        for j, ((label, _), result) in enumerate(zip(runs, results, strict=True)):
            marker = " ◀ *this example*" if j == example.run and len(results) > 1 else ""
            st.markdown(f"- **{label}** — {result.regime.label}.{marker} {result.explanation}")
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
        st.plotly_chart(compare_runs([label for label, _ in runs], results),
                        key=f"lesson-{lesson.id}-netex-{k}", width="stretch")


# --- the page ------------------------------------------------------------------------------


def page() -> None:
    """Train a small real network: the bowl's learning-rate story, measured."""
    st.title("Network: the learning rate on a real network")
    query = load_query()
    show_notices()
    config = controls(query)
    mode = st.segmented_control("Show one training run, the range test beside a sweep of full "
                                "runs, or the trainability map of per-layer rates",
                                list(VIEWS), default=query.view_defaults["view"], key="view",
                                bind="query-params", required=True)
    if config is not None:
        preset_banner(query, config)
        {"map": map_view, "range": range_view}.get(mode, run_view)(query, config)

"""The lab's main area: notices, preset caption, regime badge with remedies, the charts with
their captions, pinned runs, the shareable link and the downloads."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import streamlit as st

from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Regime
from lrviz.engine.simulate import Run
from lrviz.engine.surfaces import get_surface
from lrviz.figures.captions import curves_caption, map_caption
from lrviz.figures.curves import curves_figure
from lrviz.figures.labels import describe, describe_beyond
from lrviz.figures.surface3d import surface_figure
from lrviz.figures.trajectory import colour, trajectory_figure
from lrviz.ui import export, runs, state
from lrviz.ui.controls import LabSettings, set_start_from_click
from lrviz.ui.remedies import outcome, remedies, tried_in_vain
from lrviz.ui.safe_text import md, swatch_line
from lrviz.ui.urlstate import (
    MAX_PINS,
    LabQuery,
    Pin,
    decode_pin,
    encode_pin,
    normalized,
    share_query,
)

BADGE = {  # st.badge colours; the icon and the word carry the meaning without colour
    Regime.CONVERGED: ("green", ":material/check_circle:"),
    Regime.OVERSHOOTING: ("blue", ":material/swap_vert:"),
    Regime.LOCAL_MINIMUM: ("violet", ":material/landscape:"),
    Regime.SLOW: ("orange", ":material/hourglass_top:"),
    Regime.STUCK: ("gray", ":material/pause_circle:"),
    Regime.OSCILLATING: ("blue", ":material/waves:"),
    Regime.DIVERGED: ("red", ":material/warning:"),
}
MAP_KEY = "lab_map"


def show_notices(page: str = "lab") -> None:
    """Problems found in the link, until the learner dismisses them (every URL value in them
    is escaped by `urlstate`, so it shows as typed)."""
    items = state.notices(page)
    if not items:
        return
    st.warning("\n\n".join(items), icon=":material/link_off:")
    st.button("Dismiss", key=f"{page}_dismiss", on_click=state.dismiss_notices, args=(page,))


def preset_banner(query: LabQuery, config: RunConfig) -> None:
    if query.preset is None:
        return
    st.info(f"**Preset — {query.preset.title}.** {query.preset.caption}",
            icon=":material/lightbulb:")
    if normalized(config) != normalized(query.preset.config):
        st.caption("You changed settings since loading this preset, so the caption may no "
                   "longer describe what you see.")


def regime_badge(run: Run, label: str = "") -> None:
    """The regime as a coloured badge with an icon, followed by the engine's explanation."""
    colour_name, icon = BADGE[run.regime]
    st.badge(run.regime.label.upper(), icon=icon, color=colour_name)
    st.markdown(f"{md(label)}{run.explanation}")


def _apply_remedy(config_json: str, key: str) -> None:
    cfg = RunConfig.model_validate_json(config_json)
    run = runs.run(cfg)
    remedy = next(r for r in remedies(run) if r.key == key)
    state.apply_config(remedy.apply(cfg))


def remedy_buttons(run: Run) -> None:
    options = remedies(run)
    if not options:
        if failed := tried_in_vain(run):
            st.caption(f"No one-click fix helped this run ({outcome(run)}). Tried: "
                       + "; ".join(r.effect for r in failed) + ".")
        return
    cols = st.columns(len(options))
    payload = run.config.model_dump_json()
    for col, remedy in zip(cols, options, strict=True):
        col.button(remedy.label, key=f"remedy_{remedy.key}", help=remedy.why,
                   on_click=_apply_remedy, args=(payload, remedy.key), width="stretch")
        col.caption(f"Tried: {remedy.effect}.")  # measured by the engine before offering


# --- pins ------------------------------------------------------------------------------------


def _decode(encoded: Sequence[str]) -> list[Pin]:
    return [p for i, text in enumerate(encoded) if (p := decode_pin(text, i)[0]) is not None]


def _encode(pins: Sequence[Pin]) -> list[str]:
    return [encode_pin(p.config, p.label) for p in pins]


def _pin(encoded: list[str], config_json: str) -> None:
    cfg = RunConfig.model_validate_json(config_json)
    state.set_pins([*_decode(encoded), Pin(describe(cfg), cfg)])


def _unpin(encoded: list[str], index: int) -> None:
    pins = _decode(encoded)
    del pins[index]
    state.set_pins(pins)


def _load_pin(encoded: list[str], index: int) -> None:
    state.apply_config(_decode(encoded)[index].config)


def same_map(a: RunConfig, b: RunConfig) -> bool:
    """Whether two runs can share one contour map (same surface and surface parameters)."""
    return a.surface == b.surface and a.surface_values() == b.surface_values()


def pin_panel(live: RunConfig, pins: Sequence[Pin]) -> None:
    """Compare mode: pin the current run (up to 4) and manage the pinned ones."""
    encoded = _encode(pins)
    already = any(normalized(p.config) == normalized(live) for p in pins)
    st.button(":material/push_pin: Pin this run to compare", key="pin_add",
              disabled=len(pins) >= MAX_PINS or already,
              help=f"Keep this run on the charts (up to {MAX_PINS}) while you change settings.",
              on_click=_pin, args=(encoded, live.model_dump_json()))
    for i, pin in enumerate(pins):
        row = st.columns([6, 1.3, 1.3])
        note = "" if same_map(pin.config, live) else " — *on its own map below*"
        # The label comes from the link: swatch_line escapes it for Markdown and HTML alike.
        extra = describe_beyond(pin.label, pin.config)  # each fact once, label first
        row[0].markdown(swatch_line(colour(i + 1), pin.label,
                                    suffix_md=(f" · {md(extra)}" if extra else "") + note),
                        unsafe_allow_html=True)
        row[1].button("Load", key=f"pin_load_{i}", on_click=_load_pin, args=(encoded, i),
                      help="Put this run's settings into the controls.")
        row[2].button("Unpin", key=f"pin_remove_{i}", on_click=_unpin, args=(encoded, i))


# --- charts, link, downloads -----------------------------------------------------------------


def absolute(path: str) -> str:
    """``path`` prefixed with the app's origin when the browser told us the URL."""
    url = st.context.url or ""
    root = url.split("?")[0].rstrip("/")
    if root.endswith("/lab"):
        root = root[: -len("/lab")]
    return root + path


def map_groups(shown: Sequence[Run]) -> list[list[int]]:
    """Indices of runs that share a contour map, the live run's group first."""
    groups: list[list[int]] = []
    for k, run in enumerate(shown):
        for group in groups:
            if same_map(shown[group[0]].config, run.config):
                group.append(k)
                break
        else:
            groups.append([k])
    return groups


def _map_title(run: Run) -> str:
    params = ", ".join(f"{k} {v:g}" for k, v in run.config.surface_values().items())
    return f"{run.config.surface}" + (f" ({params})" if params else "")


def charts(live: Run, pinned: Sequence[Run], pin_labels: Sequence[str],
           settings: LabSettings):
    """Map (animated, click to set the start) beside the stacked curves; 3D on request.

    Pinned runs on another surface (or other surface parameters) get a map of their own below,
    in the same colours; every run is on the curves.
    """
    shown = [live, *pinned]
    labels = [f"now: {describe(live.config)}", *pin_labels]
    texts = [md(label) for label in labels]  # the labels as captions (Markdown) show them
    colours = [colour(k) for k in range(len(shown))]
    groups = map_groups(shown)
    main = groups[0]
    left, right = st.columns([1.15, 1], gap="medium")
    with left:
        fig_map = trajectory_figure([shown[k] for k in main], labels=[labels[k] for k in main],
                                    colours=[colours[k] for k in main], height=640,
                                    animate=True, colorbar=False, clickable=True)
        st.plotly_chart(fig_map, key=MAP_KEY, width="stretch", selection_mode="points",
                        on_select=functools.partial(set_start_from_click, MAP_KEY,
                                                    live.config.surface))
        st.caption(f"Map of {_map_title(live)}: "
                   f"{map_caption([shown[k] for k in main], [texts[k] for k in main])} "
                   "Darker grey is higher loss; stars are minima (hollow: local). "
                   "Press Play or drag the step slider; click the map to start from there.")
    with right:
        fig_curves = curves_figure(shown, labels=labels, height=640, colours=colours)
        st.plotly_chart(fig_curves, key="lab_curves", width="stretch")
        st.caption(f"Top: loss, middle: learning rate, bottom: stability meter. "
                   f"{curves_caption(shown, texts)}")
    for g, group in enumerate(groups[1:], start=1):
        runs_g = [shown[k] for k in group]
        st.plotly_chart(trajectory_figure(runs_g, labels=[labels[k] for k in group],
                                          colours=[colours[k] for k in group], height=460,
                                          animate=True), key=f"lab_map_{g}", width="stretch")
        st.caption(f"Pinned runs on their own map, {_map_title(runs_g[0])}: "
                   f"{map_caption(runs_g, [texts[k] for k in group])}")
    if settings.view3d:
        main_runs = [shown[k] for k in main]
        st.plotly_chart(surface_figure(main_runs, labels=[labels[k] for k in main]),
                        key="lab_3d", width="stretch")
        log = get_surface(live.config.surface).log_scale
        st.caption("3D view of the same runs: height is the loss"
                   + (" gap to the minimum on a log scale." if log else ".")
                   + f" {map_caption(main_runs, [texts[k] for k in main])}")
    return shown, labels, fig_map, fig_curves


def share_and_export(query: LabQuery, settings: LabSettings, pins: Sequence[Pin],
                     shown: Sequence[Run], labels: Sequence[str], fig_map, fig_curves) -> None:
    link = absolute(share_query(query.preset, settings.config, pins, query.pins_explicit,
                                settings.view3d))
    st.markdown("**Shareable link** — opens exactly this view (copy with the icon):")
    st.code(link, language=None, wrap_lines=True)
    cols = st.columns(4)
    cols[0].download_button("Runs (CSV)", lambda: export.runs_csv(shown, labels),
                            file_name="lrviz-runs.csv", mime="text/csv", key="dl_csv",
                            on_click="ignore", width="stretch")
    cols[1].download_button("Runs (JSON)", lambda: export.runs_json(shown, labels, link=link),
                            file_name="lrviz-runs.json", mime="application/json",
                            key="dl_json", on_click="ignore", width="stretch")
    cols[2].download_button("Map (HTML)", lambda: export.figure_html(fig_map,
                                                                     title="lrviz map"),
                            file_name="lrviz-map.html", mime="text/html", key="dl_map",
                            on_click="ignore", width="stretch")
    cols[3].download_button("Curves (HTML)", lambda: export.figure_html(fig_curves,
                                                                        title="lrviz curves"),
                            file_name="lrviz-curves.html", mime="text/html", key="dl_curves",
                            on_click="ignore", width="stretch")

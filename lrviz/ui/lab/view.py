"""The lab's main area: notices, preset caption, regime badge with remedies, the charts with
their captions, pinned runs, the shareable link and the downloads."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import streamlit as st

from lrviz.engine.config import RunConfig
from lrviz.engine.diagnose import Regime
from lrviz.engine.presets import PRESETS
from lrviz.engine.simulate import Run
from lrviz.engine.surfaces import get_surface
from lrviz.figures.captions import curves_caption, map_caption
from lrviz.figures.labels import describe, describe_beyond
from lrviz.figures.surface3d import surface_figure
from lrviz.figures.trajectory import colour
from lrviz.ui import presenter, state
from lrviz.ui.lab import export, runs
from lrviz.ui.lab.controls import (
    LabSettings,
    SidebarSettings,
    lr_controls,
    set_start_from_click,
    sidebar_controls,
)
from lrviz.ui.lab.remedies import outcome, remedies, tried_in_vain
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
FULL_RERUN_KEY = "lab_full_rerun"  # set by a callback whose change the fragment cannot show


def app_wide(callback, *args) -> None:
    """Run ``callback(*args)``, then have the whole page rerun, not only the fragment that
    holds the control (`run_view`): for controls that change settings drawn outside it
    (the sidebar, the pins in the URL)."""
    callback(*args)
    st.session_state[FULL_RERUN_KEY] = True


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
                   on_click=app_wide, args=(_apply_remedy, payload, remedy.key),
                   width="stretch")
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


def pin_button(container, live: RunConfig, pins: Sequence[Pin]) -> None:
    """Pin the current run (up to 4) so that it stays on the charts."""
    already = any(normalized(p.config) == normalized(live) for p in pins)
    container.button("Pin this run", key="pin_add", icon=":material/push_pin:",
                     disabled=len(pins) >= MAX_PINS or already, width="stretch",
                     help=f"Keep this run on the charts (up to {MAX_PINS}) while you change "
                          "settings, to compare.",
                     on_click=app_wide, args=(_pin, _encode(pins), live.model_dump_json()))


def pin_panel(live: RunConfig, pins: Sequence[Pin]) -> None:
    """Compare mode: the pinned runs (the Pin button is in the control row above the map)."""
    encoded = _encode(pins)
    if not pins:
        st.caption(f"Press **Pin this run** above the map to keep a run on the charts (up to "
                   f"{MAX_PINS}) while you change the settings.")
    for i, pin in enumerate(pins):
        row = st.columns([6, 1.3, 1.3])
        note = "" if same_map(pin.config, live) else " — *on its own map below*"
        # The label comes from the link: swatch_line escapes it for Markdown and HTML alike.
        extra = describe_beyond(pin.label, pin.config)  # each fact once, label first
        row[0].markdown(swatch_line(colour(i + 1), pin.label,
                                    suffix_md=(f" · {md(extra)}" if extra else "") + note),
                        unsafe_allow_html=True)
        row[1].button("Load", key=f"pin_load_{i}", on_click=app_wide,
                      args=(_load_pin, encoded, i),
                      help="Put this run's settings into the controls.")
        row[2].button("Unpin", key=f"pin_remove_{i}", on_click=app_wide,
                      args=(_unpin, encoded, i))


# --- the control row above the map ------------------------------------------------------------

PLAY_KEY = "lab_play"  # the bridge script in lrviz.ui.a11y plays the map when it is clicked
PRESET_PICK_KEY = "preset_pick"


def control_row(container) -> list:
    """The main area's control row (learning rate, Play, Pin, presets): always on the page, so
    a phone, whose sidebar starts collapsed, has them above the map. Returns its columns."""
    return container.columns([3, 1.3, 1.3, 2.2], vertical_alignment="bottom")


def _pick_preset() -> None:
    preset_id = st.session_state.get(PRESET_PICK_KEY)
    if preset_id in PRESETS:
        state.load_preset(preset_id)


def fill_control_row(columns: list, query: LabQuery, live: RunConfig) -> None:
    """Play/Pause, Pin and the preset picker (the learning rate is already in column 0)."""
    _, play, pin, presets = columns
    play.button("Play / Pause", key=PLAY_KEY, icon=":material/play_pause:", width="stretch",
                help="Plays or pauses the map's animation (as the buttons under the map do).")
    pin_button(pin, live, query.pins)
    # The picker shows the URL's preset: set before the widget exists, on every run.
    st.session_state[PRESET_PICK_KEY] = query.preset.id if query.preset is not None else None
    presets.selectbox("Preset", list(PRESETS), index=None, key=PRESET_PICK_KEY,
                      format_func=lambda pid: PRESETS[pid].title, on_change=app_wide,
                      args=(_pick_preset,),
                      placeholder="Load a scenario…",
                      help="One-click scenarios; each comes with a caption saying what to see.")


def presenter_toolbar(query: LabQuery) -> None:
    """Presenter mode's toolbar: the preset shown, previous/next preset (keys p/n), exit."""
    current = query.preset.id if query.preset is not None else None
    scenario = query.preset.title if query.preset is not None else "Your own settings"
    presenter.toolbar("Lab", scenario, state.load_preset, list(PRESETS), current)


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
           settings: LabSettings, present: bool = False):
    """Map (animated, click to set the start) beside the stacked curves; 3D on request.

    Pinned runs on another surface (or other surface parameters) get a map of their own below,
    in the same colours; every run is on the curves. ``present``: sized for presenter mode,
    the regime drawn on the map.
    """
    shown = [live, *pinned]
    labels = [f"now: {describe(live.config)}", *pin_labels]
    texts = [md(label) for label in labels]  # the labels as captions (Markdown) show them
    colours = [colour(k) for k in range(len(shown))]
    groups = map_groups(shown)
    main = groups[0]
    left, right = presenter.stage_columns() if present else st.columns([1.15, 1],
                                                                        gap="medium")
    with left:
        fig_map = runs.trajectory_figure([shown[k] for k in main],
                                         labels=[labels[k] for k in main],
                                         colours=[colours[k] for k in main], height=640,
                                         animate=True, colorbar=False, clickable=True)
        if present:
            presenter.fit_map(fig_map, [(shown[k].regime.label, labels[k]) for k in main],
                              [colours[k] for k in main])
        st.plotly_chart(fig_map, key=MAP_KEY, width="stretch", selection_mode="points",
                        on_select=functools.partial(app_wide, set_start_from_click, MAP_KEY,
                                                    live.config.surface))
        st.caption(f"Map of {_map_title(live)}: "
                   f"{map_caption([shown[k] for k in main], [texts[k] for k in main])} "
                   "Darker grey is higher loss; stars are minima (hollow: local). "
                   "Press Play or drag the step slider; click the map to start from there.")
    with right:
        fig_curves = runs.curves_figure(shown, labels=labels, height=640, colours=colours)
        if present:
            presenter.fit_curves(fig_curves)
        st.plotly_chart(fig_curves, key="lab_curves", width="stretch")
        st.caption(f"Top: loss, middle: learning rate, bottom: stability meter. "
                   f"{curves_caption(shown, texts)}")
    for g, group in enumerate(groups[1:], start=1):
        runs_g = [shown[k] for k in group]
        st.plotly_chart(runs.trajectory_figure(runs_g, labels=[labels[k] for k in group],
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


# --- the page ------------------------------------------------------------------------------


def page() -> None:
    """The lab: every setting in the sidebar (and the URL), the main ones also in a row above
    the map, the run on the map; ``?present=1`` lays it out for a projector.

    Everything the learning rate changes is one fragment (`run_view`), the learning-rate
    controls included: changing the rate reruns that part only."""
    present = presenter.presenter_requested()
    query = state.load_lab_query()
    if present:  # the toolbar depends on the preset only
        presenter.install_style()
        presenter_toolbar(query)
    else:
        st.title("Lab: watch the learning rate steer")
        show_notices()
    run_view(query, sidebar_controls(query), present)


@st.fragment
def run_view(query: LabQuery, sidebar: SidebarSettings, present: bool) -> None:
    """The learning-rate controls (log slider in the control row, exact input in its sidebar
    slot) and all that depends on the rate: the control row, the charts, the regime and its
    remedies, the pins, the link and the downloads. Presenter mode: the stage (map and
    curves), then the control row, then the rest; else the control row first.

    A control here that changes settings drawn outside (presets, pins, remedies, a click on
    the map) sets `FULL_RERUN_KEY` through `app_wide`: the page then reruns as a whole."""
    if st.session_state.pop(FULL_RERUN_KEY, False):
        st.rerun()
    stage, row = (st.container(), st.container()) if present else (None, None)
    columns = control_row(row if present else st)
    settings = sidebar.with_lr(lr_controls(columns[0], query.base.lr, query.config.lr,
                                           exact_container=sidebar.lr_slot))
    fill_control_row(columns, query, settings.config)

    live = runs.run(settings.config)
    pinned = runs.runs([p.config for p in query.pins]) if query.pins else []

    if present:
        with stage:
            shown, labels, fig_map, fig_curves = charts(
                live, pinned, [p.label for p in query.pins], settings, present=True)
        show_notices()
        preset_banner(query, settings.config)
        regime_badge(live)
        remedy_buttons(live)
    else:
        preset_banner(query, settings.config)
        regime_badge(live)
        remedy_buttons(live)
        shown, labels, fig_map, fig_curves = charts(
            live, pinned, [p.label for p in query.pins], settings)
    st.subheader("Compare")
    pin_panel(settings.config, query.pins)
    st.subheader("Share and export")
    if present:
        presenter.share_link("/lab")
    share_and_export(query, settings, query.pins, shown, labels, fig_map, fig_curves)

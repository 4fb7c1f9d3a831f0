"""Presenter mode (``?present=1``): one figure pair filling a projector, large type, keys.

On the lab, race, schedules, finder and lesson pages ``?present=1`` hides the sidebar (its
widgets still run, so the URL keeps working), puts a toolbar on top (page title, the current
scenario, previous/next scenario, "Exit presenter mode") and the stage below it: the animated
map beside its curves, with the regime drawn on the map as an annotation. The stage fills the
screen's height: exactly on a 1280×720 projector at 150% zoom (an 853×480 CSS-pixel viewport),
and most of it on a 1920×1080 one. The keyboard (space, ←/→, n/p) is wired up by the bridge
script in `lrviz.ui.a11y`, which clicks the buttons keyed here.

The stylesheet is a fixed string: no user or URL text ever reaches it. Badge text goes through
`lrviz.figures.labels.plotly_text` before Plotly sees it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from urllib.parse import urlencode

import plotly.graph_objects as go
import streamlit as st

from lrviz.engine.config import RunConfig
from lrviz.engine.presets import PRESETS
from lrviz.figures.labels import plotly_text
from lrviz.ui import state, url_table
from lrviz.ui.safe_text import md
from lrviz.ui.urlstate import config_values, run_rows

PRESENT_KEY = "present"  # the URL parameter; Streamlit-style "1"/"true" switch it on
NEXT_KEY, PREVIOUS_KEY, EXIT_KEY = "present_next", "present_prev", "present_exit"
BADGE_NAME = "regime badge"  # the annotation's name (the browser tests look for it)
SCENARIO_KEY = "present_scenario"  # the lab preset last shown on race/schedules/finder

# 480 CSS px of viewport: ~8 px padding, a ~56 px toolbar, a 16 px gap, then the figures.
STAGE_HEIGHT = 390  # the figures' own height, and the stage's least (phones, short screens)
STAGE_CHROME = 90  # CSS px of the viewport above and below the stage: 480 - 90 = 390
STAGE_KEY = "present_stage"  # the stage's container (its CSS class is st-key-present_stage)
STAGE_FONT = 15

_STYLE = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapseButton"],
[data-testid="stHeader"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding: 0.5rem 1.25rem 4rem !important;
  max-width: none !important; }
[data-testid="stMain"] h1 { font-size: 1.35rem !important; padding: 0.2rem 0 !important;
  margin: 0 !important; line-height: 1.25 !important; }
[data-testid="stMain"] [data-testid="stMarkdown"] p,
[data-testid="stMain"] [data-testid="stMarkdown"] li { font-size: 1.3rem; }
[data-testid="stMain"] [data-testid="stCaptionContainer"],
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.1rem; }
</style>
"""

# The stage's figures as tall as the viewport leaves them: Streamlit's Plotly element draws its
# figure at the height its box measures in the browser, so the plots redraw to this height (and
# again when the window is resized). Never below STAGE_HEIGHT (a phone stacks the columns, each
# keeps 390 px); at most 60% of the width, so a portrait screen gets no tall thin strips. The
# chart fills its frame (100%), not a fixed height, so the chart's own fullscreen view (a fixed
# frame the size of the window) still shows the whole figure.
_STAGE = f".st-key-{STAGE_KEY}"
_CHART = '[data-testid="stPlotlyChart"]'
_STAGE_STYLE = f"""
<style>
{_STAGE} [data-testid="stElementContainer"]:has({_CHART}) {{ flex: 0 0 auto !important;
  height: clamp({STAGE_HEIGHT}px, calc(100vh - {STAGE_CHROME}px), 60vw) !important; }}
{_STAGE} [data-testid="stFullScreenFrame"]:has(> {_CHART}), {_STAGE} {_CHART} {{ height: 100%; }}
</style>
"""


def presenter_requested() -> bool:
    """Whether the URL asks for presenter mode (``?present=1`` or ``?present=true``).

    The value is read by the URL table's ``present`` row; a value it rejects leaves the page as
    usual (and the page's URL check names it in a notice).
    """
    text = st.query_params.get(PRESENT_KEY)
    if text is None:
        return False
    try:
        return bool(url_table.row(PRESENT_KEY, url_table.LAB).read(text.strip()))
    except url_table.BadValueError:
        return False


def install_style() -> None:
    """The presenter stylesheet (fixed text) for this page view."""
    st.html(_STYLE + _STAGE_STYLE)


def _exit() -> None:
    if PRESENT_KEY in st.query_params:
        del st.query_params[PRESENT_KEY]


def neighbours(ids: Sequence[str], current: str | None) -> tuple[str, str]:
    """The previous and the next id around ``current`` in ``ids`` (wrapping round); with no
    current id (or an unknown one) the next is the first and the previous the last."""
    if not ids:
        raise ValueError("no scenarios to step through")
    if current not in ids:
        return ids[-1], ids[0]
    i = list(ids).index(current)
    return ids[i - 1], ids[(i + 1) % len(ids)]


def toolbar(title: str, scenario: str, go_to: Callable[[str], None], ids: Sequence[str],
            current: str | None) -> None:
    """Title and scenario on the left; previous, next and exit buttons on the right.

    ``go_to(id)`` is the callback that shows scenario ``id`` (the keys n/p click these
    buttons); ``scenario`` is app text (escaped for Markdown here anyway).
    """
    previous, following = neighbours(ids, current)
    name, back, forward, leave = st.columns([3.4, 1, 1, 2.1], vertical_alignment="center")
    name.title(f"{title} · {md(scenario)}", anchor=False)
    back.button("Prev", key=PREVIOUS_KEY, icon=":material/skip_previous:",
                on_click=go_to, args=(previous,), help="Previous scenario (key p)",
                width="stretch")
    forward.button("Next", key=NEXT_KEY, icon=":material/skip_next:", on_click=go_to,
                   args=(following,), help="Next scenario (key n)", width="stretch")
    leave.button("Exit presenter mode", key=EXIT_KEY, icon=":material/close_fullscreen:",
                 on_click=_exit, width="stretch")


_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def badge_text(lines: Sequence[tuple[str, str]], colours: Sequence[str] = ()) -> str:
    """Plotly annotation text: one line per (regime, label) pair, the regime in bold capitals,
    after a square in the run's colour when ``colours`` are given (hex literals only).

    Both parts are escaped with `plotly_text`, so a label from a link stays literal text.
    """
    if any(not _HEX.fullmatch(c) for c in colours):
        raise ValueError(f"not hex colour literals: {list(colours)!r}")
    squares = [f"<span style='color:{c}'>■</span> " for c in colours] or [""] * len(lines)
    return "<br>".join(f"{square}<b>{plotly_text(regime.upper())}</b>"
                       + (f" {plotly_text(label)}" if label else "")
                       for square, (regime, label) in zip(squares, lines, strict=True))


def fit_map(fig: go.Figure, badge: Sequence[tuple[str, str]],
            colours: Sequence[str] = ()) -> go.Figure:
    """Resize an animated map for the stage and draw the regime badge on it.

    Play/Pause and the step slider share one row under the map (they have two rows on the
    normal page), which leaves the plot area most of the stage's height. With several runs
    the badge (one coloured line per run) replaces the map's legend, which would take the
    space of the map itself.
    """
    fig.update_layout(height=STAGE_HEIGHT, font_size=STAGE_FONT)
    if colours and len(colours) > 1:
        fig.update_layout(showlegend=False)
    fig.layout.margin.b = 95 if fig.layout.sliders else 40
    fig.layout.margin.t = 30
    if fig.layout.updatemenus:
        fig.layout.updatemenus[0].update(pad=dict(t=38, r=4), x=0.0, font=dict(size=12))
    if fig.layout.sliders:
        fig.layout.sliders[0].update(x=0.42, len=0.58, pad=dict(t=22, b=0),
                                     font=dict(size=11))
    fig.add_annotation(text=badge_text(badge, colours), name=BADGE_NAME, xref="paper", yref="paper",
                       x=0.01, y=0.99, xanchor="left", yanchor="top", showarrow=False,
                       align="left", bgcolor="rgba(255,255,255,0.88)", bordercolor="#333333",
                       borderwidth=1, borderpad=4,
                       font=dict(size=STAGE_FONT + 1 if len(badge) <= 2 else STAGE_FONT - 3,
                                 color="#111111"))
    return fig


def fit_curves(fig: go.Figure) -> go.Figure:
    """Resize the curves (or any second figure) for the stage."""
    fig.update_layout(height=STAGE_HEIGHT, font_size=STAGE_FONT - 1)
    return fig


def stage_columns():
    """The two columns of the stage: the map (left, a little wider) and its curves, in the
    container the stylesheet stretches to the screen's height."""
    return st.container(key=STAGE_KEY).columns([1.15, 1], gap="small")


def presenter_path(path: str, pairs: Sequence[tuple[str, str]]) -> str:
    """``path`` with the query ``pairs`` (minus any ``present``) and ``present=1``.

    Called with the page's current URL parameters, which Streamlit keeps to what differs
    from the defaults, so the link is short:

    >>> presenter_path("/race", [("mode", "tuned"), ("present", "1")])
    '/race?mode=tuned&present=1'
    """
    kept = [(k, v) for k, v in pairs if k != PRESENT_KEY] + [(PRESENT_KEY, "1")]
    return path + "?" + urlencode(kept, safe=":,=;")


def current_pairs() -> list[tuple[str, str]]:
    """The page's URL parameters as (key, value) pairs (repeated keys repeat)."""
    return [(key, value) for key in st.query_params for value in st.query_params.get_all(key)]


def absolute(path: str, page_path: str) -> str:
    """``path`` prefixed with the app's origin (and any base path) the browser reported."""
    root = (st.context.url or "").split("?")[0].rstrip("/")
    if page_path and root.endswith(page_path):
        root = root[: -len(page_path)]
    return root + path


def share_link(page_path: str) -> None:
    """The short presenter link of this view (only the non-default settings)."""
    link = absolute(presenter_path(page_path, current_pairs()), page_path)
    st.markdown("**Presenter link** — opens this view in presenter mode:")
    st.code(link, language=None, wrap_lines=True)


# --- scenarios on the race, schedules and finder pages: the lab's presets ----------------------


def scenario_settings(cfg: RunConfig, page: str) -> dict[str, float | int | str]:
    """The widget values that show ``cfg`` on ``page``: the URL table's run rows of that page
    (its components with their parameters, and its general settings); nothing else is touched."""
    values = config_values(cfg)
    rows = run_rows(page, cfg.surface, cfg.optimizer, cfg.schedule)
    return {r.widget: int(values[r.name]) if r.type == "int" else values[r.name]
            for r in rows if r.name in values}


def show_scenario(page: str, preset_id: str) -> None:
    """Callback: put the first run of lab preset ``preset_id`` into this page's controls."""
    cfg = PRESETS[preset_id].config
    settings = scenario_settings(cfg, page)
    st.session_state.update(settings)
    if "lr" in settings:
        state.set_lr(cfg.lr)  # also moves the log slider
    st.session_state[SCENARIO_KEY] = preset_id


def scenario_toolbar(title: str, page: str) -> None:
    """The toolbar of a page whose n/p keys step through the lab's presets."""
    current = st.session_state.get(SCENARIO_KEY)
    scenario = PRESETS[current].title if current in PRESETS else "Your own settings"
    toolbar(title, scenario, functools.partial(show_scenario, page), list(PRESETS), current)


def page_head(page: str, title: str, short_title: str) -> bool:
    """The head of a lab page: presenter mode's toolbar (titled ``short_title``, n/p stepping
    through the lab's presets) or the page's ``title``. Returns whether presenter mode is on."""
    present = presenter_requested()
    if present:
        install_style()
        scenario_toolbar(short_title, page)
    else:
        st.title(title)
    return present

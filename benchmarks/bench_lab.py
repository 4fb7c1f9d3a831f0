"""Lab performance, printed as one JSON object per line (not part of the test run).

1. Warm rerun of /lab after a numeric change (lr, then the start point), measured server-side
   through AppTest, against the baseline of a rerun with nothing changed (same process).
2. Figure JSON sent per page (the four lab pages, plus the lab with four runs), against a
   baseline map drawn at full resolution (300 grid points a side, no decimation).
3. Animation frames per animated chart (target: a few hundred at most).
4. What ``st.plotly_chart`` costs per rerun for the lab's map and curves (``to_dict()`` then
   ``plotly.io.to_json``, as Streamlit calls them), with the figure built three ways: as
   Plotly objects from the same dicts (``go.Figure(..., _validate=False)``, the baseline),
   as a `SpecFigure` rebuilt every rerun, as a `SpecFigure` over a cached spec (copied on
   each ``to_dict()``), and as the `SharedSpecFigure` the lab sends (``lrviz.ui.lab.runs``:
   the cached spec itself, no copy): CPU ms per rerun and the ratio to the baseline, same
   process.

Targets: rerun median < 50 ms warm, < 500 kB of figure JSON per page, frames <= 200.
Run: ``python benchmarks/bench_lab.py`` from the repository root.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import plotly.graph_objects as go
import plotly.io
import plotly.tools

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from lrviz import RunConfig, simulate  # noqa: E402
from lrviz.figures.curves import curves_figure  # noqa: E402
from lrviz.figures.style import SpecFigure  # noqa: E402
from lrviz.figures.trajectory import trajectory_figure  # noqa: E402
from lrviz.ui.lab.runs import SharedSpecFigure  # noqa: E402

APP = str(ROOT / "app.py")
PAGES = {
    "/lab": ("lrviz/ui/pages/lab.py", {}),
    "/lab?preset=adam-needs-tuning": ("lrviz/ui/pages/lab.py", {"preset": "adam-needs-tuning"}),
    "/schedules": ("lrviz/ui/pages/schedules.py", {}),
    "/race": ("lrviz/ui/pages/race.py", {}),
    "/race?mode=tuned": ("lrviz/ui/pages/race.py", {"mode": "tuned"}),
    "/finder": ("lrviz/ui/pages/finder.py", {}),
}


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def open_page(path: str, query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(path)
    at.run()
    if at.exception:
        raise RuntimeError(f"{path}: {at.exception}")
    return at


def timed(action) -> float:
    start = time.perf_counter()
    at = action()
    elapsed = (time.perf_counter() - start) * 1000
    if at.exception:
        raise RuntimeError(str(at.exception))
    return elapsed


def bench_rerun(repeats: int = 40) -> None:
    at = open_page(*PAGES["/lab"])
    # warm-up: every structure compiled, every code path imported
    for lr in (0.0123, 0.0234, 0.0345):
        at.number_input(key="lr").set_value(lr).run()
    baseline = [timed(at.run) for _ in range(repeats)]
    base_ms = statistics.median(baseline)
    # each value is new, so every rerun simulates and draws afresh (no cache hit)
    lrs = [round(0.002 + 0.0001 * k, 6) for k in range(repeats)]
    for control, values in (("lr", lrs), ("x0", [round(-1.9 + 0.01 * k, 3)
                                                 for k in range(repeats)])):
        times = [timed(lambda v=v, c=control: at.number_input(key=c).set_value(v).run())
                 for v in values]
        median = statistics.median(times)
        emit(benchmark="lab_rerun_after_numeric_change", control=control, n=len(times),
             median_ms=round(median, 2), p90_ms=round(sorted(times)[int(0.9 * len(times))], 2),
             baseline_unchanged_rerun_median_ms=round(base_ms, 2),
             ratio_to_baseline=round(median / base_ms, 2), target_ms=50,
             meets_target=median < 50)


def bench_figures() -> None:
    for name, (path, query) in PAGES.items():
        at = open_page(path, query)
        specs = [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
        sizes = [len(e.proto.spec.encode()) for e in at.get("plotly_chart")]
        frames = max((len(s.get("frames", [])) for s in specs), default=0)
        emit(benchmark="figure_json_per_page", page=name, charts=len(sizes),
             bytes=sum(sizes), largest_chart_bytes=max(sizes), max_animation_frames=frames,
             target_bytes=500_000, meets_target=sum(sizes) < 500_000 and frames <= 200)
    run = simulate(RunConfig())
    lean = len(trajectory_figure([run], animate=True, colorbar=False).to_json())
    naive = len(trajectory_figure([run], animate=True, grid_points=300).to_json())
    emit(benchmark="map_json_vs_full_resolution", lean_bytes=lean, baseline_300_grid_bytes=naive,
         ratio=round(lean / naive, 3))


def cpu_ms(action, repeats: int) -> float:
    """Median CPU milliseconds of ``action()`` over 5 batches of ``repeats`` calls."""
    action()
    batches = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(repeats):
            action()
        batches.append((time.process_time() - start) * 1000 / repeats)
    return statistics.median(batches)


def sent(fig: go.Figure) -> str:
    """What ``st.plotly_chart`` does with a figure before it enters the page's message."""
    return plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(fig, True),
                             validate=False)


def bench_figure_pipeline(repeats: int = 40) -> None:
    run = simulate(RunConfig())
    builders = {
        "lab_map": lambda: trajectory_figure([run], labels=["now"], height=640, animate=True,
                                             colorbar=False, clickable=True),
        "lab_curves": lambda: curves_figure([run], labels=["now"], height=640),
    }
    for name, build in builders.items():
        cached = build().to_dict()  # what lrviz.ui.lab.runs keeps (one spec shared by sessions)
        ways = {
            "plotly_objects": lambda b=build: sent(go.Figure(b().to_dict(), _validate=False)),
            "spec_figure_rebuilt": lambda b=build: sent(b()),
            "spec_figure_cached": lambda c=cached: sent(SpecFigure.from_json_ready(c)),
            "shared_spec_cached": lambda c=cached: sent(SharedSpecFigure.from_json_ready(c)),
        }
        times = {way: cpu_ms(action, repeats) for way, action in ways.items()}
        base = times["plotly_objects"]
        emit(benchmark="plotly_chart_cost_per_rerun", figure=name, json_bytes=len(sent(build())),
             baseline_plotly_objects_ms=round(base, 3),
             **{f"{way}_ms": round(ms, 3) for way, ms in times.items() if way != "plotly_objects"},
             **{f"{way}_ratio": round(ms / base, 3) for way, ms in times.items()
                if way != "plotly_objects"})


if __name__ == "__main__":
    bench_figure_pipeline()
    bench_rerun()
    bench_figures()

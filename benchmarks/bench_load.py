"""Server-only load: N simultaneous lab sessions over Streamlit's websocket protocol.

Starts ``streamlit run app.py`` on loopback (as tests/helpers.py does), then plays N browser-less
clients. Each speaks the real protocol on ``ws://127.0.0.1:PORT/_stcore/stream``: protobuf
``BackMsg.rerun_script`` out, ``ForwardMsg`` in. A client opens the lab page, then changes the
learning rate R times (the ``lr`` number input's widget state with the id of the fragment that
holds it, as the browser sends it); one render is the time from sending the rerun to receiving
``script_finished``.

Prints JSON lines:
  * ``server_cpu``: server CPU ms per lr change, one session alone, sent as a whole-page rerun
    (the baseline) and as the fragment rerun the browser sends, and their ratio;
  * ``baseline``: one session alone (same process, same server) - p50/p95 render time;
  * ``load``: N sessions at once - p50/p95/max render time, renders/s, the ratio of the
    p95 to the single-session p95, and server RSS before, at peak and per session;
  * ``after_close``: server RSS 30 s after every session closed (Streamlit still keeps them
    for reconnection), and once it has dropped them (its disconnectedSessionTTL has passed and
    one more short session came and went), vs before the load; the 10 % goal is on the latter.
Goals from issue 8: p95 <= 1.5 s with 30 sessions on the 2-core machine; RSS back within 10 %.

Run: ``python benchmarks/bench_load.py [--sessions 30] [--reruns 5] [--budget 300] [--waves 2]
[--settle 60] [--no-after-close] [--cpu-reruns 60]``.
The server inherits the environment, so Streamlit options can be compared, e.g.
``STREAMLIT_RUNNER_POST_SCRIPT_GC=true python benchmarks/bench_load.py`` (Streamlit's default
full GC after every run, which .streamlit/config.toml turns off).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
LR_VALUES = (0.01, 0.05, 0.1, 0.2, 0.02, 0.3, 0.005, 0.15)


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(env: dict[str, str] | None = None) -> Iterator[tuple[int, subprocess.Popen]]:
    """The app on a free loopback port; yields (port, process) once /_stcore/health is ok."""
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="lrviz-bench-"))
    full_env = {**os.environ, "LRVIZ_DB_URL": f"sqlite:///{data / 'progress.sqlite3'}",
                **(env or {})}
    log = open(data / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"server did not start: {(data / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def rss_mb(pid: int) -> float:
    """Resident set size of a process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


# --- one client ----------------------------------------------------------------------------


class LabClient:
    """One browser-less session on the lab page."""

    def __init__(self, port: int, page: str = "lab") -> None:
        self.url = f"ws://127.0.0.1:{port}/_stcore/stream"
        self.page = page
        self.ws = None
        self.lr_widget: str | None = None
        self.lr_fragment = ""  # the fragment that holds the lr input ("" if none)
        self.as_fragment = True  # False: send lr changes as whole-page reruns (a baseline)
        self.renders: list[float] = []
        self.errors: list[str] = []

    async def __aenter__(self) -> LabClient:
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"],
                                           max_size=2**26, open_timeout=30)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    def _rerun(self, lr: float | None) -> bytes:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_name = self.page
        if lr is not None and self.lr_widget is not None:
            # As the browser does: a widget inside a fragment reruns that fragment.
            state.fragment_id = self.lr_fragment if self.as_fragment else ""
            widget = state.widget_states.widgets.add()
            widget.id = self.lr_widget
            widget.double_value = float(lr)
        return msg.SerializeToString()

    async def render(self, lr: float | None = None, timeout: float = 120) -> float:
        """Send one rerun and wait for its script_finished; returns the seconds it took."""
        start = time.perf_counter()
        await self.ws.send(self._rerun(lr))
        async with asyncio.timeout(timeout):
            while True:
                fwd = ForwardMsg()
                fwd.ParseFromString(await self.ws.recv())
                kind = fwd.WhichOneof("type")
                if kind == "delta" and self.lr_widget is None:
                    self._find_lr(fwd)
                elif kind == "delta" and fwd.delta.new_element.WhichOneof("type") == "exception":
                    self.errors.append(fwd.delta.new_element.exception.message[:200])
                elif kind == "script_finished":
                    status = fwd.script_finished
                    if status in (ForwardMsg.FINISHED_SUCCESSFULLY,
                                  ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
                                  ForwardMsg.FINISHED_WITH_COMPILE_ERROR):
                        if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                            self.errors.append("compile error")
                        elapsed = time.perf_counter() - start
                        self.renders.append(elapsed)
                        return elapsed

    def _find_lr(self, fwd: ForwardMsg) -> None:
        element = fwd.delta.new_element
        if element.WhichOneof("type") == "number_input" and element.number_input.id.endswith(
                "-lr"):
            self.lr_widget = element.number_input.id
            self.lr_fragment = fwd.delta.fragment_id


async def session(port: int, reruns: int, offset: int, start: asyncio.Event) -> LabClient:
    """Open the lab, then change lr ``reruns`` times (values rotate per session)."""
    async with LabClient(port) as client:
        await start.wait()
        await client.render()
        for i in range(reruns):
            await client.render(LR_VALUES[(offset + i) % len(LR_VALUES)])
        return client


# --- the measurements --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (every thread), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def server_cpu(port: int, pid: int, reruns: int) -> dict[str, float]:
    """Server CPU milliseconds per lr change, one session alone: sent as a whole-page rerun
    (the baseline: what the lab cost before its run view became a fragment) and as the
    fragment rerun a browser sends. The learning rates cycle through LR_VALUES, as in the
    load, so both are measured warm (every run and figure cached)."""
    out = {}
    async with LabClient(port) as client:
        await client.render()
        for i in range(2 * len(LR_VALUES)):  # warm: every value simulated and drawn once
            await client.render(LR_VALUES[i % len(LR_VALUES)])
        for mode in ("page", "fragment", "page", "fragment"):  # interleaved against drift
            client.as_fragment = mode == "fragment"
            start = cpu_seconds(pid)
            for i in range(reruns):
                await client.render(LR_VALUES[i % len(LR_VALUES)])
            out.setdefault(mode, []).append((cpu_seconds(pid) - start) * 1000 / reruns)
        if client.errors:
            raise RuntimeError(f"the lab page failed: {client.errors[:3]}")
    return {mode: sum(v) / len(v) for mode, v in out.items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def baseline(port: int, reruns: int) -> list[float]:
    async with LabClient(port) as client:
        await client.render()  # first render: compiles, fills caches (not counted)
        for i in range(reruns):
            await client.render(LR_VALUES[i % len(LR_VALUES)])
        if client.errors:
            raise RuntimeError(f"the lab page failed: {client.errors[:3]}")
        if client.lr_widget is None:
            raise RuntimeError("the lab page has no number input with key 'lr'")
        return client.renders[1:]


async def load(port: int, pid: int, sessions: int, reruns: int, budget: float) -> dict:
    start = asyncio.Event()
    peak = [rss_mb(pid)]

    async def sample() -> None:
        while True:
            peak.append(rss_mb(pid))
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample())
    tasks = [asyncio.create_task(session(port, reruns, i, start)) for i in range(sessions)]
    await asyncio.sleep(0.5)  # every websocket open before anyone starts
    began = time.perf_counter()
    start.set()
    done, pending = await asyncio.wait(tasks, timeout=budget)
    wall = time.perf_counter() - began
    for task in pending:
        task.cancel()
    sampler.cancel()
    clients = [t.result() for t in done if t.exception() is None]
    failures = [repr(t.exception())[:200] for t in done if t.exception() is not None]
    renders = [r for c in clients for r in c.renders]
    changed = [r for c in clients for r in c.renders[1:]]
    return {"renders": renders, "changed": changed, "wall": wall, "peak_rss": max(peak),
            "finished": len(clients), "timed_out": len(pending), "failures": failures[:3],
            "errors": [e for c in clients for e in c.errors][:3]}


def load_wave(args: argparse.Namespace, port: int, proc: subprocess.Popen, before: float,
              base_p95: float, wave: int) -> None:
    """One wave of sessions, then RSS after they close (a second wave shows whether memory
    left behind by the first is reused, i.e. bounded, or grows again; ``--no-after-close``
    skips the wait)."""
    result = asyncio.run(load(port, proc.pid, args.sessions, args.reruns, args.budget))
    changed = result["changed"]
    p95 = percentile(changed, 95)
    print(json.dumps({
        "bench": "load", "phase": "load", "wave": wave, "sessions": args.sessions,
        "reruns_per_session": args.reruns, "finished": result["finished"],
        "timed_out": result["timed_out"], "renders": len(result["renders"]),
        "p50_s": round(percentile(changed, 50), 3), "p95_s": round(p95, 3),
        "max_s": round(max(changed, default=float("nan")), 3),
        "first_render_p95_s": round(percentile(
            [r for r in result["renders"] if r not in changed], 95), 3),
        "renders_per_s": round(len(result["renders"]) / result["wall"], 2),
        "p95_vs_single_session": round(p95 / base_p95, 2),
        "goal_p95_le_1_5s": p95 <= 1.5,
        "server_rss_before_mb": round(before, 1),
        "server_rss_peak_mb": round(result["peak_rss"], 1),
        "rss_per_session_mb": round((result["peak_rss"] - before) / args.sessions, 2),
        "failures": result["failures"], "page_errors": result["errors"]}), flush=True)
    if not args.after_close:
        return
    # Streamlit keeps a closed session for server.disconnectedSessionTTL (120 s by default) so
    # a dropped connection can come back, and forgets expired ones only when its session
    # store next changes (a session opens or closes): RSS 30 s after the close, then after the
    # TTL once one more short session came and went, as on a server in use.
    closed = time.perf_counter()
    time.sleep(30)
    at_30 = rss_mb(proc.pid)
    ttl = session_ttl()
    time.sleep(max(0.0, closed + ttl + 5 - time.perf_counter()))
    asyncio.run(probe(port))
    time.sleep(5)
    after = rss_mb(proc.pid)
    waited = time.perf_counter() - closed
    while after > 1.10 * before and waited < ttl + 5 + args.settle:
        time.sleep(5)
        after, waited = rss_mb(proc.pid), time.perf_counter() - closed
    print(json.dumps({"bench": "load", "phase": "after_close", "wave": wave,
                      "server_rss_before_mb": round(before, 1),
                      "server_rss_30s_after_close_mb": round(at_30, 1),
                      "session_ttl_s": ttl,
                      "server_rss_after_mb": round(after, 1),
                      "seconds_after_close": round(waited),
                      "after_vs_before": round(after / before, 3),
                      "goal_within_10pct": after <= 1.10 * before}), flush=True)


def session_ttl() -> float:
    """server.disconnectedSessionTTL as the server sees it (environment, config.toml, 120)."""
    if "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL" in os.environ:
        return float(os.environ["STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL"])
    config = ROOT / ".streamlit" / "config.toml"
    table = tomllib.loads(config.read_text()).get("server", {}) if config.exists() else {}
    return float(table.get("disconnectedSessionTTL", 120))


async def probe(port: int) -> None:
    """One short lab session: opens, renders once, closes."""
    async with LabClient(port) as client:
        await client.render()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--reruns", type=int, default=5)
    parser.add_argument("--budget", type=float, default=300, help="seconds for the load phase")
    parser.add_argument("--waves", type=int, default=2)
    parser.add_argument("--settle", type=float, default=60,
                        help="further seconds to wait for RSS to come back after the TTL")
    parser.add_argument("--no-after-close", dest="after_close", action="store_false",
                        help="skip the RSS phase after each wave (it waits out the session "
                             "TTL, ~2.5 min per wave)")
    parser.add_argument("--cpu-reruns", type=int, default=60,
                        help="lr changes per mode in the server-CPU phase (0: skip it)")
    args = parser.parse_args()
    with server() as (port, proc):
        if args.cpu_reruns:
            cpu = asyncio.run(server_cpu(port, proc.pid, args.cpu_reruns))
            print(json.dumps({"bench": "load", "phase": "server_cpu", "sessions": 1,
                              "reruns_per_mode": 2 * args.cpu_reruns,
                              "page_rerun_cpu_ms": round(cpu["page"], 2),
                              "fragment_rerun_cpu_ms": round(cpu["fragment"], 2),
                              "fragment_vs_page": round(cpu["fragment"] / cpu["page"], 3)}),
                  flush=True)
        base = asyncio.run(baseline(port, args.reruns))
        time.sleep(2)
        before = rss_mb(proc.pid)
        base_p95 = percentile(base, 95)
        print(json.dumps({"bench": "load", "phase": "baseline", "sessions": 1,
                          "renders": len(base), "p50_s": round(percentile(base, 50), 3),
                          "p95_s": round(base_p95, 3), "server_rss_mb": round(before, 1)}),
              flush=True)
        for wave in range(1, args.waves + 1):
            load_wave(args, port, proc, before, base_p95, wave)


if __name__ == "__main__":
    main()

"""What one app replica costs: memory when idle, per session, and lab renders per second.

Starts one replica (``streamlit run app.py`` on loopback, see bench_load.server), warms it with
one lab session, then keeps C sessions busy changing the learning rate for T seconds (a closed
loop: each session sends its next change as soon as the last render finished). Prints JSON lines:
  * ``idle``: RSS of the warmed replica with no session;
  * ``busy``: renders/s at concurrency C, p50/p95 render time, RSS at peak and per session,
    and the renders/s of one session alone (measured first, same process) with the ratio.
The sizing rule in the README ("Deploy for a school") comes from these numbers.

Run: ``python benchmarks/bench_replica.py [--concurrency 4] [--seconds 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from bench_load import LR_VALUES, LabClient, percentile, rss_mb, server


async def closed_loop(port: int, pid: int, concurrency: int, seconds: float) -> dict:
    peak = [rss_mb(pid)]
    stop_at = time.perf_counter() + seconds

    async def one(offset: int) -> list[float]:
        async with LabClient(port) as client:
            await client.render()
            i = 0
            while time.perf_counter() < stop_at:
                await client.render(LR_VALUES[(offset + i) % len(LR_VALUES)])
                peak.append(rss_mb(pid))
                i += 1
            return client.renders[1:]

    began = time.perf_counter()
    results = await asyncio.gather(*(one(k) for k in range(concurrency)))
    wall = time.perf_counter() - began
    renders = [r for rs in results for r in rs]
    return {"renders": renders, "per_s": len(renders) / max(wall, 1e-9), "peak": max(peak)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with server() as (port, proc):
        asyncio.run(closed_loop(port, proc.pid, 1, 5))  # warm: compile, fill caches
        time.sleep(2)
        idle = rss_mb(proc.pid)
        print(json.dumps({"bench": "replica", "phase": "idle",
                          "server_rss_mb": round(idle, 1)}), flush=True)
        single = asyncio.run(closed_loop(port, proc.pid, 1, args.seconds / 2))
        busy = asyncio.run(closed_loop(port, proc.pid, args.concurrency, args.seconds))
        print(json.dumps({
            "bench": "replica", "phase": "busy", "concurrency": args.concurrency,
            "seconds": args.seconds, "renders": len(busy["renders"]),
            "renders_per_s": round(busy["per_s"], 2),
            "single_session_renders_per_s": round(single["per_s"], 2),
            "throughput_vs_single": round(busy["per_s"] / single["per_s"], 2),
            "p50_s": round(percentile(busy["renders"], 50), 3),
            "p95_s": round(percentile(busy["renders"], 95), 3),
            "server_rss_peak_mb": round(busy["peak"], 1),
            "rss_per_session_mb": round((busy["peak"] - idle) / args.concurrency, 2)}),
            flush=True)


if __name__ == "__main__":
    main()

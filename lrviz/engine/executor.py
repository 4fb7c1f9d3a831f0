"""The engine's one executor: every run, alone, in a sweep or in a phase map, goes through
`execute` and `core.run_batch`.

Runs arrive as `Block`s: runs that share a config (and at most one parameter changed from it)
and differ only in their base learning rate, so a thousand-rate sweep is one block, a phase map
one block per parameter value and `simulate_many` one block per config. Everything on the host
(grouping, the traced inputs, the classifier's references, classification) then costs one step
per block, not per run. Blocks are grouped by compiled structure (surface, optimizer and its
hyperparameter values, loss-watching schedule or not, step bucket, noise or not); a large group
is cut into one part per core, the parts run on threads, and the parts of a group are joined
again into one typed `Batch` on the host, which is classified in one vectorised pass.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import jax
import numpy as np

from lrviz.engine import core, diagnose, runtime
from lrviz.engine.config import RunConfig
from lrviz.engine.schedules import base_values, get_schedule
from lrviz.engine.spec import batch_bucket, step_bucket
from lrviz.engine.surfaces import get_surface

MIN_BATCH = 8  # one AVX register of float32 lanes
# Runs per part below which splitting a batch across threads does not pay: measured on the
# 2-core machine, a 1000-run sweep took 5.2 ms as one part and 6.2 ms as two, a 1024-run phase
# map 13.6 ms against 16.1; from 1500 runs on, two parts were faster (3000: 12.5 against 15.8).
THREAD_MIN_RUNS = 600


class Block(NamedTuple):
    """Runs that differ only in their base learning rate: a config, the rates (R,) and at most
    one parameter changed from the config (``(kind, name, value)``, as in a phase map)."""

    cfg: RunConfig
    lrs: np.ndarray
    override: tuple[str, str, float] | None = None

    @classmethod
    def of(cls, cfg: RunConfig, lrs=None, override=None) -> Block:
        """A block at rates ``lrs`` (default: the config's own rate)."""
        rates = np.atleast_1d(np.asarray(cfg.lr if lrs is None else lrs, np.float64))
        return cls(cfg, rates, override)

    def values(self, kind: str) -> dict[str, float]:
        """The resolved surface/optimizer/schedule parameters of these runs."""
        owner = self.cfg.values(kind)
        if self.override is not None and self.override[0] == kind:
            owner[self.override[1]] = float(self.override[2])
        return owner


class Piece(NamedTuple):
    """Runs ``start .. stop-1`` of a block, a part of a batch."""

    block: Block
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def lrs(self) -> np.ndarray:
        return self.block.lrs[self.start : self.stop]


class Trajectory(NamedTuple):
    """The executor's result for one run, cut to its own length (float64 host arrays)."""

    points: np.ndarray  # (n+1, 2)
    losses: np.ndarray  # (n+1,)
    lrs: np.ndarray  # (n,)
    diverged_at: int | None  # first update that blew up (1-based), None if none did
    final_grad: np.ndarray  # (2,)
    final_hessian: np.ndarray  # (2, 2)


@functools.lru_cache(maxsize=256)
def _unit_rates(schedule: str, steps: int, length: int, params: tuple) -> tuple[np.ndarray, bool]:
    """The schedule at base rate 1 and whether it scales linearly with the base rate."""
    one = base_values(schedule, 1.0, steps, length, dict(params))
    two = base_values(schedule, 2.0, steps, length, dict(params))
    one.setflags(write=False)
    return one, bool(np.allclose(two, 2.0 * one, rtol=1e-6, atol=0))


def rate_table(schedule: str, lrs: np.ndarray, steps: int, length: int,
               params: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The per-update rates of runs at base rates ``lrs`` (R,) as a float32 table (length, 1)
    or (length, R) and a scale (R,): update t of run r uses ``table[t, r or 0] * scale[r]``,
    one float32 product (`core.run_batch` computes the same). The one way every run gets its
    rates, so a sweep row and the single run with the same settings use identical numbers.

    A schedule that scales linearly with the base rate (checked numerically) is one column
    evaluated at rate 1, scaled by each run's rate; any other gets a column per run and scale
    1. Padding repeats the last real rate (it is never used)."""
    lrs = np.asarray(lrs, np.float32)
    unit, linear = _unit_rates(schedule, steps, length, tuple(sorted(params.items())))
    if linear:
        table = unit.astype(np.float32)[:, None]
    else:
        table = np.stack([base_values(schedule, float(lr), steps, length, params)
                          for lr in lrs], axis=1).astype(np.float32)
        lrs = np.ones_like(lrs)
    table[steps:] = table[steps - 1]
    return table, lrs


def structure(block: Block) -> tuple[str, str, bool, int, bool, int, tuple]:
    """What runs as one batch: the compiled structure (surface, optimizer, loss-watching
    schedule or not, step bucket, gradient noise or not), the number of steps and the
    optimizer's hyperparameter values.

    The last two do not compile (they are traced scalars) but every batch shares them: one
    ``beta ** t`` per step instead of one per run, one comparison per step for each window
    the classifier measures, and every run, whether alone, in a sweep or in a phase map, goes
    through the very same program (a phase map over an optimizer parameter runs one batch per
    value)."""
    cfg = block.cfg
    return (cfg.surface, cfg.optimizer, get_schedule(cfg.schedule).needs_loss,
            step_bucket(cfg.steps), cfg.noise > 0, cfg.steps,
            tuple(sorted(block.values("optimizer").items())))


def parts(total: int, workers: int) -> list[slice]:
    """Runs ``0 .. total-1`` cut into up to ``workers`` near-equal consecutive parts of at
    least `THREAD_MIN_RUNS` runs each (one part when too few)."""
    count = min(workers, total // THREAD_MIN_RUNS)
    if count < 2:
        return [slice(0, total)]
    return runtime.batch_slices(total, total, count)


def _cut(blocks: Sequence[Block], part: slice) -> list[Piece]:
    """The pieces of ``blocks`` (laid end to end) that fall in ``part``."""
    pieces, offset = [], 0
    for block in blocks:
        lo, hi = max(part.start, offset), min(part.stop, offset + len(block.lrs))
        if lo < hi:
            pieces.append(Piece(block, lo - offset, hi - offset))
        offset += len(block.lrs)
    return pieces


def _spans(pieces: Sequence[Piece]) -> list[slice]:
    """Where each piece's runs sit in its batch."""
    ends = np.cumsum([0] + [p.size for p in pieces]).tolist()
    return [slice(a, b) for a, b in itertools.pairwise(ends)]


def _pad(a: np.ndarray, used: int) -> np.ndarray:
    """Fill the batch's padding lanes (last axis from ``used`` on) with the first run."""
    a[..., used:] = a[..., :1]
    return a


def _one_table(tables: Sequence[np.ndarray], sizes: Sequence[int], size: int) -> np.ndarray:
    """Rate tables of consecutive runs (``sizes[k]`` runs each, see `rate_table`) as one for
    ``size`` lanes: the shared column when every one is the same single column, else a column
    per run (padding lanes repeat the first run)."""
    if all(t.shape[1] == 1 and np.array_equal(t, tables[0]) for t in tables):
        return tables[0]
    columns = [np.broadcast_to(t, (len(t), n)) for t, n in zip(tables, sizes, strict=True)]
    return _pad(np.concatenate(columns + [columns[0][:, :1]] * (size - sum(sizes)), axis=1),
                sum(sizes))


def _inputs(pieces: Sequence[Piece], length: int) -> core.Inputs:
    """The stacked traced inputs of pieces sharing a structure, padded to a batch bucket: one
    step per piece (a sweep's thousand rates are one array operation).

    The optimizer's hyperparameters are shared by the batch (see `structure`) and go in as
    scalars; surface and plateau parameters are columns (sharing them would buy nothing and
    compile the surface differently from a phase map that varies them)."""
    used = sum(p.size for p in pieces)
    # At least MIN_BATCH runs: XLA compiles very small batches to scalar code whose rounding
    # differs from the SIMD code of larger ones, and a single run must equal its sweep row.
    size = max(MIN_BATCH, batch_bucket(used))
    f32 = np.float32
    tables, scale = [], np.empty(size, f32)
    start, noise, seed = np.empty((2, size), f32), np.empty(size, f32), np.empty(size, np.int32)
    columns: dict[str, dict[str, np.ndarray]] = {"surface": {}, "plateau": {}}
    for piece, span in zip(pieces, _spans(pieces), strict=True):
        block = piece.block
        cfg, spec = block.cfg, get_schedule(block.cfg.schedule)
        sched = block.values("schedule")
        table, scale[span] = rate_table(cfg.schedule, piece.lrs, cfg.steps, length, sched)
        tables.append(table)
        plateau = get_schedule("reduce_on_plateau").resolve(sched if spec.needs_loss else {})
        for kind, values in (("surface", block.values("surface")), ("plateau", plateau)):
            for name, v in values.items():
                columns[kind].setdefault(name, np.empty(size, f32))[span] = v
        start[:, span] = np.asarray(cfg.start_point, f32)[:, None]
        noise[span], seed[span] = cfg.noise, cfg.seed
    lrs = _one_table(tables, [p.size for p in pieces], size)
    for a in (scale, start, noise, seed, *columns["surface"].values(),
              *columns["plateau"].values()):
        _pad(a, used)
    optimizer = {k: f32(v) for k, v in pieces[0].block.values("optimizer").items()}
    return core.Inputs(start=start.T, surface_params=columns["surface"],
                       optimizer_params=optimizer, lrs=lrs, scale=scale,
                       plateau_params=columns["plateau"], noise=noise, seed=seed,
                       steps=np.int32(pieces[0].block.cfg.steps))


def _watch(pieces: Sequence[Piece], size: int) -> core.Watch:
    """What the scan measures for the classifier, per run (padded like `_inputs`): every known
    minimum of the run's surface as a candidate reference (pieces with fewer minima repeat
    their last), the swing that counts as a crossing, and the run's windows."""
    found = [(span, piece.block, diagnose.references(piece.block.cfg.surface,
                                                     piece.block.values("surface")))
             for piece, span in zip(pieces, _spans(pieces), strict=True)]
    # a surface whose minima move with its parameters (two wells merging into one) pads its
    # count to a power of two (at least 2), so a slider never changes the compiled shape
    m = max(len(refs.points) if get_surface(block.cfg.surface).minima_fn is None
            else max(2, 1 << (len(refs.points) - 1).bit_length()) for _, block, refs in found)
    f32 = np.float32
    ref, top = np.empty((2, m, size), f32), np.empty((2, m, size), f32)
    swing, fmin = np.empty(size, f32), np.empty(size, f32)
    for span, block, refs in found:
        pad = np.minimum(np.arange(m), len(refs.points) - 1)  # repeat the last minimum
        ref[:, :, span] = refs.points[pad].T[:, :, None]
        top[:, :, span] = refs.tops[pad].T[:, :, None]
        swing[span] = diagnose.swing(block.cfg.surface)
        fmin[span] = refs.values.min()
    used = sum(p.size for p in pieces)
    for a in (ref, top, swing, fmin):
        _pad(a, used)
    wins = np.array(diagnose.windows(pieces[0].block.cfg.steps), np.int32)
    return core.Watch(ref[0], ref[1], top[0], top[1], swing, fmin, wins)


# the run axis of each `core.Outputs` field: last, but for the per-run final values
_RUN_AXIS = {"final_point": 0, "final_grad": 0, "final_hessian": 0}


@dataclass(frozen=True, eq=False)
class Batch:
    """The executor's typed result for the runs of one structure (``pieces``, in order).

    ``out`` holds the scan's arrays (step-major; without paths only the per-run summary),
    padded to a batch bucket or, for a batch joined from parts, host arrays cut to its runs;
    the views below cut the padding off without copying.
    """

    pieces: list[Piece]
    out: core.Outputs
    table: np.ndarray  # (N, 1) or (N, R) rate table and (R,) scale fed in (see `rate_table`)
    scale: np.ndarray
    plateau: bool

    @property
    def size(self) -> int:
        return sum(p.size for p in self.pieces)

    @functools.cached_property
    def spans(self) -> list[slice]:
        return _spans(self.pieces)

    def _host(self, a) -> np.ndarray:
        return np.asarray(a)[..., : self.size]

    @functools.cached_property
    def diverged_at(self) -> np.ndarray:
        """(R,) first update that blew up, -1 when the run never did."""
        return self._host(self.out.diverged_at)

    @functools.cached_property
    def final_loss(self) -> np.ndarray:
        return self._host(self.out.final_loss)

    @functools.cached_property
    def stats(self) -> core.PathStats:
        """The scan's path statistics as host arrays (per-candidate fields (M, R))."""
        return core.PathStats(*(self._host(a) for a in self.out.stats))

    def per_run(self, name: str) -> np.ndarray:
        """(R, ...) ``final_point``, ``final_grad`` or ``final_hessian``."""
        return np.asarray(getattr(self.out, name))[: self.size]

    def config(self, i: int) -> RunConfig:
        """The config of run ``i`` (its rate and override aside)."""
        k = int(np.searchsorted([s.stop for s in self.spans], i, side="right"))
        return self.pieces[k].block.cfg

    def per_piece(self, value: Callable[[Block], float]) -> np.ndarray:
        """(R,) ``value(block)`` of every run's block."""
        return np.repeat([value(p.block) for p in self.pieces], [p.size for p in self.pieces])

    def rates(self, i: int) -> np.ndarray:
        """(N,) float32 rates run ``i`` used: the table's column times its scale, the very
        product the scan computed (a plateau schedule's cuts come from the scan itself)."""
        if self.plateau:
            return np.asarray(self.out.lrs)[:, i]
        return self.table[:, i if self.table.shape[1] > 1 else 0] * self.scale[i]

    def trajectory(self, i: int) -> Trajectory:
        """Run ``i`` cut to its own length, as float64 host arrays (needs a batch with paths)."""
        n = self.config(i).steps
        at = int(self.diverged_at[i])
        points = np.stack([np.asarray(self.out.xs)[: n + 1, i],
                           np.asarray(self.out.ys)[: n + 1, i]], axis=-1)
        return Trajectory(points.astype(np.float64),
                          np.asarray(self.out.losses)[: n + 1, i].astype(np.float64),
                          self.rates(i)[:n].astype(np.float64), at if at >= 0 else None,
                          self.per_run("final_grad")[i].astype(np.float64),
                          self.per_run("final_hessian")[i].astype(np.float64))


def _join(parts_: list[Batch]) -> Batch:
    """The parts of one group as one batch (host arrays laid end to end)."""
    if len(parts_) == 1:
        return parts_[0]

    def join(name: str, arrays):
        if arrays[0] is None:
            return None
        axis = _RUN_AXIS.get(name, -1)
        return np.concatenate([np.take(np.asarray(a), np.arange(b.size), axis=axis)
                               for a, b in zip(arrays, parts_, strict=True)], axis=axis)

    fields = {name: join(name, [getattr(b.out, name) for b in parts_])
              for name in core.Outputs._fields if name != "stats"}
    stats = core.PathStats(*(join(name, [getattr(b.out.stats, name) for b in parts_])
                             for name in core.PathStats._fields))
    sizes = [b.size for b in parts_]
    tables = [b.table[:, : b.size] if b.table.shape[1] > 1 else b.table for b in parts_]
    return Batch([p for b in parts_ for p in b.pieces], core.Outputs(**fields, stats=stats),
                 _one_table(tables, sizes, sum(sizes)), join("scale", [b.scale for b in parts_]),
                 parts_[0].plateau)


def execute(blocks: Sequence[Block], paths: bool = True,
            workers: int | None = None) -> list[tuple[np.ndarray, Batch]]:
    """Run every block; blocks sharing a structure run as one batch. Returns (run indices,
    batch) pairs, the indices counting the runs of all blocks laid end to end. Single runs,
    sweeps and phase maps all come through here; sweeps and phase maps ask for no ``paths``
    (the scan then keeps only what the classifier reads).

    A large batch (a sweep, a phase map) is cut into one part per core (``workers``, default
    every usable core), and parts and batches run side by side on threads
    (`runtime.run_batches`); the parts of a batch are joined again on the host. Each run is
    elementwise in its own lane, so a run's numbers do not depend on which part it is in (a
    test checks a threaded sweep against the one-batch one)."""
    workers = runtime.usable_cores() if workers is None else max(1, int(workers))
    offsets = np.cumsum([0] + [len(b.lrs) for b in blocks]).tolist()
    groups: dict[tuple, list[int]] = {}
    for k, block in enumerate(blocks):
        groups.setdefault(structure(block), []).append(k)
    jobs, owners = [], []
    for g, ((surface, optimizer, plateau, length, noisy, _, _), members) in enumerate(
            groups.items()):
        chosen = [blocks[k] for k in members]
        for part in parts(sum(len(b.lrs) for b in chosen), workers):
            jobs.append(functools.partial(_run_part, _cut(chosen, part), surface, optimizer,
                                          plateau, length, paths, noisy))
            owners.append(g)
    done = runtime.run_batches(jobs, [1] * len(jobs), workers)
    out = []
    for g, members in enumerate(groups.values()):
        batch = _join([b for b, owner in zip(done, owners, strict=True) if owner == g])
        idx = np.concatenate([np.arange(offsets[k], offsets[k + 1]) for k in members])
        out.append((idx, batch))
    return out


def _run_part(pieces: list[Piece], surface: str, optimizer: str, plateau: bool, length: int,
              paths: bool, noisy: bool) -> Batch:
    x = _inputs(pieces, length)
    runtime.keep_mappings_in_check()
    o = core.run_batch(surface, optimizer, plateau, paths, noisy, x,
                       _watch(pieces, x.scale.shape[0]))
    # wait here, on this part's thread: left to JAX's asynchronous dispatch, the parts of a
    # batch would queue for the one CPU device and run one after the other
    return Batch(pieces, jax.block_until_ready(o), x.lrs, x.scale, plateau)


def classify(batches: Sequence[tuple[np.ndarray, Batch]]
             ) -> list[tuple[np.ndarray, diagnose.BatchFeatures]]:
    """Classify the runs of each batch in groups sharing the surface's parameters (a batch
    shares its surface and length); returns (run indices, features) pairs."""
    out = []
    for idx, batch in batches:
        stats = batch.stats
        point, grad, hessian = (batch.per_run(k) for k in
                                ("final_point", "final_grad", "final_hessian"))
        surface = batch.pieces[0].block.cfg.surface
        keyed: dict[tuple, list[slice]] = {}
        for piece, span in zip(batch.pieces, batch.spans, strict=True):
            keyed.setdefault(tuple(sorted(piece.block.values("surface").items())),
                             []).append(span)
        noise = batch.per_piece(lambda b: b.cfg.noise)
        for params, spans in keyed.items():
            cols = (spans[0] if len(spans) == 1
                    else np.concatenate([np.arange(s.start, s.stop) for s in spans]))
            refs = diagnose.references(surface, dict(params))
            group = core.PathStats(*(a[: len(refs.points), cols] if a.ndim == 2 else a[cols]
                                     for a in stats))
            feats = diagnose.classify_batch(
                get_surface(surface), dict(params), point[cols], batch.final_loss[cols], group,
                batch.diverged_at[cols], grad[cols], hessian[cols], noise[cols], refs=refs)
            out.append((idx[cols], feats))
    return out

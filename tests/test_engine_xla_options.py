"""The trajectory programs' XLA options (`core.XLA_OPTIONS`) change speed only: every output
of `core.run_batch` equals, bit for bit, the same program compiled with XLA's defaults, for
every surface and every optimizer, with and without paths, noise and a loss-watching
schedule."""

import functools

import jax
import numpy as np
import pytest

import lrviz
from lrviz import RunConfig
from lrviz.engine import core
from lrviz.engine.executor import Block, Piece, _inputs, _watch, structure

RATES = np.geomspace(1e-3, 3.0, 24)  # from slow through settling to diverging

CASES = (
    [RunConfig(surface=s, optimizer="sgd", steps=60) for s in sorted(lrviz.SURFACES)]
    + [RunConfig(surface="rosenbrock", optimizer=o, steps=60) for o in sorted(lrviz.OPTIMIZERS)]
    + [RunConfig(surface="ravine", optimizer="adam", steps=60, noise=0.5, seed=3),
       RunConfig(surface="bowl", optimizer="momentum", steps=60,
                 schedule="reduce_on_plateau")]
)


@functools.cache
def _default_program():
    return jax.jit(core.run_batch.__wrapped__, static_argnums=(0, 1, 2, 3, 4))


def test_the_options_are_set_on_the_program():
    text = core.run_batch.lower(*_args(CASES[0], False)).compile().as_text()
    assert text  # compiled with the options (an unknown option would raise here)
    assert core.XLA_OPTIONS["xla_cpu_prefer_vector_width"] == 512


def _args(cfg: RunConfig, paths: bool):
    surface, optimizer, plateau, length, noisy, _, _ = structure(Block.of(cfg, RATES))
    pieces = [Piece(Block.of(cfg, RATES), 0, len(RATES))]
    x = _inputs(pieces, length)
    return surface, optimizer, plateau, paths, noisy, x, _watch(pieces, x.scale.shape[0])


@pytest.mark.parametrize("cfg", CASES, ids=lambda c: f"{c.surface}-{c.optimizer}-{c.schedule}")
def test_outputs_are_bit_identical_to_the_default_options(cfg):
    with_paths = cfg.schedule == "reduce_on_plateau" or (cfg.optimizer == "adam"
                                                         and not cfg.noise)
    for paths in (False, True) if with_paths else (False,):
        args = _args(cfg, paths)
        tuned = jax.tree.leaves(core.run_batch(*args))
        plain = jax.tree.leaves(_default_program()(*args))
        assert len(tuned) == len(plain)
        for a, b in zip(tuned, plain, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

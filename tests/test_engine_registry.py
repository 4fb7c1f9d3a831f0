"""Registry entries carry their behaviour: each optimizer's stability factor matches the
threshold its own update rule shows on a quadratic, and no module outside the registries
branches on an optimizer's name."""

import ast
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.engine.registry import KINDS, REGISTRIES, get_entry

ROOT = Path(__file__).resolve().parents[1]
# Modules that once decided by optimizer name what the registry now says.
NO_NAME_BRANCHES = ["lrviz/ui/lab/remedies.py", "lrviz/learning/simcheck.py",
                    "lrviz/learning/grading.py", "lrviz/ui/practice/question.py",
                    "lrviz/engine/diagnose.py", "lrviz/engine/simulate.py",
                    "lrviz/engine/theory.py"]
LAM = 4.0  # curvature of the test quadratic f(x) = LAM / 2 * x^2


def _strings(node: ast.AST) -> list[str]:
    """String constants in ``node`` itself or directly inside a tuple/list/set literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for e in node.elts for s in _strings(e)]
    return []


def name_branches(source: str) -> list[str]:
    """Comparisons against optimizer names (``x == "sgd"``, ``x in ("momentum", ...)``) and
    dict literals keyed by two or more of them (a lookup table outside the registry)."""
    names, found = set(OPTIMIZERS), []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                found += [f"line {node.lineno}: compares with {s!r}"
                          for s in _strings(operand) if s in names]
        elif isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            if len(names.intersection(keys)) >= 2:
                found.append(f"line {node.lineno}: a table keyed by optimizer names")
    return found


@pytest.mark.parametrize("path", NO_NAME_BRANCHES)
def test_no_module_branches_on_an_optimizer_name(path):
    assert name_branches((ROOT / path).read_text()) == []


def test_the_name_branch_scan_finds_what_it_looks_for():
    bad = ('if cfg.optimizer != "sgd":\n    pass\n'
           'ok = name in ("momentum", "nesterov")\n'
           'rule = {"sgd": "", "momentum": "2 + 2μ"}\n')
    assert {hit.split(":")[0] for hit in name_branches(bad)} == {"line 1", "line 3", "line 4"}
    assert name_branches('if kind == "saddle":\n    pass\n') == []


def _final_distance(name: str, lr, params: dict[str, float], steps: int = 4000):
    """|x| after ``steps`` updates of the registry's own optimizer on f(x) = LAM/2 x^2 from
    x = 1 (inf once it left [-1e6, 1e6])."""
    opt = OPTIMIZERS[name].factory(lr, **params)

    def body(carry, _):
        x, state = carry
        update, state = opt.update(LAM * x, state, x)
        x = x + update
        return (jnp.where(jnp.abs(x) < 1e6, x, jnp.inf), state), None

    x0 = jnp.ones(1)
    (x, _), _ = jax.lax.scan(body, (x0, opt.init(x0)), None, length=steps)
    return jnp.abs(x[0])


def measured_threshold(name: str, params: dict[str, float]) -> float:
    """The largest stable constant rate, by bisection on whether the run decays or grows."""
    run = jax.jit(lambda lr: _final_distance(name, lr, params))
    lo, hi = 0.05 / LAM, 20.0 / LAM
    assert run(lo) < 1 and not run(hi) < 1
    for _ in range(30):
        mid = float(np.sqrt(lo * hi))
        lo, hi = (mid, hi) if run(mid) < 1 else (lo, mid)
    return lo


CASES = [("sgd", {}), ("momentum", {"momentum": 0.5}), ("momentum", {"momentum": 0.9}),
         ("nesterov", {"momentum": 0.3}), ("nesterov", {"momentum": 0.9})]


@pytest.mark.parametrize("name,params", CASES)
def test_each_stability_factor_is_the_measured_threshold(name, params):
    spec = OPTIMIZERS[name]
    factor = spec.stability_factor(params)
    assert measured_threshold(name, spec.resolve(params)) == pytest.approx(factor / LAM, rel=0.01)
    assert spec.limit_text(factor).endswith(f"the stability limit of {spec.limit_of}")


@pytest.mark.parametrize("name", [n for n, o in OPTIMIZERS.items() if o.adaptive])
def test_adaptive_optimizers_have_no_curvature_limit(name):
    # Far beyond 2/lambda (lr x lambda = 40) the step stays about lr long: no blow-up.
    spec = OPTIMIZERS[name]
    assert spec.stability_factor() is None and spec.stability_rule.startswith("none")
    assert float(_final_distance(name, 10.0 / LAM, spec.resolve(), steps=500)) < 20.0


def test_every_optimizer_declares_its_limit_or_none():
    for spec in OPTIMIZERS.values():
        assert (spec.stability is None) == spec.adaptive, spec.name
        assert spec.with_momentum is None or "momentum" in OPTIMIZERS[spec.with_momentum].resolve()


def test_one_table_maps_kinds_to_registries():
    assert KINDS == ("surface", "optimizer", "schedule")
    assert get_entry("optimizer", "adam") is REGISTRIES["optimizer"]["adam"]
    with pytest.raises(ValueError, match="kind must be one of"):
        get_entry("loss", "adam")
    with pytest.raises(ValueError, match="unknown schedule"):
        get_entry("schedule", "adam")


def test_the_app_range_of_learning_rates_is_defined_once():
    from lrviz.engine import spec
    from lrviz.learning import grading
    from lrviz.ui.lab import remedies

    assert grading.LR_RANGE is spec.LR_RANGE and remedies.LR_RANGE == spec.LR_RANGE
    assert spec.LR_RANGE[0] in spec.LR_VALID and spec.LR_RANGE[1] in spec.LR_VALID

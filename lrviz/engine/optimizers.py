"""Optimizers as optax transformations configured to follow the PyTorch update rules.

Each `OptimizerSpec` builds an ``optax.inject_hyperparams`` transformation, so the learning rate
(and every other hyperparameter) lives in the optimizer state as a traced number: the simulation
writes the scheduled rate into ``state.hyperparams["learning_rate"]`` before each update, and a
new slider value never recompiles anything.

Where optax's defaults differ from ``torch.optim`` (see NOTES), the builders fix them:
RMSprop uses ``decay=alpha=0.99`` with eps outside the square root; AdaGrad starts its
accumulator at 0 and adds eps after the square root (optax's ``adagrad`` cannot, hence the small
`scale_by_sum_of_squares` below); AdamW passes PyTorch's weight decay 1e-2 explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from lrviz.engine.numbers import fmt_number
from lrviz.engine.spec import Interval, Param, lookup, resolve_params


class SumOfSquaresState(NamedTuple):
    sum_of_squares: optax.Updates


def scale_by_sum_of_squares(eps: float = 1e-10) -> optax.GradientTransformation:
    r"""PyTorch's AdaGrad scaling: :math:`G_t = G_{t-1} + g_t^2`,
    update :math:`g_t/(\sqrt{G_t}+\epsilon)`.

    ``G_0 = 0``. optax's ``scale_by_rss`` starts at 0.1 and puts eps inside the root, so the
    first steps differ visibly on a 2D surface.
    """

    def init_fn(params):
        return SumOfSquaresState(jax.tree.map(jnp.zeros_like, params))

    def update_fn(updates, state, params=None):
        del params
        sums = jax.tree.map(lambda s, g: s + g * g, state.sum_of_squares, updates)
        scaled = jax.tree.map(lambda g, s: g / (jnp.sqrt(s) + eps), updates, sums)
        return scaled, SumOfSquaresState(sums)

    return optax.GradientTransformation(init_fn, update_fn)


def torch_adagrad(learning_rate: float, eps: float = 1e-10) -> optax.GradientTransformation:
    r"""AdaGrad as in ``torch.optim.Adagrad`` (lr_decay 0, initial accumulator 0)."""
    return optax.chain(scale_by_sum_of_squares(eps), optax.scale_by_learning_rate(learning_rate))


# The factories take PyTorch's hyperparameter names; inject_hyperparams reads their signatures.


def _sgd(learning_rate):
    return optax.sgd(learning_rate)


def _momentum(learning_rate, momentum):
    return optax.sgd(learning_rate, momentum=momentum)


def _nesterov(learning_rate, momentum):
    return optax.sgd(learning_rate, momentum=momentum, nesterov=True)


def _rmsprop(learning_rate, alpha, eps):
    return optax.rmsprop(learning_rate, decay=alpha, eps=eps, eps_in_sqrt=False)


def _adam(learning_rate, beta1, beta2, eps):
    return optax.adam(learning_rate, b1=beta1, b2=beta2, eps=eps)


def _adamw(learning_rate, beta1, beta2, eps, weight_decay):
    return optax.adamw(learning_rate, b1=beta1, b2=beta2, eps=eps, weight_decay=weight_decay)


def _adagrad(learning_rate, eps):
    return torch_adagrad(learning_rate, eps=eps)


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer: its optax builder, the LaTeX of its update and its hyperparameters.

    ``g_t`` in the formulas is the (possibly noisy) gradient at the current point and
    ``\\eta_t`` the learning rate the schedule gives update ``t``. ``torch_name`` is the
    ``torch.optim`` equivalent as a Python expression in the hyperparameters' names, ``params``
    and ``lr``; the tests evaluate it and compare every step.
    """

    name: str
    title: str
    latex: str
    params: tuple[Param, ...]
    torch_name: str
    summary: str
    factory: Callable[..., optax.GradientTransformation]
    adaptive: bool = False
    # c(params) with "a constant rate is stable on curvature lambda iff lr * lambda < c" (on a
    # quadratic), None when no fixed limit exists (adaptive steps are about lr in size)
    stability: Callable[[Mapping[str, float]], float] | None = None
    stability_rule: str = ""  # that c as a formula in the hyperparameters ("2 + 2μ")
    limit_of: str = ""  # whose limit it is, for sentences ("heavy-ball momentum")
    # the error left after one step at lr * lambda = p, for methods without a velocity (1 - p)
    error_factor: Callable[[float], float] | None = None
    with_momentum: str | None = None  # the optimizer that adds momentum to this one

    def resolve(self, params: Mapping[str, float] | None = None) -> dict[str, float]:
        return resolve_params("optimizer", self.name, self.params, params)

    def build(self, hyperparams: Mapping[str, jax.Array]) -> optax.GradientTransformation:
        """The optax transformation with every hyperparameter injected into its state.

        The initial learning rate is a placeholder: callers overwrite
        ``state.hyperparams["learning_rate"]`` before every update (the 2-D engine's scan uses
        ``factory(1.0, ...)`` scaled by the rate instead, see `core.run_batch`).
        """
        names = [p.name for p in self.params]
        injected = optax.inject_hyperparams(self.factory)
        return injected(learning_rate=1.0, **{n: hyperparams[n] for n in names})

    def stability_factor(self, params: Mapping[str, float] | None = None) -> float | None:
        """c such that a constant rate is stable on curvature lambda iff lr * lambda < c.

        Plain gradient descent: 2. Heavy-ball momentum mu: 2 + 2 mu. Nesterov (PyTorch form):
        2 (1 + mu) / (1 + 2 mu). Adaptive methods rescale each coordinate by gradient history,
        so no fixed bound exists: None. Each entry's own ``stability`` says which.
        """
        if self.stability is None:
            return None
        return float(self.stability(self.resolve(params)))

    def limit_text(self, factor: float | None) -> str:
        """'2 + 2μ = 3.8, the stability limit of heavy-ball momentum' ('' without a limit)."""
        if factor is None:
            return ""
        rule = f"{self.stability_rule} = " if self.stability_rule else ""
        return f"{rule}{fmt_number(factor)}, the stability limit of {self.limit_of}"


def _heavy_ball_limit(values: Mapping[str, float]) -> float:
    return 2.0 + 2.0 * values["momentum"]


def _nesterov_limit(values: Mapping[str, float]) -> float:
    mu = values["momentum"]
    return 2.0 * (1.0 + mu) / (1.0 + 2.0 * mu)


# Valid ranges (see `Param.valid`), from the math and never looser than torch.optim:
# - averaging coefficients (betas, RMSprop's alpha, momentum) lie in [0, 1): torch rejects
#   negative ones and betas >= 1; at 1 nothing is ever averaged in (Adam's bias correction
#   divides by 1 - beta^t = 0) and momentum >= 1 lets the velocity grow without bound;
# - eps > 0 (torch allows 0, but then a zero gradient history divides 0 by 0): at least
#   1e-30, since the engine computes in float32, where much smaller numbers round to 0; at
#   most 1, beyond which the denominator no longer adapts to anything;
# - Nesterov needs momentum > 0 (torch: "Nesterov momentum requires a momentum").
_AVERAGING = Interval(0.0, 1.0, hi_open=True)
_EPS_VALID = Interval(1e-30, 1.0)

_EPS = Param("eps", 1e-8, 1e-10, 1e-1, "epsilon", log=True,
             help="added to the denominator so a zero gradient history never divides by zero",
             valid=_EPS_VALID)
_BETA1 = Param("beta1", 0.9, 0.0, 0.999, "beta1 (first moment)",
               help="how much of the running average of gradients carries over each step",
               valid=_AVERAGING)
_BETA2 = Param("beta2", 0.999, 0.5, 0.9999, "beta2 (second moment)",
               help="how much of the running average of squared gradients carries over",
               valid=_AVERAGING)
_MU = Param("momentum", 0.9, 0.0, 0.99, "momentum mu",
            help="fraction of the previous velocity kept each step", valid=_AVERAGING)
_NESTEROV_MU = Param("momentum", 0.9, 0.01, 0.99, "momentum mu",
                     help="fraction of the previous velocity kept each step",
                     valid=Interval(0.0, 1.0, lo_open=True, hi_open=True))

_NO_LIMIT = ("none: the step is divided by the gradient's own running size, so it stays about lr "
             "long whatever the curvature")

_ALL: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        name="sgd",
        title="SGD (plain gradient descent)",
        latex=r"\theta_{t+1} = \theta_t - \eta_t\, g_t",
        params=(),
        torch_name="torch.optim.SGD(params, lr)",
        summary="Steps straight downhill, by the learning rate times the gradient.",
        factory=_sgd,
        stability=lambda values: 2.0,
        limit_of="plain gradient descent",
        error_factor=lambda product: 1.0 - product,
        with_momentum="momentum",
    ),
    OptimizerSpec(
        name="momentum",
        title="SGD with momentum (heavy ball)",
        latex=r"b_t = \mu\, b_{t-1} + g_t,\quad \theta_{t+1} = \theta_t - \eta_t\, b_t",
        params=(_MU,),
        torch_name="torch.optim.SGD(params, lr, momentum=momentum)",
        summary="Keeps a velocity: consistent gradients add up, alternating ones cancel.",
        factory=_momentum,
        stability=_heavy_ball_limit,
        stability_rule="2 + 2μ",
        limit_of="heavy-ball momentum",
    ),
    OptimizerSpec(
        name="nesterov",
        title="Nesterov momentum",
        latex=r"b_t = \mu\, b_{t-1} + g_t,\quad "
        r"\theta_{t+1} = \theta_t - \eta_t\,(g_t + \mu\, b_t)",
        params=(_NESTEROV_MU,),
        torch_name="torch.optim.SGD(params, lr, momentum=momentum, nesterov=True)",
        summary="Momentum with a look-ahead correction that brakes earlier.",
        factory=_nesterov,
        stability=_nesterov_limit,
        stability_rule="2(1 + μ)/(1 + 2μ)",
        limit_of="Nesterov momentum",
    ),
    OptimizerSpec(
        name="adagrad",
        title="AdaGrad",
        latex=r"G_t = G_{t-1} + g_t^2,\quad "
        r"\theta_{t+1} = \theta_t - \eta_t\,\frac{g_t}{\sqrt{G_t} + \epsilon}",
        params=(Param("eps", 1e-10, 1e-12, 1e-1, "epsilon", log=True,
                      help="added after the square root (PyTorch's placement)",
                      valid=_EPS_VALID),),
        torch_name="torch.optim.Adagrad(params, lr, lr_decay=0, eps=eps, "
        "initial_accumulator_value=0)",
        summary="Divides each coordinate by the root of its summed squared gradients, so "
        "steps shrink for good.",
        factory=_adagrad,
        adaptive=True,
        stability_rule=_NO_LIMIT,
    ),
    OptimizerSpec(
        name="rmsprop",
        title="RMSprop",
        latex=r"v_t = \alpha\, v_{t-1} + (1-\alpha)\, g_t^2,\quad "
        r"\theta_{t+1} = \theta_t - \eta_t\,\frac{g_t}{\sqrt{v_t} + \epsilon}",
        params=(
            Param("alpha", 0.99, 0.5, 0.9999, "alpha (smoothing)",
                  help="how much of the running average of squared gradients carries over",
                  valid=_AVERAGING),
            _EPS,
        ),
        torch_name="torch.optim.RMSprop(params, lr, alpha=alpha, eps=eps)",
        summary="Like AdaGrad but with a forgetting average, so steps do not shrink forever.",
        factory=_rmsprop,
        adaptive=True,
        stability_rule=_NO_LIMIT,
    ),
    OptimizerSpec(
        name="adam",
        title="Adam",
        latex=r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\ "
        r"v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\ "
        r"\hat m_t = \frac{m_t}{1-\beta_1^t},\ \hat v_t = \frac{v_t}{1-\beta_2^t},\ "
        r"\theta_{t+1} = \theta_t - \eta_t\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
        params=(_BETA1, _BETA2, _EPS),
        torch_name="torch.optim.Adam(params, lr, betas=(beta1, beta2), eps=eps)",
        summary="Momentum on the gradient plus RMSprop scaling, with bias correction for "
        "the first steps.",
        factory=_adam,
        adaptive=True,
        stability_rule=_NO_LIMIT,
    ),
    OptimizerSpec(
        name="adamw",
        title="AdamW",
        latex=r"\theta_{t+1} = \theta_t - \eta_t\left(\frac{\hat m_t}{\sqrt{\hat v_t} + "
        r"\epsilon} + \lambda\,\theta_t\right)\ \text{(}\hat m_t, \hat v_t\text{ as in Adam)}",
        params=(
            _BETA1,
            _BETA2,
            _EPS,
            # torch requires weight_decay >= 0; each step multiplies theta by 1 - lr*lambda,
            # so far beyond 1 it only flips the sign of theta back and forth.
            Param("weight_decay", 1e-2, 0.0, 1.0, "weight decay lambda",
                  help="pulls every parameter toward zero, separately from the gradient",
                  valid=Interval(0.0, 10.0)),
        ),
        torch_name="torch.optim.AdamW(params, lr, betas=(beta1, beta2), eps=eps, "
        "weight_decay=weight_decay)",
        summary="Adam with weight decay applied directly to the parameters, not through the "
        "gradient.",
        factory=_adamw,
        adaptive=True,
        stability_rule=_NO_LIMIT,
    ),
)

OPTIMIZERS: Mapping[str, OptimizerSpec] = {o.name: o for o in _ALL}


def get_optimizer(name: str | OptimizerSpec) -> OptimizerSpec:
    """The optimizer called ``name``; a clear ValueError lists the names when it is unknown."""
    return lookup(OPTIMIZERS, "optimizer", name)


def hyperparameter(name: str) -> Param | None:
    """The optimizer hyperparameter called ``name`` as the first registry entry declaring it
    (slider range, default and valid range), None when no optimizer has one."""
    return next((p for o in _ALL for p in o.params if p.name == name), None)


def optimizers_with(name: str) -> tuple[str, ...]:
    """The optimizers that take a hyperparameter called ``name``."""
    return tuple(o.name for o in _ALL if any(p.name == name for p in o.params))


def max_stable_lr(
    optimizer: str | OptimizerSpec, lambda_max: float, params: Mapping[str, float] | None = None
) -> float | None:
    """Largest constant learning rate that is stable on curvature ``lambda_max`` (None if none).

    ``c / lambda_max`` with c from `OptimizerSpec.stability_factor`; infinite when the curvature
    is not positive (nothing bounces back), None for adaptive optimizers.
    """
    factor = get_optimizer(optimizer).stability_factor(params)
    if factor is None:
        return None
    if lambda_max <= 0:
        return math.inf
    return factor / lambda_max

"""Regime of a network run and a plain-words explanation with the numbers behind it.

The same `lrviz.Regime` names as the 2-D runs, read off the training-loss curve
(``L_t``, ``t = 0..T``):

1. ``diverged`` — an update blew up (``diverged_at``), or the loss ended above its start.
2. ``stuck`` — the loss fell by less than 5% of its start in the whole run.
3. ``overshooting`` — it fell below half its start, but not monotonically: in full-batch runs
   the loss rose on at least 5% of the steps (the edge-of-stability and catapult signature);
   stochastic runs always wobble, so there the test is on epoch-averaged losses.
4. ``oscillating`` — bumpy like 3 without making that much progress.
5. ``slow`` — smooth and still descending: the last quarter of the run brought more than 10% of
   the total decrease.
6. ``converged`` — smooth and levelled off.

With sharpness measurements (top Hessian eigenvalue :math:`\\lambda_t`), the explanation
compares them with the stability limit :math:`c/\\eta` (:math:`c = 2` for gradient descent,
``OptimizerSpec.stability_factor`` for momentum; none for adaptive optimizers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lrviz.engine.diagnose import Regime

RISE_TOL = 1e-4  # a relative loss increase larger than this counts as "going up"
BUMPY = 0.05  # share of rising steps that makes a run non-monotone
LATE_SHARE = 0.10  # share of the total decrease in the last quarter that means "still descending"
EDGE_BAND = (0.8, 1.25)  # sharpness within this factor of c/eta is "at the edge"


@dataclass(frozen=True)
class NetDiagnosis:
    regime: Regime
    explanation: str
    facts: dict[str, float | int | str | None] = field(default_factory=dict)


def _rising_share(loss: np.ndarray, window: int) -> float:
    """Share of steps on which the (window-averaged) loss went up by more than `RISE_TOL`."""
    if window > 1 and len(loss) >= 2 * window:
        loss = np.convolve(loss, np.ones(window) / window, mode="valid")[::window]
    if len(loss) < 2:
        return 0.0
    rises = loss[1:] > loss[:-1] * (1 + RISE_TOL) + 1e-12
    return float(rises.mean())


def classify(train_loss: np.ndarray, diverged_at: int | None, epoch: int = 1
             ) -> tuple[Regime, dict]:
    """The regime of one run from its training loss (``epoch``: updates per epoch, 1 when
    full batch) and the facts that decided it."""
    L = np.asarray(train_loss, float)
    n = len(L) - 1
    L0, LT = L[0], L[-1]
    drop = (L0 - LT) / max(L0, 1e-12)
    rising = _rising_share(L, epoch)
    q = max(1, n // 4)
    late = (L[n - q] - LT) / max(L0 - LT, 1e-12)
    facts = dict(initial_loss=L0, final_loss=LT, drop=drop, rising_share=rising,
                 late_share=late, peak_loss=float(L.max()), peak_step=int(L.argmax()))
    if diverged_at is not None or LT > L0:
        regime = Regime.DIVERGED
    elif drop < 0.05:
        regime = Regime.STUCK
    elif rising >= BUMPY:
        regime = Regime.OVERSHOOTING if drop >= 0.5 else Regime.OSCILLATING
    elif late > LATE_SHARE:
        regime = Regime.SLOW
    else:
        regime = Regime.CONVERGED
    return regime, facts


def _g(x: float) -> str:
    return f"{x:.3g}"


def sharpness_story(sharpness: np.ndarray, steps: np.ndarray, limit: float | None,
                    train_loss: np.ndarray, diverged_at: int | None,
                    limit_name: str = "2/η") -> tuple[str, dict]:
    """A sentence relating the measured sharpness to the stability limit ``limit`` = c/eta
    (called ``limit_name`` in the text: "2/η" for plain gradient descent)."""
    if sharpness.size == 0:
        return "", {}
    lam0, lam_max = float(sharpness[0]), float(sharpness.max())
    third = max(1, sharpness.size // 3)
    lam_late = float(np.median(sharpness[-third:]))
    facts = dict(sharpness_start=lam0, sharpness_max=lam_max, sharpness_late=lam_late,
                 stability_limit=limit)
    if limit is None:
        return (f"The sharpness went from {_g(lam0)} to {_g(lam_late)} (largest {_g(lam_max)}); "
                "an adaptive optimizer rescales each weight's step, so no single 2/η limit "
                "applies.", facts)
    lo, hi = EDGE_BAND
    if diverged_at is not None:
        return (f"At the start the sharpness was {_g(lam0)} against a stability limit of "
                f"{_g(limit)}, η·λ = {_g(lam0 * 2 / limit)} (stable below 2); the run blew up "
                f"at step {diverged_at}.", facts)
    if lam0 > limit:
        peak = int(np.argmax(train_loss))
        after = sharpness[steps >= peak]
        lam_after = float(after.min()) if after.size else lam_late
        facts["sharpness_after_spike"] = lam_after
        if lam_after >= limit:
            return (f"The sharpness started at {_g(lam0)}, above the limit {_g(limit)}, and stayed "
                    f"around {_g(lam_late)}.", facts)
        if peak > 0:
            return (f"At the start the sharpness {_g(lam0)} was above the limit {_g(limit)}; "
                    f"the loss spiked from {_g(float(train_loss[0]))} to "
                    f"{_g(float(train_loss[peak]))} at step {peak}, the sharpness fell to "
                    f"{_g(lam_after)}, below the limit, and training went on in a flatter "
                    "region (a catapult).", facts)
        return (f"At the start the sharpness {_g(lam0)} was above the limit {_g(limit)}, but the "
                f"first steps flattened the loss to a sharpness of {_g(lam_after)} before any "
                "spike, and training went on.", facts)
    if lam_max < lo * limit:
        return (f"The sharpness stayed below the limit {limit_name} = {_g(limit)} (largest "
                f"{_g(lam_max)}), so every step was stable.", facts)
    if lo * limit <= lam_late <= hi * limit:
        return (f"The sharpness rose from {_g(lam0)} to the limit {_g(limit)} and hovered "
                f"there (median {_g(lam_late)} over the last third) while the loss kept "
                "falling, not monotonically: the edge of stability.", facts)
    return (f"The sharpness went from {_g(lam0)} to {_g(lam_late)} (largest {_g(lam_max)}) "
            f"against a limit of {_g(limit)}.", facts)


def explain(regime: Regime, facts: dict, steps: int, val_acc: float, train_acc: float,
            diverged_at: int | None, sharpness_text: str) -> str:
    L0, LT = facts["initial_loss"], facts["final_loss"]
    if regime is Regime.DIVERGED:
        if diverged_at is not None:
            head = (f"Diverged at step {diverged_at}: the loss blew up (from {_g(L0)} to more "
                    "than 10,000 times that, or to infinity); the weights are frozen at their "
                    "last finite values.")
        else:
            head = f"Diverged: the loss ended at {_g(LT)}, above its start {_g(L0)}."
    elif regime is Regime.STUCK:
        head = f"Stuck: in {steps} steps the loss only went from {_g(L0)} to {_g(LT)}."
    elif regime is Regime.OVERSHOOTING:
        head = (f"Trained while overshooting: the loss fell from {_g(L0)} to {_g(LT)} but rose "
                f"on {facts['rising_share']:.0%} of the steps.")
    elif regime is Regime.OSCILLATING:
        head = (f"Oscillating: the loss went up on {facts['rising_share']:.0%} of the steps and "
                f"only got from {_g(L0)} to {_g(LT)}.")
    elif regime is Regime.SLOW:
        head = (f"Still descending: the loss fell from {_g(L0)} to {_g(LT)} and the last "
                f"quarter brought {facts['late_share']:.0%} of that; more steps or a larger "
                "rate would help.")
    else:
        head = f"Converged smoothly: the loss fell from {_g(L0)} to {_g(LT)} and levelled off."
    accs = f" Accuracy: {train_acc:.1%} on training, {val_acc:.1%} on validation."
    return " ".join(s for s in (head + accs, sharpness_text) if s)

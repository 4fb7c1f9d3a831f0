"""Named network experiments: each shows one thing the learning rate does to a real network.

A preset is data: a main `NetConfig`, optional labelled companion runs (``variants``), the view
that shows it best and, in ``expected``, what a learner should see. The numbers in ``expected``
are measured ones; tests/test_nets_phenomena.py trains every preset and checks the behaviour.

The digits network is 64-32-10 (tanh) unless said otherwise. With the mean-squared-error loss
its sharpness at initialisation is about 0.83, so plain gradient descent is stable at the start
for rates below 2/0.83 = 2.4.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from lrviz.nets.config import NetConfig

View = Literal["train", "compare", "range_test", "map"]


@dataclass(frozen=True)
class NetPreset:
    """One experiment.

    - ``view``: ``train`` (one run: loss, accuracy, sharpness against 2/eta), ``compare``
      (the labelled runs side by side), ``range_test`` (a range test next to one run per
      rate over ``sweep_lrs``), or ``map`` (a trainability map over ``map_ranges``).
    """

    id: str
    title: str
    summary: str
    expected: str
    config: NetConfig
    view: View = "train"
    variants: tuple[tuple[str, NetConfig], ...] = ()
    reference: str = ""
    range_test: tuple[float, float, int] | None = None  # lr_min, lr_max, steps
    sweep_lrs: tuple[float, float, int] | None = None  # lo, hi, count (log-spaced)
    map_ranges: tuple[tuple[float, float], tuple[float, float], int] | None = None
    map_examples: int | None = None

    def runs(self) -> tuple[tuple[str, NetConfig], ...]:
        """The labelled configs to train: the main one first, then the variants."""
        return (("main", self.config), *self.variants)


_DIGITS_MSE = NetConfig(dataset="digits", hidden=(32,), activation="tanh", loss="mse",
                        optimizer="sgd", steps=500, sharpness_every=5)
_WIDE_MSE = _DIGITS_MSE.with_(hidden=(256,), steps=200, sharpness_every=2)
_DIGITS_CE = NetConfig(dataset="digits", hidden=(32,), activation="tanh",
                       loss="cross_entropy", optimizer="sgd", lr=0.5, steps=500)


def _epochs(cfg: NetConfig, batch: int | None, lr: float, epochs: int = 20) -> NetConfig:
    """``cfg`` with batch size ``batch`` and rate ``lr``, run for ``epochs`` passes over the
    1438 digits training examples."""
    per_epoch = 1 if batch is None else 1438 // batch
    return cfg.with_(batch_size=batch, lr=lr, steps=epochs * per_epoch)


_BATCH_BASE = NetConfig(dataset="digits", hidden=(32,), activation="tanh", loss="mse",
                        optimizer="sgd")

_ALL: tuple[NetPreset, ...] = (
    NetPreset(
        id="smooth-below-edge",
        title="Below 2/λ: every step goes downhill",
        summary="Full-batch gradient descent on digits with a rate whose limit 2/η = 2 stays "
        "above the sharpness for the whole run.",
        expected="The sharpness starts at 0.83, dips, then slowly grows (progressive "
        "sharpening) but stays under 2/η = 2, so the loss falls on every single step.",
        config=_DIGITS_MSE.with_(lr=1.0),
        reference="Cohen et al. 2021, Gradient descent on neural networks typically occurs "
        "at the edge of stability",
    ),
    NetPreset(
        id="edge-of-stability",
        title="The edge of stability: sharpness rises to 2/η and stays there",
        summary="The same network at η = 2, so 2/η = 1: just above the starting sharpness.",
        expected="The sharpness climbs from 0.83 to about 2/η = 1 (progressive sharpening), "
        "then hovers there instead of growing past it; meanwhile the loss keeps falling, but "
        "no longer monotonically: it goes up on many steps.",
        config=_DIGITS_MSE.with_(lr=2.0),
        variants=(("η = 1 (below the edge)", _DIGITS_MSE.with_(lr=1.0)),),
        reference="Cohen et al. 2021",
    ),
    NetPreset(
        id="catapult",
        title="The catapult: too large at the start, flatter afterwards",
        summary="A wider network (64-256-10, sharpness 1.54 at the start) at η = 2.3, so "
        "η·λ = 3.6: unstable at initialisation, yet it trains.",
        expected="The loss first shoots up above its starting value, the sharpness drops "
        "below 2/η = 0.87 within a few steps, and the run then trains normally in the flatter "
        "region it was thrown into. At η = 2.9 (η·λ = 4.5) it diverges instead.",
        config=_WIDE_MSE.with_(lr=2.3),
        variants=(("η = 2.9 (diverges)", _WIDE_MSE.with_(lr=2.9)),
                  ("η = 1 (stable from the start)", _WIDE_MSE.with_(lr=1.0))),
        reference="Lewkowycz et al. 2020, The large learning rate phase of deep learning: the "
        "catapult mechanism",
    ),
    NetPreset(
        id="range-test-vs-sweep",
        title="The range test in one run, next to one run per rate",
        summary="A ReLU network on digits with cross-entropy: fastai's range test (the rate "
        "grows from 1e-4 to 30 within 200 steps) beside 25 separate 200-step runs.",
        expected="The range test's suggestion (steepest descent of its smoothed loss, about "
        "0.5) lies within a decade of the sweep's best rates, below them; the rate where its "
        "smoothed loss bottoms out (about 6) sits near the sweep's largest stable rate (3.5).",
        config=_DIGITS_CE.with_(activation="relu", steps=200),
        view="range_test",
        range_test=(1e-4, 30.0, 200),
        sweep_lrs=(1e-3, 30.0, 25),
        reference="Smith 2017, Cyclical learning rates for training neural networks; fastai "
        "lr_find",
    ),
    NetPreset(
        id="batch-size-scaling",
        title="Batch size and learning rate: the linear scaling rule and where it breaks",
        summary="Twenty epochs with batch sizes 16, 64 and 256 and rates scaled with them "
        "(0.25, 1, 4), then full batch with the rate the rule asks for (22.5).",
        expected="Scaling the rate with the batch size gives the same loss after the same "
        "number of epochs: about 0.019 for batch 16 at η = 0.25 and for batch 64 at η = 1. "
        "At batch 256 and η = 4 the rule starts to bend (0.026, with overshooting), and full "
        "batch at η = 22.5, far past 2/λ, diverges within a few steps.",
        config=_epochs(_BATCH_BASE, 64, 1.0),
        view="compare",
        variants=(("batch 16, η = 0.25", _epochs(_BATCH_BASE, 16, 0.25)),
                  ("batch 256, η = 4", _epochs(_BATCH_BASE, 256, 4.0)),
                  ("full batch, η = 22.5", _epochs(_BATCH_BASE, None, 22.5))),
        reference="Goyal et al. 2017, Accurate, large minibatch SGD",
    ),
    NetPreset(
        id="adam-warmup",
        title="Warmup saves Adam at a high rate",
        summary="Adam at η = 1 on a 64-64-10 tanh network (cross-entropy): constant, with a "
        "cosine decay, and with 100 steps of linear warmup before the cosine.",
        expected="Without warmup the first large steps throw the loss up to about 5 times its "
        "start (both the constant rate and the plain cosine); with warmup it never rises "
        "above its start, and the network ends with a clearly better validation accuracy "
        "(about 97% against 94%).",
        config=NetConfig(dataset="digits", hidden=(64,), activation="tanh",
                         loss="cross_entropy", optimizer="adam", lr=1.0, steps=300,
                         schedule="warmup_cosine", schedule_params={"warmup_steps": 100}),
        view="compare",
        variants=(("constant η = 1", NetConfig(
            dataset="digits", hidden=(64,), activation="tanh", loss="cross_entropy",
            optimizer="adam", lr=1.0, steps=300)),
            ("cosine, no warmup", NetConfig(
                dataset="digits", hidden=(64,), activation="tanh", loss="cross_entropy",
                optimizer="adam", lr=1.0, steps=300, schedule="cosine"))),
        reference="Goyal et al. 2017; Liu et al. 2020, On the variance of the adaptive "
        "learning rate and beyond",
    ),
    NetPreset(
        id="lr-weight-decay",
        title="Learning rate × weight decay",
        summary="Cross-entropy on digits with SGD; weight decay λ shrinks every weight by "
        "the factor 1 − ηλ per step, so its pull depends on the product ηλ.",
        expected="At η = 0.5 the final weight norm falls and the training loss rises as λ "
        "grows from 0 to 0.1; the same λ = 0.01 shrinks the weights far more at η = 0.5 than "
        "at η = 0.05, where (1 − ηλ)^500 is still 0.78.",
        config=_DIGITS_CE.with_(weight_decay=0.01),
        view="compare",
        variants=(("λ = 0", _DIGITS_CE),
                  ("λ = 0.001", _DIGITS_CE.with_(weight_decay=0.001)),
                  ("λ = 0.1", _DIGITS_CE.with_(weight_decay=0.1)),
                  ("η = 0.05, λ = 0", _DIGITS_CE.with_(lr=0.05)),
                  ("η = 0.05, λ = 0.01", _DIGITS_CE.with_(lr=0.05, weight_decay=0.01))),
        reference="Loshchilov & Hutter 2019, Decoupled weight decay regularization",
    ),
    NetPreset(
        id="generalisation",
        title="Validation loss: a large noisy rate against a small careful one",
        summary="64-64-10 on digits for 1500 steps: full batch at η = 0.05 against "
        "mini-batches of 32 at η = 0.5.",
        expected="The large noisy run reaches a lower validation loss than the small-rate "
        "run ever does; then its validation loss turns up while the training loss keeps "
        "falling: it starts to overfit, and the best moment to stop is visible.",
        config=NetConfig(dataset="digits", hidden=(64,), activation="tanh",
                         loss="cross_entropy", optimizer="sgd", lr=0.5, batch_size=32,
                         steps=1500),
        view="compare",
        variants=(("full batch, η = 0.05", NetConfig(
            dataset="digits", hidden=(64,), activation="tanh", loss="cross_entropy",
            optimizer="sgd", lr=0.05, steps=1500)),),
        reference="Keskar et al. 2017; Li, Wei & Ma 2019 on large learning rates and "
        "generalisation",
    ),
    NetPreset(
        id="trainability-map",
        title="Trainability map: per-layer learning rates",
        summary="A 2-8-2 tanh network on 16 points of the circles set, 100 full-batch steps "
        "for each pair of rates (input layer, output layer).",
        expected="Small rates train; past a boundary the runs diverge. The boundary is not a "
        "straight line: zooming in on it keeps showing new detail.",
        config=NetConfig(dataset="circles", hidden=(8,), activation="tanh", loss="mse",
                         optimizer="sgd", lr=1.0, steps=100),
        view="map",
        map_ranges=((1e-2, 1e2), (1e-2, 1e2), 128),
        map_examples=16,
        reference="Sohl-Dickstein 2024, The boundary of neural network trainability is fractal",
    ),
)

PRESETS: Mapping[str, NetPreset] = {p.id: p for p in _ALL}


def get_preset(preset_id: str) -> NetPreset:
    """The preset ``preset_id``; a ValueError lists the ids when it is unknown."""
    try:
        return PRESETS[preset_id]
    except KeyError:
        raise ValueError(f"unknown network preset {preset_id!r}; choose one of: "
                         f"{', '.join(PRESETS)}") from None

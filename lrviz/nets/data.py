"""Data sets for the network lab: scikit-learn's bundled digits and three seeded 2-D sets.

Every set is split once, with a fixed seed, into training and validation parts, and the
features are standardised with the training part's mean and standard deviation (so no
validation statistics leak into training). Labels are integer class indices ``0..C-1``.

- ``digits``: 1797 8x8 grey-scale hand-written digits (64 features, 10 classes), shipped inside
  scikit-learn (no download). 80% train / 20% validation.
- ``moons``: two interleaving half circles (``sklearn.datasets.make_moons``, noise 0.2).
- ``circles``: a small circle inside a larger one (``make_circles``, factor 0.5, noise 0.1).
- ``spirals``: two interleaved Archimedean spirals with Gaussian jitter (written here: scikit-learn
  has no spiral generator).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

DATASETS: tuple[str, ...] = ("digits", "moons", "spirals", "circles")
SPLIT_SEED = 0
VALIDATION_FRACTION = 0.2
TOY_SAMPLES = 500  # points in each generated 2-D set (400 train, 100 validation)
DIGITS_SAMPLES = 1797  # images in scikit-learn's bundled digits


def train_size(name: str) -> int:
    """How many training examples `load_dataset(name)` has, without loading it (validating a
    config must not import scikit-learn or build data sets: ``import lrviz`` stays light)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    total = DIGITS_SAMPLES if name == "digits" else TOY_SAMPLES
    return total - round(VALIDATION_FRACTION * total)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification set split into training and validation parts (float32 features)."""

    name: str
    X_train: np.ndarray  # (n_train, d)
    y_train: np.ndarray  # (n_train,) int32 class indices
    X_val: np.ndarray  # (n_val, d)
    y_val: np.ndarray  # (n_val,)
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[0])


def _spirals(n: int, rng: np.random.Generator, noise: float = 0.25
             ) -> tuple[np.ndarray, np.ndarray]:
    r"""Two spirals: class k at angle :math:`t \in [0.25, 3\pi]` sits at radius t, rotated by
    :math:`k\pi`, plus Gaussian jitter of standard deviation ``noise``."""
    y = np.arange(n) % 2
    t = 0.25 + rng.uniform(0.0, 1.0, n) ** 0.5 * 3.0 * np.pi  # sqrt: even density along the arc
    angle = t + np.pi * y
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    return X + noise * rng.normal(size=X.shape), y


def _raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets  # imported lazily: only the network lab needs scikit-learn

    if name == "digits":
        bunch = datasets.load_digits()
        return bunch.data, bunch.target
    if name == "moons":
        return datasets.make_moons(TOY_SAMPLES, noise=0.2, random_state=SPLIT_SEED)
    if name == "circles":
        return datasets.make_circles(TOY_SAMPLES, noise=0.1, factor=0.5, random_state=SPLIT_SEED)
    return _spirals(TOY_SAMPLES, np.random.default_rng(SPLIT_SEED))


@functools.lru_cache(maxsize=len(DATASETS))
def load_dataset(name: str) -> Dataset:
    """The data set ``name`` (one of `DATASETS`), split and standardised; cached per process.

    Standardisation: :math:`x \\mapsto (x - \\mu)/\\sigma` per feature with the training part's
    mean and standard deviation (a constant feature, such as a digits corner pixel, keeps
    :math:`\\sigma = 1`).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    X, y = _raw(name)
    X, y = np.asarray(X, np.float64), np.asarray(y, np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    n_val = round(VALIDATION_FRACTION * len(y))
    val, train = order[:n_val], order[n_val:]
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    Z = ((X - mean) / std).astype(np.float32)
    for a in (Z, y):
        a.setflags(write=False)
    data = Dataset(
        name=name, X_train=Z[train], y_train=y[train].astype(np.int32), X_val=Z[val],
        y_val=y[val].astype(np.int32), n_classes=int(y.max()) + 1,
    )
    for a in (data.X_train, data.y_train, data.X_val, data.y_val):
        a.setflags(write=False)
    return data

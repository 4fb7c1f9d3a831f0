"""`NetConfig`: everything that determines one network training run, validated by pydantic.

The optimizer and schedule names and parameters are those of the 2-D engine's registries
(`lrviz.OPTIMIZERS`, `lrviz.SCHEDULES`), with the same PyTorch semantics.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lrviz.engine.optimizers import get_optimizer
from lrviz.engine.schedules import get_schedule
from lrviz.engine.spec import MAX_STEPS
from lrviz.nets.data import DATASETS, load_dataset, train_size

MAX_WIDTH = 512
MAX_HIDDEN_LAYERS = 4


class NetConfig(BaseModel):
    """One training run of a fully connected network.

    - ``hidden``: widths of the hidden layers; the input width is the data's feature count and
      the output width its number of classes.
    - ``loss``: ``cross_entropy`` (softmax + negative log-likelihood, ``nn.CrossEntropyLoss``)
      or ``mse`` (mean over samples and classes of (output - one-hot)^2, ``nn.MSELoss``).
    - ``lr`` is the base rate the ``schedule`` shapes; ``steps`` counts parameter updates.
    - ``batch_size=None`` is full-batch gradient descent; an integer draws mini-batches from a
      seeded permutation of the training set, one epoch after another (the last incomplete
      batch of an epoch is dropped, like ``DataLoader(drop_last=True)``).
    - ``weight_decay`` is the ``weight_decay`` argument of the PyTorch optimizer: an L2 term
      ``g <- g + weight_decay * theta`` added to every gradient. AdamW's decay is decoupled and
      is its own optimizer parameter (``optimizer_params={"weight_decay": ...}``), so with AdamW
      this field must stay 0.
    - ``sharpness_every=k > 0`` records the top Hessian eigenvalue of the training loss every
      k steps (0 = never).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str = "digits"
    hidden: tuple[int, ...] = (32,)
    activation: Literal["tanh", "relu"] = "tanh"
    loss: Literal["cross_entropy", "mse"] = "cross_entropy"
    optimizer: str = "sgd"
    lr: float = Field(0.1, gt=0, allow_inf_nan=False)
    schedule: str = "constant"
    steps: int = Field(300, ge=1, le=MAX_STEPS)
    batch_size: int | None = Field(None, ge=1)
    weight_decay: float = Field(0.0, ge=0, allow_inf_nan=False)
    seed: int = Field(0, ge=0, lt=2**31)
    optimizer_params: dict[str, float] = Field(default_factory=dict)
    schedule_params: dict[str, float] = Field(default_factory=dict)
    sharpness_every: int = Field(0, ge=0, le=MAX_STEPS)

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, v: str) -> str:
        if v not in DATASETS:
            raise ValueError(f"unknown dataset {v!r}; choose one of: {', '.join(DATASETS)}")
        return v

    @field_validator("hidden")
    @classmethod
    def _sane_hidden(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not 1 <= len(v) <= MAX_HIDDEN_LAYERS:
            raise ValueError(f"hidden must list 1 to {MAX_HIDDEN_LAYERS} layer widths, got {v}")
        if not all(1 <= w <= MAX_WIDTH for w in v):
            raise ValueError(f"every hidden width must be between 1 and {MAX_WIDTH}, got {v}")
        return tuple(int(w) for w in v)

    @field_validator("optimizer")
    @classmethod
    def _known_optimizer(cls, v: str) -> str:
        return get_optimizer(v).name

    @field_validator("schedule")
    @classmethod
    def _known_schedule(cls, v: str) -> str:
        return get_schedule(v).name

    @model_validator(mode="after")
    def _consistent(self) -> NetConfig:
        get_optimizer(self.optimizer).resolve(self.optimizer_params)
        get_schedule(self.schedule).resolve(self.schedule_params)
        if self.optimizer == "adamw" and self.weight_decay > 0:
            raise ValueError(
                "AdamW's weight decay is decoupled: set optimizer_params={'weight_decay': ...} "
                "and leave weight_decay at 0"
            )
        n_train = train_size(self.dataset)
        if self.batch_size is not None and self.batch_size > n_train:
            raise ValueError(
                f"batch_size {self.batch_size} is larger than the {n_train} training examples "
                f"of {self.dataset!r}; use batch_size=None for full-batch training"
            )
        return self

    # --- resolved views -----------------------------------------------------------------------

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Widths from input to output, e.g. (64, 32, 10) for digits with hidden=(32,)."""
        data = load_dataset(self.dataset)
        return (data.n_features, *self.hidden, data.n_classes)

    @property
    def full_batch(self) -> bool:
        return self.batch_size is None or self.batch_size == load_dataset(self.dataset).n_train

    def optimizer_values(self) -> dict[str, float]:
        return get_optimizer(self.optimizer).resolve(self.optimizer_params)

    def schedule_values(self) -> dict[str, float]:
        return get_schedule(self.schedule).resolve(self.schedule_params)

    def with_(self, **changes: Any) -> NetConfig:
        """A validated copy with some fields changed; changing the optimizer or schedule keeps
        only the old parameters the new one also has."""
        data = {**self.model_dump(), **changes}
        for kind, getter in (("optimizer", get_optimizer), ("schedule", get_schedule)):
            key = f"{kind}_params"
            if kind in changes and key not in changes:
                names = {p.name for p in getter(data[kind]).params}
                data[key] = {k: v for k, v in data[key].items() if k in names}
        return NetConfig(**data)

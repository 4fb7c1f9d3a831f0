"""Neural networks for the learning-rate story: small MLPs trained with the engine's optimizers
and schedules (JAX + optax), with sharpness, sweeps, range tests and trainability maps.

>>> from lrviz import nets
>>> run = nets.train(nets.NetConfig(dataset="digits", lr=0.1, steps=200))  # doctest: +SKIP
"""

from lrviz.nets.config import NetConfig
from lrviz.nets.data import DATASETS, Dataset, load_dataset
from lrviz.nets.model import init_params, predict_proba
from lrviz.nets.presets import PRESETS, NetPreset, get_preset
from lrviz.nets.range_test import RangeTest, range_test
from lrviz.nets.train import NetRun, NetSweep, lr_sweep, sharpness, train
from lrviz.nets.trainability import TrainabilityMap, log_grid, trainability_map, zoom_ranges

__all__ = [
    "DATASETS",
    "PRESETS",
    "Dataset",
    "NetConfig",
    "NetPreset",
    "NetRun",
    "NetSweep",
    "RangeTest",
    "TrainabilityMap",
    "get_preset",
    "init_params",
    "load_dataset",
    "log_grid",
    "lr_sweep",
    "predict_proba",
    "range_test",
    "sharpness",
    "train",
    "trainability_map",
    "zoom_ranges",
]

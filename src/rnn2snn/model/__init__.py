"""Stage 2 — model and training: the Elman classifier and backpropagation through time."""

from rnn2snn.model.elman import Constraints, ElmanClassifier, ElmanConfig
from rnn2snn.model.train import TrainConfig, TrainResult, accuracy, predict, train

__all__ = [
    "Constraints",
    "ElmanClassifier",
    "ElmanConfig",
    "TrainConfig",
    "TrainResult",
    "accuracy",
    "predict",
    "train",
]

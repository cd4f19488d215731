"""Shared fixtures: the real TREC files shipped inside the package and one small real pipeline run."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rnn2snn.data import load_trec, packaged_trec_dir
from rnn2snn.data.trec import ENV_DATA_DIR
from rnn2snn.model.train import TrainConfig
from rnn2snn.pipeline import PipelineConfig, run_pipeline

# The tests read the packaged copy (checked by digest), whatever the user's environment says.
os.environ.pop(ENV_DATA_DIR, None)

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def trec_dir() -> Path:
    """The folder of the packaged TREC files (for commands that take --data-dir)."""
    return packaged_trec_dir()


@pytest.fixture(scope="session")
def trec():
    """(train, test) from the packaged copy: no data flag, no network."""
    return load_trec()


SMALL = PipelineConfig(
    seed=0,
    train=TrainConfig(epochs=6, lr=3e-3),
    finetune=TrainConfig(epochs=2, lr=1e-3),
    spiking_finetune=TrainConfig(epochs=1, lr=5e-4),
)


@pytest.fixture(scope="session")
def small_run(trec):
    """The whole pipeline on a real slice: 2000 training questions, all 500 test questions."""
    train, test = trec
    train = train.subset(range(0, 2000))
    return run_pipeline(train, test, replace(SMALL), progress=False, log=lambda *_: None)

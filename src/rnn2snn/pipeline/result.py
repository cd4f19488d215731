"""What a run produced: the stage rows and the typed record of its measurements."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnn2snn.config import PipelineConfig
from rnn2snn.data.sequences import Sequences
from rnn2snn.data.text import Vocabulary
from rnn2snn.guard import RunWarning
from rnn2snn.model.elman import ElmanClassifier
from rnn2snn.program import SpikingProgram
from rnn2snn.program.network import SpikeRecord, SpikingRNN
from rnn2snn.targets.truenorth.resources import Resources

#: The rows of a run's stage table, in order (``given`` only for a user's model, and
#: ``spiking_before_finetune`` not for an ensemble, whose members each have theirs).
STAGES = ("given", "float", "fan_in", "weights", "activities", "spiking_before_finetune", "spiking")
#: The stages measured on the torch model (float side), one per step of training.
MODEL_STAGES = ("float", "fan_in", "weights", "activities")


@dataclass
class StageResult:
    """One row of the stage table, measured right after its step.

    kept_start : for a retraining stage, whether no epoch beat the weights it started
    from (so they were kept); ``None`` for a row without retraining.
    """

    name: str
    val_accuracy: float
    test_accuracy: float
    seconds: float
    kept_start: bool | None = None


@dataclass
class PipelineResult:
    """Everything a run produced; ``to_json`` gives the ``results.json`` content.

    ``program`` is the converted network (what every backend reads); ``model`` the
    constrained torch model it was read from (a training artefact); ``warnings`` the
    loss guard's (:class:`rnn2snn.guard.RunWarning`): each loss over 2 validation points
    with the remedies tried, and a validation split too small to choose on.
    """

    config: PipelineConfig
    stages: list[StageResult]
    program: SpikingProgram
    model: ElmanClassifier
    classes: list[str]
    resources: Resources
    power_uw: float
    conversion: dict
    ablation: list[dict]
    test: Sequences
    test_record: SpikeRecord
    wall_seconds: float = 0.0
    warnings: list[RunWarning] = field(default_factory=list)
    #: connections the fan-in step removed
    pruned_connections: int = 0
    #: an ensemble's widest fan-in over its members (None: read from ``model``)
    max_fan_in: int | None = None
    #: the core-level run's activity and power figures
    #: (:func:`rnn2snn.targets.truenorth.target.activity_estimate`)
    activity: dict = field(default_factory=dict)
    #: the distillation teacher, the ensemble and the word vectors, when the run had them
    teacher: dict | None = None
    ensemble: dict | None = None
    vectors: dict | None = None
    #: an ensemble member's spiking class scores (validation, test), for the combination
    spiking_logits: tuple[np.ndarray, np.ndarray] | None = None
    #: the float-side stages' class scores (validation, test), for an ensemble's stage rows
    stage_logits: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def snn(self) -> SpikingRNN:
        return self.program.spiking_network()

    @property
    def integer(self):
        """The program's integer network (all layers flattened)."""
        return self.program.network()

    @property
    def vocab(self) -> Vocabulary | None:
        v = self.program.vocab
        return None if v is None else Vocabulary(list(v))

    def stage(self, name: str) -> StageResult:
        return next(s for s in self.stages if s.name == name)

    def to_json(self) -> dict:
        """The ``results.json`` content (its schema: :func:`rnn2snn.report.results.results_json`)."""
        from rnn2snn.report.results import results_json

        return results_json(self)

"""Train-and-constrain end to end: the stages as one function over any labelled text.

``run_pipeline(train, test, config)`` runs train → fan-in → weights → activities
(each constraint followed by retraining) → spiking conversion → resource count and
power. Every choice is made on a validation split drawn from the training data;
the test data is only evaluated.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from rnn2snn.constrain.integer import IntegerRNN
from rnn2snn.constrain.steps import (
    input_levels,
    limit_fan_in,
    quantize_model_activities,
    quantize_model_weights,
    readout_logits,
    to_integer,
)
from rnn2snn.data.text import Encoded, Examples, Vocabulary, encode, stratified_split
from rnn2snn.model.elman import ElmanClassifier, ElmanConfig
from rnn2snn.model.train import TrainConfig, accuracy, train
from rnn2snn.spiking.diagnostics import ablation, compare_counts
from rnn2snn.spiking.evaluate import choose_input_schedule, spiking_logits
from rnn2snn.spiking.finetune import finetune_spiking
from rnn2snn.spiking.network import SpikeRecord, SpikingConfig, SpikingRNN, convert, simulate
from rnn2snn.truenorth.placement import encode_inputs, place
from rnn2snn.truenorth.power import activity_power_uw, core_share_power_uw
from rnn2snn.truenorth.resources import Resources, count_resources
from rnn2snn.truenorth.simulator import run_cores

STAGES = ("float", "fan_in", "weights", "activities", "spiking")


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

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class StageResult:
    name: str
    val_accuracy: float
    test_accuracy: float
    seconds: float


@dataclass
class PipelineResult:
    """Everything a run produced; ``to_json`` gives the ``results.json`` content."""

    config: PipelineConfig
    stages: list[StageResult]
    model: ElmanClassifier
    vocab: Vocabulary
    classes: list[str]
    integer: IntegerRNN
    snn: SpikingRNN
    resources: Resources
    power_uw: float
    conversion: dict
    ablation: list[dict]
    test: Encoded
    test_record: SpikeRecord
    wall_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def stage(self, name: str) -> StageResult:
        return next(s for s in self.stages if s.name == name)

    def to_json(self) -> dict:
        cfg = self.config.spiking
        return {
            "stages": [{"name": s.name, "test_accuracy": s.test_accuracy,
                        "val_accuracy": s.val_accuracy, "seconds": round(s.seconds, 2)}
                       for s in self.stages],
            "hardware": {
                "cores": self.resources.cores,
                "axons": self.resources.axons,
                "neurons": self.resources.neurons,
                "ticks_per_word": cfg.ticks_per_word,
                "delay": cfg.delay,
                "power_uw": self.power_uw,
                "threshold": self.integer.threshold,
                **{k: v for k, v in self.extra.get("hardware", {}).items()},
            },
            "conversion": {
                "loss_points": 100 * (self.stage("activities").test_accuracy
                                      - self.stage("spiking").test_accuracy),
                **self.conversion,
                "ablation": self.ablation,
            },
            "constraints": {
                "threshold": self.integer.threshold,
                "weight_range": [int(self.integer.weights.min()), int(self.integer.weights.max())],
                "max_fan_in": int(self.model.constraints.mask.sum(1).max()
                                   if self.model.constraints.mask is not None
                                   else self.integer.weights.shape[1]),
                "pruned_connections": self.extra.get("pruned_connections", 0),
                "core_groups": None if self.integer.groups is None else len(self.integer.groups),
                "recurrent_bias": "none (the on-chip layer has no bias; leak = 0)",
            },
            "seed": self.config.seed,
            "wall_seconds": self.wall_seconds,
            "config": self.config.to_dict(),
            "classes": self.classes,
        }


def prepare_data(train_ex: Examples, test_ex: Examples, config: PipelineConfig):
    """Split validation from training (stratified, seeded), build vocabulary, encode."""
    tr_idx, val_idx = stratified_split(train_ex.labels, config.val_fraction, config.seed)
    fit, val = train_ex.subset(tr_idx), train_ex.subset(val_idx)
    vocab = Vocabulary.build(fit.texts, min_count=config.min_count)
    classes = sorted(set(train_ex.labels))
    return vocab, classes, encode(fit, vocab, classes), encode(val, vocab, classes), \
        encode(test_ex, vocab, classes)


def integer_activity(model: ElmanClassifier, net: IntegerRNN, data: Encoded):
    """Input levels (N, L, P) and integer activities (N, L, H) for every example."""
    x = input_levels(model, data)
    return x, net.run(x, data.lengths)


def spiking_predictions(model: ElmanClassifier, snn: SpikingRNN, data: Encoded,
                        record: bool = False) -> tuple[np.ndarray, SpikeRecord]:
    """Predicted classes (N,) from the spiking layer's counts through the off-chip readout."""
    logits, rec = spiking_logits(model, snn, data, record)
    return logits.argmax(1), rec


def conversion_summary(model: ElmanClassifier, spiking: SpikingConfig, val: Encoded,
                       test: Encoded) -> dict:
    """Integer vs spiking accuracy (validation and test) and the count mismatch on test."""
    net = to_integer(model)
    snn = convert(net, spiking)
    out = {}
    for name, data in (("val", val), ("test", test)):
        x, act = integer_activity(model, net, data)
        rec = simulate(snn, x, data.lengths)
        ip = readout_logits(model, act, data.lengths).argmax(1)
        sp = readout_logits(model, rec.counts, data.lengths).argmax(1)
        out[f"{name}_integer_accuracy"] = float((ip == data.labels).mean())
        out[f"{name}_spiking_accuracy"] = float((sp == data.labels).mean())
        out[f"{name}_prediction_differs_share"] = float((ip != sp).mean())
        if name == "test":
            stats = compare_counts(rec.counts, act, data.lengths)
            out.update({k: stats[k] for k in ("exact_share", "mean_abs_diff", "per_neuron_exact_share",
                                              "per_question_mean_abs_diff")})
    out["loss_points"] = 100 * (out["test_integer_accuracy"] - out["test_spiking_accuracy"])
    return out


def activity_estimate(snn: SpikingRNN, x: np.ndarray, lengths: np.ndarray) -> dict:
    """Place the layer on cores, run the core-level simulator, and estimate power from activity.

    Counts synaptic events (copies included), spikes and active cores inside each
    question's own ticks; rates assume 1 ms ticks.
    """
    config = place(snn)
    T = snn.config.ticks_per_word
    until = np.asarray(lengths) * T + snn.config.flush_ticks
    run = run_cores(config, encode_inputs(config, x), until=until)
    ticks = float(until.sum())
    words = float(np.sum(lengths))
    power = activity_power_uw(len(config.cores), run.synaptic_events, run.spikes, ticks)
    return {
        "cores_placed": len(config.cores),
        "active_cores": run.active_cores,
        "power_uw_activity": power.total_uw,
        "power_activity_parts_uw": {"static": power.static_uw, "synaptic": power.synaptic_uw,
                                    "spikes": power.spike_uw},
        "synaptic_events_per_word": run.synaptic_events / words,
        "spikes_per_word": run.spikes / words,
        "synaptic_events_per_second": power.synaptic_events_per_second,
        "energy_per_word_nj": power.total_uw * 1e-6 * T * 1e-3 * 1e9,
    }


def run_pipeline(train_ex: Examples, test_ex: Examples,
                 config: PipelineConfig = PipelineConfig(), progress: bool = True,
                 log=print) -> PipelineResult:
    """Run every stage; see the module docstring. ``log`` receives one line per stage."""
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    vocab, classes, fit, val, test = prepare_data(train_ex, test_ex, config)
    model = ElmanClassifier(ElmanConfig(
        vocab_size=len(vocab), n_classes=len(classes), embed_dim=config.embed_dim,
        proj_dim=config.proj_dim, hidden_dim=config.hidden_dim, readout=config.readout,
        dropout=config.dropout))
    if config.vectors:
        from rnn2snn.model.vectors import load_vectors

        matrix, found = load_vectors(config.vectors, vocab, config.embed_dim, config.seed)
        with torch.no_grad():
            model.embedding.weight.copy_(torch.from_numpy(matrix))
        log(f"word vectors: {found}/{len(vocab) - 2} words found in {config.vectors}")
    stages: list[StageResult] = []

    def finish(name: str, t0: float) -> None:
        stages.append(StageResult(name, accuracy(model, val), accuracy(model, test),
                                  time.perf_counter() - t0))
        s = stages[-1]
        log(f"{name:>10}: val {s.val_accuracy:.3f}  test {s.test_accuracy:.3f}  ({s.seconds:.1f} s)")

    ft = replace(config.finetune, seed=config.seed)
    t0 = time.perf_counter()
    train(model, fit, val, replace(config.train, seed=config.seed), "float", progress)
    finish("float", t0)
    t0 = time.perf_counter()
    pruned = limit_fan_in(model, config.max_fan_in, config.cores)
    train(model, fit, val, ft, "fan-in", progress)
    finish("fan_in", t0)
    t0 = time.perf_counter()
    half = config.weight_levels // 2
    quantize_model_weights(model, -half, half - 1)
    train(model, fit, val, ft, "weights", progress)
    finish("weights", t0)
    t0 = time.perf_counter()
    quantize_model_activities(model, fit, config.activity_levels,
                              carry_residual=config.carry_residual)
    train(model, fit, val, ft, "activities", progress)
    model.eval()
    schedule_agreement = None
    if config.choose_schedule:
        chosen, schedule_agreement = choose_input_schedule(model, val, config.spiking)
        config = replace(config, spiking=chosen)
        log(f"{'schedule':>10}: {chosen.input_schedule} (validation agreement "
            + ", ".join(f"{k} {v:.3f}" for k, v in schedule_agreement.items()) + ")")
    before = conversion_summary(model, config.spiking, val, test)
    if config.spiking_finetune.epochs > 0:
        finetune_spiking(model, fit, val, config.spiking,
                         replace(config.spiking_finetune, seed=config.seed), progress)
    finish("activities", t0)

    t0 = time.perf_counter()
    net = to_integer(model)
    snn = convert(net, config.spiking)
    val_pred, _ = spiking_predictions(model, snn, val)
    test_pred, test_rec = spiking_predictions(model, snn, test, record=True)
    stages.append(StageResult("spiking", float((val_pred == val.labels).mean()),
                              float((test_pred == test.labels).mean()), time.perf_counter() - t0))
    s = stages[-1]
    log(f"{'spiking':>10}: val {s.val_accuracy:.3f}  test {s.test_accuracy:.3f}  ({s.seconds:.1f} s)")

    x_test, act_test = integer_activity(model, net, test)
    int_pred = readout_logits(model, act_test, test.lengths).argmax(1)
    conversion = compare_counts(test_rec.counts, act_test, test.lengths)
    conversion["prediction_differs_share"] = float((int_pred != test_pred).mean())
    conversion["integer_equals_activities_stage"] = bool(
        float((int_pred == test.labels).mean()) == stages[3].test_accuracy)
    conversion["before_spiking_finetune"] = before
    conversion["input_schedule"] = config.spiking.input_schedule
    conversion["input_schedule_val_agreement"] = schedule_agreement
    if net.carry_residual:  # what modelling the carried membrane gains, measured
        act_cleared = replace(net, carry_residual=False).run(x_test, test.lengths)
        cleared = compare_counts(test_rec.counts, act_cleared, test.lengths)
        pred_cleared = readout_logits(model, act_cleared, test.lengths).argmax(1)
        conversion["integer_net_cleared_each_word"] = {
            "test_accuracy": float((pred_cleared == test.labels).mean()),
            "prediction_differs_share": float((pred_cleared != test_pred).mean()),
            **{k: cleared[k] for k in ("exact_share", "mean_abs_diff", "per_neuron_exact_share",
                                       "per_question_mean_abs_diff")},
        }

    def classify(counts):
        return readout_logits(model, counts, test.lengths).argmax(1)

    rows = ablation(net, x_test, test.lengths, act_test, classify, test.labels, config.spiking)
    resources = count_resources(snn.bits, snn.n_inputs, snn.groups)
    hardware = activity_estimate(snn, x_test, test.lengths)
    result = PipelineResult(
        config=config, stages=stages, model=model, vocab=vocab, classes=classes, integer=net,
        snn=snn, resources=resources, power_uw=core_share_power_uw(resources.cores),
        conversion=conversion, ablation=rows, test=test, test_record=test_rec,
        extra={"pruned_connections": pruned, "hardware": hardware})
    result.wall_seconds = time.perf_counter() - start
    return result

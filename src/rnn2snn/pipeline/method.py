"""The method: train, then each constraint step followed by its retraining (the steps as data,
:data:`CONSTRAINT_STEPS`), the schedule choice, the conversion, the spiking fine-tune and the
loss guard's remedies; then the program is measured (:mod:`rnn2snn.pipeline.measure`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from rnn2snn.config import PipelineConfig
from rnn2snn.constrain.build import build_program
from rnn2snn.constrain.steps import limit_fan_in, quantize_model_activities, quantize_model_weights
from rnn2snn.data.sequences import Sequences
from rnn2snn.finetune.evaluate import choose_input_schedule
from rnn2snn.finetune.spiking import finetune_spiking
from rnn2snn.guard import (
    Remedy,
    RunWarning,
    constraint_warning,
    conversion_warning,
    diagnose,
    needs_remedy,
    overall_warning,
    spiking_remedies,
    stage_label,
    validation_warning,
)
from rnn2snn.model.elman import ElmanClassifier
from rnn2snn.model.train import predict, train
from rnn2snn.pipeline.measure import conversion_summary, evaluate_program
from rnn2snn.pipeline.result import PipelineResult, StageResult
from rnn2snn.program.constraints import TargetConstraints
from rnn2snn.targets import constraints_of


@dataclass(frozen=True)
class ConstraintStep:
    """One constraint of train-and-constrain, applied to the model in place; the method
    retrains after it and measures the row ``name``. ``apply`` returns what the step
    reports (the fan-in step: the connections it removed)."""

    name: str
    apply: Callable[[ElmanClassifier, Sequences, PipelineConfig, TargetConstraints], object]


def _fan_in(model, fit, config, limits):
    return limit_fan_in(model, config.max_fan_in, config.cores, limits)


def _weights(model, fit, config, limits):
    half = config.weight_levels // 2
    return quantize_model_weights(model, -half, half - 1)


def _activities(model, fit, config, limits):
    return quantize_model_activities(model, fit, config.activity_levels, carry_residual=config.carry_residual)


#: The constraint stages in order, each followed by its retraining (the stage table's rows).
CONSTRAINT_STEPS = (ConstraintStep("fan_in", _fan_in), ConstraintStep("weights", _weights),
                    ConstraintStep("activities", _activities))


def stage_logger(progress: bool, log):
    """Where stage lines go: ``log`` if given, else ``print`` with ``progress`` and nowhere
    without (``progress=False`` prints nothing; the warnings stay on the result)."""
    if log is not None:
        return log
    return print if progress else (lambda *_: None)


def constrain_and_convert(model: ElmanClassifier, fit: Sequences, val: Sequences, test: Sequences,
                          config: PipelineConfig = PipelineConfig(), classes=None, vocab=None,
                          progress: bool = True, log=None, distill=None,
                          evaluate: bool = True, given: bool = False, fixed_timing: bool = False,
                          val_source: str = "given") -> PipelineResult:
    """Train ``model`` and constrain it (retraining after each step), convert it, and measure.

    ``model`` may come pre-trained (``given``: a user's model, measured first as the
    ``given`` row; its float stage then fine-tunes it and never returns it worse on
    validation); the sizes of ``config`` are ignored here (the model has them), its
    training, constraint and spiking settings are used. ``distill``: a teacher's soft
    targets on ``fit`` (:class:`rnn2snn.model.train.Distillation`) used by every
    train-and-constrain stage. ``evaluate=False`` (an ensemble member) stops after the
    spiking stage: no ablation, core simulation or power (the combined program gets
    those). ``fixed_timing``: the loss guard may not change the spiking timing (an
    ensemble member after the first shares the first's). ``val_source`` says where the
    validation split came from (in the warning when it is small).
    """
    log = stage_logger(progress, log)
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    classes = list(classes) if classes is not None else [str(i) for i in range(model.config.n_classes)]
    stages: list[StageResult] = []
    stage_logits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    warnings: list[RunWarning] = []

    def warn(w: RunWarning) -> None:
        warnings.append(w)
        log(f"warning: {w.message}")

    small = validation_warning(val.labels, classes, val_source)
    if small is not None:
        warn(small)

    def measure(name: str, t0: float, kept_start: bool | None = None) -> StageResult:
        v, t = predict(model, val), predict(model, test)
        stage_logits[name] = (v, t)
        stages.append(StageResult(name, float((v.argmax(1) == val.labels).mean()),
                                  float((t.argmax(1) == test.labels).mean()),
                                  time.perf_counter() - t0, kept_start))
        s = stages[-1]
        log(f"{stage_label(name):>10}: val {s.val_accuracy:.3f}  test {s.test_accuracy:.3f}  "
            f"({s.seconds:.1f} s)" + ("  (kept its starting weights)" if kept_start else ""))
        return s

    def retrain(name: str, t0: float, train_config) -> None:
        """Retrain after a constraint step; a loss over DROP_POINTS gets more retraining first."""
        result = train(model, fit, val, train_config, name.replace("_", "-"), progress, distill,
                       start_is_candidate=False)
        before, after = stages[-1], measure(name, t0, result.kept_start)
        if not needs_remedy(before.val_accuracy, after.val_accuracy):
            return
        more = replace(train_config, epochs=2 * train_config.epochs, seed=train_config.seed + 1)
        again = train(model, fit, val, more, f"{name} (remedy)", progress, distill)
        remedy = Remedy(f"retraining {more.epochs} more epochs", again.best_val_accuracy,
                        kept=not again.kept_start)
        stages.pop()
        after = measure(name, t0, result.kept_start and again.kept_start)
        warn(constraint_warning(name, before.name, before.val_accuracy, after.val_accuracy,
                                result.start_val_accuracy, (remedy,)))

    limits = constraints_of(config)
    config = replace(config, spiking=limits.timing(config.spiking))  # the target's neuron
    ft = replace(config.finetune, seed=config.seed)
    if given:
        measure("given", time.perf_counter())
    t0 = time.perf_counter()
    trained = train(model, fit, val, replace(config.train, seed=config.seed), "float", progress, distill)
    measure("float", t0, trained.kept_start)
    applied = {}
    for step in CONSTRAINT_STEPS:  # each constraint, then its retraining
        t0 = time.perf_counter()
        applied[step.name] = step.apply(model, fit, config, limits)
        retrain(step.name, t0, ft)
    pruned = applied["fan_in"]
    activities = stages[-1]
    model.eval()
    t0 = time.perf_counter()
    schedule_agreement = None
    if config.choose_schedule:
        chosen, schedule_agreement = choose_input_schedule(model, val, config.spiking)
        config = replace(config, spiking=chosen)
        log(f"{'schedule':>10}: {chosen.input_schedule} (validation agreement "
            + ", ".join(f"{k} {v:.3f}" for k, v in schedule_agreement.items()) + ")")
    # the converted network before the spiking fine-tune: the conversion's own row
    before = conversion_summary(build_program(model, config.spiking, classes, vocab), val, test)
    stages.append(StageResult("spiking_before_finetune", before["val_spiking_accuracy"],
                              before["test_spiking_accuracy"], time.perf_counter() - t0))
    pre = stages[-1]
    log(f"{stage_label(pre.name)}: val {pre.val_accuracy:.3f}  test {pre.test_accuracy:.3f}  "
        f"({pre.seconds:.1f} s)")
    spiking_val, finetuned = pre.val_accuracy, None
    if config.spiking_finetune.epochs > 0:
        finetuned = finetune_spiking(model, fit, val, config.spiking,
                                     replace(config.spiking_finetune, seed=config.seed), progress)
        spiking_val = finetuned.best_val_accuracy
    remedies: tuple[Remedy, ...] = ()
    if needs_remedy(activities.val_accuracy, spiking_val) or needs_remedy(stages[0].val_accuracy,
                                                                           spiking_val):
        spiking_config, remedies = spiking_remedies(model, fit, val, config, spiking_val, fixed_timing,
                                                    progress)
        config = replace(config, spiking=spiking_config)
        log(f"{'remedies':>10}: " + "; ".join(f"{r.name} → val {r.val_accuracy:.3f}"
                                               + (" (kept)" if r.kept else "") for r in remedies))

    # From here on, only the program is read.
    provenance = {"config": config.to_dict(), "seed": config.seed,
                  "stages": {s.name: {"val": s.val_accuracy, "test": s.test_accuracy} for s in stages}}
    program = build_program(model, config.spiking, classes, vocab, provenance)
    result = evaluate_program(program, model, stages, val, test, config, classes, before,
                              schedule_agreement, pruned, log, full=evaluate)
    spiking = result.stage("spiking")
    kept = finetuned is not None and finetuned.kept_start and not any(r.kept for r in remedies)
    spiking.kept_start = None if finetuned is None else kept
    result.conversion["spiking_finetune"] = {
        "epochs_run": 0 if finetuned is None else len(finetuned.history) - 1,
        "best_epoch": None if finetuned is None else finetuned.best_epoch,
        "kept_start": spiking.kept_start}
    if remedies or needs_remedy(activities.val_accuracy, pre.val_accuracy) \
            or needs_remedy(activities.val_accuracy, spiking.val_accuracy):
        warn(conversion_warning(activities.val_accuracy, pre.val_accuracy, spiking.val_accuracy,
                                remedies, diagnose(program, val)))
    elif needs_remedy(result.stages[0].val_accuracy, spiking.val_accuracy) \
            and not any(w.kind == "accuracy_drop" for w in warnings):
        warn(overall_warning(result.stages))
    result.warnings = warnings
    result.stage_logits = stage_logits
    result.wall_seconds = time.perf_counter() - start
    return result

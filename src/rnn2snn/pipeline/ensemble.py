"""An ensemble run: the members' seeds, their programs stacked into one
(:func:`rnn2snn.program.ensemble.combine`) and measured like a single run, and the
combination rules (mean, vote) measured beside each other."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rnn2snn.config import PipelineConfig
from rnn2snn.data.sequences import Sequences
from rnn2snn.guard import needs_remedy, overall_warning, stage_label
from rnn2snn.pipeline.measure import evaluate_program
from rnn2snn.pipeline.result import MODEL_STAGES, PipelineResult, StageResult


def _mean_accuracy(members: list[PipelineResult], split: int, labels: np.ndarray) -> float:
    logits = np.mean([m.spiking_logits[split] for m in members], axis=0)
    return float((logits.argmax(1) == labels).mean())


def _vote_accuracy(members: list[PipelineResult], split: int, labels: np.ndarray) -> float:
    """Majority vote of the members' spiking predictions (ties: the mean of their scores) —
    the other usual combination, measured beside the mean to choose between them."""
    logits = np.stack([m.spiking_logits[split] for m in members])  # (K, N, C)
    votes = np.zeros(logits.shape[1:])
    np.add.at(votes, (np.arange(logits.shape[1])[None, :], logits.argmax(2)), 1.0)
    tie_break = logits.mean(0) - logits.mean(0).min(1, keepdims=True)
    tie_break /= tie_break.max(1, keepdims=True) + 1.0  # in [0, 1): only ties move
    return float(((votes + tie_break).argmax(1) == labels).mean())


def ensemble_result(members: list[PipelineResult], fit: Sequences, val: Sequences, test: Sequences,
                    config: PipelineConfig, log) -> PipelineResult:
    """Stack the converted members into one program (:func:`rnn2snn.program.ensemble.combine`) and
    evaluate it like a single run; the float-side stages are the mean of the members' logits."""
    from rnn2snn.program.ensemble import combine

    stages = []
    for name in MODEL_STAGES:
        val_logits = np.mean([m.stage_logits[name][0] for m in members], axis=0)
        test_logits = np.mean([m.stage_logits[name][1] for m in members], axis=0)
        stages.append(StageResult(name, float((val_logits.argmax(1) == val.labels).mean()),
                                  float((test_logits.argmax(1) == test.labels).mean()),
                                  sum(m.stage(name).seconds for m in members)))
        e = stages[-1]
        log(f"{'ensemble':>10} {stage_label(name)}: val {e.val_accuracy:.3f}  test {e.test_accuracy:.3f}")
    first = members[0]
    provenance = {"config": first.config.to_dict(), "seed": config.seed,
                  "stages": {s.name: {"val": s.val_accuracy, "test": s.test_accuracy} for s in stages},
                  "members": [{"seed": m.config.seed, "stages": {s.name: {"val": s.val_accuracy,
                                                                         "test": s.test_accuracy}
                                                                for s in m.stages}} for m in members]}
    program = combine([m.program for m in members], provenance=provenance)
    result = evaluate_program(program, first.model, stages, val, test,
                              replace(first.config, seed=config.seed), first.classes, None,
                              first.conversion["input_schedule_val_agreement"],
                              sum(m.pruned_connections for m in members), log)
    result.max_fan_in = max(int(m.model.allowed().sum(1).max()) for m in members)
    # each member's warnings (the validation split is shared: its warning once), and the
    # combination's own first → spiking drop
    for k, m in enumerate(members):
        for w in m.warnings:
            if w.kind == "small_validation":
                if k == 0:
                    result.warnings.append(w)
            else:
                result.warnings.append(replace(w, message=f"ensemble member {k + 1}: {w.message}"))
    if needs_remedy(stages[0].val_accuracy, result.stage("spiking").val_accuracy):
        result.warnings.append(overall_warning(result.stages))
        log(f"warning: {result.warnings[-1].message}")
    ks = range(1, len(members) + 1)
    result.ensemble = {
        "members": len(members), "rule": "mean of the members' logits (one readout [W_1 … W_K]/K)",
        "member_seeds": [m.config.seed for m in members],
        "member_spiking_test": [m.stage("spiking").test_accuracy for m in members],
        "member_spiking_val": [m.stage("spiking").val_accuracy for m in members],
        "member_cores": [m.resources.cores for m in members],
        # the first k members' combination (mean of their spiking class scores, what the
        # program of those k members computes), k = 1 … K: K is chosen on validation
        "first_k_spiking_val": [_mean_accuracy(members[:k], 0, val.labels) for k in ks],
        "first_k_spiking_test": [_mean_accuracy(members[:k], 1, test.labels) for k in ks],
        # the combination rule: the mean (one exact affine readout) against a majority vote
        "rule_spiking_val": {"mean": _mean_accuracy(members, 0, val.labels),
                             "vote": _vote_accuracy(members, 0, val.labels)},
        "rule_spiking_test": {"mean": _mean_accuracy(members, 1, test.labels),
                              "vote": _vote_accuracy(members, 1, test.labels)},
    }
    return result

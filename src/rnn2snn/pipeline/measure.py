"""Measurement of a converted program: its spiking stage, the conversion against its integer
network, the ablation, the resources and the core-level activity and power."""

from __future__ import annotations

import time
from dataclasses import replace

from rnn2snn.config import PipelineConfig
from rnn2snn.data.sequences import Sequences
from rnn2snn.pipeline.result import PipelineResult, StageResult
from rnn2snn.program import SpikingProgram, run_integer, simulate_program
from rnn2snn.program.diagnostics import ablation, compare_counts
from rnn2snn.targets.truenorth.power import core_share_power_uw
from rnn2snn.targets.truenorth.resources import count_resources
from rnn2snn.targets.truenorth.target import activity_estimate


def conversion_summary(program: SpikingProgram, val: Sequences, test: Sequences) -> dict:
    """Integer vs spiking accuracy (validation and test) and the count mismatch on test."""
    out = {}
    snn = program.spiking_network()
    for name, data in (("val", val), ("test", test)):
        integer = run_integer(program, data.inputs, data.lengths)
        spiking = simulate_program(program, data.inputs, data.lengths, snn=snn)
        out[f"{name}_integer_accuracy"] = float((integer.predictions == data.labels).mean())
        out[f"{name}_spiking_accuracy"] = float((spiking.predictions == data.labels).mean())
        out[f"{name}_prediction_differs_share"] = float((integer.predictions != spiking.predictions).mean())
        if name == "test":
            stats = compare_counts(spiking.counts, integer.counts, program.run_lengths(data.lengths))
            out.update({k: stats[k] for k in ("exact_share", "mean_abs_diff", "per_neuron_exact_share",
                                              "per_question_mean_abs_diff")})
    out["loss_points"] = 100 * (out["test_integer_accuracy"] - out["test_spiking_accuracy"])
    return out


def evaluate_program(program: SpikingProgram, model, stages: list[StageResult], val: Sequences,
                     test: Sequences, config: PipelineConfig, classes, before: dict,
                     schedule_agreement, pruned: int, log=print, full: bool = True) -> PipelineResult:
    """The spiking stage of ``program`` and (``full``) conversion, ablation, resources and power.

    ``stages`` are the rows measured before (given … spiking before fine-tune); the
    spiking one is added. The conversion loss is the program's own: its integer network
    against its spiking run (test).
    """
    start = time.perf_counter()
    stages = list(stages)
    provenance = dict(program.provenance)
    t0 = time.perf_counter()
    snn = program.spiking_network()
    val_run = simulate_program(program, val.inputs, val.lengths, snn=snn)
    test_run = simulate_program(program, test.inputs, test.lengths, snn=snn)
    # the report plots one question's raster: keep the rasters of the first few questions only
    first = slice(0, 8)
    test_record = simulate_program(program, test.inputs[first], test.lengths[first], record=True,
                                   snn=snn).record
    stages.append(StageResult("spiking", float((val_run.predictions == val.labels).mean()),
                              float((test_run.predictions == test.labels).mean()),
                              time.perf_counter() - t0))
    s = stages[-1]
    log(f"{'spiking':>10}: val {s.val_accuracy:.3f}  test {s.test_accuracy:.3f}  ({s.seconds:.1f} s)")
    program = replace(program, provenance={
        **provenance, "stages": {s.name: {"val": s.val_accuracy, "test": s.test_accuracy} for s in stages}})
    resources = count_resources(snn.bits, snn.n_inputs, snn.groups)
    if not full:  # an ensemble member: keep its spiking class scores for the combination
        return PipelineResult(
            config=config, stages=stages, program=program, model=model, classes=classes,
            resources=resources, power_uw=core_share_power_uw(resources.cores),
            conversion={"input_schedule": config.spiking.input_schedule,
                        "input_schedule_val_agreement": schedule_agreement,
                        "before_spiking_finetune": before},
            ablation=[], test=test, test_record=test_record,
            pruned_connections=pruned, spiking_logits=(val_run.logits, test_run.logits))

    run_len = program.run_lengths(test.lengths)
    integer = run_integer(program, test.inputs, test.lengths)
    conversion = compare_counts(test_run.counts, integer.counts, run_len)
    conversion["prediction_differs_share"] = float((integer.predictions != test_run.predictions).mean())
    conversion["test_integer_accuracy"] = float((integer.predictions == test.labels).mean())
    conversion["loss_points"] = 100 * (conversion["test_integer_accuracy"] - stages[-1].test_accuracy)
    conversion["before_spiking_finetune"] = before
    conversion["input_schedule"] = config.spiking.input_schedule
    conversion["input_schedule_val_agreement"] = schedule_agreement
    if program.layers[0].carry_residual:  # what modelling the carried membrane gains, measured
        cleared_run = run_integer(program, test.inputs, test.lengths, carry_residual=False)
        cleared = compare_counts(test_run.counts, cleared_run.counts, run_len)
        conversion["integer_net_cleared_each_word"] = {
            "test_accuracy": float((cleared_run.predictions == test.labels).mean()),
            "prediction_differs_share": float((cleared_run.predictions != test_run.predictions).mean()),
            **{k: cleared[k] for k in ("exact_share", "mean_abs_diff", "per_neuron_exact_share",
                                       "per_question_mean_abs_diff")},
        }
        del cleared_run  # not read again: its arrays are freed before the ablation and core runs

    def classify(counts):
        return program.logits(counts, test.lengths).argmax(1)

    net = program.network()
    rows = ablation(net, test_run.sources, run_len, integer.counts, classify, test.labels, program.timing)
    hardware = activity_estimate(snn, test_run.sources, run_len)
    result = PipelineResult(
        config=config, stages=stages, program=program, model=model, classes=classes,
        resources=resources, power_uw=core_share_power_uw(resources.cores),
        conversion=conversion, ablation=rows, test=test, test_record=test_record,
        pruned_connections=pruned, activity=hardware)
    result.wall_seconds = time.perf_counter() - start
    return result

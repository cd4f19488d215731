"""The schema of ``results.json``: what a run's :class:`~rnn2snn.pipeline.result.PipelineResult`
writes, beside the report that reads it (:mod:`rnn2snn.report.markdown`)."""

from __future__ import annotations

import numpy as np

from rnn2snn.program import SpikingProgram


def results_json(result) -> dict:
    """The ``results.json`` content of a :class:`~rnn2snn.pipeline.result.PipelineResult`."""
    cfg = result.program.timing
    thresholds = [_compact_threshold(layer.threshold, result.program)
                  for layer in result.program.layers]
    net = result.program.network()
    max_fan_in = result.max_fan_in
    if max_fan_in is None:
        max_fan_in = int(result.model.allowed().sum(1).max())
    more = {k: getattr(result, k) for k in ("teacher", "ensemble", "vectors")
            if getattr(result, k) is not None}
    return {
        "stages": [{"name": s.name, "test_accuracy": s.test_accuracy,
                    "val_accuracy": s.val_accuracy, "seconds": round(s.seconds, 2),
                    "kept_start": s.kept_start}
                   for s in result.stages],
        "warnings": [w.to_dict() for w in result.warnings],
        "hardware": {
            "cores": result.resources.cores,
            "axons": result.resources.axons,
            "neurons": result.resources.neurons,
            "ticks_per_word": cfg.ticks_per_word,
            "delay": cfg.delay,
            "power_uw": result.power_uw,
            "threshold": thresholds[0] if len(thresholds) == 1 else thresholds,
            **result.activity,
        },
        "conversion": {
            **result.conversion,
            "ablation": result.ablation,
        },
        "constraints": {
            "threshold": thresholds[0] if len(thresholds) == 1 else thresholds,
            "weight_range": [int(net.weights.min()), int(net.weights.max())],
            "max_fan_in": int(max_fan_in),
            "pruned_connections": result.pruned_connections,
            "layers": len(result.program.layers),
            "core_groups": None if net.groups is None else len(net.groups),
            "recurrent_bias": ("a bias input per layer (an input axon held at the top level)"
                               if result.program.bias_layers else
                               "none (the on-chip layers have no bias; leak = 0)"),
        },
        **more,
        "seed": result.config.seed,
        "wall_seconds": result.wall_seconds,
        "config": result.config.to_dict(),
        "classes": result.classes,
    }


def _compact_threshold(alpha: np.ndarray, program: SpikingProgram):
    """α of a layer: one int, or one per ensemble member (each uniform), or one per neuron."""
    if (alpha == alpha[0]).all():
        return int(alpha[0])
    if "ensemble" in program.provenance and len(program.layers) == 1:
        from rnn2snn.program.ensemble import member_slices

        per = [alpha[rows] for rows, _ in member_slices(program)]
        if all((a == a[0]).all() for a in per):
            return [int(a[0]) for a in per]
    return alpha.tolist()

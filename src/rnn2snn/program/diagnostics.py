"""How far spike counts are from the integer network's activities, and why.

:func:`compare_counts` measures the mismatch per word window, per neuron and per
question; :func:`ablation` re-runs the conversion with one design choice undone at
a time, which attributes the loss to its causes (negative potential carried
across windows, order of inputs within a window, the recurrent delay).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rnn2snn.batching import BATCH_SIZE
from rnn2snn.program import limits as L
from rnn2snn.program.integer import IntegerRNN
from rnn2snn.program.network import SCHEDULES, SpikingConfig, convert, simulate


def compare_counts(counts: np.ndarray, activity: np.ndarray, lengths: np.ndarray) -> dict:
    """Mismatch statistics between spike counts and activities, both (B, L, H) int.

    Only windows inside each question count. Returns shares in 0…1 and counts.
    """
    valid = np.arange(counts.shape[1])[None, :] < np.asarray(lengths)[:, None]
    diff = (counts - activity)[valid]  # (windows, H)
    per_neuron_exact = (diff == 0).mean(axis=0) if diff.size else np.zeros(counts.shape[2])
    question_exact = np.array([(counts[b, :n] == activity[b, :n]).all()
                               for b, n in enumerate(lengths)])
    question_mad = np.array([np.abs(counts[b, :n] - activity[b, :n]).mean()
                             for b, n in enumerate(lengths)])
    values, freq = np.unique(np.clip(diff, -5, 5), return_counts=True)
    return {
        "windows": int(diff.shape[0]),
        "neuron_windows": int(diff.size),
        "exact_share": float((diff == 0).mean()) if diff.size else 1.0,
        "mean_abs_diff": float(np.abs(diff).mean()) if diff.size else 0.0,
        "max_abs_diff": int(np.abs(diff).max()) if diff.size else 0,
        "per_neuron_exact_share": [round(float(v), 4) for v in per_neuron_exact],
        "questions_all_exact_share": float(question_exact.mean()),
        "per_question_mean_abs_diff": {
            "median": float(np.median(question_mad)), "p90": float(np.percentile(question_mad, 90)),
            "max": float(question_mad.max())},
        "diff_histogram": {int(v): int(f) for v, f in zip(values, freq, strict=False)},
    }


def ablation_variants(config: SpikingConfig) -> list[tuple[str, str, SpikingConfig]]:
    """(name, cause probed, config) rows: the chosen design, then one change at a time."""
    rows = [("as converted", "chosen design", config)]
    rows.append(("no negative floor", "negative potential carried across windows",
                 replace(config, neg_threshold=L.NEG_THRESHOLD_MAX)))
    for sched in SCHEDULES:
        if sched != config.input_schedule:
            rows.append((f"inputs {sched}", "order of inputs within a window",
                         replace(config, input_schedule=sched, neg_input_schedule=sched)))
    for d in (1, 8):
        if d != config.delay:
            rows.append((f"delay {d}", "recurrent delay vs. window",
                         replace(config, delay=d, neg_delay=d)))
    return rows


def ablation(net: IntegerRNN, x: np.ndarray, lengths: np.ndarray, activity: np.ndarray,
             classify, labels: np.ndarray, config: SpikingConfig,
             batch_size: int = BATCH_SIZE) -> list[dict]:
    """Accuracy and count mismatch for each variant of :func:`ablation_variants`.

    classify : callable (counts (B, L, H)) → predicted class (B,). Each variant is
    simulated ``batch_size`` questions at a time (:func:`~rnn2snn.program.network.simulate`).
    """
    int_pred = classify(activity)
    rows = []
    for name, cause, cfg in ablation_variants(config):
        rec = simulate(convert(net, cfg), x, lengths, batch_size=batch_size)
        pred = classify(rec.counts)
        stats = compare_counts(rec.counts, activity, lengths)
        rows.append({
            "variant": name, "cause": cause,
            "accuracy": float((pred == labels).mean()),
            "prediction_differs_share": float((pred != int_pred).mean()),
            "exact_share": stats["exact_share"], "mean_abs_diff": stats["mean_abs_diff"],
        })
    return rows

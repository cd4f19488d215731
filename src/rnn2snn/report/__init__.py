"""Stage 7 — report: results.json, report.md and plots of a run."""

from __future__ import annotations

import os
from pathlib import Path

from rnn2snn._atomic import write_json_atomic, write_text_atomic
from rnn2snn.report.markdown import render_report
from rnn2snn.report.plots import plot_count_mismatch, plot_raster, plot_stage_accuracy
from rnn2snn.truenorth.power import constants_table

__all__ = ["plot_count_mismatch", "plot_raster", "plot_stage_accuracy", "render_report",
           "write_run"]


def write_run(result, out_dir: str | os.PathLike, command: str = "",
              raster_index: int = 0) -> dict:
    """Write ``results.json``, ``report.md``, the PNG plots and ``model/`` for a pipeline result."""
    from rnn2snn.export.model_io import save_model

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = result.to_json()
    results["command"] = command
    results["power_constants"] = constants_table()
    save_model(out / "model", result.model, result.vocab, result.classes, result.config.spiking)
    plot_stage_accuracy(results["stages"], out / "accuracy_by_stage.png")
    plot_count_mismatch(results["conversion"]["diff_histogram"], out / "count_mismatch.png")
    test, rec = result.test, result.test_record
    n = int(test.lengths[raster_index])
    T = result.config.spiking.ticks_per_word
    words = [result.vocab.tokens[i] for i in test.tokens[raster_index, :n]]
    label = result.classes[int(test.labels[raster_index])]
    plot_raster(rec.raster[raster_index, : n * T], T, words, out / "raster.png",
                title=f"test question {raster_index} (class {label}): {' '.join(words)}")
    write_json_atomic(out / "results.json", results)
    write_text_atomic(out / "report.md", render_report(results, constants_table(), command))
    return results

"""Stage 7 — report: results.json, report.md and plots of a run."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rnn2snn.report.markdown import render_report
from rnn2snn.report.plots import PAPER_ACCURACY, plot_count_mismatch, plot_raster, plot_stage_accuracy
from rnn2snn.targets.truenorth.power import constants_table

__all__ = ["plot_count_mismatch", "plot_raster", "plot_stage_accuracy", "render_report",
           "save_run_model", "write_run"]


def save_run_model(result, folder: Path) -> None:
    """Save the run's converted program into ``folder`` (the one place a run saves it)."""
    from rnn2snn.program import save_program

    save_program(result.program, folder)


def write_run(result, out_dir: str | os.PathLike, command: str = "",
              raster_index: int = 0, trec_coarse: bool = False) -> dict:
    """Write ``results.json``, ``report.md``, the PNG plots and ``model/`` for a pipeline result.

    ``trec_coarse``: the data are TREC's 6 coarse classes, the only data Diehl et al. 2016
    report an accuracy on; only then are the report and plot compared with their 74 %.

    The folder is written as a whole (:func:`rnn2snn.rundir.write_folder_atomic`): a
    reader finds the previous run or the new one, never a new model beside an old
    ``results.json``. ``out_dir`` must be new, empty or a previous run, which is
    replaced (:func:`rnn2snn.checks.check_output_dir`).
    """
    from rnn2snn.checks import check_output_dir
    from rnn2snn.rundir import write_folder_atomic

    out = check_output_dir(out_dir, "run")
    results = result.to_json()
    results["command"] = command
    results["power_constants"] = constants_table()
    report = render_report(results, constants_table(), command, paper=trec_coarse)

    def write(folder: Path) -> None:
        save_run_model(result, folder / "model")
        plot_stage_accuracy(results["stages"], folder / "accuracy_by_stage.png",
                            paper=PAPER_ACCURACY if trec_coarse else None)
        plot_count_mismatch(results["conversion"]["diff_histogram"], folder / "count_mismatch.png")
        test, rec = result.test, result.test_record
        n = int(test.lengths[raster_index])
        T = result.config.spiking.ticks_per_word
        words = [result.program.vocab[i] for i in test.tokens[raster_index, :n]]
        label = result.classes[int(test.labels[raster_index])]
        plot_raster(rec.raster[raster_index, : n * T], T, words, folder / "raster.png",
                    title=f"test question {raster_index} (class {label}): {' '.join(words)}")
        (folder / "report.md").write_text(report, encoding="utf-8")
        # results.json marks a finished run: written last
        (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    write_folder_atomic(out, write)
    return results

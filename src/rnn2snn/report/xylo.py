"""A Xylo run's folder: ``results.json``, ``report.md``, the stage plot and ``model/`` (the spec).

Why its own schema: a Xylo program has no cores, axons or off-chip readout to report;
what it has are the chip's settings the conversion chose (``dash_syn``, ``dash_mem``,
shifts, threshold, ticks per step, the on-chip readout), the energy per question from
published figures, and the comparison with xylosim. The folder is written as a whole, as
a TrueNorth run's is (:func:`rnn2snn.rundir.write_folder_atomic`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rnn2snn.report.plots import PAPER_ACCURACY, plot_stage_accuracy
from rnn2snn.targets.xylo import power as P
from rnn2snn.targets.xylo.chips import get_chip
from rnn2snn.targets.xylo.model import save_xylo_model

#: The published figures an energy estimate stands beside, each with its source.
PUBLISHED = [
    {"name": "dynamic inference power, keyword spotting on Xylo Audio 2", "value": P.DYNAMIC_POWER_W * 1e6,
     "unit": "µW", "source": "Bos & Muir 2024, arXiv 2406.15112"},
    {"name": "energy per inference, the same network", "value": P.KWS_ENERGY_PER_INFERENCE_J * 1e6,
     "unit": "µJ", "source": "Bos & Muir 2024, arXiv 2406.15112"},
    {"name": "main clock (rockpool's XyloMonitor default)", "value": P.MAIN_CLOCK_HZ / 1e6, "unit": "MHz",
     "source": "rockpool 3.1.0, devices/xylo/syns61201/xylo_monitor.py"},
    {"name": "time step (XyloSim default dt)", "value": P.DEFAULT_DT_S * 1e3, "unit": "ms",
     "source": "rockpool 3.1.0, XyloSim.from_specification"},
]


def _uniform(values: np.ndarray):
    """One int if all equal, else the list."""
    values = np.asarray(values)
    return int(values[0]) if values.size and (values == values[0]).all() else values.tolist()


def xylo_results(run, command: str = "") -> dict:
    """The ``results.json`` content of a :class:`~rnn2snn.pipeline.xylo.XyloRun`."""
    conv, spec = run.conversion, run.conversion.spec
    chip = get_chip(spec.chip)
    dyn = conv.settings.dynamics
    fanout = np.count_nonzero(np.any(spec.weights_rec != 0, axis=2), axis=1)
    comparison = None
    if run.xylosim is not None:
        c = run.xylosim
        comparison = {"examples": c.examples, "ticks": c.ticks, "compared": c.compared,
                      "mismatches": c.mismatches,
                      "values_compared": sum(c.compared.values()), "total_mismatches": c.total_mismatches,
                      "seconds": run.xylosim_seconds}
    return {
        "target": run.chip,
        "stages": [{"name": s.name, "test_accuracy": s.test, "val_accuracy": s.val, "seconds": s.seconds,
                    "best_epoch": s.best_epoch} for s in conv.stages],
        "chip": {"name": chip.name, "part": chip.part, "inputs": chip.n_inputs, "hidden": chip.n_hidden,
                 "outputs": chip.n_outputs, "synapses": chip.synapses, "max_fanout": chip.max_fanout,
                 "recurrent_memory": chip.recurrent_memory},
        "program": {"inputs": spec.n_inputs, "hidden": spec.n_hidden, "outputs": spec.n_outputs,
                    "synapses": spec.n_synapses, "max_fanout": int(fanout.max(initial=0)),
                    "recurrent_pairs": int(fanout.sum()), "encoder_tokens": len(spec.encoder_table)},
        "parameters": {
            "dash_syn": _uniform(spec.dash_syn), "dash_mem": _uniform(spec.dash_mem),
            "dash_syn_out": _uniform(spec.dash_syn_out), "dash_mem_out": _uniform(spec.dash_mem_out),
            "weight_shift_in": spec.weight_shift_in, "weight_shift_rec": spec.weight_shift_rec,
            "weight_shift_out": spec.weight_shift_out, "threshold": _uniform(spec.threshold),
            "threshold_out": _uniform(spec.threshold_out), "ticks_per_step": spec.ticks_per_step,
            "tail_ticks": dyn.tail_ticks, "readout": spec.readout,
            "readout_rule": ("the output neuron with the largest Vmem at the read tick (tail_ticks blank "
                             "ticks after the last word)" if spec.readout == "vmem_last" else
                             "the output neuron with most spikes over the question"),
            "target_counts": conv.target_counts, "target_counts_tried": [
                {"target_counts": t.target_counts, "spiking_val": t.spiking_val} for t in conv.trials],
            "scales": asdict(conv.scales),
            "max_abs_weights": [int(np.abs(w).max()) for w in (spec.weights_in, spec.weights_rec,
                                                               spec.weights_out)],
        },
        "energy": {**asdict(run.energy), "published": PUBLISHED},
        "activity": run.activity,
        "spiking_test_rerun": run.test_accuracy_rerun,
        "xylosim": comparison,
        "xylosim_note": run.xylosim_note,
        # the word-vector matrix is data, not a setting: its source is recorded (vector_source)
        "settings": {k: v for k, v in asdict(conv.settings).items() if k != "vectors"},
        "split": run.split,
        "classes": list(spec.classes),
        "seed": run.seed,
        "wall_seconds": run.wall_seconds,
        "command": command,
    }


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def render_xylo_report(results: dict, paper: bool = False) -> str:
    """Markdown text of a Xylo run from its ``results.json`` dict (``paper``: TREC coarse labels)."""
    chip, prog, par, en = results["chip"], results["program"], results["parameters"], results["energy"]
    lines = [f"# rnn2snn run report: {chip['name']} ({chip['part']})", ""]
    if results["command"]:
        lines += [f"Command: `{results['command']}`", ""]
    lines += [f"Seed {results['seed']}, wall time {results['wall_seconds']:.1f} s. Every choice (epoch, "
              "activity scale) was made on the validation split; test accuracy is reported, never used.", "",
              "## Accuracy by stage", "",
              "`float`: the rate model of the chip's neuron; `quantised`: the spec's integers back in it; "
              "`spiking`: the spec on the chip's tick with the on-chip readout, before and after the "
              "fine-tune through that tick.", "",
              "| stage | test accuracy | validation accuracy | best epoch |", "| --- | --- | --- | --- |"]
    for s in results["stages"]:
        lines.append(f"| {s['name']} | {_pct(s['test_accuracy'])} | {_pct(s['val_accuracy'])} | "
                     f"{'' if s['best_epoch'] is None else s['best_epoch']} |")
    if paper:
        lines += ["", f"For scale: Diehl et al. 2016 report {_pct(PAPER_ACCURACY)} on TrueNorth for TREC-6."]
    lines += ["", "![accuracy by stage](accuracy_by_stage.png)", "", "## The program on the chip", "",
              "| quantity | this program | chip |", "| --- | --- | --- |",
              f"| input channels | {prog['inputs']} | {chip['inputs']} |",
              f"| hidden neurons | {prog['hidden']} | {chip['hidden']} |",
              f"| output neurons (one a class) | {prog['outputs']} | {chip['outputs']} |",
              f"| largest recurrent fan-out | {prog['max_fanout']} | {chip['max_fanout']} |",
              f"| recurrent (source, target) pairs | {prog['recurrent_pairs']} | "
              f"{chip['recurrent_memory']} |",
              "", "Parameters the conversion chose:", "", "| parameter | value |", "| --- | --- |"]
    for name in ("dash_syn", "dash_mem", "dash_syn_out", "dash_mem_out", "threshold", "threshold_out",
                 "weight_shift_in", "weight_shift_rec", "weight_shift_out", "ticks_per_step", "tail_ticks",
                 "target_counts"):
        lines.append(f"| {name} | {par[name]} |")
    lines.append(f"| readout | {par['readout']}: {par['readout_rule']} |")
    lines += ["", "## Energy per question", "",
              f"**{en['energy_per_question_uj']:.2f} µJ per question** ({en['ticks_per_question']:.1f} "
              f"ticks of {en['dt_s'] * 1e3:g} ms). Basis: {en['basis']}. SynSense's cycle model gives "
              f"{en['cycles_per_tick']:.0f} cycles a tick at this activity, a "
              f"{en['clock_needed_hz'] / 1e6:.2f} MHz clock for real time "
              f"({'within' if en['fits_main_clock'] else 'ABOVE'} the 50 MHz main clock).", "",
              "Published figures beside it:", "", "| figure | value | unit | source |",
              "| --- | --- | --- | --- |"]
    lines += [f"| {c['name']} | {c['value']:.4g} | {c['unit']} | {c['source']} |" for c in en["published"]]
    lines += ["", "## Verified against xylosim", ""]
    x = results["xylosim"]
    if x is None:
        lines.append(f"xylosim: {results['xylosim_note']}.")
    else:
        lines += [f"Our simulator against xylosim (SynSense's bit-accurate simulator, through rockpool's "
                  f"XyloSim) on {x['examples']} test questions × {x['ticks']} ticks: "
                  f"**{x['total_mismatches']} mismatches** in {x['values_compared']:,} values.", "",
                  "| recorded array | values compared | mismatches |", "| --- | --- | --- |"]
        lines += [f"| {k} | {x['compared'][k]:,} | {x['mismatches'][k]} |" for k in x["compared"]]
    lines += ["", "The program: `model/spec.npz` (XyloSim.from_specification's arrays, plus the off-chip "
              "encoder and readout under `rnn2snn_` keys) and `model/xylo.json` (vocabulary, tail ticks). "
              "`rnn2snn verify --model model` replays it in xylosim.", ""]
    return "\n".join(lines)


def write_xylo_run(run, out_dir: str | os.PathLike, command: str = "", trec_coarse: bool = False) -> dict:
    """Write ``results.json``, ``report.md``, ``accuracy_by_stage.png`` and ``model/`` as a whole."""
    from rnn2snn.checks import check_output_dir
    from rnn2snn.rundir import write_folder_atomic

    out = check_output_dir(out_dir, "run")
    results = xylo_results(run, command)
    report = render_xylo_report(results, paper=trec_coarse)

    def write(folder: Path) -> None:
        save_xylo_model(run.model, folder / "model")
        plot_stage_accuracy([s for s in results["stages"] if s["test_accuracy"] is not None],
                            folder / "accuracy_by_stage.png", paper=PAPER_ACCURACY if trec_coarse else None)
        (folder / "report.md").write_text(report, encoding="utf-8")
        # results.json marks a finished run: written last
        (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    write_folder_atomic(out, write)
    return results

"""Train-and-constrain TREC-6 for Xylo Audio 2, measured at every stage, checked against xylosim.

Stages (validation picks every choice; test is only reported):

1. float: :class:`~rnn2snn.targets.xylo.train.RateXylo`, the chip's neuron with real counts;
2. quantised: its spec's integers (int8 weights, one shift per layer, integer encoder)
   back in the rate model, counts still real;
3. spiking before fine-tune: the spec on the chip's tick (our simulator), on-chip readout
   (largest output ``Vmem`` one tick after the last word); the activity scale is chosen
   here, on validation, from ``--targets``;
4. spiking: after the fine-tune through the chip's tick (:class:`ChipXylo`);

then the test set in xylosim (every recorded array, every tick), energy per question.

Run::

    PYTHONPATH=$PWD/src python benchmarks/xylo_trec.py --seed 0 --json /tmp/x18conv/s0.json
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

# The one place this study reads the project's data code (its path may move at merge).
from rnn2snn.data import Vocabulary, encode, load_trec, stratified_split
from rnn2snn.targets.xylo.convert import XyloDynamics, choose_scales, rasters, to_spec
from rnn2snn.targets.xylo.power import estimate_energy
from rnn2snn.targets.xylo.simulate import simulate
from rnn2snn.targets.xylo.spec import save_spec
from rnn2snn.targets.xylo.train import (
    ChipXylo,
    FitConfig,
    RateXylo,
    chip_accuracy,
    finetune_chip,
    rate_accuracy,
    rate_from_spec,
    state_ranges,
    train_rate,
)


def load(seed: int, min_count: int = 2, val_fraction: float = 0.1):
    train_ex, test_ex = load_trec()
    tr, va = stratified_split(train_ex.labels, val_fraction, seed)
    fit, val = train_ex.subset(tr), train_ex.subset(va)
    vocab = Vocabulary.build(fit.texts, min_count=min_count)
    classes = sorted(set(train_ex.labels))
    return vocab, classes, encode(fit, vocab, classes), encode(val, vocab, classes), encode(test_ex, vocab, classes)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", type=int, default=64, help="hidden neurons (dense recurrence: <= 64 "
                        "on Audio 2, its fan-out limit)")
    parser.add_argument("--dash-syn", type=int, default=1)
    parser.add_argument("--dash-mem", type=int, default=15)
    parser.add_argument("--dash-syn-out", type=int, default=1)
    parser.add_argument("--dash-mem-out", type=int, default=15)
    parser.add_argument("--tail", type=int, default=1, help="blank ticks after the last word")
    parser.add_argument("--targets", default="4,8,16", help="99.9th-percentile hidden counts to try")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--ft-epochs", type=int, default=12)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--ft-lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-xylosim", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--spec-out", help="write the final spec (.npz) here")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    wall = time.perf_counter()
    vocab, classes, fit, val, test = load(args.seed)
    dyn = XyloDynamics(dash_syn=args.dash_syn, dash_mem=args.dash_mem, dash_syn_out=args.dash_syn_out,
                       dash_mem_out=args.dash_mem_out, tail_ticks=args.tail)
    result: dict = {"seed": args.seed, "hidden": args.hidden, "dynamics": asdict(dyn), "vocab": len(vocab),
                    "train": len(fit), "val": len(val), "test": len(test), "stages": {}}

    def stage(name, val_acc, test_acc, **more):
        result["stages"][name] = {"val": round(val_acc, 4), "test": round(test_acc, 4), **more}
        print(f"{name:>26}: val {val_acc:.4f}  test {test_acc:.4f}  {more or ''}", flush=True)

    t0 = time.perf_counter()
    rate = RateXylo(len(vocab), args.hidden, len(classes), dyn, seed=args.seed)
    fit_float = train_rate(rate, fit, val, FitConfig(epochs=args.epochs, lr=args.lr, seed=args.seed), log=print)
    stage("float", rate_accuracy(rate, val), rate_accuracy(rate, test), best_epoch=fit_float.best_epoch,
          seconds=round(time.perf_counter() - t0, 1))

    ranges = state_ranges(rate, fit)
    result["float_ranges"] = asdict(ranges)
    tried = []
    for target in (float(x) for x in args.targets.split(",")):
        scales = choose_scales(rate.export(), ranges, target)
        spec = to_spec(rate.export(), scales, "xylo-audio2", tuple(classes))
        tried.append((chip_accuracy(spec, val, dyn.tail_ticks), target, scales, spec))
        print(f"  target {target}: {scales}  spiking val {tried[-1][0]:.4f}", flush=True)
    result["targets_tried"] = [{"target": t, "spiking_val": round(a, 4), **asdict(s)} for a, t, s, _ in tried]
    _, target, scales, spec = max(tried, key=lambda row: (row[0], -row[1]))
    result["scales"] = asdict(scales) | {"target_counts": target}
    quant = rate_from_spec(spec, dyn, scales.out_scale)
    stage("quantised", rate_accuracy(quant, val), rate_accuracy(quant, test))
    stage("spiking_before_finetune", chip_accuracy(spec, val, dyn.tail_ticks),
          chip_accuracy(spec, test, dyn.tail_ticks))

    t0 = time.perf_counter()
    chip = ChipXylo(spec, dyn, scales.out_scale)
    fit_chip = finetune_chip(chip, fit, val, FitConfig(epochs=args.ft_epochs, lr=args.ft_lr, seed=args.seed,
                                                       patience=4), log=print)
    spec = chip.spec()
    stage("spiking", chip_accuracy(spec, val, dyn.tail_ticks), chip_accuracy(spec, test, dyn.tail_ticks),
          best_epoch=fit_chip.best_epoch, seconds=round(time.perf_counter() - t0, 1))

    counts, read = rasters(spec, test.tokens, test.lengths, dyn.tail_ticks)
    record = simulate(spec, counts, record=True)
    energy = estimate_energy(spec, counts, record, read)
    result["energy"] = asdict(energy)
    result["chip_figures"] = {
        "threshold": int(spec.threshold[0]), "weight_shifts": [spec.weight_shift_in, spec.weight_shift_rec,
                                                               spec.weight_shift_out],
        "max_abs_weights": [int(np.abs(w).max()) for w in (spec.weights_in, spec.weights_rec, spec.weights_out)],
        "hidden_spikes_per_question": float(record.spikes.sum() / len(counts)),
        "saturated_values": {name: int(np.count_nonzero(np.abs(getattr(record, name).astype(np.int64)) >= 32767))
                             for name in ("vmem", "isyn", "vmem_out", "isyn_out")},
        "output_spikes": int(record.out_spikes.sum()),
        "readout": spec.readout + " (largest output Vmem one tick after the last word)",
    }
    if not args.no_xylosim:
        from rnn2snn.targets.xylo.xylosim_run import compare_with_xylosim

        t0 = time.perf_counter()
        comparison = compare_with_xylosim(spec, counts)
        result["xylosim"] = {"examples": comparison.examples, "ticks": comparison.ticks,
                             "compared": comparison.compared, "mismatches": comparison.mismatches,
                             "total_mismatches": comparison.total_mismatches,
                             "seconds": round(time.perf_counter() - t0, 1)}
        print(f"  xylosim: {comparison.total_mismatches} mismatches in {sum(comparison.compared.values())} "
              f"values ({comparison.examples} questions)", flush=True)
    if args.spec_out:
        save_spec(spec, Path(args.spec_out))
    result["history"] = {"float": [asdict(r) for r in fit_float.history],
                         "finetune": [asdict(r) for r in fit_chip.history]}
    result["wall_seconds"] = round(time.perf_counter() - wall, 1)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

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

Run (the flags' defaults are the preset's :class:`XyloSettings`, so the default run is what
``reproduce --target xylo-audio2`` runs)::

    PYTHONPATH=$PWD/src python benchmarks/xylo_trec.py --seed 0 --threads 1 --json /tmp/x2/final0.json
    PYTHONPATH=$PWD/src python benchmarks/xylo_trec.py --preset xylo-best --seed 0 --threads 1 ...

The earlier chain's settings (1 tick a word, no dropout, 30 epochs) are
``--ticks 1 --dropout 0 --epochs 30 --patience 6`` (its figures changed with the encoder's
parametrisation, which is in units of 15 events since).

Seed 0, 2 cores shared, 1 thread (the default run; test only reported): float 0.870 / 0.866,
quantised 0.861 / 0.868, spiking before fine-tune 0.866 / 0.872, spiking 0.874 / 0.880
(val / test); xylosim 0 mismatches; 16.0 ticks and 4.7 µJ a question; 137 s.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

# The one place this study reads the project's data code (its path may move at merge).
from rnn2snn.data import Vocabulary, encode, load_trec, stratified_split
from rnn2snn.targets.xylo.convert import XyloDynamics, rasters
from rnn2snn.targets.xylo.method import XYLO_PRESETS, convert_for_xylo, with_vectors
from rnn2snn.targets.xylo.power import estimate_energy
from rnn2snn.targets.xylo.simulate import simulate
from rnn2snn.targets.xylo.spec import save_spec


def load(seed: int, min_count: int = 2, val_fraction: float = 0.1, vectors: str | None = None):
    """The split and encoding; with ``vectors``, rare training words the vectors know are kept."""
    train_ex, test_ex = load_trec()
    tr, va = stratified_split(train_ex.labels, val_fraction, seed)
    fit, val = train_ex.subset(tr), train_ex.subset(va)
    vocab = Vocabulary.build(fit.texts, min_count=min_count)
    if vectors:
        from rnn2snn.model.vectors import known_words

        known, kept = known_words(vectors), set(vocab.tokens)
        rare = Vocabulary.build(fit.texts, min_count=1)
        vocab = Vocabulary(vocab.tokens + [t for t in rare.tokens[2:] if t not in kept and t in known])
    classes = sorted(set(train_ex.labels))
    return (vocab, classes, encode(fit, vocab, classes), encode(val, vocab, classes),
            encode(test_ex, vocab, classes))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="xylo-audio2", choices=sorted(XYLO_PRESETS),
                        help="the settings the other flags' defaults come from")
    preset = parser.parse_known_args(argv)[0].preset
    parser.add_argument("--seed", type=int, default=0)
    d = XYLO_PRESETS[preset]  # defaults: the chain's own (the CLI's)
    dd = d.dynamics
    parser.add_argument("--hidden", type=int, default=d.hidden, help="hidden neurons (dense recurrence: "
                        "<= 64 on Audio 2, its fan-out limit)")
    parser.add_argument("--fanout", type=int, default=d.fanout, help="recurrent targets a neuron (random "
                        "mask when --hidden is larger)")
    parser.add_argument("--ticks", type=int, default=dd.ticks_per_step, help="ticks a word (each with its "
                        "own event vector)")
    parser.add_argument("--dash-syn", type=int, default=dd.dash_syn)
    parser.add_argument("--dash-mem", type=int, default=dd.dash_mem)
    parser.add_argument("--dash-syn-out", type=int, default=dd.dash_syn_out)
    parser.add_argument("--dash-mem-out", type=int, default=dd.dash_mem_out)
    parser.add_argument("--tail", type=int, default=dd.tail_ticks, help="blank ticks after the last word")
    parser.add_argument("--targets", default=",".join(f"{t:g}" for t in d.target_counts),
                        help="99.9th-percentile hidden counts to try")
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--ft-epochs", type=int, default=d.ft_epochs)
    parser.add_argument("--dropout", type=float, default=d.dropout, help="on the float model's input events")
    parser.add_argument("--weight-decay", type=float, default=d.weight_decay)
    parser.add_argument("--patience", type=int, default=d.patience, help="float stage early stopping")
    parser.add_argument("--ft-patience", type=int, default=d.ft_patience)
    parser.add_argument("--ft-distill", type=float, default=d.ft_distill, help="weight of the float model's "
                        "soft targets in the fine-tune")
    parser.add_argument("--ft-temperature", type=float, default=d.ft_temperature)
    parser.add_argument("--lr", type=float, default=d.lr)
    parser.add_argument("--ft-lr", type=float, default=d.ft_lr)
    parser.add_argument("--vectors", default=d.vector_source, help="pretrained word vectors (glove-6b-50d) "
                        "for the float table ('' for none)")
    parser.add_argument("--freeze-vectors", action="store_true", default=not d.tune_vectors,
                        help="learn only the map from the vectors")
    parser.add_argument("--teacher-maps", type=int, default=d.teacher_maps, help="a float CNN teacher "
                        "(maps per filter width; 0: none)")
    parser.add_argument("--distill", type=float, default=d.distill, help="its weight in the float stage")
    parser.add_argument("--teachers", type=int, default=d.teachers, help="CNNs averaged into the teacher")
    parser.add_argument("--members", type=int, default=d.members, help="independent networks side by side "
                        "in the hidden layer (block-diagonal recurrence, one encoder)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-xylosim", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--spec-out", help="write the final spec (.npz) here")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    wall = time.perf_counter()
    args.vectors = args.vectors or None
    vocab, classes, fit, val, test = load(args.seed, vectors=args.vectors)
    dyn = XyloDynamics(dash_syn=args.dash_syn, dash_mem=args.dash_mem, dash_syn_out=args.dash_syn_out,
                       dash_mem_out=args.dash_mem_out, tail_ticks=args.tail, ticks_per_step=args.ticks)
    result: dict = {"preset": preset, "seed": args.seed, "hidden": args.hidden, "dynamics": asdict(dyn),
                    "vocab": len(vocab), "train": len(fit), "val": len(val), "test": len(test), "stages": {}}

    settings = replace(d, hidden=args.hidden, fanout=args.fanout, dynamics=dyn,
                       target_counts=tuple(float(x) for x in args.targets.split(",")), epochs=args.epochs,
                       lr=args.lr, ft_epochs=args.ft_epochs, ft_lr=args.ft_lr, seed=args.seed,
                       dropout=args.dropout, weight_decay=args.weight_decay, patience=args.patience,
                       ft_patience=args.ft_patience, ft_distill=args.ft_distill,
                       ft_temperature=args.ft_temperature, vector_source=args.vectors,
                       tune_vectors=not args.freeze_vectors, teacher_maps=args.teacher_maps,
                       distill=args.distill, teachers=args.teachers, members=args.members)
    settings = with_vectors(settings, vocab)
    result["settings"] = {k: v for k, v in asdict(settings).items() if k != "vectors"} | {
        "vectors": args.vectors}
    conv = convert_for_xylo(fit, val, test, len(vocab), tuple(classes), "xylo-audio2", settings, log=print)
    result["stages"] = {s.name: {"val": round(s.val, 4), "test": round(s.test, 4), "seconds": s.seconds,
                                 "best_epoch": s.best_epoch} for s in conv.stages}
    if conv.teacher is not None:
        result["teacher"] = asdict(conv.teacher)
    result["float_ranges"] = asdict(conv.float_ranges)
    result["targets_tried"] = [{"target": t.target_counts, "spiking_val": round(t.spiking_val, 4),
                                **asdict(t.scales)} for t in conv.trials]
    result["scales"] = asdict(conv.scales) | {"target_counts": conv.target_counts}
    spec = conv.spec

    counts, read = rasters(spec, test.tokens, test.lengths, dyn.tail_ticks)
    record = simulate(spec, counts, record=True)
    energy = estimate_energy(spec, counts, record, read)
    result["energy"] = asdict(energy)
    result["chip_figures"] = {
        "threshold": int(spec.threshold[0]), "weight_shifts": [spec.weight_shift_in, spec.weight_shift_rec,
                                                               spec.weight_shift_out],
        "max_abs_weights": [int(np.abs(w).max())
                            for w in (spec.weights_in, spec.weights_rec, spec.weights_out)],
        "hidden_spikes_per_question": float(record.spikes.sum() / len(counts)),
        "saturated_values": {name: int(np.count_nonzero(np.abs(getattr(record, name).astype(np.int64))
                                                          >= 32767))
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
    result["history"] = {"float": [asdict(r) for r in conv.float_history],
                         "finetune": [asdict(r) for r in conv.finetune_history]}
    result["wall_seconds"] = round(time.perf_counter() - wall, 1)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

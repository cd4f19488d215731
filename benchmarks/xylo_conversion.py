"""Study: the integer TREC network rnn2snn builds, mapped onto Xylo Audio 2 without retraining.

What it answers (issue 18's research question): how much accuracy does a direct mapping
of the integer network lose on Xylo's neuron, and where — the hidden layer (synaptic
filter, leak, unbounded negative membrane, 31 spikes a tick) or the on-chip readout
(int8 output weights, output neurons' dynamics)? It informs the train-and-constrain
stage, which will train against :mod:`rnn2snn.targets.xylo.neuron`.

The mapping (1 Xylo tick per word unless ``--ticks``): the 16 projection units are the 16
input channels (a word's levels 0…15 are its event counts); the recurrent layer is the
hidden layer; weights ×16 into int8 (−8…7 → −128…112) with one shift ``s`` for input and
recurrence; threshold ``α·16·2ˢ``; ``dash_syn`` (default 1: half the input passes in the
tick it arrives, the rest over the next ticks, unit gain in total); ``dash_mem`` (15: a
1-unit leak). Readout: output neuron c integrates ``W[c]·spikes + b[c]`` (int8 weights, shift 0,
``dash_mem_out`` 15, no output spikes) and the class is the largest output ``Vmem`` one tick
after the last word (``vmem_last``): the mean pooling of the integer network's readout.

Run (about a minute after the reproduce run)::

    rnn2snn reproduce --seed 0 --proj-dim 16 --out /tmp/x18/r --quiet
    python benchmarks/xylo_conversion.py /tmp/x18/r/model [--xylosim] [--split train] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace

import numpy as np

from rnn2snn.data import load_trec
from rnn2snn.program import load_program
from rnn2snn.program.run import run_integer
from rnn2snn.targets.xylo.power import estimate_energy
from rnn2snn.targets.xylo.simulate import classify, simulate
from rnn2snn.targets.xylo.spec import XyloSpec, validate


def examples(program, split: str):
    train, test = load_trec()
    test = test if split == "test" else train
    index = {t: i for i, t in enumerate(program.encoder.vocab)}
    ids = [[index.get(w, 1) for w in ws] or [1] for ws in test.texts]
    lengths = np.array([len(s) for s in ids])
    arr = np.zeros((len(ids), lengths.max()), np.int64)
    for i, s in enumerate(ids):
        arr[i, : len(s)] = s
    labels = np.array([program.classes.index(c) for c in test.labels])
    return arr, lengths, labels


def integer_without_floor(program, ids, lengths) -> np.ndarray:
    """What-if (not a chip): the integer network with its remainder unbounded below, as Xylo's membrane is.

    The integer neuron keeps ``r = max(u − α·a, −α)``; Xylo has no negative threshold, so
    its membrane keeps all inhibition. This isolates that one difference.
    """
    net = program.network()
    x = program.sources(program.encode(ids), lengths)
    a = np.zeros((len(ids), net.n_hidden), np.int64)
    r = np.zeros_like(a)
    out = np.zeros((len(ids), x.shape[1], net.n_hidden), np.int64)
    for t in range(x.shape[1]):
        live = (t < lengths)[:, None]
        u = x[:, t] @ net.w_in.T + a @ net.w_rec.T + r
        new = np.clip(u // net.threshold, 0, net.levels - 1)
        r = np.where(live, u - net.threshold * new, r)
        a = np.where(live, new, a)
        out[:, t] = a
    return program.logits(out, lengths).argmax(1)


def to_spec(program, shift: int, dash_syn: int, dash_mem: int, ticks: int, out_scale: float) -> XyloSpec:
    """The integer network on Xylo Audio 2 (see the module docstring)."""
    (layer,) = program.layers
    h, p = layer.w_in.shape
    c = len(program.classes)
    w_out = program.readout.weight.T  # (H, C), applied to the mean over words of the spike counts
    q_out = np.clip(np.round(w_out * out_scale), -128, 127)
    bias_out = np.round(program.readout.bias * out_scale / ticks)  # b a word, spread over its ticks
    return XyloSpec(weights_in=(layer.w_in.T * 16)[:, :, None], weights_rec=(layer.w_rec.T * 16)[:, :, None],
                    weights_out=q_out, dash_mem=np.full(h, dash_mem), dash_syn=np.full(h, dash_syn),
                    dash_syn_2=np.zeros(h), threshold=layer.threshold * 16 << shift, bias=np.zeros(h),
                    dash_mem_out=np.full(c, 15), dash_syn_out=np.full(c, 1), threshold_out=np.full(c, 32767),
                    bias_out=bias_out, weight_shift_in=shift, weight_shift_rec=shift, weight_shift_out=0,
                    readout="vmem_last", ticks_per_step=ticks, classes=program.classes)


def rasters(levels: np.ndarray, lengths: np.ndarray, ticks: int) -> tuple[np.ndarray, np.ndarray]:
    """Input counts (N, L·ticks + 1, 16): a word's levels in the first tick of its window, one flush tick."""
    n, steps, p = levels.shape
    counts = np.zeros((n, steps * ticks + 1, p), np.int64)
    valid = np.arange(steps)[None, :] < lengths[:, None]
    counts[:, : steps * ticks : ticks] = levels * valid[..., None]
    return counts, lengths * ticks + 1


def per_word(spikes: np.ndarray, ticks: int, steps: int) -> np.ndarray:
    return spikes[:, : steps * ticks].reshape(len(spikes), steps, ticks, -1).sum(axis=2)


def evaluate(program, ids, lengths, labels, shift, dash_syn, dash_mem, ticks, out_scale, integer):
    spec = validate(to_spec(program, shift, dash_syn, dash_mem, ticks, out_scale))
    levels = program.encode(ids)
    counts, tick_lengths = rasters(levels, lengths, ticks)
    start = time.perf_counter()
    record = simulate(spec, counts)
    seconds = time.perf_counter() - start
    steps = ids.shape[1]
    words = per_word(record.spikes.astype(np.int64), ticks, steps)
    valid = np.arange(steps)[None, :] < lengths[:, None]
    hidden_logits = program.logits(words, lengths)  # Xylo hidden layer, the program's float readout
    on_chip = classify(record, spec.readout, tick_lengths)
    spike_readout = {}
    for theta in (64, 256, 1024, 4096):  # the same output neurons, read by their spikes (1 a tick at most)
        spiking = replace(spec, threshold_out=np.full(spec.n_outputs, theta), readout="spike_count")
        run = simulate(spiking, counts, record=False)
        correct = classify(run, "spike_count", tick_lengths) == labels
        spike_readout[str(theta)] = round(float(correct.mean()), 3)
    equal = (words == integer.counts)[valid].mean()
    energy = estimate_energy(spec, counts, record, lengths=tick_lengths)
    live = np.arange(counts.shape[1])[None, :] < tick_lengths[:, None]
    at_min = float((record.vmem == -(2**15))[live].mean())
    out_saturated = float((np.abs(record.vmem_out.astype(np.int64)) >= 2**15 - 1)[live].mean())
    negative = float((record.vmem < 0)[live].mean())
    return spec, counts, record, {
        "shift": shift, "dash_syn": dash_syn, "dash_mem": dash_mem, "ticks_per_word": ticks,
        "out_scale": float(out_scale),
        "accuracy_hidden_on_xylo_float_readout": float((hidden_logits.argmax(1) == labels).mean()),
        "accuracy_on_chip_readout": float((on_chip == labels).mean()),
        "on_chip_agrees_with_integer": float((on_chip == integer.predictions).mean()),
        "ticks_per_question": energy.ticks_per_question, "cycles_per_tick": round(energy.cycles_per_tick),
        "energy_per_question_uj": round(energy.energy_per_question_uj, 2),
        "accuracy_on_chip_spike_readout_by_threshold_out": spike_readout,
        "counts_equal_integer_activities": float(equal),
        "max_spikes_per_tick": int(record.spikes.max()),
        "hidden_vmem_at_min": at_min, "hidden_vmem_negative": negative,
        "output_vmem_saturated": out_saturated,
        "simulate_seconds": round(seconds, 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a program folder (rnn2snn reproduce --proj-dim 16 ... /model)")
    parser.add_argument("--xylosim", action="store_true", help="also run the first setting in xylosim and "
                        "count mismatches over the whole test set")
    parser.add_argument("--split", choices=("test", "train"), default="test",
                        help="TREC's 500 test questions (default) or its 5452 training questions")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    program = load_program(args.model)
    if program.encoder.n_outputs > 16 or len(program.layers) != 1:
        print(f"{args.model}: needs one recurrent layer on at most 16 encoder units "
              f"(--proj-dim 16), found {program.encoder.n_outputs} units, {len(program.layers)} layers")
        return 2
    ids, lengths, labels = examples(program, args.split)
    integer = run_integer(program, ids, lengths)
    w_out = program.readout.weight
    out_scale = 127 / np.abs(w_out).max()
    pooled = np.array([integer.counts[i, : lengths[i]].mean(0) for i in range(len(lengths))])
    q_logits = pooled @ (np.round(w_out * out_scale) / out_scale).T + program.readout.bias
    result = {"model": args.model, "split": args.split, "questions": len(labels),
              "accuracy_integer": float((integer.predictions == labels).mean()),
              "accuracy_integer_int8_readout": float((q_logits.argmax(1) == labels).mean()),
              "accuracy_integer_without_negative_floor": float(
                  (integer_without_floor(program, ids, lengths) == labels).mean()),
              "settings": []}
    print(f"integer network: {result['accuracy_integer']:.3f}; with int8 readout weights: "
          f"{result['accuracy_integer_int8_readout']:.3f}; without the -α floor of the remainder (what-if): "
          f"{result['accuracy_integer_without_negative_floor']:.3f}")
    grid = [(s, d, m, k) for s, d, m, k in [(4, 1, 15, 1), (2, 1, 15, 1), (6, 1, 15, 1), (4, 2, 15, 1),
                                            (4, 1, 4, 1), (4, 1, 2, 1), (4, 1, 15, 2), (4, 1, 15, 4)]]
    first = None
    for shift, dash_syn, dash_mem, ticks in grid:
        spec, counts, record, row = evaluate(program, ids, lengths, labels, shift, dash_syn, dash_mem, ticks,
                                             out_scale, integer)
        first = first or (spec, counts, record)
        result["settings"].append(row)
        print(f"shift {shift} dash_syn {dash_syn} dash_mem {dash_mem:2d} ticks/word {ticks}: hidden on Xylo "
              f"{row['accuracy_hidden_on_xylo_float_readout']:.3f}, on-chip readout "
              f"{row['accuracy_on_chip_readout']:.3f}, same class as the integer network in "
              f"{row['on_chip_agrees_with_integer']:.1%} (output spikes, by threshold_out: "
              f"{row['accuracy_on_chip_spike_readout_by_threshold_out']}); counts = integer activities in "
              f"{row['counts_equal_integer_activities']:.1%} of neuron-words; max "
              f"{row['max_spikes_per_tick']} spikes/tick; Vmem at -2^15 in {row['hidden_vmem_at_min']:.1%} "
              f"of hidden samples, output Vmem saturated in {row['output_vmem_saturated']:.1%}; "
              f"{row['energy_per_question_uj']} µJ a question at 1 ms a tick; {row['simulate_seconds']} s")
    if args.xylosim:
        from rnn2snn.targets.xylo.xylosim_run import compare_with_xylosim

        spec, counts, _ = first
        start = time.perf_counter()
        comparison = compare_with_xylosim(spec, counts)
        seconds = time.perf_counter() - start
        mismatches, compared = comparison.mismatches, comparison.compared
        result["xylosim"] = {"setting": result["settings"][0], "mismatches": mismatches, "compared": compared,
                             "seconds": round(seconds, 1)}
        print(f"xylosim on all {len(labels)} {args.split} questions ({seconds:.0f} s): mismatches "
              f"{mismatches} of {compared}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(result, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

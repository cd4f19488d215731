"""How long our Xylo simulator and a comparison with xylosim take on a full-size Audio 2 network.

Why: ``rnn2snn verify`` on a Xylo program compares every tick of every test question with
xylosim; this measures what that costs for 1000 hidden neurons (fan-out 32 a neuron on both
synapses: Audio 2's 32,000-entry recurrent memory full) over ``--examples`` questions of ``--ticks`` ticks.

    python benchmarks/xylo_simulator_speed.py --examples 500 --ticks 40 [--shift-max 3] [--xylosim]

A larger ``--shift-max`` drives the synaptic currents to saturation, where the simulator
replays events in source order (:func:`rnn2snn.targets.xylo.neuron.replay`).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from rnn2snn.targets.xylo.simulate import simulate
from rnn2snn.targets.xylo.spec import XyloSpec, validate


def audio2_network(rng: np.random.Generator, shift_max: int) -> XyloSpec:
    nh, no, fanout = 1000, 8, 32  # 32 targets a neuron, weights on both synapses: 32,000 pairs, the limit

    def w(shape, density):
        return rng.integers(-128, 128, shape) * (rng.random(shape) < density)

    rec = np.zeros((nh, nh, 2), np.int64)
    for j in range(nh):
        rec[j, rng.choice(nh, fanout, replace=False)] = rng.integers(-128, 128, (fanout, 2))
    shifts = rng.integers(0, shift_max + 1, 3)
    return validate(XyloSpec(
        weights_in=w((16, nh, 2), 0.2), weights_rec=rec, weights_out=w((nh, no), 0.2),
        dash_mem=rng.integers(0, 16, nh), dash_syn=rng.integers(0, 16, nh),
        dash_syn_2=rng.integers(0, 16, nh),
        threshold=rng.integers(500, 4000, nh), bias=rng.integers(-60, 60, nh),
        dash_mem_out=rng.integers(0, 16, no), dash_syn_out=rng.integers(0, 16, no),
        threshold_out=rng.integers(1, 4000, no), bias_out=rng.integers(-60, 60, no),
        weight_shift_in=int(shifts[0]), weight_shift_rec=int(shifts[1]), weight_shift_out=int(shifts[2])))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--ticks", type=int, default=40)
    parser.add_argument("--shift-max", type=int, default=3, help="largest weight shift drawn (0..15)")
    parser.add_argument("--xylosim", action="store_true", help="also compare with xylosim")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    spec = audio2_network(rng, args.shift_max)
    counts = rng.integers(0, 4, (args.examples, args.ticks, 16))
    start = time.perf_counter()
    record = simulate(spec, counts)
    seconds = time.perf_counter() - start
    saturated = float((np.abs(record.isyn.astype(np.int64)) >= 2**15 - 1).mean())
    print(f"ours: {args.examples} examples x {args.ticks} ticks, 1000 hidden: {seconds:.1f} s "
          f"({record.spikes.mean():.2f} spikes a neuron and tick; Isyn saturated in {saturated:.2%} "
          f"of samples)")
    if args.xylosim:
        from rnn2snn.targets.xylo.xylosim_run import compare_with_xylosim

        start = time.perf_counter()
        comparison = compare_with_xylosim(spec, counts)
        seconds = time.perf_counter() - start
        print(f"ours and xylosim, compared: {seconds:.1f} s; {comparison.total_mismatches} mismatches of "
              f"{sum(comparison.compared.values())} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Wall time of the 500 TREC test questions through three simulators of the same network.

    python benchmarks/simulators.py --json OUT.json [--model DIR] [--data-dir DIR]

Network-level (rnn2snn.program.network), core-level (rnn2snn.targets.truenorth.simulator, from the
exported configuration) and an independent Brian2 build (tests/reference/brian2_build.py,
numpy code generation) run the same converted network in one process; the chip's
own real time is the number of ticks at 1 ms a tick, questions one after another.
Without --model, the paper's network is trained first (seed 0, ~20 s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="TREC folder (default: the copy inside the package)")
    parser.add_argument("--json", required=True, help="where to write the results")
    parser.add_argument("--model", help="model folder (default: train one, seed 0)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the fast simulators (median)")
    args = parser.parse_args()

    import torch
    from reference.brian2_build import run_brian2

    from rnn2snn._atomic import write_json_atomic
    from rnn2snn.data import load_trec
    from rnn2snn.data.text import Vocabulary, encode
    from rnn2snn.program import load_program, save_program
    from rnn2snn.program.network import simulate
    from rnn2snn.targets.truenorth.config_io import config_to_dict
    from rnn2snn.targets.truenorth.placement import decode_counts, encode_inputs, place
    from rnn2snn.targets.truenorth.simulator import run_cores

    torch.set_num_threads(1)
    train_ex, test_ex = load_trec(args.data_dir)
    model_dir = args.model
    if model_dir is None:
        from rnn2snn.pipeline import PipelineConfig, run_pipeline

        result = run_pipeline(train_ex, test_ex, PipelineConfig(seed=0), progress=False,
                              log=lambda *_: None)
        model_dir = save_program(result.program, ROOT / "runs" / "benchmark-model")
    program = load_program(model_dir)
    data = encode(test_ex, Vocabulary(list(program.vocab)), list(program.classes))
    x = program.sources(program.encode(data.inputs), data.lengths)
    run_lengths = program.run_lengths(data.lengths)
    snn = program.spiking_network()
    config = place(snn)

    network_s, rec = timed(lambda: simulate(snn, x, run_lengths), args.repeat)

    def core():
        return run_cores(config, encode_inputs(config, x, run_lengths))

    core_s, run = timed(core, args.repeat)
    cfg_dict = config_to_dict(config)
    inputs = encode_inputs(config, x, run_lengths)
    brian_s, brian = timed(lambda: run_brian2(cfg_dict, inputs), 1)
    outputs = [p.index for p in config.outputs]
    same = bool(np.array_equal(decode_counts(config, run.outputs, run_lengths), rec.counts)
                and np.array_equal(decode_counts(config, brian[:, :, outputs], run_lengths),
                                   rec.counts))
    ticks = int(snn.config.clock.end(run_lengths).sum())
    chip_s = ticks * 1e-3
    out = {
        "questions": len(data.lengths),
        "network_s": network_s,
        "core_s": core_s,
        "brian2_s": brian_s,
        "chip_realtime_s": chip_s,
        "brian2_over_network": brian_s / network_s,
        "brian2_over_core": brian_s / core_s,
        "core_over_network": core_s / network_s,
        "chip_over_network": chip_s / network_s,
        "chip_over_core": chip_s / core_s,
        "spike_counts_identical": same,
        "ticks": ticks,
        "brian2_codegen": "numpy",
    }
    write_json_atomic(args.json, out)
    print(json.dumps(out, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

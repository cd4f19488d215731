"""The ``rnn2snn`` command line: a thin layer over the library's stages."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

from rnn2snn.errors import Rnn2SnnError
from rnn2snn.model.elman import READOUTS


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="folder with TREC's train_5500.label and TREC_10.label "
                   "(default: $RNN2SNN_DATA_DIR, else the user cache, else download)")
    p.add_argument("--train", help="generic training file: 'LABEL text' per line (with --test)")
    p.add_argument("--test", help="generic test file, same format (with --train)")
    p.add_argument("--encoding", default="utf-8", help="encoding of --train/--test files")
    p.add_argument("--labels", choices=("coarse", "fine"), default="coarse",
                   help="TREC label set: 6 coarse or 50 fine classes")
    p.add_argument("--no-download", action="store_true", help="never download TREC")


def _load_data(args):
    from rnn2snn.data import load_trec, read_labeled_file

    if bool(args.train) != bool(args.test):
        raise Rnn2SnnError("--train and --test go together")
    if args.train:
        return (read_labeled_file(args.train, args.encoding),
                read_labeled_file(args.test, args.encoding))
    return load_trec(args.data_dir, args.labels, allow_download=not args.no_download)


def cmd_reproduce(args) -> int:
    import torch

    from rnn2snn.pipeline import PipelineConfig, run_pipeline
    from rnn2snn.presets import get_preset
    from rnn2snn.report import write_run
    from rnn2snn.spiking.network import SpikingConfig

    start = time.perf_counter()
    torch.set_num_threads(max(1, args.threads))
    train_ex, test_ex = _load_data(args)
    config = get_preset(args.preset) if args.preset else PipelineConfig()
    overrides = {k: getattr(args, k) for k in ("embed_dim", "proj_dim", "hidden_dim", "min_count",
                                               "max_fan_in", "vectors", "readout", "cores")
                 if getattr(args, k) is not None}
    spk = {k: getattr(args, k) for k in ("ticks_per_word", "delay") if getattr(args, k) is not None}
    if "delay" in spk:
        spk["neg_delay"] = spk["delay"]
    config = replace(config, seed=args.seed, spiking=replace(config.spiking, **spk), **overrides)
    SpikingConfig.validate(config.spiking, config.activity_levels)
    print(f"rnn2snn reproduce: {len(train_ex)} training, {len(test_ex)} test examples, "
          f"seed {args.seed}")
    result = run_pipeline(train_ex, test_ex, config, progress=not args.quiet)
    result.wall_seconds = time.perf_counter() - start
    command = "rnn2snn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    results = write_run(result, args.out, command)
    hw = results["hardware"]
    print(f"spiking test accuracy {result.stage('spiking').test_accuracy:.3f} "
          f"(paper 0.74); cores {hw['cores']}, axons {hw['axons']}, neurons {hw['neurons']}, "
          f"{hw['power_uw']:.1f} µW; conversion loss {results['conversion']['loss_points']:+.1f} "
          f"points; {results['wall_seconds']:.0f} s")
    print(f"wrote {Path(args.out) / 'results.json'}, report.md, plots and model/")
    return 0


def cmd_predict(args) -> int:
    from rnn2snn.predict import predict_question

    out = predict_question(args.model, " ".join(args.question))
    print(f"class: {out['class']}")
    print(f"words: {' '.join(out['tokens']) or '(none)'}")
    print("spike counts per recurrent neuron: " + " ".join(str(c) for c in out["spike_counts"]))
    print("class scores: " + ", ".join(f"{c} {s:.2f}" for c, s in out["scores"].items()))
    return 0


def cmd_export(args) -> int:
    from rnn2snn.export.model_io import load_model
    from rnn2snn.spiking.network import convert
    from rnn2snn.truenorth.config_io import save_config
    from rnn2snn.truenorth.placement import place

    saved = load_model(args.model)
    config = place(convert(saved.integer(), saved.spiking))
    out = Path(args.out) if args.out else Path(args.model) / "truenorth.json"
    save_config(config, out)
    print(f"wrote {out}: {len(config.cores)} core(s), {config.n_axons} axons, "
          f"{config.n_neurons} neurons, {len(config.inputs)} input ports, "
          f"{len(config.outputs)} output ports")
    return 0


def cmd_verify(args) -> int:
    import numpy as np

    from rnn2snn.constrain.steps import input_levels
    from rnn2snn.data.text import encode
    from rnn2snn.export.model_io import load_model
    from rnn2snn.spiking.network import convert
    from rnn2snn.truenorth.config_io import load_config, save_config
    from rnn2snn.truenorth.placement import place
    from rnn2snn.truenorth.verify import verify

    saved = load_model(args.model)
    _, test_ex = _load_data(args)
    data = encode(test_ex, saved.vocab, saved.classes)
    if args.limit:
        data = data.subset(np.arange(min(args.limit, len(data))))
    snn = convert(saved.integer(), saved.spiking)
    if args.config:
        config = load_config(args.config)
    else:  # the exported file itself, written and read back
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            config = load_config(save_config(place(snn), Path(tmp) / "truenorth.json"))
    start = time.perf_counter()
    result = verify(snn, config, input_levels(saved.model, data), data.lengths)
    print(f"questions: {result.questions}")
    print(f"neuron-ticks compared: {result.spikes_compared} ({result.spikes} spikes)")
    print(f"mismatches: {result.mismatches}")
    print(f"spike counts and predictions equal: {'yes' if result.counts_equal else 'NO'}")
    print(f"({time.perf_counter() - start:.1f} s)")
    return 0 if result.ok else 1


def cmd_sweep(args) -> int:
    import json

    from rnn2snn.pipeline import PipelineConfig
    from rnn2snn.presets import get_preset
    from rnn2snn.sweep import parse_grid, run_sweep, write_sweep

    grid = parse_grid(args.grid or [])
    if not grid:
        raise Rnn2SnnError("--grid NAME=V1,V2 is needed at least once")
    data = _load_data(args)
    base = get_preset(args.preset) if args.preset else PipelineConfig()
    start = time.perf_counter()
    rows = run_sweep(grid, data, base, backend=args.backend, workers=args.workers,
                     progress=not args.quiet, ray_address=args.ray_address)
    summary = write_sweep(rows, args.out)
    print(f"{len(rows)} runs in {time.perf_counter() - start:.0f} s; wrote {args.out}/sweep.csv, "
          f"sweep.json, sweep.png")
    print("best by validation: " + json.dumps(summary["best_by_validation"]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnn2snn", description="Trained Elman RNNs to spiking networks for TrueNorth.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("reproduce", help="train, constrain, convert, map and report (Diehl 2016)")
    _add_data_args(p)
    p.add_argument("--out", default="runs/reproduce", help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", help="named configuration (see rnn2snn.presets)")
    p.add_argument("--embed-dim", type=int)
    p.add_argument("--proj-dim", type=int)
    p.add_argument("--hidden-dim", type=int)
    p.add_argument("--min-count", type=int, help="words seen fewer times become <unk>")
    p.add_argument("--max-fan-in", type=int)
    p.add_argument("--cores", type=int, help="spread the recurrent layer over this many cores")
    p.add_argument("--readout", choices=READOUTS,
                   help="off-chip pooling of the spike counts over the words")
    p.add_argument("--vectors", help="pretrained word vectors (word2vec .bin/.txt or GloVe .txt)")
    p.add_argument("--ticks-per-word", type=int)
    p.add_argument("--delay", type=int, help="recurrent synaptic delay in ticks (1…15)")
    p.add_argument("--threads", type=int, default=2, help="PyTorch threads")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("predict", help="classify one question with the spiking network")
    p.add_argument("--model", required=True, help="model folder (e.g. OUT/model)")
    p.add_argument("question", nargs="*", help="the question text")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("sweep", help="grid search over sizes, constraints and timing")
    _add_data_args(p)
    p.add_argument("--grid", action="append", metavar="NAME=V1,V2",
                   help="a parameter and its values (repeat for more), e.g. hidden_dim=16,24 seed=0,1")
    p.add_argument("--preset", help="base configuration the grid modifies")
    p.add_argument("--out", default="runs/sweep", help="output folder")
    p.add_argument("--backend", choices=("local", "ray"), default="local")
    p.add_argument("--workers", type=int, help="parallel runs (default: CPU count)")
    p.add_argument("--ray-address", help="an existing Ray cluster (default: start a local one)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("export", help="write the TrueNorth core configuration of a model")
    p.add_argument("--model", required=True, help="model folder")
    p.add_argument("--format", choices=("truenorth",), default="truenorth")
    p.add_argument("--out", help="output file (default MODEL/truenorth.json)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("verify", help="core-level vs network-level simulation, spike for spike")
    p.add_argument("--model", required=True, help="model folder")
    p.add_argument("--config", help="a TrueNorth configuration file (default: export the model's)")
    p.add_argument("--limit", type=int, help="only the first N test questions")
    _add_data_args(p)
    p.set_defaults(func=cmd_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Rnn2SnnError as exc:
        print(f"rnn2snn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

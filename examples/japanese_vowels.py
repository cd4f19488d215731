"""A user's own recurrent model on sensor-like data, through rnn2snn's public API only.

JapaneseVowels (UCI; Kudo, Toyama & Shimbo 1999): 9 speakers uttering /ae/, 12 LPC
cepstral coefficients a frame, 7–29 frames; 270 training and 370 test utterances.
The sktime package ships the files (``pip install -e ".[examples]"``).

    python examples/japanese_vowels.py --json OUT.json
    python examples/japanese_vowels.py --target xylo-imu --json OUT.json

TrueNorth (the default ``--target truenorth``):

1. a plain ``torch.nn`` model (Linear + ReLU → nn.RNN(relu) → Linear) is trained as
   anyone would, reading the RNN's state after the last frame;
2. ``rnn2snn.convert_model`` constrains it to the hardware (retraining after each step),
   converts it to integrate-and-fire neurons and returns the program;
3. the program is saved, and its TrueNorth export is verified spike for spike against
   the network-level simulation on every test utterance.

Xylo (``--target xylo-imu``; ``xylo-audio2`` is refused before training: 9 speakers, 8
output neurons): the frames go through the Xylo feature chain
(:func:`rnn2snn.targets.xylo.features.convert_features_for_xylo`): a rate model of the
chip's neuron behind a learned host feature map (12 LPC coefficients → 16 channels of
0..15 events a tick), its spec, a fine-tune through the chip's tick; the class is read on
the chip (largest output ``Vmem`` after the last frame). Then the test set in xylosim
(every recorded array, every tick) and µJ per utterance. 15 % of the training set,
stratified by speaker, is validation; it picks every choice.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

import rnn2snn
from rnn2snn.program import save_program
from rnn2snn.targets.truenorth.verify import verify_program

POOLING = "last"


class SpeakerRNN(nn.Module):
    """Frames (B, L, 12) → speaker scores (B, 9) from the RNN's state after the last frame."""

    def __init__(self, n_features=12, proj=24, hidden=32, n_classes=9):
        super().__init__()
        self.proj = nn.Linear(n_features, proj)
        self.relu = nn.ReLU()
        self.rnn = nn.RNN(proj, hidden, nonlinearity="relu", batch_first=True)
        self.readout = nn.Linear(hidden, n_classes)

    def forward(self, x, lengths):
        h, _ = self.rnn(self.relu(self.proj(x)))
        return self.readout(h[torch.arange(len(lengths)), lengths - 1])


def load(split: str):
    """Zero-padded frames (N, 29, 12) float32, lengths (N,), speaker labels 0…8 (N,)."""
    try:
        from sktime.datasets import load_japanese_vowels
    except ImportError as exc:
        raise SystemExit(f"examples/japanese_vowels.py needs sktime ({exc}): "
                         "pip install -e '.[examples]'") from None

    X, y = load_japanese_vowels(split=split, return_X_y=True)
    seqs = [np.stack([X.iloc[i, j].dropna().to_numpy() for j in range(X.shape[1])], axis=1)
            for i in range(len(X))]
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    frames = np.zeros((len(seqs), lengths.max(), X.shape[1]), dtype=np.float32)
    for i, s in enumerate(seqs):
        frames[i, : len(s)] = s
    return frames, lengths, np.asarray(y).astype(np.int64) - 1


def train_float(model, x, lengths, y, epochs: int, seed: int) -> None:
    """Ordinary training (Adam, cross-entropy, minibatches of 32)."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x, lengths, y = map(torch.from_numpy, (x, lengths, y))
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=gen).split(32):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx], lengths[idx]), y[idx]).backward()
            opt.step()


def _with_epochs(args: argparse.Namespace, default: int) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "epochs": args.epochs or default})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--out", default="runs/japanese_vowels", help="program folder parent")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="float training epochs (default 60; Xylo: 200)")
    parser.add_argument("--target", default="truenorth", choices=("truenorth", "xylo-imu", "xylo-audio2"))
    parser.add_argument("--hidden", type=int, default=128, help="Xylo: hidden neurons")
    parser.add_argument("--ticks", type=int, default=1, help="Xylo: chip ticks per frame")
    parser.add_argument("--ft-epochs", type=int, default=20, help="Xylo: fine-tune epochs on the chip's tick")
    parser.add_argument("--targets", default="4,8,16", help="Xylo: activity scales to try (validation picks)")
    parser.add_argument("--noise", type=float, default=0.2, help="Xylo: training noise (feature std devs)")
    parser.add_argument("--l2", type=float, default=0.0, help="Xylo: float-stage weight penalty")
    parser.add_argument("--members", type=int, default=2, help="Xylo: independent networks side by side")
    parser.add_argument("--val-fraction", type=float, default=0.15, help="validation share of training")
    parser.add_argument("--dash-syn", type=int, default=1, help="Xylo: hidden synaptic decay shift")
    parser.add_argument("--dash-mem", type=int, default=2, help="Xylo: hidden membrane decay shift")
    parser.add_argument("--no-xylosim", action="store_true", help="Xylo: skip the xylosim comparison")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    if args.target != "truenorth":
        return main_xylo(_with_epochs(args, 200))
    args = _with_epochs(args, 60)
    start = time.perf_counter()
    x_tr, len_tr, y_tr = load("train")
    x_te, len_te, y_te = load("test")
    valid = np.arange(x_tr.shape[1])[None, :, None] < len_tr[:, None, None]
    mean = (x_tr * valid).sum((0, 1)) / valid.sum()
    std = np.sqrt((((x_tr - mean) * valid) ** 2).sum((0, 1)) / valid.sum())
    norm = lambda x, n: ((x - mean) / std * (np.arange(x.shape[1])[None, :, None] < n[:, None, None])  # noqa: E731
                         ).astype(np.float32)
    x_tr, x_te = norm(x_tr, len_tr), norm(x_te, len_te)

    model = SpeakerRNN()
    train_float(model, x_tr, len_tr, y_tr, args.epochs, args.seed)
    model.eval()
    with torch.no_grad():
        float_acc = float((model(torch.from_numpy(x_te), torch.from_numpy(len_te)).argmax(1).numpy()
                           == y_te).mean())
    print(f"your float model: test {float_acc:.3f}")

    config = replace(rnn2snn.PipelineConfig(seed=args.seed), val_fraction=0.15)
    result = rnn2snn.convert_model(model, (x_tr, len_tr, y_tr), (x_te, len_te, y_te), pooling=POOLING,
                                   classes=[f"speaker {i + 1}" for i in range(9)], config=config,
                                   progress=False)
    model_dir = save_program(result.program, Path(args.out) / "model")
    check = verify_program(result.program, x_te, len_te)
    out = {"stages": {s.name: s.test_accuracy for s in result.stages},
           "float_before_rnn2snn": float_acc,
           "spiking": result.stage("spiking").test_accuracy, "cores": result.resources.cores,
           "model_dir": str(model_dir), "verify_mismatches": check.mismatches,
           "verify_neuron_ticks": check.spikes_compared,
           "conversion_loss_points": result.to_json()["conversion"]["loss_points"],
           "val_stages": {s.name: s.val_accuracy for s in result.stages},
           "warnings": [w.message for w in result.warnings],  # the loss guard's (rnn2snn.guard)
           "seconds": round(time.perf_counter() - start, 1)}
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


def main_xylo(args) -> None:
    """The Xylo path: limits first, then the feature chain, xylosim on the test set, energy."""
    from rnn2snn.data import stratified_split
    from rnn2snn.errors import HardwareLimitError
    from rnn2snn.targets.xylo.convert import XyloDynamics
    from rnn2snn.targets.xylo.features import (
        FeatureSet,
        check_feature_limits,
        convert_features_for_xylo,
        feature_rasters,
        selection_score,
    )
    from rnn2snn.targets.xylo.method import XyloSettings
    from rnn2snn.targets.xylo.power import estimate_energy
    from rnn2snn.targets.xylo.simulate import classify, simulate
    from rnn2snn.targets.xylo.spec import save_spec

    start = time.perf_counter()
    classes = tuple(f"speaker {i + 1}" for i in range(9))
    dynamics = XyloDynamics(ticks_per_step=args.ticks, dash_syn=args.dash_syn, dash_mem=args.dash_mem)
    settings = XyloSettings(hidden=args.hidden, dynamics=dynamics, epochs=args.epochs,
                            ft_epochs=args.ft_epochs,
                            target_counts=tuple(float(t) for t in args.targets.split(",")), seed=args.seed,
                            noise=args.noise, l2=args.l2, members=args.members)
    try:  # before any data or training
        check_feature_limits(args.target, 12, settings.hidden, len(classes), settings.members)
    except HardwareLimitError as exc:
        raise SystemExit(f"examples/japanese_vowels.py --target {args.target}: {exc}") from None
    x_tr, len_tr, y_tr = load("train")
    x_te, len_te, y_te = load("test")
    fit_idx, val_idx = stratified_split([str(y) for y in y_tr], args.val_fraction, args.seed)
    fit = FeatureSet(x_tr[fit_idx], len_tr[fit_idx], y_tr[fit_idx])
    val = FeatureSet(x_tr[val_idx], len_tr[val_idx], y_tr[val_idx])
    test = FeatureSet(x_te, len_te, y_te)
    conv = convert_features_for_xylo(fit, val, test, 12, classes, args.target, settings, log=print)
    spec = conv.spec
    print(f"\n{'stage':>26}  {'val':>6}  {'test':>6}")
    for s in conv.stages:
        print(f"{s.name:>26}  {s.val:.4f}  {s.test:.4f}")
    counts, read = feature_rasters(spec, test.features, test.lengths, settings.dynamics.tail_ticks)
    record = simulate(spec, counts, record=True)
    spiking_test = float(np.mean(classify(record, spec.readout, read) == y_te))
    energy = estimate_energy(spec, counts, record, read)
    v_counts, v_read = feature_rasters(spec, val.features, val.lengths, settings.dynamics.tail_ticks)
    v_record = simulate(spec, v_counts, record=False)
    v_logits = v_record.vmem_out[np.arange(len(val)), v_read - 1] / conv.scales.out_scale
    out = {"target": args.target, "seed": args.seed, "hidden": settings.hidden, "noise": args.noise,
           "l2": args.l2,
           "members": args.members, "val_fraction": args.val_fraction,
           "dynamics": asdict(settings.dynamics),
           "ticks_per_step": spec.ticks_per_step, "fit": len(fit), "val": len(val), "test": len(test),
           "stages": {s.name: {"val": round(s.val, 4), "test": round(s.test, 4), "seconds": s.seconds,
                               "best_epoch": s.best_epoch} for s in conv.stages},
           "spiking": spiking_test, "target_counts": conv.target_counts,
           # the selection score on validation (accuracy - 0.01 x cross-entropy): compares settings
           "val_score": selection_score(v_logits, val.labels),
           "trials": [{"target": t.target_counts, "spiking_val": round(t.spiking_val, 4)}
                      for t in conv.trials],
           "threshold": int(spec.threshold[0]),
           "weight_shifts": [spec.weight_shift_in, spec.weight_shift_rec, spec.weight_shift_out],
           "energy_uj_per_sequence": energy.energy_per_question_uj, "energy": asdict(energy),
           "mean_input_events_per_sequence": float(counts.sum() / len(counts)),
           "hidden_spikes_per_sequence": float(record.spikes.sum() / len(counts))}
    model_dir = Path(args.out) / "xylo"
    out["spec"] = str(save_spec(spec, model_dir / f"{args.target}.npz"))
    if not args.no_xylosim:
        from rnn2snn.targets.xylo.xylosim_run import compare_with_xylosim

        t0 = time.perf_counter()
        comparison = compare_with_xylosim(spec, counts)
        out["xylosim"] = {"examples": comparison.examples, "ticks": comparison.ticks,
                          "values_compared": sum(comparison.compared.values()),
                          "mismatches": comparison.mismatches,
                          "total_mismatches": comparison.total_mismatches,
                          "seconds": round(time.perf_counter() - t0, 1)}
        print(f"xylosim: {comparison.total_mismatches} mismatches in {sum(comparison.compared.values())} "
              f"values "
              f"({comparison.examples} test utterances)")
    print(f"energy: {energy.energy_per_question_uj:.2f} µJ per utterance ({energy.basis})")
    out["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps({k: v for k, v in out.items() if k != "energy"}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()

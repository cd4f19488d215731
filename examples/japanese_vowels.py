"""A user's own recurrent model on sensor-like data, through rnn2snn's public API only.

JapaneseVowels (UCI; Kudo, Toyama & Shimbo 1999): 9 speakers uttering /ae/, 12 LPC
cepstral coefficients a frame, 7–29 frames; 270 training and 370 test utterances.
The sktime package ships the files (``pip install -e ".[examples]"``).

    python examples/japanese_vowels.py --json OUT.json

1. a plain ``torch.nn`` model (Linear + ReLU → nn.RNN(relu) → Linear) is trained as
   anyone would, reading the RNN's state after the last frame;
2. ``rnn2snn.convert_model`` constrains it to the hardware (retraining after each step),
   converts it to integrate-and-fire neurons and returns the program;
3. the program is saved, and its TrueNorth export is verified spike for spike against
   the network-level simulation on every test utterance.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--out", default="runs/japanese_vowels", help="program folder parent")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=60, help="float training epochs")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
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


if __name__ == "__main__":
    main()

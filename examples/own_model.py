"""Your own PyTorch RNN in, a verified spiking program out — rnn2snn's public API only.

    python examples/own_model.py --json OUT.json

A plain ``torch.nn`` question classifier (no rnn2snn class in it) is trained on TREC
(the copy the package carries) the way anyone would; ``rnn2snn.convert_model`` then
constrains it to the hardware (fan-in ≤ 64, 16-level weights and activities, retraining
after each step), converts it to integrate-and-fire neurons, and the saved program is
verified spike for spike on the TrueNorth core simulator. Afterwards:

    rnn2snn predict --model runs/own_model/model "What is the capital of Peru ?"
    rnn2snn verify --model runs/own_model/model

``--target xylo-audio2`` (or ``xylo-imu``) converts the same model for SynSense Xylo instead
(the Xylo chain, started from the model's weights; ``--proj 16`` keeps the model's input
path, which must fit the chip's 16 input channels to be carried over); the program folder
is a Xylo one (``predict``, ``verify`` with xylosim, ``export --format xylo`` read it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import rnn2snn
from rnn2snn.data import Vocabulary, encode, load_trec
from rnn2snn.program import save_program
from rnn2snn.targets.truenorth.verify import verify_program

POOLING = "mean"


class QuestionRNN(nn.Module):
    """Token ids (B, L) → class scores (B, C): the mean of a ReLU RNN's states over the words."""

    def __init__(self, vocab_size: int, n_classes: int, proj: int = 48):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, 64, padding_idx=0)
        self.proj = nn.Linear(64, proj)
        self.relu = nn.ReLU()
        self.drop = nn.Dropout(0.25)
        self.rnn = nn.RNN(proj, 16, nonlinearity="relu", batch_first=True, bias=False)
        self.out = nn.Linear(16, n_classes)

    def forward(self, tokens, lengths):
        h, _ = self.rnn(self.relu(self.proj(self.drop(self.embed(tokens)))))
        valid = (torch.arange(tokens.shape[1])[None, :] < lengths[:, None]).float()
        return self.out(self.drop((h * valid[..., None]).sum(1) / lengths[:, None].float()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--out", default="runs/own_model", help="where the program folder goes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=8, help="your own float training epochs")
    parser.add_argument("--proj", type=int, default=48, help="your model's projection width")
    parser.add_argument("--target", default="truenorth", choices=("truenorth", "xylo-audio2", "xylo-imu"))
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    start = time.perf_counter()
    train_ex, test_ex = load_trec()  # the packaged TREC-6 files
    classes = sorted(set(train_ex.labels))
    vocab = Vocabulary.build(train_ex.texts, min_count=2)
    train, test = encode(train_ex, vocab, classes), encode(test_ex, vocab, classes)

    model = QuestionRNN(len(vocab), len(classes), args.proj)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    tokens, lengths, labels = map(torch.from_numpy, (train.tokens, train.lengths, train.labels))
    gen = torch.Generator().manual_seed(args.seed)
    for _ in range(args.epochs):
        model.train()
        for idx in torch.randperm(len(labels), generator=gen).split(32):
            width = int(lengths[idx].max())
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(tokens[idx, :width], lengths[idx]), labels[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        float_acc = float((model(torch.from_numpy(test.tokens), torch.from_numpy(test.lengths))
                           .argmax(1).numpy() == test.labels).mean())
    print(f"your float model: test {float_acc:.3f}")
    if args.target != "truenorth":
        return xylo(args, model, train, test, classes, vocab, float_acc, start)

    result = rnn2snn.convert_model(
        model, (train.tokens, train.lengths, train.labels), (test.tokens, test.lengths, test.labels),
        pooling=POOLING, classes=classes, vocab=vocab, config=rnn2snn.PipelineConfig(seed=args.seed),
        progress=False)
    model_dir = save_program(result.program, Path(args.out) / "model")
    check = verify_program(result.program, test.tokens, test.lengths)
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
    assert np.isfinite(out["spiking"])


def xylo(args, model, train, test, classes, vocab, float_acc, start) -> None:
    """The same model converted for a Xylo chip; xylosim on the test set where it is installed."""
    from rnn2snn.targets.xylo.convert import rasters
    from rnn2snn.targets.xylo.method import XyloSettings
    from rnn2snn.targets.xylo.model import save_xylo_model

    result = rnn2snn.convert_model(
        model, (train.tokens, train.lengths, train.labels), (test.tokens, test.lengths, test.labels),
        pooling=POOLING, classes=classes, vocab=vocab, config=rnn2snn.PipelineConfig(seed=args.seed),
        target=args.target, settings=XyloSettings(seed=args.seed), progress=False)
    model_dir = save_xylo_model(result.model, Path(args.out) / "model")
    out = {"target": args.target, "proj": args.proj, "float_before_rnn2snn": float_acc,
           "stages": {s.name: {"val": s.val, "test": s.test} for s in result.stages},
           "carried": list(result.start.carried), "not_carried": list(result.start.not_carried),
           "warnings": [w.message for w in result.warnings], "model_dir": str(model_dir)}
    from rnn2snn.targets.xylo.xylosim_run import XylosimUnavailableError, compare_with_xylosim

    try:
        counts, _ = rasters(result.spec, test.tokens, test.lengths, result.model.tail_ticks)
        comparison = compare_with_xylosim(result.spec, counts)
        out["xylosim"] = {"questions": comparison.examples, "mismatches": comparison.total_mismatches,
                          "values_compared": sum(comparison.compared.values())}
    except XylosimUnavailableError as exc:  # the figures stand without it
        out["xylosim"] = f"not run: {exc}"
    out["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()

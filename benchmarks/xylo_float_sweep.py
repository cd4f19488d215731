"""The Xylo token chain's float stage (xylo-best) under other settings: where TREC's test accuracy goes.

Why float only: the float rate model bounds the chip (its spiking test accuracy follows
the float one within about a point, benchmarks/xylo_trec.py), and one float run takes
1-4 minutes where the whole chain takes 3-15. The teacher (Kim's CNN, as the preset
trains it) is trained once a process; each configuration is then a fresh float stage.
Validation picks the epoch; test is only reported.

Run (configurations are JSON: XyloSettings fields, and ``dyn`` for XyloDynamics fields)::

    PYTHONPATH=$PWD/src python benchmarks/xylo_float_sweep.py --seed 0 \
        --configs '[{}, {"dropout": 0.4}, {"members": 2, "hidden": 128, "dropout": 0.4}]' --json OUT
    ... --extra-words 50000   # the 50,000 most frequent GloVe words added to the table's vocabulary

Measured (2-core machine, one thread a process; figures in docs/targets/xylo.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from xylo_trec import load  # noqa: E402 - the benchmark's split and vocabulary

from rnn2snn.targets.xylo.convert import recurrent_mask  # noqa: E402
from rnn2snn.targets.xylo.method import XYLO_PRESETS, _accuracy_of, _train_teacher, with_vectors  # noqa: E402
from rnn2snn.targets.xylo.train import FitConfig, RateXylo, rate_accuracy, train_rate  # noqa: E402


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--configs", default="[{}]", help="JSON list of setting changes")
    parser.add_argument("--extra-words", type=int, default=0, help="GloVe's most frequent words added")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    base = replace(XYLO_PRESETS["xylo-best"], seed=args.seed)
    vocab, classes, fit, val, test = load(args.seed, vectors=base.vector_source)
    if args.extra_words:
        from rnn2snn.data import Vocabulary, encode, load_trec, stratified_split
        from rnn2snn.model.vectors import glove_6b_50d

        words, _ = glove_6b_50d()
        have = set(vocab.tokens)
        vocab = Vocabulary(vocab.tokens + [w for w in words[:args.extra_words] if w not in have])
        train_ex, test_ex = load_trec()
        tr, va = stratified_split(train_ex.labels, 0.1, args.seed)
        fit, val, test = (encode(d, vocab, classes)
                          for d in (train_ex.subset(tr), train_ex.subset(va), test_ex))
    print(f"vocabulary {len(vocab)}; unknown test tokens {int((test.tokens == 1).sum())}", flush=True)
    base = with_vectors(base, vocab)
    teacher = _train_teacher(fit, val, len(vocab), len(classes), base)
    print(f"teacher: val {_accuracy_of(teacher, val):.4f} test {_accuracy_of(teacher, test):.4f}", flush=True)
    rows = []
    for change in json.loads(args.configs):
        change = dict(change)
        dyn = replace(base.dynamics, **change.pop("dyn", {}))
        s = replace(base, dynamics=dyn, **change)
        t0 = time.perf_counter()
        rate = RateXylo(len(vocab), s.hidden, len(classes), dyn, seed=s.seed,
                        rec_mask=recurrent_mask(s.hidden, s.fanout, "xylo-audio2", s.seed, s.members),
                        dropout=s.dropout, vectors=s.vectors, tune_vectors=s.tune_vectors, members=s.members,
                        chip="xylo-audio2")
        config = FitConfig(epochs=s.epochs, lr=s.lr, seed=s.seed, patience=s.patience,
                           weight_decay=s.weight_decay)
        fitted = train_rate(rate, fit, val, config,
                            teacher=teacher, distill=s.distill, temperature=s.ft_temperature)
        row = {"seed": args.seed, "change": change | {"dyn": dyn.__dict__}, "extra_words": args.extra_words,
               "float_val": round(rate_accuracy(rate, val), 4),
               "float_test": round(rate_accuracy(rate, test), 4),
               "best_epoch": fitted.best_epoch, "seconds": round(time.perf_counter() - t0, 1)}
        print(json.dumps(row), flush=True)
        rows.append(row)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return rows


if __name__ == "__main__":
    main()

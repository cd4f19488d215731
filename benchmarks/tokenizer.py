"""Accuracy on the TREC test questions typed as a user would, with rnn2snn's tokenizer and
with a plain whitespace split.

    python benchmarks/tokenizer.py --model runs/reproduce/model

TREC's text is tokenised ("denver to aspen ?"); users type "denver to aspen?". Each test
question is re-typed (punctuation, clitics and quotes attached again) and classified
by the saved program through :func:`rnn2snn.predict.predict_texts`.
"""

from __future__ import annotations

import argparse
import re

import numpy as np

import rnn2snn.predict as predict
from rnn2snn.data import load_trec


def typed(tokens: list[str]) -> str:
    """A TREC question as a user types it."""
    s = " ".join(tokens)
    s = re.sub(r" ([?.,;:!])", r"\1", s)
    s = re.sub(r" ('s|'t|'re|'ve|'ll|'d|'m)\b", r"\1", s)
    return s.replace("`` ", '"').replace(" ''", '"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="program folder")
    args = parser.parse_args()
    _, test = load_trec()
    labels = np.array(test.labels)
    rnn2snn_tokenize = predict.tokenize
    runs = [("TREC's own tokens", rnn2snn_tokenize, [" ".join(t) for t in test.texts]),
            ("typed, rnn2snn tokenizer", rnn2snn_tokenize, [typed(t) for t in test.texts]),
            ("typed, whitespace split", lambda t: t.lower().split(), [typed(t) for t in test.texts])]
    for name, tokenize, texts in runs:
        predict.tokenize = tokenize
        pred = np.array([p.label for p in predict.predict_texts(args.model, texts)])
        print(f"{name}: test accuracy {(pred == labels).mean():.3f}")
    predict.tokenize = rnn2snn_tokenize


if __name__ == "__main__":
    main()

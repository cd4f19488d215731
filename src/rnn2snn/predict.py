"""Classify a question with a saved model's spiking network."""

from __future__ import annotations

import os

import numpy as np

from rnn2snn.data.text import encode_texts, tokenize
from rnn2snn.export.model_io import load_model
from rnn2snn.spiking.evaluate import spiking_logits
from rnn2snn.spiking.network import convert


def predict_question(model_dir: str | os.PathLike, question: str) -> dict:
    """Class, tokens, per-neuron spike counts and class scores for one question.

    An empty question, or one of unknown words only, is read as one ``<unk>``
    word: it still gets a prediction.
    """
    saved = load_model(model_dir)
    tokens = tokenize(question)
    data = encode_texts([tokens], saved.vocab)
    logits, rec = spiking_logits(saved.model, convert(saved.integer(), saved.spiking), data)
    logits = logits[0]
    best = int(np.argmax(logits))
    return {
        "class": saved.classes[best],
        "tokens": tokens,
        "spike_counts": rec.counts[0].sum(axis=0).tolist(),
        "spike_counts_per_word": rec.counts[0].tolist(),
        "scores": {c: float(s) for c, s in zip(saved.classes, logits, strict=False)},
    }

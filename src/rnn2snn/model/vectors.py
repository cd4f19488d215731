"""Pretrained word vectors (word2vec binary/text, GloVe text) through gensim."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rnn2snn.data.text import Vocabulary
from rnn2snn.errors import DataFormatError


def load_vectors(path: str | os.PathLike, vocab: Vocabulary, dim: int,
                 seed: int = 0) -> tuple[np.ndarray, int]:
    """Embedding matrix (len(vocab), dim) float32 and the number of words found.

    The format is taken from the file: ``.bin`` is word2vec binary; a text file
    whose first line is ``count dim`` is word2vec text, otherwise GloVe text.
    Words missing from the file get small random vectors; padding stays zero.
    """
    from gensim.models import KeyedVectors

    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"--vectors {path}: no such file")
    binary = path.suffix == ".bin"
    no_header = False
    if not binary:
        with path.open("rb") as fh:
            first = fh.readline().split()
        no_header = not (len(first) == 2 and all(t.isdigit() for t in first))
    try:
        kv = KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=no_header,
                                               unicode_errors="replace")
    except (ValueError, UnicodeDecodeError, EOFError) as exc:
        raise DataFormatError(f"--vectors {path}: not a word2vec/GloVe file ({exc})") from None
    if kv.vector_size != dim:
        raise DataFormatError(
            f"--vectors {path}: vectors have {kv.vector_size} dimensions, the network's "
            f"embedding has {dim} (set --embed-dim {kv.vector_size})"
        )
    rng = np.random.default_rng(seed)
    scale = float(np.std(kv.vectors)) or 1.0
    matrix = rng.normal(0.0, scale, size=(len(vocab), dim)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    for i, token in enumerate(vocab.tokens[2:], start=2):
        if token in kv.key_to_index:
            matrix[i] = kv[token]
            found += 1
    return matrix, found

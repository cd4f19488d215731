"""Labelled text in the generic one-example-a-line format, vocabularies and splits.

Format: one example a line; the first whitespace-separated token is the label,
the rest of the line is the text. TREC files are a special case of it.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnn2snn.errors import DataFormatError

PAD, UNK = "<pad>", "<unk>"


@dataclass(frozen=True)
class Examples:
    """Tokenised examples: ``texts[i]`` is a list of tokens, ``labels[i]`` a string."""

    texts: list[list[str]]
    labels: list[str]
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx) -> Examples:
        return Examples([self.texts[i] for i in idx], [self.labels[i] for i in idx], self.source)


def tokenize(text: str) -> list[str]:
    """Lower-case whitespace tokenisation (TREC is already tokenised)."""
    return text.lower().split()


def parse_labeled_lines(
    lines: list[str], source: str, label_map=None
) -> Examples:
    """Parse ``LABEL text`` lines; a bad line raises with ``source:line``.

    ``label_map`` (optional) turns the raw first token into the label, e.g. TREC's
    ``NUM:dist`` into ``NUM``; it may raise ``ValueError`` to reject a label.
    """
    texts, labels = [], []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        where = f"{source}:{number}"
        if not line.strip():
            raise DataFormatError(f"{where}: empty line (expected 'LABEL text ...')")
        if line[0].isspace():
            raise DataFormatError(
                f"{where}: no label (the line starts with white space; expected 'LABEL text ...')"
            )
        parts = line.split(None, 1)
        if len(parts) < 2 or not parts[1].strip():
            raise DataFormatError(f"{where}: label {parts[0]!r} has an empty text")
        label = parts[0]
        if label_map is not None:
            try:
                label = label_map(label)
            except ValueError as exc:
                raise DataFormatError(f"{where}: {exc}") from None
        texts.append(tokenize(parts[1]))
        labels.append(label)
    if not texts:
        raise DataFormatError(f"{source}: no examples in the file")
    return Examples(texts, labels, source)


def read_labeled_file(
    path: str | os.PathLike, encoding: str = "utf-8", label_map=None
) -> Examples:
    """Read a generic labelled file. Undecodable bytes are reported with their line."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: no such file")
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    decoded = []
    for number, line in enumerate(lines, start=1):
        try:
            decoded.append(line.decode(encoding))
        except UnicodeDecodeError as exc:
            raise DataFormatError(
                f"{path}:{number}: cannot decode byte {line[exc.start]:#04x} as {encoding}"
            ) from None
    return parse_labeled_lines(decoded, str(path), label_map)


@dataclass
class Vocabulary:
    """Token ↔ index map; index 0 is padding, 1 the unknown word."""

    tokens: list[str] = field(default_factory=lambda: [PAD, UNK])

    def __post_init__(self) -> None:
        if self.tokens[:2] != [PAD, UNK]:
            raise ValueError("a vocabulary starts with '<pad>', '<unk>'")
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("duplicate tokens in vocabulary")

    @classmethod
    def build(cls, texts: list[list[str]], min_count: int = 1) -> Vocabulary:
        """Tokens seen at least ``min_count`` times, most frequent first (ties by name)."""
        counts = Counter(t for text in texts for t in text)
        kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return cls([PAD, UNK, *kept])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: list[str]) -> list[int]:
        return [self.index.get(t, 1) for t in tokens]


@dataclass(frozen=True)
class Encoded:
    """Examples as padded integer arrays.

    ``tokens``: int64 (N, L), right-padded with 0; ``lengths``: int64 (N,), each ≥ 1;
    ``labels``: int64 (N,) class indices into ``classes``.
    """

    tokens: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx) -> Encoded:
        idx = np.asarray(idx)
        lengths = self.lengths[idx]
        width = int(lengths.max()) if len(idx) else 1
        return Encoded(self.tokens[idx, :width], lengths, self.labels[idx])


def encode_texts(texts: list[list[str]], vocab: Vocabulary, labels=None) -> Encoded:
    """Pad token lists into arrays; an empty text becomes one ``<unk>`` so it still has a word.

    labels : int class indices (N,), or None (then all −1, for unlabelled input).
    """
    ids = [vocab.encode(t) or [1] for t in texts]
    width = max((len(s) for s in ids), default=1)
    tokens = np.zeros((len(ids), width), dtype=np.int64)
    for i, s in enumerate(ids):
        tokens[i, : len(s)] = s
    lengths = np.array([len(s) for s in ids], dtype=np.int64)
    if labels is None:
        labels = np.full(len(ids), -1, dtype=np.int64)
    return Encoded(tokens, lengths, np.asarray(labels, dtype=np.int64))


def encode(examples: Examples, vocab: Vocabulary, classes: list[str]) -> Encoded:
    """Encode labelled examples; a label not among ``classes`` is an error naming the file."""
    class_index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(examples.labels) - set(class_index))
    if unknown:
        raise DataFormatError(
            f"{examples.source}: labels {unknown[:5]} do not occur in the training data "
            f"(classes: {classes})"
        )
    return encode_texts(examples.texts, vocab, [class_index[c] for c in examples.labels])


def stratified_split(
    labels: list[str], fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held_out) with ``fraction`` of every class held out, seeded.

    Every class keeps at least one training example; classes with one example
    are not held out.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must lie in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    labels_arr = np.asarray(labels)
    train, held = [], []
    for cls in sorted(set(labels)):
        idx = np.flatnonzero(labels_arr == cls)
        rng.shuffle(idx)
        n_held = min(len(idx) - 1, int(round(fraction * len(idx))))
        held.extend(idx[:n_held])
        train.extend(idx[n_held:])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(held, dtype=np.int64))

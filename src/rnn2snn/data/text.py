"""Labelled text in the generic one-example-a-line format, vocabularies and splits.

Format: one example a line; the first whitespace-separated token is the label,
the rest of the line is the text. TREC files are a special case of it. How bytes
become lines (encodings, byte-order marks, line ends) is in ``reading.py``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from rnn2snn.data.reading import check_encoding, decode_lines, quote, read_file_bytes
from rnn2snn.errors import DataFormatError

PAD, UNK = "<pad>", "<unk>"
#: Default longest example, in tokens. TREC's longest question has 37; the limit
#: keeps one runaway line (a whole book on one line) from exhausting memory in training.
DEFAULT_MAX_WORDS = 200


@dataclass(frozen=True)
class Examples:
    """Tokenised examples: ``texts[i]`` is a list of tokens, ``labels[i]`` a string.

    ``truncated`` counts the examples cut to ``max_words`` tokens when the file was
    read with ``truncate=True`` (a subset does not carry it).
    """

    texts: list[list[str]]
    labels: list[str]
    source: str = ""
    truncated: int = 0

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx) -> Examples:
        return Examples([self.texts[i] for i in idx], [self.labels[i] for i in idx], self.source)


# --- tokenisation -------------------------------------------------------------------------------
# TREC is tokenised already ("What is the capital of Peru ?", "Who wrote `` Hamlet '' ?",
# "What 's ...", "can 't"); users type "Peru?", "\"Hamlet\"", "What's". The rules below split
# what users type the way TREC is split, and leave every token of the TREC files as it is
# (checked on all 5,952 questions: no line changes).
_WORD = re.compile(r"\w")
_OPENERS = "([{\""
_CLOSERS = "?!,;:\")]}'"
_CLITICS = ("'s", "'t", "'re", "'ve", "'ll", "'d", "'m")
#: Words whose final period is part of the word, not the end of the sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr jr sr st mt no inc co corp ltd etc vs bros rev sen gen gov prof "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _is_word_char(ch: str) -> bool:
    return bool(_WORD.match(ch))


def _split_word(word: str, last: bool) -> list[str]:
    """Split one lower-cased whitespace word into TREC-style tokens (linear time)."""
    if not _WORD.search(word):
        return [word]  # punctuation only: "?", "``", "''", "..." stay as they are
    lead_end = 0
    lead: list[str] = []
    while True:
        if word.startswith("``", lead_end):
            lead.append("``")
            lead_end += 2
        elif lead_end < len(word) and word[lead_end] in _OPENERS:
            lead.append("``" if word[lead_end] == '"' else word[lead_end])
            lead_end += 1
        else:
            break
    if lead_end >= len(word) or not _is_word_char(word[lead_end]):
        lead, lead_end = [], 0  # an opener not followed by a word character stays attached
    core_end = len(word)
    while core_end > lead_end and word[core_end - 1] in _CLOSERS:
        core_end -= 1
    core, trail = word[lead_end:core_end], word[core_end:]
    if trail and not (core and (_is_word_char(core[-1]) or core[-1] == ".")):
        core, trail = core + trail, ""  # "10-??" stays one token
    dots = ""
    if last and core.endswith("."):  # a sentence's final period, not "u.s." or "mr."
        stem = core.rstrip(".")
        if len(stem) > 1 and "." not in stem and _is_word_char(stem[-1]) and stem not in _ABBREVIATIONS:
            core, dots = stem, core[len(stem):]
    out = lead
    for clitic in _CLITICS:
        stem = core[: -len(clitic)]
        if core.endswith(clitic) and stem and _is_word_char(stem[-1]) and not stem.isdigit() \
                and core != "n't":
            out += [stem, clitic]  # "what's" -> "what", "'s";  "1960's" stays
            break
    else:
        out.append(core)
    if dots:
        out.append(dots)
    i = 0
    while i < len(trail):  # closing quotes become TREC's '' and stay one token
        if trail.startswith("''", i) or trail[i] == '"':
            out.append("''")
            i += 1 if trail[i] == '"' else 2
        else:
            out.append(trail[i])
            i += 1
    return out


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens, split the way TREC is tokenised.

    Whitespace separates words; then trailing ``? ! , ; :``, closing brackets and
    quotes, leading opening brackets and quotes, a sentence-final period (not of an
    abbreviation such as ``u.s.`` or ``mr.``) and the clitics ``'s 't 're 've 'll 'd 'm``
    become tokens of their own; double quotes, straight or curly, become TREC's
    two-character quotes (opening: two backticks, closing: two apostrophes).
    ``"What is the capital of Peru?"`` gives ``[..., "peru", "?"]`` like TREC's
    ``"Peru ?"``; TREC's own tokens are left unchanged (a test checks every line).
    """
    words = text.translate(_CURLY).lower().split()
    tokens: list[str] = []
    for i, word in enumerate(words):
        tokens.extend(_split_word(word, last=i == len(words) - 1))
    return tokens


# --- labelled files ------------------------------------------------------------------------------
def _check_limits(max_words: int | None, min_classes: int) -> None:
    if max_words is not None and (isinstance(max_words, bool) or not isinstance(max_words, int)
                                  or max_words < 1):
        raise DataFormatError(f"max_words must be a whole number ≥ 1 (or None for no limit), "
                              f"got {max_words!r}")
    if isinstance(min_classes, bool) or not isinstance(min_classes, int) or min_classes < 1:
        raise DataFormatError(f"min_classes must be a whole number ≥ 1, got {min_classes!r}")


def _count_words(text: str) -> int:
    return sum(1 for _ in re.finditer(r"\S+", text))


def _tab_separated(lines: list[str]) -> bool:
    """Whether most lines put a tab right after their first word (``LABEL<TAB>text``)."""
    tabbed = sum(1 for line in lines if (m := re.match(r"\S+(\s)", line)) and m.group(1) == "\t")
    return tabbed * 2 > len(lines)


def _label_has_no_space(line: str, label: str, where: str, tab_separated: bool) -> None:
    """Refuse a line whose label field holds a space (it would silently become its first word)."""
    head = line.split("\t", 1)[0]
    if tab_separated and "\t" in line and head.strip() != label:
        raise DataFormatError(
            f"{where}: the label field before the tab, {quote(head)}, holds a space; the label is the "
            f"line's first word (here {quote(label)}), so write it as one word, e.g. "
            f"{quote('_'.join(head.split()))}")
    mark = label[0]
    if mark in "\"'" and (len(label) == 1 or label[-1] != mark):
        inside = line[1:].split(mark, 1)[0]
        one_word = "_".join(inside.split())
        raise DataFormatError(
            f"{where}: the label {quote(mark + inside + mark)} is quoted and holds a space; the label is "
            f"the line's first word, so write it as one word, e.g. {quote(one_word)}")


def parse_labeled_lines(
    lines: list[str], source: str, label_map=None, *, max_words: int | None = DEFAULT_MAX_WORDS,
    truncate: bool = False, min_classes: int = 2,
) -> Examples:
    """Parse ``LABEL text`` lines; a bad line raises with ``source:line``.

    ``label_map`` (optional) turns the raw first token into the label, e.g. TREC's
    ``NUM:dist`` into ``NUM``; it may raise ``ValueError`` to reject a label.

    Rules: a byte-order mark before the first label is dropped; blank lines at the
    end are ignored, a blank line between examples is an error (it usually means a
    broken file, and nothing is guessed); an example longer than ``max_words`` tokens
    is an error, or with ``truncate=True`` is cut to its first ``max_words`` tokens
    and counted in ``Examples.truncated``; fewer than ``min_classes`` distinct labels
    is an error (a classifier needs two; pass 1 for a test file). The label is the
    line's first word, so it cannot hold a space: a label field that does (in a file whose
    lines are mostly ``LABEL<TAB>text``, a ``very good<TAB>text``; or a quoted
    ``"very good" text``) is an error, never a new class ``very``.
    """
    _check_limits(max_words, min_classes)
    lines = [line.rstrip("\r\n") for line in lines]
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    while lines and not lines[-1].strip():
        lines.pop()
    texts, labels, truncated = [], [], 0
    tab_separated = _tab_separated(lines)
    for number, line in enumerate(lines, start=1):
        where = f"{source}:{number}"
        if not line.strip():
            raise DataFormatError(
                f"{where}: empty line between examples (expected 'LABEL text ...'; only blank "
                f"lines at the end of a file are ignored)"
            )
        if line[0].isspace():
            raise DataFormatError(
                f"{where}: no label (the line starts with white space; expected 'LABEL text ...')"
            )
        parts = line.split(None, 1)
        if len(parts) < 2 or not parts[1].strip():
            raise DataFormatError(f"{where}: label {quote(parts[0])} has an empty text")
        label, text = parts
        _label_has_no_space(line, label, where, tab_separated)
        cut = False
        if max_words is not None and len(text.split(None, max_words)) > max_words:
            if not truncate:
                raise DataFormatError(
                    f"{where}: {_count_words(text):,} words, more than the limit of {max_words} words "
                    f"per example (max_words, --max-words); raise it, or cut long examples (--truncate)"
                )
            text, cut = " ".join(text.split(None, max_words)[:max_words]), True  # bounded first
        if label_map is not None:
            try:
                label = label_map(label)
            except ValueError as exc:
                raise DataFormatError(f"{where}: {exc}") from None
        tokens = tokenize(text)
        if max_words is not None and len(tokens) > max_words:
            if not truncate:
                raise DataFormatError(
                    f"{where}: {len(tokens):,} tokens, more than the limit of {max_words} words per "
                    f"example (max_words, --max-words); raise it, or cut long examples (--truncate)"
                )
            tokens, cut = tokens[:max_words], True
        truncated += cut
        texts.append(tokens)
        labels.append(label)
    if not texts:
        raise DataFormatError(f"{source}: no examples in the file")
    classes = Counter(labels)
    if len(classes) < min_classes:
        if len(classes) == 1:
            (label, n), = classes.items()
            found = f"every example has the label {quote(label)} ({n:,} examples)"
        else:
            found = "only the labels " + ", ".join(quote(c) for c in sorted(classes))
        raise DataFormatError(f"{source}: {found}; a classifier needs at least {min_classes} "
                              f"different labels")
    return Examples(texts, labels, source, truncated)


def read_labeled_file(
    path: str | os.PathLike, encoding: str = "utf-8", label_map=None, *,
    max_words: int | None = DEFAULT_MAX_WORDS, truncate: bool = False, min_classes: int = 2,
) -> Examples:
    """Read a generic labelled file (rules of ``reading.decode_lines`` and :func:`parse_labeled_lines`).

    The encoding and the limits are checked before the file is read; errors name
    ``file:line``.
    """
    check_encoding(encoding)
    _check_limits(max_words, min_classes)
    lines = decode_lines(read_file_bytes(path), encoding, str(path))
    return parse_labeled_lines(lines, str(path), label_map, max_words=max_words, truncate=truncate,
                               min_classes=min_classes)


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

    @property
    def inputs(self) -> np.ndarray:
        """What the model reads: the token ids (N, L)."""
        return self.tokens

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

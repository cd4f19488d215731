"""Classify texts with a saved program's spiking network — NumPy only, no torch.

Each text is tokenised like the training data (:func:`rnn2snn.data.text.tokenize`),
looked up in the program's token table, run through the network-level simulator, and
read out. A text with no known word, or that makes no neuron spike, still gets a
class (the readout's bias decides), so it carries a warning.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import numpy as np

from rnn2snn.data.reading import quote
from rnn2snn.data.text import DEFAULT_MAX_WORDS, tokenize
from rnn2snn.errors import DataFormatError, Rnn2SnnError
from rnn2snn.program.io import load_program
from rnn2snn.program.run import simulate_program
from rnn2snn.program.spec import SpikingProgram, TokenEncoder


@dataclass(frozen=True)
class Prediction:
    """One text's answer: class, its scores, the words read, the unknown ones, spike counts of
    the last layer (per neuron, summed over the words, and per word), and warnings."""

    text: str
    label: str
    scores: dict[str, float]
    tokens: tuple[str, ...]
    unknown: tuple[str, ...]
    spike_counts: tuple[int, ...]
    spike_counts_per_word: tuple[tuple[int, ...], ...]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"text": self.text, "class": self.label, "scores": self.scores,
                "tokens": list(self.tokens), "unknown": list(self.unknown),
                "spike_counts": list(self.spike_counts),
                "spike_counts_per_word": [list(c) for c in self.spike_counts_per_word],
                "warnings": list(self.warnings)}


#: Characters a text may have per word allowed (``max_words``): a bound on one huge
#: "word" as well, so no text can keep the simulator busy for minutes.
CHARS_PER_WORD = 50


def check_text(text: str, where: str, max_words: int = DEFAULT_MAX_WORDS, flag: str = "max_words") -> str:
    """``text`` if it is one text the simulator answers in time and that prints; else an error
    naming ``where`` (``texts[3]``, ``q.txt:7``, ``standard input:3``) and the limit ``flag``."""
    bad = next((c for c in text if "\ud800" <= c <= "\udfff"), None)
    if bad is not None:  # bytes the terminal's encoding could not decode (surrogateescape)
        byte = f" (byte {ord(bad) - 0xDC00:#04x})" if 0xDC80 <= ord(bad) <= 0xDCFF else ""
        raise DataFormatError(f"{where}: not valid {sys.getfilesystemencoding()} text{byte}; pass the "
                              "question in that encoding, or put it in a file and name the file's "
                              "encoding (--file FILE --encoding ENC)")
    if len(text) > CHARS_PER_WORD * max_words:
        raise DataFormatError(f"{where}: {quote(text)} is longer than a question may be "
                              f"({CHARS_PER_WORD * max_words:,} characters: {CHARS_PER_WORD} per word "
                              f"of {flag} {max_words}); split it, or raise {flag}")
    if len(text.split(None, max_words)) > max_words or len(tokenize(text)) > max_words:
        raise DataFormatError(f"{where}: {len(tokenize(text)):,} words, more than {flag} "
                              f"{max_words}; split it, or raise {flag}")
    return text



def _word_warnings(words: list[str], unknown: tuple[str, ...]) -> list[str]:
    """What a reader of the answer should know about the words it came from."""
    if not words:
        return ["empty text: read as one unknown word; the class is the readout's default"]
    if len(unknown) == len(words):
        return ["no word of this text is in the vocabulary: the class is a guess"]
    return []

def _check_texts(texts, max_words: int) -> None:
    if isinstance(texts, str | bytes) or not isinstance(texts, list | tuple):
        raise DataFormatError(f"texts: expected a list of strings, got {type(texts).__name__}"
                              + (" (one text: pass [text])" if isinstance(texts, str) else ""))
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise DataFormatError(f"texts[{bad}]: expected a string, got {type(texts[bad]).__name__}"
                              + (" (decode bytes first)" if isinstance(texts[bad], bytes) else ""))
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
        raise DataFormatError(f"max_words: expected an integer ≥ 1, got {max_words!r}")
    for i, t in enumerate(texts):
        check_text(t, f"texts[{i}]", max_words)


def _token_ids(texts: list[str], index: dict[str, int]):
    """The words of each text, their ids (N, L) zero-padded (unknown → 1, empty → one <unk>), lengths."""
    tokens = [tokenize(t) for t in texts]
    ids = [[index.get(w, 1) for w in ws] or [1] for ws in tokens]
    width = max(len(s) for s in ids)
    arr = np.zeros((len(ids), width), dtype=np.int64)
    for i, s in enumerate(ids):
        arr[i, : len(s)] = s
    return tokens, arr, np.array([len(s) for s in ids], dtype=np.int64)


def _predict_xylo(folder, texts: list[str], max_words: int) -> list[Prediction]:
    """Classify texts with a Xylo program folder: its off-chip encoder, our simulator of the chip's
    tick (bit-exact with xylosim, ``rnn2snn verify``), and the on-chip readout. Scores are the
    readout's quantity per output neuron (``Vmem`` at the read tick, or output spikes); spike
    counts are the hidden neurons'."""
    from rnn2snn.targets.xylo.convert import rasters
    from rnn2snn.targets.xylo.model import load_xylo_model
    from rnn2snn.targets.xylo.simulate import classify, simulate

    model = load_xylo_model(folder)
    spec = model.spec
    _check_texts(texts, max_words)
    if not texts:
        return []
    index = {t: i for i, t in enumerate(model.vocab)}
    tokens, arr, lengths = _token_ids(texts, index)
    counts, read = rasters(spec, arr, lengths, model.tail_ticks)
    record = simulate(spec, counts, record=True)
    labels = classify(record, spec.readout, read)
    k = spec.ticks_per_step
    out = []
    for i, text in enumerate(texts):
        n, r = int(lengths[i]), int(read[i])
        if spec.readout == "vmem_last":
            scores = record.vmem_out[i, r - 1].astype(float)
        else:
            scores = record.out_spikes[i, :r].sum(axis=0).astype(float)
        per_word = record.spikes[i, : n * k].astype(np.int64).reshape(n, k, -1).sum(axis=1)
        unknown = tuple(w for w in tokens[i] if w not in index)
        warnings = _word_warnings(tokens[i], unknown)
        if int(record.spikes[i, :r].sum()) == 0:
            warnings.append("no hidden neuron spiked: the class comes from the biases alone")
        out.append(Prediction(
            text=text, label=spec.classes[int(labels[i])],
            scores={c: float(v) for c, v in zip(spec.classes, scores, strict=True)},
            tokens=tuple(tokens[i]), unknown=unknown,
            spike_counts=tuple(int(c) for c in record.spikes[i, :r].astype(np.int64).sum(axis=0)),
            spike_counts_per_word=tuple(tuple(int(c) for c in row) for row in per_word),
            warnings=tuple(warnings)))
    return out


def predict_texts(program: SpikingProgram | str | os.PathLike, texts: list[str],
                  max_words: int = DEFAULT_MAX_WORDS) -> list[Prediction]:
    """Classify each of ``texts`` (a list of strings) with the program (or its folder; a Xylo
    program's folder, ``spec.npz`` and ``xylo.json``, is run on our simulator of the chip's tick).

    A text longer than ``max_words`` words (or 50 characters a word) is refused before
    any is run, naming it: the simulator's time grows with the text.
    """
    if not isinstance(program, SpikingProgram):
        from rnn2snn.targets.xylo.model import is_xylo_model

        if is_xylo_model(program):
            return _predict_xylo(program, texts, max_words)
        program = load_program(program)
    if not isinstance(program.encoder, TokenEncoder):
        raise Rnn2SnnError("this program reads real-valued features, not text: use "
                           "rnn2snn.program.simulate_program with feature arrays")
    _check_texts(texts, max_words)
    if not texts:
        return []
    index = {t: i for i, t in enumerate(program.encoder.vocab)}
    tokens, arr, lengths = _token_ids(texts, index)
    run = simulate_program(program, arr, lengths)
    off = program.layer_offsets
    out = []
    for i, text in enumerate(texts):
        n = int(lengths[i])
        last = run.counts[i, program.lag: program.lag + n, off[-2]: off[-1]]
        unknown = tuple(w for w in tokens[i] if w not in index)
        warnings = _word_warnings(tokens[i], unknown)
        if int(run.counts[i, : n + program.lag].sum()) == 0:
            warnings.append("no neuron spiked: the class comes from the readout's bias alone")
        scores = run.logits[i]
        out.append(Prediction(
            text=text, label=program.classes[int(np.argmax(scores))],
            scores={c: float(s) for c, s in zip(program.classes, scores, strict=True)},
            tokens=tuple(tokens[i]), unknown=unknown,
            spike_counts=tuple(int(c) for c in last.sum(axis=0)),
            spike_counts_per_word=tuple(tuple(int(c) for c in row) for row in last),
            warnings=tuple(warnings)))
    return out


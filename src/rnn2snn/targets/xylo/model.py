"""A Xylo program folder (a run's ``model/``): the spec the chip runs and what turns text into its input.

Why two files: ``spec.npz`` is exactly what :func:`~rnn2snn.targets.xylo.spec.save_spec`
writes (``XyloSim.from_specification`` loads it less the ``rnn2snn_`` keys), and it holds
no words. ``xylo.json`` holds the off-chip side a user needs to feed it: the vocabulary
(token id → word, the rows of the spec's encoder table), the blank ticks after a
question before the class is read, and the classes. ``verify``, ``export`` and
``predict`` read both.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from rnn2snn._atomic import write_json_atomic
from rnn2snn.errors import ModelFileError
from rnn2snn.targets.xylo.spec import XyloSpec, load_spec, save_spec

SPEC_FILE = "spec.npz"
META_FILE = "xylo.json"
FORMAT = "rnn2snn-xylo-model"
VERSION = 1


@dataclass(frozen=True, eq=False)
class XyloModel:
    """A spec with its off-chip text side. ``vocab[i]``: the word of token id ``i`` (0 padding,
    1 unknown); ``tail_ticks``: blank ticks after the last word (the class is read at the last)."""

    spec: XyloSpec
    vocab: tuple[str, ...]
    tail_ticks: int

    @property
    def classes(self) -> tuple[str, ...]:
        return self.spec.classes


def is_xylo_model(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a Xylo program (its ``spec.npz``)."""
    return (Path(folder) / SPEC_FILE).is_file()


def save_xylo_model(model: XyloModel, folder: str | os.PathLike) -> Path:
    """Write ``spec.npz`` and ``xylo.json`` into ``folder`` (made if missing), each atomically."""
    folder = Path(folder)
    if len(model.vocab) != len(model.spec.encoder_table):
        raise ModelFileError(f"{len(model.vocab)} words for an encoder table of "
                             f"{len(model.spec.encoder_table)} rows")
    folder.mkdir(parents=True, exist_ok=True)
    save_spec(model.spec, folder / SPEC_FILE)
    write_json_atomic(folder / META_FILE, {"format": FORMAT, "version": VERSION, "chip": model.spec.chip,
                                           "tail_ticks": model.tail_ticks, "classes": list(model.classes),
                                           "vocab": list(model.vocab)})
    return folder


def load_xylo_model(folder: str | os.PathLike) -> XyloModel:
    """Read a folder written by :func:`save_xylo_model`; a :class:`ModelFileError` names the fault."""
    folder = Path(folder)
    spec = load_spec(folder / SPEC_FILE)
    path = folder / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{path}: missing (the vocabulary and timing of the Xylo program)") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ModelFileError(f"{path}: not a {FORMAT} version {VERSION} file")
    vocab, tail = meta.get("vocab"), meta.get("tail_ticks")
    if not isinstance(vocab, list) or not all(isinstance(w, str) for w in vocab):
        raise ModelFileError(f"{path}: vocab must be a list of words")
    if spec.encoder_table is None or len(vocab) != len(spec.encoder_table):
        raise ModelFileError(f"{path}: {len(vocab)} words, but {folder / SPEC_FILE} encodes "
                             f"{0 if spec.encoder_table is None else len(spec.encoder_table)} tokens")
    if isinstance(tail, bool) or not isinstance(tail, int) or tail < 1:
        raise ModelFileError(f"{path}: tail_ticks must be a whole number >= 1, found {tail!r}")
    if meta.get("chip") != spec.chip or meta.get("classes") != list(spec.classes):
        raise ModelFileError(f"{path}: its chip and classes differ from {folder / SPEC_FILE}'s")
    return XyloModel(spec=spec, vocab=tuple(vocab), tail_ticks=tail)

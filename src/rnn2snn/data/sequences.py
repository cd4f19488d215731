"""Real-valued sequences (sensor or feature frames), and the user's data as arrays.

:class:`FeatureSequences` is the real-valued sibling of :class:`~rnn2snn.data.text.Encoded`
(token ids): both have ``inputs``, ``lengths``, ``labels``, ``subset`` and ``len``,
which is all training and evaluation read (``Sequences`` is either).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn2snn.data.text import Encoded
from rnn2snn.errors import DataFormatError


@dataclass(frozen=True)
class FeatureSequences:
    """features : float32 (N, L, F), zero-padded after each end; lengths : int64 (N,) ≥ 1;
    labels : int64 (N,) class indices (−1: unlabelled)."""

    features: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        if self.features.ndim != 3:
            raise DataFormatError(f"features: shape {self.features.shape}, expected (N, L, F)")
        check_arrays(self.features, self.lengths, self.labels, "features")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def inputs(self) -> np.ndarray:
        return self.features

    @property
    def n_features(self) -> int:
        return self.features.shape[2]

    def subset(self, idx) -> FeatureSequences:
        idx = np.asarray(idx)
        lengths = self.lengths[idx]
        width = int(lengths.max()) if len(idx) else 1
        return FeatureSequences(self.features[idx, :width], lengths, self.labels[idx])


Sequences = Encoded | FeatureSequences


def _numpy(value, name: str) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any unconvertible object
        raise DataFormatError(f"{name}: cannot be read as an array ({exc})") from None


def whole_numbers(values: np.ndarray, name: str, what: str) -> np.ndarray:
    """``values`` as int64, refusing anything that is not a whole number (naming the row).

    A float array of whole numbers (``1.0``) is accepted; ``0.7`` is refused, never cast.
    """
    if values.ndim != 1:
        raise DataFormatError(f"{name}: {what} must be one value a row (shape (N,)), "
                              f"got shape {values.shape}")
    if values.dtype == np.bool_ or np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    if not np.issubdtype(values.dtype, np.floating):
        raise DataFormatError(f"{name}: {what} must be integers, got {values.dtype}")
    bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        row, count = int(np.flatnonzero(bad)[0]), int(bad.sum())
        rule = "class indices 0, 1, …" if what == "labels" else "counts of steps"
        raise DataFormatError(f"{name}: {what} must be whole numbers ({rule}); row {row} holds "
                              f"{float(values[row])!r} ({count} such row{'s' * (count > 1)}); "
                              "nothing is rounded")
    return values.astype(np.int64)


SHAPES = "token ids (N, L) of integers, or features (N, L, F) of floats"


def check_arrays(inputs: np.ndarray, lengths: np.ndarray, labels: np.ndarray | None, name: str) -> None:
    """Refuse arrays that disagree in rows, lengths outside ``1 … L``, negative token ids, and
    non-finite features, naming ``name`` and the row (before any work). ``labels``: None for
    unlabelled inputs."""
    n = len(inputs)
    if labels is None and len(lengths) != n:
        raise DataFormatError(f"{name}: {n} rows of inputs, {len(lengths)} lengths (one length a row)")
    if labels is not None and (len(lengths) != n or len(labels) != n):
        raise DataFormatError(f"{name}: {n} rows of inputs, {len(lengths)} lengths, {len(labels)} labels "
                              "(one length and one label a row)")
    if n == 0:
        return
    width = inputs.shape[1]
    bad = (lengths < 1) | (lengths > width)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataFormatError(f"{name}: row {row} has length {int(lengths[row])}; lengths must lie in "
                              f"1…{width} (the padded length of the inputs)")
    if inputs.ndim == 2 and inputs.size and inputs.min() < 0:
        row, pos = (int(i) for i in np.argwhere(inputs < 0)[0])
        raise DataFormatError(f"{name}: row {row}, position {pos} holds token id {int(inputs[row, pos])}; "
                              "token ids must be ≥ 0 (pad with 0, the padding id, not −1)")
    if inputs.ndim == 3 and not np.isfinite(inputs).all():
        row, pos, feat = (int(i) for i in np.argwhere(~np.isfinite(inputs))[0])
        raise DataFormatError(f"{name}: row {row}, step {pos}, feature {feat} is "
                              f"{float(inputs[row, pos, feat])!r}; features must be finite")


def as_sequences(data, name: str = "data") -> Sequences:
    """The user's data as :data:`Sequences`, checked (:func:`check_arrays`) before any work.

    ``data``: an ``Encoded``/``FeatureSequences``; a tuple ``(inputs, lengths, labels)`` of
    arrays or tensors — ``inputs`` int token ids (N, L) or float features (N, L, F),
    zero-padded; lengths and labels whole numbers (N,) — or an iterable of such batches
    (e.g. a ``torch.utils.data.DataLoader``), padded to a common length here.
    """
    if isinstance(data, Encoded | FeatureSequences):
        check_arrays(data.inputs, data.lengths, data.labels, name)
        return data
    if isinstance(data, tuple) and len(data) == 3:
        batches = [data]
    else:
        try:
            batches = list(data)
        except TypeError:
            raise DataFormatError(f"{name}: expected (inputs, lengths, labels) or a DataLoader of "
                                  f"such batches, got {type(data).__name__}") from None
        if not batches or not all(isinstance(b, tuple | list) and len(b) == 3 for b in batches):
            raise DataFormatError(f"{name}: every batch must be (inputs, lengths, labels)")
    parts = []
    for k, batch in enumerate(batches):
        where = name if len(batches) == 1 else f"{name} batch {k}"
        x, n, y = (_numpy(v, f"{where}[{i}]") for i, v in enumerate(batch))
        if x.ndim not in (2, 3):
            raise DataFormatError(f"{where}: inputs of shape {x.shape}; expected {SHAPES}")
        if x.ndim == 2 and not (np.issubdtype(x.dtype, np.integer) or x.size == 0):
            raise DataFormatError(f"{where}: 2-d inputs are token ids and must be integers, got {x.dtype} "
                                  f"(real-valued inputs are features (N, L, F))")
        if x.ndim == 3 and not (np.issubdtype(x.dtype, np.number) and x.dtype != np.bool_):
            raise DataFormatError(f"{where}: features must be numbers, got {x.dtype}")
        parts.append((x, whole_numbers(n, where, "lengths"), whole_numbers(y, where, "labels")))
    kinds = {p[0].ndim for p in parts}
    if len(kinds) != 1:
        raise DataFormatError(f"{name}: some batches are token ids (N, L), others features (N, L, F)")
    width = max(p[0].shape[1] for p in parts)
    padded = []
    for x, _, _ in parts:
        pad = [(0, 0), (0, width - x.shape[1])] + [(0, 0)] * (x.ndim - 2)
        padded.append(np.pad(x, pad))
    inputs = np.concatenate(padded)
    lengths = np.concatenate([p[1] for p in parts])
    labels = np.concatenate([p[2] for p in parts])
    check_arrays(inputs, lengths, labels, name)
    if inputs.ndim == 2:
        return Encoded(inputs.astype(np.int64), lengths, labels)
    return FeatureSequences(inputs.astype(np.float32), lengths, labels)

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
        f, n = self.features, len(self.lengths)
        if f.ndim != 3 or f.shape[0] != n or len(self.labels) != n:
            raise DataFormatError(f"features {f.shape}, lengths ({n},), labels ({len(self.labels)},) "
                                  "disagree: expected (N, L, F), (N,), (N,)")
        if n and (self.lengths.min() < 1 or self.lengths.max() > f.shape[1]):
            raise DataFormatError(f"lengths must lie in 1…{f.shape[1]} (the padded length), got "
                                  f"{int(self.lengths.min())}…{int(self.lengths.max())}")
        if not np.isfinite(f).all():
            i = int(np.argwhere(~np.isfinite(f))[0][0])
            raise DataFormatError(f"features of sequence {i} hold NaN or infinity")

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


def as_sequences(data, name: str = "data") -> Sequences:
    """The user's data as :data:`Sequences`.

    ``data``: an ``Encoded``/``FeatureSequences``; a tuple ``(inputs, lengths, labels)`` of
    arrays or tensors — ``inputs`` int token ids (N, L) or float features (N, L, F),
    zero-padded; or an iterable of such batches (e.g. a ``torch.utils.data.DataLoader``),
    padded to a common length here.
    """
    if isinstance(data, Encoded | FeatureSequences):
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
    parts = [tuple(_numpy(v, f"{name}[{k}]") for k, v in enumerate(b)) for b in batches]
    width = max(p[0].shape[1] for p in parts)
    kinds = {p[0].ndim for p in parts}
    if kinds - {2, 3} or len(kinds) != 1:
        raise DataFormatError(f"{name}: inputs must be token ids (N, L) or features (N, L, F), got "
                              f"{sorted(kinds)}-dimensional")
    padded = []
    for x, _, _ in parts:
        pad = [(0, 0), (0, width - x.shape[1])] + [(0, 0)] * (x.ndim - 2)
        padded.append(np.pad(x, pad))
    inputs = np.concatenate(padded)
    lengths = np.concatenate([p[1] for p in parts]).astype(np.int64)
    labels = np.concatenate([p[2] for p in parts]).astype(np.int64)
    if inputs.ndim == 2:
        if not np.issubdtype(inputs.dtype, np.integer):
            raise DataFormatError(f"{name}: 2-d inputs are token ids and must be integers, "
                                  f"got {inputs.dtype}")
        if len(lengths) != len(inputs) or len(labels) != len(inputs):
            raise DataFormatError(f"{name}: {len(inputs)} inputs, {len(lengths)} lengths, "
                                  f"{len(labels)} labels")
        if lengths.min() < 1 or lengths.max() > inputs.shape[1]:
            raise DataFormatError(f"{name}: lengths must lie in 1…{inputs.shape[1]}")
        return Encoded(inputs.astype(np.int64), lengths, labels)
    return FeatureSequences(inputs.astype(np.float32), lengths, labels)

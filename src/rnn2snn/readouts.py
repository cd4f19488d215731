"""Pooling of per-word activities (or spike counts) into one feature per sequence.

NumPy here, so the off-chip readout of a saved program needs no torch; training pools
torch tensors by the same rule (:func:`rnn2snn.model.elman.pool_activity`), tested equal.
"""

from __future__ import annotations

import numpy as np

READOUTS = ("last", "mean", "max")


def pool_activity(activity, lengths, readout: str):
    """One feature (B, H) per sequence from its word activities (B, L, H).

    ``"last"``: the final word's activity; ``"mean"``: the mean over the words;
    ``"max"``: the largest over the words. Activities are ≥ 0 (spike counts).
    """
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    lengths = np.asarray(lengths, dtype=np.int64)
    if readout == "last":
        return activity[np.arange(len(lengths)), lengths - 1]
    valid = np.arange(activity.shape[1])[None, :] < lengths[:, None]
    masked = activity * valid[..., None].astype(activity.dtype)
    if readout == "mean":
        return masked.sum(1) / lengths[:, None].astype(activity.dtype)
    return masked.max(1)

"""The three constraint steps of train-and-constrain, each applied to a trained model.

Each step switches a constraint on in ``model.constraints`` (the caller retrains
afterwards — that is the method): :func:`limit_fan_in`, :func:`quantize_model_weights`,
:func:`quantize_model_activities`. :func:`to_integer` then reads the integer network off.
"""

from __future__ import annotations

import numpy as np
import torch

from rnn2snn.constrain.integer import IntegerRNN
from rnn2snn.data.text import Encoded
from rnn2snn.model.elman import ElmanClassifier, pool_activity
from rnn2snn.model.train import batches


def fan_in_mask(weights: torch.Tensor, max_fan_in: int) -> torch.Tensor:
    """Keep, per neuron (row), the ``max_fan_in`` largest-magnitude connections.

    weights : (H, P + H) real; returns a bool mask of the same shape. Ties are
    broken by column order, so the mask is deterministic.
    """
    if max_fan_in < 1:
        raise ValueError(f"max_fan_in must be ≥ 1, got {max_fan_in}")
    rows, cols = weights.shape
    if cols <= max_fan_in:
        return torch.ones_like(weights, dtype=torch.bool)
    order = np.argsort(-np.abs(weights.detach().cpu().numpy()), axis=1, kind="stable")
    mask = np.zeros((rows, cols), dtype=bool)
    np.put_along_axis(mask, order[:, :max_fan_in], True, axis=1)
    return torch.from_numpy(mask)


def block_fan_in_mask(weights: torch.Tensor, n_inputs: int, n_cores: int,
                      max_fan_in: int = 64) -> tuple[torch.Tensor, list[list[int]]]:
    """A fan-in mask that spreads the layer over ``n_cores`` cores, and the core groups.

    The H neurons are split into ``n_cores`` contiguous groups; each core gets one
    set of at most ``max_fan_in`` sources (inputs or recurrent neurons), chosen
    greedily by the summed weight magnitude of its neurons, so a core needs at most
    ``4 × max_fan_in`` axons. A recurrent neuron read by ``r`` cores needs up to
    ``4r + 1`` copies on its own core; sources are refused once that would overflow
    the owner's 256 neurons. Returns the bool mask (H, P + H) and the groups.
    """
    from rnn2snn.truenorth.limits import AXON_TYPES, NEURONS_PER_CORE

    w = np.abs(weights.detach().cpu().numpy())
    h, n_src = w.shape
    if not 1 <= n_cores <= h:
        raise ValueError(f"cores must lie in 1…{h} (one neuron at least per core), got {n_cores}")
    groups = [g.tolist() for g in np.array_split(np.arange(h), n_cores)]
    owner = np.concatenate([np.full(len(g), c) for c, g in enumerate(groups)])
    score = np.stack([w[g].sum(axis=0) for g in groups])  # (cores, sources)
    slots = np.array([(NEURONS_PER_CORE - len(g)) // AXON_TYPES for g in groups])
    chosen = [[] for _ in groups]
    order = np.argsort(-score, axis=None, kind="stable")
    for flat in order:
        c, src = divmod(int(flat), n_src)
        if len(chosen[c]) >= max_fan_in:
            continue
        if src >= n_inputs:
            o = owner[src - n_inputs]
            if slots[o] == 0:
                continue
            slots[o] -= 1
        chosen[c].append(src)
    mask = np.zeros((h, n_src), dtype=bool)
    for c, g in enumerate(groups):
        mask[np.ix_(g, chosen[c])] = True
    return torch.from_numpy(mask), groups


def limit_fan_in(model: ElmanClassifier, max_fan_in: int = 64, cores: int | None = None) -> int:
    """Prune the recurrent layer to ``max_fan_in`` inputs per neuron; return connections pruned.

    With ``cores``, the mask is block-sparse over that many cores
    (:func:`block_fan_in_mask`); otherwise each neuron keeps its own strongest inputs.
    """
    if cores is None:
        mask = fan_in_mask(model.recurrent, max_fan_in)
    else:
        mask, groups = block_fan_in_mask(model.recurrent, model.config.proj_dim, cores, max_fan_in)
        model.constraints.groups = groups
    model.constraints.mask = mask
    with torch.no_grad():
        model.recurrent.mul_(mask.to(model.recurrent.dtype))
    return int((~mask).sum())


def choose_threshold(weights: np.ndarray, w_min: int = -8, w_max: int = 7,
                     max_threshold: int = 4096) -> int:
    """Integer α minimising the squared error of ``clip(round(w·α), w_min, w_max)/α`` vs ``w``.

    α is the weight scale: one weight unit is ``1/α`` of an activity level.
    """
    w = np.asarray(weights, dtype=np.float64).ravel()
    w = w[w != 0]
    if w.size == 0:
        return 1
    best, best_err = 1, np.inf
    for alpha in range(1, max_threshold + 1):
        q = np.clip(np.round(w * alpha), w_min, w_max) / alpha
        err = float(np.sum((q - w) ** 2))
        if err < best_err:
            best, best_err = alpha, err
        if np.abs(w).max() * alpha > 4 * max(abs(w_min), w_max):
            break  # finer steps only clip more
    return best


def quantize_model_weights(model: ElmanClassifier, w_min: int = -8, w_max: int = 7) -> int:
    """Put the recurrent weights on ``w_max − w_min + 1`` integer levels; return α."""
    w = model.recurrent.detach()
    if model.constraints.mask is not None:
        w = w * model.constraints.mask
    alpha = choose_threshold(w.numpy(), w_min, w_max)
    model.constraints.threshold = alpha
    model.constraints.w_min, model.constraints.w_max = w_min, w_max
    return alpha


@torch.no_grad()
def activity_percentile(model: ElmanClassifier, data: Encoded, q: float = 99.0) -> float:
    """The ``q``-th percentile of the non-zero projection and recurrent activities."""
    model.eval()
    values = []
    for idx in batches(data, 256, None):
        sub = data.subset(idx)
        tokens, lengths = torch.from_numpy(sub.tokens), torch.from_numpy(sub.lengths)
        _, act = model(tokens, lengths, return_activity=True)
        x = model.input_activity(tokens)
        valid = torch.arange(tokens.shape[1])[None, :] < lengths[:, None]
        for a in (act[valid], x[valid]):
            a = a[a > 0]
            values.append(a.numpy())
    values = np.concatenate(values)
    return float(np.percentile(values, q)) if values.size else 1.0


@torch.no_grad()
def rescale_activities(model: ElmanClassifier, factor: float) -> None:
    """Multiply every activity by ``factor`` without changing the predictions.

    The recurrent layer has no bias and ReLU is positively homogeneous, so scaling
    the projection by ``factor`` scales all activities by it; the readout weights
    are divided by it.
    """
    model.proj.weight.mul_(factor)
    model.proj.bias.mul_(factor)
    model.readout.weight.div_(factor)


def quantize_model_activities(model: ElmanClassifier, data: Encoded, levels: int = 16,
                              percentile: float = 99.0, carry_residual: bool = True) -> float:
    """Map activities onto ``levels`` integer levels; return the scale factor applied.

    The activity scale is calibrated on ``data`` (training data): the
    ``percentile`` of activity is put at the top level. ``carry_residual``: the
    levels come from a membrane that keeps its leftover between words, as the
    spiking layer's does (see :class:`~rnn2snn.model.elman.Constraints`).
    """
    if model.constraints.threshold is None:
        raise ValueError("quantise the weights before the activities")
    factor = (levels - 1) / max(activity_percentile(model, data, percentile), 1e-6)
    rescale_activities(model, factor)
    model.constraints.activity_levels = levels
    model.constraints.carry_residual = carry_residual
    return factor


def to_integer(model: ElmanClassifier) -> IntegerRNN:
    """Read the integer recurrent layer off a model whose constraints are all on."""
    k = model.constraints
    if k.threshold is None or k.activity_levels is None:
        raise ValueError("to_integer needs quantised weights and activities")
    w = model.effective_recurrent().detach().numpy()
    w = np.rint(w).astype(np.int64)
    p = model.config.proj_dim
    groups = None if k.groups is None else tuple(tuple(int(j) for j in g) for g in k.groups)
    return IntegerRNN(w_in=w[:, :p], w_rec=w[:, p:], threshold=int(k.threshold),
                      levels=int(k.activity_levels), groups=groups,
                      carry_residual=bool(k.carry_residual))


@torch.no_grad()
def input_levels(model: ElmanClassifier, data: Encoded) -> np.ndarray:
    """Integer projection levels (N, L, P) int64 for every example (zero after its end)."""
    model.eval()
    tokens = torch.from_numpy(data.tokens)
    x = model.input_activity(tokens).numpy()
    x = np.rint(x).astype(np.int64)
    valid = np.arange(data.tokens.shape[1])[None, :] < data.lengths[:, None]
    return x * valid[..., None]


@torch.no_grad()
def readout_logits(model: ElmanClassifier, activity: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Class scores (N, C) from recurrent activities (N, L, H) through the model's readout.

    See :func:`~rnn2snn.model.elman.pool_activity` for the readouts (for spikes: the
    counts per word window).
    """
    model.eval()
    act = torch.from_numpy(np.asarray(activity, dtype=np.float32))
    feature = pool_activity(act, torch.from_numpy(np.asarray(lengths)), model.config.readout)
    return model.readout(feature).numpy()

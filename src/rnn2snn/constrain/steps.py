"""The three constraint steps of train-and-constrain, each applied to a trained model.

Each step switches a constraint on in ``model.constraints`` (the caller retrains
afterwards — that is the method): :func:`limit_fan_in`, :func:`quantize_model_weights`,
:func:`quantize_model_activities`. :func:`to_integer` then reads the integer network off.
"""

from __future__ import annotations

import numpy as np
import torch

from rnn2snn.data.sequences import Sequences
from rnn2snn.model.elman import ElmanClassifier, pool_activity
from rnn2snn.model.train import batches
from rnn2snn.program.constraints import TRUENORTH, TargetConstraints
from rnn2snn.program.integer import IntegerRNN


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


def block_fan_in_mask(weights: torch.Tensor, n_inputs: int, n_cores: int, max_fan_in: int = 64,
                      limits: TargetConstraints = TRUENORTH) -> tuple[torch.Tensor, list[list[int]]]:
    """A fan-in mask that spreads the layer over ``n_cores`` cores, and the core groups.

    The H neurons are split into ``n_cores`` contiguous groups; each core gets one
    set of at most ``max_fan_in`` sources (inputs or recurrent neurons), chosen
    greedily by the summed weight magnitude of its neurons, so a core needs at most
    ``4 × max_fan_in`` axons. A recurrent neuron read by ``r`` cores needs up to
    ``4r + 1`` copies on its own core; sources are refused once that would overflow
    the owner's 256 neurons (the target's ``limits``). Returns the bool mask (H, P + H) and
    the groups.
    """
    w = np.abs(weights.detach().cpu().numpy())
    h, n_src = w.shape
    if not 1 <= n_cores <= h:
        raise ValueError(f"cores must lie in 1…{h} (one neuron at least per core), got {n_cores}")
    groups = [g.tolist() for g in np.array_split(np.arange(h), n_cores)]
    owner = np.concatenate([np.full(len(g), c) for c, g in enumerate(groups)])
    score = np.stack([w[g].sum(axis=0) for g in groups])  # (cores, sources)
    # Each further core reading a neuron adds limits.copies(r + 1) − limits.copies(r) copies.
    per_reader = limits.copies(2) - limits.copies(1)
    slots = np.array([(limits.neurons_per_core - len(g)) // per_reader for g in groups])
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


def limit_fan_in(model: ElmanClassifier, max_fan_in: int = 64, cores: int | None = None,
                 limits: TargetConstraints = TRUENORTH) -> int:
    """Prune the recurrent layers to ``max_fan_in`` sources per neuron; return connections pruned.

    With ``cores`` (one layer only), the mask is block-sparse over that many cores
    (:func:`block_fan_in_mask`); otherwise each neuron keeps its own strongest sources.
    Stacked layers are placed one layer a core group (``constraints.groups``).
    """
    c = model.config
    structure = model.structure
    w = model.recurrent.detach() * structure.to(model.recurrent.dtype)
    if cores is None and c.n_layers > 1:
        # Stacked layers: one core each, so each layer keeps one set of ≤ max_fan_in sources
        # (its core's axons), the ones its neurons weigh most, as a block-sparse core does.
        mask = torch.zeros_like(structure)
        for rows in c.layer_slices():
            score = w[rows].abs().sum(0) * structure[rows].any(0)
            keep = torch.argsort(-score, stable=True)[:max_fan_in]
            mask[rows, keep[score[keep] > 0]] = True
        mask &= structure
        model.constraints.groups = [list(range(sl.start, sl.stop)) for sl in c.layer_slices()]
    elif cores is None:
        mask = fan_in_mask(w, max_fan_in) & structure
    else:
        if c.n_layers > 1:
            raise ValueError("cores= spreads one recurrent layer; stacked layers get a core group each")
        mask, groups = block_fan_in_mask(w, c.n_sources, cores, max_fan_in, limits)
        mask = mask & structure
        model.constraints.groups = groups
    model.constraints.mask = mask
    with torch.no_grad():
        model.recurrent.mul_(mask.to(model.recurrent.dtype))
    return int((structure & ~mask).sum())


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


def quantize_model_weights(model: ElmanClassifier, w_min: int = -8, w_max: int = 7) -> list[int]:
    """Put the recurrent weights on ``w_max − w_min + 1`` integer levels; return α of each layer.

    Each layer gets its own α (its weight scale), chosen on its own weights.
    """
    w = (model.recurrent.detach() * model.allowed().to(model.recurrent.dtype)).numpy()
    thresholds = np.zeros(model.config.n_hidden, dtype=np.int64)
    alphas = []
    for rows in model.config.layer_slices():
        alphas.append(choose_threshold(w[rows], w_min, w_max))
        thresholds[rows] = alphas[-1]
    model.constraints.threshold = thresholds
    model.constraints.w_min, model.constraints.w_max = w_min, w_max
    return alphas


@torch.no_grad()
def activity_percentile(model: ElmanClassifier, data: Sequences, q: float = 99.0) -> float:
    """The ``q``-th percentile of the non-zero encoder and recurrent activities."""
    model.eval()
    values = []
    lag = model.config.lag
    for idx in batches(data, 256, None):
        sub = data.subset(idx)
        inputs, lengths = torch.from_numpy(sub.inputs), torch.from_numpy(sub.lengths)
        _, act = model(inputs, lengths, return_activity=True)
        x = model.input_activity(inputs)
        valid = torch.arange(inputs.shape[1])[None, :] < lengths[:, None]
        valid_act = torch.arange(act.shape[1])[None, :] < (lengths + lag)[:, None]
        for a in (act[valid_act], x[valid]):
            a = a[a > 0]
            values.append(a.numpy())
    values = np.concatenate(values)
    return float(np.percentile(values, q)) if values.size else 1.0


@torch.no_grad()
def rescale_activities(model: ElmanClassifier, factor: float, bias_level: float = 1.0) -> None:
    """Multiply every activity by ``factor`` without changing the predictions, and set the
    bias inputs' level to ``bias_level``.

    ReLU is positively homogeneous, so scaling the encoder by ``factor`` (the projection,
    or the sign split's scale) and every bias by it scales all activities by it; the
    bias weights absorb the change of the bias level; the readout weights are divided by
    ``factor``.
    """
    if model.proj is not None:
        model.proj.weight.mul_(factor)
        model.proj.bias.mul_(factor)
    else:
        model.input_scale.mul_(factor)
    c = model.config
    if c.bias:
        cols = slice(c.encoder_dim, c.n_sources)
        model.recurrent[:, cols] *= factor * float(model.bias_level) / bias_level
        model.bias_level.fill_(bias_level)
    model.readout.weight.div_(factor)


def quantize_model_activities(model: ElmanClassifier, data: Sequences, levels: int = 16,
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
    rescale_activities(model, factor, bias_level=float(levels - 1))
    model.constraints.activity_levels = levels
    model.constraints.carry_residual = carry_residual
    return factor


def to_integer(model: ElmanClassifier) -> IntegerRNN:
    """Read the integer network off a model whose constraints are all on."""
    k = model.constraints
    if k.threshold is None or k.activity_levels is None:
        raise ValueError("to_integer needs quantised weights and activities")
    w = np.rint(model.effective_recurrent().detach().numpy()).astype(np.int64)
    s = model.config.n_sources
    groups = None if k.groups is None else tuple(tuple(int(j) for j in g) for g in k.groups)
    return IntegerRNN(w_in=w[:, :s], w_rec=w[:, s:], threshold=np.asarray(k.threshold, dtype=np.int64),
                      levels=int(k.activity_levels), groups=groups,
                      carry_residual=bool(k.carry_residual))


@torch.no_grad()
def input_levels(model: ElmanClassifier, data: Sequences) -> np.ndarray:
    """Integer source levels (N, L + lag, S) int64 of every step: encoder levels (zero after a
    sequence's end) and the bias inputs. Run them for ``data.lengths + lag`` steps."""
    model.eval()
    lengths = torch.from_numpy(data.lengths)
    x = model.input_activity(torch.from_numpy(data.inputs))
    valid = torch.arange(x.shape[1])[None, :] < lengths[:, None]
    x = x * valid[..., None].to(x.dtype)
    return np.rint(model.sources(x, lengths).numpy()).astype(np.int64)


@torch.no_grad()
def readout_logits(model: ElmanClassifier, activity: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Class scores (N, C) from the activities of every neuron (N, L + lag, H) — integer
    activities or spike counts per word window — through the model's readout."""
    model.eval()
    act = torch.from_numpy(np.asarray(activity, dtype=np.float32))
    lengths = torch.from_numpy(np.asarray(lengths))
    last = model.last_layer(act, int(lengths.max()))
    return model.readout(pool_activity(last, lengths, model.config.readout)).numpy()

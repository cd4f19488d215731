"""A user's trained ReLU Elman RNN as the start of the Xylo chain's float rate model.

Why a start and not a conversion: the chip's neuron is not a ReLU (a synaptic low-pass,
a membrane that keeps its inhibition, at most 31 spikes a tick, one tick of delay on every
connection, output neurons that integrate over the whole sequence), so the float stage
(:class:`~rnn2snn.targets.xylo.train.RateXylo`, :class:`~rnn2snn.targets.xylo.features.RateFeatureXylo`)
retrains whatever it starts from. Starting from the user's weights keeps what they learned
where the shapes allow it; the rest starts as the chain's own random start.

Carried over (hidden activities scaled by ``a = min(1, 8 / p99.9)`` of the model's non-zero
activities on the fit set, so they start below the 31-spike cap; the rate model is
positively homogeneous below it):

* ``W_hh`` → the recurrent weights (the chain's layer is dense, every pair kept, unless
  ``settings.members`` > 1 makes it block-diagonal: the result's ``start`` says what is dropped);
  ``b_ih + b_hh`` → the hidden biases (× a).
* the input path → the off-chip encoder and the input weights. The chip reads 16 channels
  of 0..15 events, so the user's input must pass through 16 non-negative channels:
  with a projection of P ≤ 16 units (``Linear`` + ``ReLU``) the projection *is* the encoder
  (its P channels, ``W_ih`` as the input weights): exact up to the 15-event cap (and, for
  features, the rounding to whole events); without a projection, ``W_ih`` is split by its
  singular values into ``r ≤ 8`` directions, each sent as a positive and a negative channel
  (``relu(z)``, ``relu(−z)``, input weights ``+N``, ``−N``): exact when ``W_ih`` has rank ≤ 8,
  else its best rank-8 part (the share of its squared singular values is reported). The
  channels are scaled so that the 99th percentile of their values on the fit set is 8 events.
  A projection wider than 16 is not carried (its ReLU cannot be squeezed into 16 channels):
  the encoder and input weights start random.
* tokens: the embedding → the table's word vectors (fine-tuned with ``XyloSettings.tune_vectors``),
  through the learned map from vectors to events set as above; features: the map is the
  host's feature map, in the chain's normalised units.
* the readout's weights → the output weights, divided by ``a`` × the mean ticks of a fit
  sequence: the output neurons sum the hidden spikes over every tick, so this keeps the
  scale of a mean-pooled readout (the argmax of mean pooling exactly, up to the dynamics).

Not carried: the readout's bias (the chain trains no output bias: it would add on every
tick), and any channel the user's input does not use (it starts silent, its input weights
random, free to train). A word takes ``ticks_per_step`` ticks, each with the same events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from rnn2snn.targets.xylo.train import DTYPE, ENCODER_UNIT

#: Events the 99th percentile of a carried channel's values is scaled to (of 15).
CHANNEL_EVENTS = 8.0
#: The 99.9th percentile of the model's activities is scaled to at most this (of 31 spikes a tick).
HIDDEN_COUNTS = 8.0
#: Sign-split directions at most: 2 channels each, 16 channels in all.
MAX_DIRECTIONS = 8


@dataclass(frozen=True, eq=False)
class ElmanWeights:
    """A one-layer ReLU Elman classifier in torch's orientation (float64):
    ``h_t = relu(w_ih·p_t + w_hh·h_{t−1} + bias)`` with ``p_t = relu(proj_w·e_t + proj_b)`` when
    ``proj_w`` is set, else ``e_t`` (the embedding row of a token, or the feature frame);
    ``logits = w_out·pool(h) + b_out``. ``hidden_p999``: the 99.9th percentile of the model's
    non-zero activities on the fit set."""

    w_ih: np.ndarray  # (H, P)
    w_hh: np.ndarray  # (H, H)
    bias: np.ndarray | None  # (H,); None: the layer has none
    w_out: np.ndarray  # (C, H)
    b_out: np.ndarray  # (C,)
    hidden_p999: float
    proj_w: np.ndarray | None = None  # (P, E)
    proj_b: np.ndarray | None = None  # (P,)
    embedding: np.ndarray | None = None  # (V, E)


@dataclass(frozen=True)
class StartReport:
    """What of the user's model the float stage starts from (one line a part), and what not."""

    carried: tuple[str, ...]
    not_carried: tuple[str, ...]
    hidden_scale: float


@dataclass(frozen=True, eq=False)
class _Channels:
    """Input channels ``relu(e @ weight + bias)`` (m ≤ 16, events) and their input weights (m, H)."""

    weight: np.ndarray
    bias: np.ndarray
    w_in: np.ndarray
    how: str


def _hidden_scale(w: ElmanWeights) -> float:
    return float(min(1.0, HIDDEN_COUNTS / w.hidden_p999)) if w.hidden_p999 > 0 else 1.0


def _channels(w: ElmanWeights, a: float, samples: np.ndarray) -> _Channels | None:
    """The carried input path (module docstring) on inputs ``samples`` (N, E) of the fit set, or None."""
    if w.proj_w is not None:
        if w.proj_w.shape[0] > MAX_DIRECTIONS * 2:
            return None
        weight, bias, n_in = w.proj_w.T, w.proj_b, w.w_ih.T
        how = f"exact: its {w.proj_w.shape[0]} units are the channels"
    else:
        u, s, vt = np.linalg.svd(w.w_ih.T, full_matrices=False)  # (E, H) = U S Vᵀ
        rank = int(np.count_nonzero(s > 1e-12 * max(s[0], 1e-300))) if s.size else 0
        r = max(1, min(MAX_DIRECTIONS, rank))
        m, n = u[:, :r] * np.sqrt(s[:r]), np.sqrt(s[:r])[:, None] * vt[:r]
        weight, bias, n_in = np.hstack([m, -m]), np.zeros(2 * r), np.vstack([n, -n])
        share = float((s[:r] ** 2).sum() / max((s ** 2).sum(), 1e-300))
        how = (f"rank {rank} ≤ {MAX_DIRECTIONS}, exact" if rank <= MAX_DIRECTIONS else
               f"its best rank-{r} part ({100 * share:.1f} % of its squared singular values)")
        how = f"W_ih as {r} signed directions in {2 * r} channels: {how}"
    values = np.maximum(samples @ weight + bias, 0)
    top = float(np.percentile(values[values > 0], 99)) if np.any(values > 0) else 1.0
    scale = CHANNEL_EVENTS / top  # events per unit of the user's channel
    return _Channels(weight * scale, bias * scale, a * n_in / scale, how)


def _set(param: torch.nn.Parameter, values) -> None:
    with torch.no_grad():
        param.copy_(torch.as_tensor(np.asarray(values, np.float64), dtype=DTYPE))


def _recurrent_and_readout(rate, w: ElmanWeights, a: float, mean_ticks: float) -> None:
    _set(rate.w_rec, w.w_hh.T)  # (source, target)
    if w.bias is not None:
        _set(rate.bias, a * w.bias)
    _set(rate.w_out, w.w_out.T / (a * mean_ticks))


def _report(w: ElmanWeights, a: float, channels: _Channels | None, inputs: str) -> StartReport:
    carried = ["W_hh → the recurrent weights" + ("; b_ih + b_hh → the hidden biases" if w.bias is not None
                                                 else " (the layer has no bias)")
               + f"; the activities scaled by {a:.3g} (below the 31-spike cap)",
               "the readout's weights → the output weights (÷ the hidden scale × the mean ticks of a "
               "sequence: the output neurons sum every tick)"]
    not_carried = ["the readout's bias (the chain trains no output bias)",
                   "the ReLU: the chip's neuron differs, so the float stage retrains from this start"]
    if channels is None:
        not_carried.insert(0, f"the projection ({w.proj_w.shape[0]} units, over 16 channels) and W_ih: the "
                              f"{inputs} and the input weights start random")
    else:
        carried.insert(0, f"{'the projection and W_ih' if w.proj_w is not None else 'W_ih'} → the {inputs} "
                          f"and the input weights ({channels.how})")
    return StartReport(tuple(carried), tuple(not_carried), a)


def _mean_ticks(fit, dynamics) -> float:
    return float(np.mean(fit.lengths)) * dynamics.ticks_per_step + dynamics.tail_ticks


def token_start(w: ElmanWeights, fit) -> tuple[Callable, StartReport]:
    """(the ``start`` of :func:`~rnn2snn.targets.xylo.method.convert_for_xylo`, what it carries) for
    a token model; the chain must be given ``XyloSettings(vectors=w.embedding)``."""
    a = _hidden_scale(w)
    valid = np.arange(fit.tokens.shape[1])[None, :] < np.asarray(fit.lengths)[:, None]
    e = w.embedding[np.asarray(fit.tokens)[valid]]
    channels = _channels(w, a, e)

    def start(rate) -> None:
        if rate.vectors is None or rate.vectors.shape != w.embedding.shape:
            raise ValueError("token_start needs the chain's vectors to be the model's embedding")
        _recurrent_and_readout(rate, w, a, _mean_ticks(fit, rate.dynamics))
        if channels is None:
            return
        k, n_in = rate.encoder.shape[1:]
        m = channels.weight.shape[1]
        vec_map = np.zeros((w.embedding.shape[1], k, n_in))
        vec_map[:, :, :m] = channels.weight[:, None, :] / ENCODER_UNIT  # the same events on every tick
        offset = np.zeros((k, n_in))
        offset[:, :m] = channels.bias / ENCODER_UNIT
        _set(rate.vec_map, vec_map.reshape(len(vec_map), -1))
        with torch.no_grad():
            rate.encoder[0] = torch.as_tensor(offset, dtype=DTYPE)  # the map's offset
            rate.w_in[:m] = torch.as_tensor(channels.w_in, dtype=DTYPE)

    return start, _report(w, a, channels, "token table's map from vectors to events")


def feature_start(w: ElmanWeights, fit) -> tuple[Callable, StartReport]:
    """(the ``start`` of :func:`~rnn2snn.targets.xylo.features.convert_features_for_xylo`, what it
    carries) for a feature model."""
    a = _hidden_scale(w)
    valid = np.arange(fit.features.shape[1])[None, :] < np.asarray(fit.lengths)[:, None]
    channels = _channels(w, a, fit.features[valid])

    def start(rate) -> None:
        _recurrent_and_readout(rate, w, a, _mean_ticks(fit, rate.dynamics))
        if channels is None:
            return
        m = channels.weight.shape[1]
        # the chain's encoder reads (x − mean) / std: x @ W + b = x_norm @ (std·W) + (mean @ W + b)
        mean, std = rate.encoder.mean.numpy(), rate.encoder.std.numpy()
        weight, bias = np.zeros(rate.encoder.weight.shape), np.zeros(rate.encoder.bias.shape)
        weight[:, :m] = std[:, None] * channels.weight
        bias[:m] = mean @ channels.weight + channels.bias
        _set(rate.encoder.weight, weight)
        _set(rate.encoder.bias, bias)
        with torch.no_grad():
            rate.w_in[:m] = torch.as_tensor(channels.w_in, dtype=DTYPE)

    return start, _report(w, a, channels, "host feature map")

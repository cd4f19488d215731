"""Xylo's tick, as the chip computes it: the one NumPy implementation, over a batch (B, N).

Every rule below is read from xylosim 0.1.3's C++ source (``src/v2/cpp/XyloLayer.cpp`` and
``XyloIAFNeuron.cpp``, the bit-accurate simulator SynSense publishes) and checked against
it by ``tests/xylo``. One tick (:func:`tick`):

1. **Delivery.** The input channels' events (counts clipped to 15), in channel order, and
   then the previous tick's hidden spikes (counts up to 31), in neuron order, add
   ``w << shift`` to the target's synaptic current ``Isyn`` — the shifted weight truncated
   to 16 bits (``127 << 9`` wraps to ``-512``), **saturating at ±2¹⁵ after each event**
   (``safe_add``). The previous tick's hidden spikes reach the output neurons the same way
   (so recurrence and readout take one tick; input reaches the hidden layer in the same tick).
2. **Synaptic decay.** ``Isyn -= d(Isyn, dash_syn)`` with ``d(v, k) = v >> k`` (arithmetic
   shift: ``-3 >> 1 = -2``) or ``sign(v)`` where that is 0 — at least one unit toward 0.
   ``dash_syn = 0`` therefore clears the current every tick.
3. **Membrane.** ``dv = sat(-d(Vmem, dash_mem) + ΣIsyn)``, ``dv = sat(dv + bias)``,
   ``Vmem = sat(Vmem + dv)`` (``sat`` clamps to 16 bits; ``-d`` is taken in 16 bits, so
   ``Vmem = -2¹⁵`` with ``dash_mem = 0`` gives ``-2¹⁵`` again, as the C++ does).
4. **Spikes.** While ``Vmem >= threshold`` and fewer than the maximum (31 hidden, 1 output):
   a spike, ``Vmem -= threshold`` (subtractive reset).

Why per event: a sum saturated once per tick differs from xylosim where a partial sum
crosses ±2¹⁵. :func:`receive` adds all events at once where no ordering of them can reach
the bounds (checked per neuron from the sums of its positive and negative inputs) and
replays the events in source order (:func:`replay`) only for the neurons where it could.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATE_MIN = -(1 << 15)
STATE_MAX = (1 << 15) - 1
MAX_INPUT_COUNT = 15
MAX_HIDDEN_SPIKES = 31
MAX_OUTPUT_SPIKES = 1


def wrap16(values: np.ndarray) -> np.ndarray:
    """``values`` truncated to signed 16 bits, as a C++ conversion to ``int16_t`` does."""
    return ((np.asarray(values, np.int64) - STATE_MIN) & 0xFFFF) + STATE_MIN


def shifted(weights: np.ndarray, shift: int) -> np.ndarray:
    """The weights the chip adds: ``w << shift`` truncated to 16 bits (int64)."""
    return wrap16(np.asarray(weights, np.int64) << int(shift))


def decay(values: np.ndarray, dash: np.ndarray) -> np.ndarray:
    """The decrement of a bit-shift decay: ``v >> dash``, or ``sign(v)`` where that is 0."""
    step = np.right_shift(values, dash)
    return np.where(step == 0, np.sign(values), step)


def saturate(values: np.ndarray) -> np.ndarray:
    return np.clip(values, STATE_MIN, STATE_MAX)


@dataclass(frozen=True, eq=False)
class Synapses:
    """One weight matrix (K sources, N targets; shifted, int64) in the forms :func:`receive` uses."""

    weights: np.ndarray
    positive: np.ndarray  # float64 max(w, 0): sums of the excitation, exact
    negative: np.ndarray  # float64 min(w, 0)
    index: np.ndarray  # (N, F): each target's sources with a non-zero weight, in source order
    value: np.ndarray  # (N, F): their weights (padded with 0)

    @classmethod
    def of(cls, weights: np.ndarray) -> Synapses:
        weights = np.asarray(weights, np.int64)
        nonzero = weights != 0
        width = max(1, int(nonzero.sum(axis=0).max(initial=0)))
        index = np.argsort(~nonzero, axis=0, kind="stable")[:width].T
        return cls(weights=weights, positive=np.maximum(weights, 0).astype(np.float64),
                   negative=np.minimum(weights, 0).astype(np.float64), index=index,
                   value=np.take_along_axis(weights.T, index, axis=1))


def receive(current: np.ndarray, counts: np.ndarray, synapses: Synapses | np.ndarray) -> np.ndarray:
    """``current`` (B, N) after ``counts`` (B, K) events from K sources through ``synapses`` (K, N).

    Sources are taken in order, each source's events one after another, saturating after
    each (xylosim's ``deliver_spikes``); the events of one source all add the same weight,
    so they saturate together and ``clip(x + c·w)`` is exact for them. The weights are
    already shifted; the sums are float64 (exact: |sums| < 2³¹).
    """
    if not isinstance(synapses, Synapses):
        synapses = Synapses.of(synapses)
    counts_f = counts.astype(np.float64)
    up = (counts_f @ synapses.positive).astype(np.int64)
    down = (counts_f @ synapses.negative).astype(np.int64)
    result = current + up + down
    risky = (current + up > STATE_MAX) | (current + down < STATE_MIN)
    if risky.any():
        rows, cols = np.nonzero(risky)
        for start in range(0, len(rows), _REPLAY_CHUNK):
            r, c = rows[start: start + _REPLAY_CHUNK], cols[start: start + _REPLAY_CHUNK]
            # (R, F): each source's increment, in source order (a zero weight adds nothing)
            steps = counts[r[:, None], synapses.index[c]] * synapses.value[c]
            result[r, c] = replay(current[r, c], steps)
    return result


_REPLAY_CHUNK = 8192


def replay(start: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``start`` (R,) after adding ``steps`` (R, K) one column at a time, saturating after each.

    Each step is the map ``x → clip(x + d, MIN, MAX)``; maps ``x → clip(x + D, lo, hi)``
    are closed under composition — ``g∘f`` has ``D = D_f + D_g``, ``lo = clip(lo_f + D_g,
    lo_g, hi_g)``, ``hi = clip(hi_f + D_g, lo_g, hi_g)`` — so the K steps are composed
    pairwise in log₂K vectorised rounds instead of K sequential ones.
    """
    shift = steps.astype(np.int64)
    low = np.full(shift.shape, STATE_MIN, np.int64)
    high = np.full(shift.shape, STATE_MAX, np.int64)
    while shift.shape[1] > 1:
        if shift.shape[1] % 2:  # pad with the identity map (exact for states in range)
            shift, low, high = (np.pad(a, ((0, 0), (0, 1)), constant_values=v)
                                for a, v in ((shift, 0), (low, STATE_MIN), (high, STATE_MAX)))
        d_g, lo_g, hi_g = shift[:, 1::2], low[:, 1::2], high[:, 1::2]
        low = np.clip(low[:, 0::2] + d_g, lo_g, hi_g)
        high = np.clip(high[:, 0::2] + d_g, lo_g, hi_g)
        shift = shift[:, 0::2] + d_g
    if shift.shape[1] == 0:
        return start
    return np.clip(start + shift[:, 0], low[:, 0], high[:, 0])


def integrate(isyn: np.ndarray, vmem: np.ndarray, dash_syn: np.ndarray, dash_mem: np.ndarray,
              bias: np.ndarray, threshold: np.ndarray, max_spikes: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 2–4 of a tick (decay, membrane, spikes) for currents ``isyn`` (S, B, N) and ``vmem`` (B, N).

    ``dash_syn`` is (S, N); the other parameters (N,). Returns the new ``isyn``, ``vmem``
    and the spike counts (B, N).
    """
    isyn = isyn - decay(isyn, dash_syn[:, None, :])
    dv = wrap16(-decay(vmem, dash_mem))
    dv = saturate(dv + isyn.sum(axis=0))
    dv = saturate(dv + bias)
    vmem = saturate(vmem + dv)
    return (isyn, *fire(vmem, threshold, max_spikes))


def fire(vmem: np.ndarray, threshold: np.ndarray, max_spikes: int) -> tuple[np.ndarray, np.ndarray]:
    """Subtractive reset: ``(vmem, spikes)`` after spiking while ``vmem >= threshold``, up to ``max_spikes``.

    Closed form for thresholds >= 1 (what :func:`~rnn2snn.targets.xylo.spec.validate`
    allows); a threshold <= 0 (which xylosim accepts) is replayed spike by spike, the
    subtraction truncated to 16 bits as the C++ does.
    """
    positive = threshold >= 1
    safe = np.where(positive, threshold, 1)
    spikes = np.where(positive, np.clip(vmem // safe, 0, max_spikes), 0)
    vmem = vmem - spikes * np.where(positive, threshold, 0)
    if not positive.all():
        cols = ~positive
        v, th, n = vmem[..., cols], threshold[cols], spikes[..., cols]
        for _ in range(max_spikes):
            up = v >= th
            n = n + up
            v = np.where(up, wrap16(v - th), v)
        vmem[..., cols], spikes[..., cols] = v, n
    return vmem, spikes


@dataclass(frozen=True, eq=False)
class Core:
    """A spec's parameters in the form :func:`tick` uses (shifted int64 weights; built once per run)."""

    hidden: tuple[Synapses, ...]  # per synapse: (Nin + Nh, Nh), input rows then recurrent rows
    out: Synapses  # (Nh, Nout)
    dash_syn: np.ndarray  # (S, Nh)
    dash_mem: np.ndarray
    bias: np.ndarray
    threshold: np.ndarray
    dash_syn_out: np.ndarray  # (1, Nout)
    dash_mem_out: np.ndarray
    bias_out: np.ndarray
    threshold_out: np.ndarray

    @classmethod
    def from_spec(cls, spec) -> Core:
        """From a :class:`~rnn2snn.targets.xylo.spec.XyloSpec`."""
        w_in = shifted(spec.weights_in, spec.weight_shift_in)
        w_rec = shifted(spec.weights_rec, spec.weight_shift_rec)
        w_hidden = np.concatenate([w_in, w_rec], axis=0).transpose(2, 0, 1)
        dash_syn = np.stack([spec.dash_syn, spec.dash_syn_2])[: spec.n_synapses]
        return cls(hidden=tuple(Synapses.of(w) for w in w_hidden),
                   out=Synapses.of(shifted(spec.weights_out, spec.weight_shift_out)),
                   dash_syn=dash_syn, dash_mem=spec.dash_mem, bias=spec.bias, threshold=spec.threshold,
                   dash_syn_out=spec.dash_syn_out[None, :], dash_mem_out=spec.dash_mem_out,
                   bias_out=spec.bias_out, threshold_out=spec.threshold_out)


@dataclass(frozen=True, eq=False)
class State:
    """Everything the chip carries from one tick to the next, for B examples (int64)."""

    isyn: np.ndarray  # (S, B, Nh)
    vmem: np.ndarray  # (B, Nh)
    spikes: np.ndarray  # (B, Nh): this tick's hidden spikes, delivered next tick
    isyn_out: np.ndarray  # (1, B, Nout)
    vmem_out: np.ndarray  # (B, Nout)
    out_spikes: np.ndarray  # (B, Nout)

    @classmethod
    def zeros(cls, core: Core, batch: int) -> State:
        n_syn, n_h, n_out = len(core.hidden), core.hidden[0].weights.shape[1], core.out.weights.shape[1]
        z = np.zeros
        return cls(isyn=z((n_syn, batch, n_h), np.int64), vmem=z((batch, n_h), np.int64),
                   spikes=z((batch, n_h), np.int64), isyn_out=z((1, batch, n_out), np.int64),
                   vmem_out=z((batch, n_out), np.int64), out_spikes=z((batch, n_out), np.int64))


def tick(core: Core, state: State, counts: np.ndarray) -> State:
    """One tick of the whole core: input ``counts`` (B, Nin) this tick → the new state."""
    sources = np.concatenate([np.minimum(counts, MAX_INPUT_COUNT), state.spikes], axis=1)
    isyn = np.stack([receive(state.isyn[s], sources, synapses) for s, synapses in enumerate(core.hidden)])
    isyn_out = receive(state.isyn_out[0], state.spikes, core.out)[None]
    isyn, vmem, spikes = integrate(isyn, state.vmem, core.dash_syn, core.dash_mem, core.bias,
                                   core.threshold, MAX_HIDDEN_SPIKES)
    isyn_out, vmem_out, out_spikes = integrate(isyn_out, state.vmem_out, core.dash_syn_out, core.dash_mem_out,
                                               core.bias_out, core.threshold_out, MAX_OUTPUT_SPIKES)
    return State(isyn=isyn, vmem=vmem, spikes=spikes, isyn_out=isyn_out, vmem_out=vmem_out,
                 out_spikes=out_spikes)

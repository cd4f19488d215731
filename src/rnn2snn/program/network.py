"""Conversion of the integer recurrent layer to TrueNorth neurons, and its network-level simulation.

Time: word ``k`` of a question owns ticks ``[k·T, (k+1)·T)``
(:class:`~rnn2snn.clock.WordClock`). An input level ``c`` becomes ``c`` spikes in
that window, placed by a *schedule*. A recurrent spike
fired at tick ``t`` arrives at tick ``t + d``. Every weight is split over the four
axon types ``S = (1, 2, 4, −8)`` as on the chip (:func:`split_weights`); each type
group has its own input schedule and recurrent delay, which is how the converted
network orders inhibition before excitation inside a window.

The neuron update is :func:`rnn2snn.program.neuron.step`; this module only routes spikes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from rnn2snn.batching import BATCH_SIZE, concat, map_batches
from rnn2snn.clock import WordClock
from rnn2snn.errors import HardwareLimitError
from rnn2snn.program import limits as L
from rnn2snn.program.integer import IntegerRNN
from rnn2snn.program.neuron import RESET_LINEAR, NeuronParams, step

TYPE_WEIGHTS = (1, 2, 4, -8)
SCHEDULES = ("early", "late", "spread")


def split_weights(w: np.ndarray, type_weights=TYPE_WEIGHTS) -> np.ndarray:
    """Binary crossbar bits (4, ...) with ``Σ_g bits[g]·S_g = w`` for ``w`` in −8…7.

    The −8 type carries the sign; the three positive types the remainder in binary.
    """
    w = np.asarray(w, dtype=np.int64)
    if tuple(type_weights) != TYPE_WEIGHTS:
        raise ValueError(f"only the type weights {TYPE_WEIGHTS} are supported")
    if w.size and (w.min() < -8 or w.max() > 7):
        raise HardwareLimitError(
            f"weights {int(w.min())}…{int(w.max())} do not fit 16 levels −8…7 on 4 axon types"
        )
    neg = (w < 0).astype(np.int64)
    rest = w + 8 * neg
    return np.stack([rest & 1, (rest >> 1) & 1, (rest >> 2) & 1, neg])


def schedule_mask(levels: np.ndarray, ticks: int, schedule: str) -> np.ndarray:
    """Spike or not (bool, ``levels.shape + (ticks,)``) for each tick of a window.

    ``early``: ticks 0…c−1; ``late``: ticks T−c…T−1; ``spread``: evenly spaced.
    """
    c = np.asarray(levels, dtype=np.int64)[..., None]
    s = np.arange(ticks)
    if schedule == "early":
        return s < c
    if schedule == "late":
        return s >= ticks - c
    if schedule == "spread":
        return ((s + 1) * c) // ticks - (s * c) // ticks > 0
    raise ValueError(f"input schedule must be one of {SCHEDULES}, got {schedule!r}")


def spike_trains(levels: np.ndarray, lengths: np.ndarray | None, clock: WordClock,
                 schedule: str) -> np.ndarray:
    """Input spikes (B, ticks, P) bool of levels (B, L, P): word ``k`` fills its window by
    ``schedule`` (:func:`schedule_mask`); words at or past ``lengths`` (when given) and the
    flush ticks send nothing — the one rule of every port adapter (placement, Norse)."""
    x = np.asarray(levels, dtype=np.int64)
    batch, steps, n = x.shape
    if lengths is not None:
        x = np.where((np.arange(steps)[None, :] < np.asarray(lengths)[:, None])[..., None], x, 0)
    T = clock.ticks_per_word
    out = np.zeros((batch, clock.total_ticks(steps), n), dtype=bool)
    out[:, : steps * T] = schedule_mask(x, T, schedule).transpose(0, 1, 3, 2).reshape(batch, steps * T, n)
    return out


@dataclass(frozen=True)
class SpikingConfig:
    """How the integer network becomes spiking (ticks and delays in ticks of 1 ms).

    ticks_per_word : T, ticks per word (≥ levels − 1 so a neuron can emit every level).
    delay : d, recurrent delay of the excitatory types (0, 1, 2).
    neg_delay : recurrent delay of the inhibitory type (3).
    input_schedule, neg_input_schedule : placement of input spikes in the window
        on the excitatory and the inhibitory axons.
    neg_threshold : β; ``None`` means β = α. With ``neg_saturate`` the potential
        never goes below −β, which bounds the inhibition one word leaves to the next.
    flush_ticks : extra ticks after the last word, counted as the last word's (0: the
        recurrent loop would go on computing with no input; measured to add mismatch).
    reset_mode : after a spike, 1 (linear: subtract α, TrueNorth-exact conversion) or 0
        (to zero: what NIR importers such as Norse do, ``--target nir``).
    """

    ticks_per_word: int = 15
    delay: int = 15
    neg_delay: int = 15
    input_schedule: str = "early"
    neg_input_schedule: str = "early"
    neg_threshold: int | None = None
    neg_saturate: int = 1
    flush_ticks: int = 0
    reset_mode: int = RESET_LINEAR

    def validate(self, levels: int = 16) -> None:
        if self.ticks_per_word < levels - 1:
            raise HardwareLimitError(
                f"ticks_per_word={self.ticks_per_word} is below levels − 1 = {levels - 1}: "
                f"a neuron fires at most once a tick, so it could not emit every level"
            )
        for name in ("delay", "neg_delay"):
            L.check_range(name, getattr(self, name), L.DELAY_MIN, L.DELAY_MAX)
        for name in ("input_schedule", "neg_input_schedule"):
            if getattr(self, name) not in SCHEDULES:
                raise ValueError(f"{name} must be one of {SCHEDULES}, got {getattr(self, name)!r}")
        if self.flush_ticks < 0:
            raise ValueError(f"flush_ticks must be ≥ 0, got {self.flush_ticks}")
        if self.reset_mode not in (0, 1):
            raise ValueError(f"reset_mode must be 0 (to zero) or 1 (linear), got {self.reset_mode}")

    @property
    def clock(self) -> WordClock:
        return WordClock(self.ticks_per_word, self.flush_ticks)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SpikingRNN:
    """A converted recurrent layer: crossbar bits per type, neurons, timing.

    bits : int64 (4, H, P + H), binary; ``Σ_g S_g · bits[g]`` is the integer weight.
    neurons : NeuronParams (H,).
    """

    bits: np.ndarray
    neurons: NeuronParams
    config: SpikingConfig
    n_inputs: int
    levels: int = 16
    groups: tuple[tuple[int, ...], ...] | None = None  # recurrent neurons of each core

    @property
    def n_hidden(self) -> int:
        return self.bits.shape[1]


def convert(net: IntegerRNN, config: SpikingConfig = SpikingConfig()) -> SpikingRNN:
    """Integer network → spiking network with linear-reset IF neurons of threshold α.

    The neuron's threshold is the integer network's α; with linear reset a neuron
    whose window input sums to ``I ≥ 0`` (and arrives in time) emits ``floor(I/α)``
    spikes, which is the integer activity, and keeps the remainder for the next
    word, as the integer network does with ``carry_residual``.
    """
    config.validate(net.levels)
    beta = net.threshold if config.neg_threshold is None else config.neg_threshold
    neurons = NeuronParams.make(net.n_hidden, threshold=net.threshold, neg_threshold=beta,
                                reset_mode=config.reset_mode, reset_value=0,
                                neg_saturate=config.neg_saturate)
    return SpikingRNN(bits=split_weights(net.weights), neurons=neurons, config=config,
                      n_inputs=net.n_inputs, levels=net.levels, groups=net.groups)


@dataclass
class SpikeRecord:
    """Result of a simulation.

    counts : int64 (B, L, H) spikes per word window (the last window includes the
        flush ticks). raster : bool (B, ticks, H) or None. (Synaptic events on the
        chip, copies included, are counted by the core-level simulator.)
    """

    counts: np.ndarray
    raster: np.ndarray | None
    ticks: int

    @staticmethod
    def joined(parts: list[SpikeRecord]) -> SpikeRecord:
        """One record from the records of consecutive batches (same ticks)."""
        return SpikeRecord(counts=concat([p.counts for p in parts]), raster=concat([p.raster for p in parts]),
                           ticks=parts[0].ticks)


def simulate(net: SpikingRNN, x: np.ndarray, lengths: np.ndarray, record: bool = False,
             rng: np.random.Generator | None = None, batch_size: int = BATCH_SIZE) -> SpikeRecord:
    """Run questions through the spiking layer, ``batch_size`` at a time.

    x : int64 (B, L, P) input levels (0…levels−1); lengths : (B,) words per question.
    Inputs after a question's end are ignored; its counts are read up to its own end.
    ``record``: return the spikes of every tick (``raster``, (B, ticks, H): ask only for the
    questions you will look at). Questions are independent, so batches give exactly what one
    run over all gives; a stochastic run (``rng``) is one batch, its draws follow the shape.
    """
    x = np.asarray(x, dtype=np.int64)
    batch, _, n_in = x.shape
    if n_in != net.n_inputs:
        raise ValueError(f"x has {n_in} inputs per word, the network {net.n_inputs}")
    if x.size and (x.min() < 0 or x.max() > net.levels - 1):
        raise ValueError(f"input levels must lie in 0…{net.levels - 1}")
    lengths = np.asarray(lengths, dtype=np.int64)
    size = max(batch, 1) if rng is not None else batch_size
    return SpikeRecord.joined(map_batches(
        lambda rows: _simulate_batch(net, x[rows], lengths[rows], record, rng), batch, size))


def _simulate_batch(net: SpikingRNN, x: np.ndarray, lengths: np.ndarray, record: bool,
                    rng: np.random.Generator | None) -> SpikeRecord:
    """:func:`simulate` of one batch (all its questions in parallel).

    Without ``record`` the batch runs only up to its longest question (its flush included):
    the counts read nothing later, and the rest of the padding is not simulated.
    """
    cfg = net.config
    batch, full_steps, n_in = x.shape
    steps = full_steps
    if not record and batch and lengths.min() >= 1:
        steps = min(full_steps, int(lengths.max()))
        x = x[:, :steps]
    T, h = cfg.ticks_per_word, net.n_hidden
    # Weight of each type group: excitatory types 0-2 and the inhibitory type 3.
    w_pos = np.tensordot(np.array(TYPE_WEIGHTS[:3]), net.bits[:3], axes=1)  # (H, P+H)
    w_neg = TYPE_WEIGHTS[3] * net.bits[3]
    # The input drive of every tick is known in advance: one matrix product for all of it.
    groups = [(cfg.input_schedule, w_pos[:, :n_in]), (cfg.neg_input_schedule, w_neg[:, :n_in])]
    if cfg.input_schedule == cfg.neg_input_schedule:
        groups = [(cfg.input_schedule, w_pos[:, :n_in] + w_neg[:, :n_in])]
    # Only the words inside each question carry input; layout (word, tick, B, H) so
    # that every tick's slice is contiguous.
    word, question = np.nonzero(np.arange(steps)[:, None] < lengths[None, :])
    drive = np.zeros((steps, T, batch, h), dtype=np.float32)
    for schedule, w in groups:
        mask = schedule_mask(x[question, word], T, schedule).astype(np.float32)  # (n, P, T)
        drive[word, :, question] += mask.transpose(0, 2, 1) @ w.T.astype(np.float32)
    drive = drive.reshape(steps * T, batch, h)  # float32 holding small integers: exact
    wrec = {cfg.delay: w_pos[:, n_in:].T.astype(np.float32)}
    wrec[cfg.neg_delay] = wrec.get(cfg.neg_delay, 0) + w_neg[:, n_in:].T.astype(np.float32)
    total_ticks = cfg.clock.total_ticks(steps)
    drive = np.concatenate([drive, np.zeros((cfg.flush_ticks, batch, h), dtype=np.float32)])
    v = np.zeros((batch, h), dtype=np.int64)
    raster = np.zeros((total_ticks, batch, h), dtype=bool)
    # Spikes reach their targets d ≥ min(d) ticks later, so the recurrent input of the next
    # min(d) ticks is already known: one matrix product per chunk instead of one per tick.
    chunk = min(wrec)
    for t0 in range(0, total_ticks, chunk):
        t1 = min(t0 + chunk, total_ticks)
        syn = drive[t0:t1].copy()
        for d, w in wrec.items():
            lo, hi = max(t0 - d, 0), t1 - d
            if hi > lo:
                syn[t1 - t0 - (hi - lo):] += raster[lo:hi].astype(np.float32) @ w
        syn = syn.astype(np.int64)
        for t in range(t0, t1):
            spikes, v = step(v, syn[t - t0], net.neurons, rng)
            raster[t] = spikes
    counts = np.zeros((batch, full_steps, h), dtype=np.int64)
    counts[:, :steps] = cfg.clock.counts(raster, lengths, tick_major=True)
    return SpikeRecord(counts=counts, raster=raster.transpose(1, 0, 2) if record else None,
                       ticks=cfg.clock.total_ticks(full_steps))

"""The translation of a TrueNorth configuration into SANA-FE's terms (neurons, relays,
delays, ports, time offset), checked before anything runs; see :mod:`rnn2snn.targets.truenorth.sanafe`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnn2snn.errors import HardwareLimitError, Rnn2SnnError
from rnn2snn.program.neuron import RESET_LINEAR, RESET_NONE, RESET_TO_VALUE
from rnn2snn.targets.truenorth import limits as L
from rnn2snn.targets.truenorth.config import NO_TARGET, NetworkConfig
from rnn2snn.targets.truenorth.power import ENERGY_PER_SYNAPTIC_EVENT

INSTALL_HINT = "pip install -e '.[crosscheck]'"
HOP_MAX = 6  # one SANA-FE hop: 1 step to the dendrite + a dendrite delay of at most 5
DENDRITE_MAX = 1024  # neurons a SANA-FE accumulator dendrite unit can hold (its compartment arrays)
EVENT_ENERGY = ENERGY_PER_SYNAPTIC_EVENT.value  # J per crossbar synaptic event
_RESET_NAMES = {RESET_TO_VALUE: "hard", RESET_LINEAR: "soft", RESET_NONE: "none"}


class SanafeUnavailableError(Rnn2SnnError, ImportError):
    """SANA-FE is not installed."""


class SanafeInputError(Rnn2SnnError, ValueError):
    """Port spikes or run lengths that do not fit the configuration."""


# --------------------------------------------------------------------------- translation


@dataclass
class _Group:
    """Neurons of one kind on one core: ``tn`` (TrueNorth), ``relay`` or ``input``."""

    kind: str
    core: int
    attrs: list[dict] = field(default_factory=list)  # per neuron (tn, relay); input: empty dicts

    @property
    def size(self) -> int:
        return len(self.attrs)


@dataclass(frozen=True)
class _FinalHop:
    """How the spikes feeding one axon reach its crossbar (for events in flight at the end).

    Direct (one neuron source): the source ``(core, neuron)`` with total delay ``delay``;
    its last hop is sent ``last`` ticks before delivery. OR relay: ``sources`` lists
    ``(core, neuron, delay)``; the relay sends one tick before delivery.
    """

    n_targets: int
    source: tuple[int, int] | None = None
    delay: int = 0
    last: int = 0
    sources: tuple[tuple[int, int, int], ...] = ()


@dataclass
class SanafePlan:
    """A configuration translated into SANA-FE terms (plain Python; built without SANA-FE).

    groups : name → :class:`_Group` (``n{c}`` TrueNorth neurons, ``r{c}`` relays, ``i{c}``
        input neurons of core ``c``).
    edges : (source group, destination group) → lists of pairs, weights, dendrite delays.
    port_neuron : per input port, (group, index, lead) — its spike for tick ``t`` is
        emitted ``lead`` steps before ``t + K``.
    k : TrueNorth tick ``t`` is SANA-FE step ``t + k``.
    """

    groups: dict[str, _Group]
    edges: dict[tuple[str, str], tuple[list, list, list]]
    port_neuron: list[tuple[str, int, int]]
    k: int
    final_hops: list[_FinalHop]
    n_cores: int
    ports_per_core: list[int]

    @property
    def relays(self) -> int:
        return sum(g.size for g in self.groups.values() if g.kind == "relay")


def _hop_parts(delay: int) -> list[int]:
    """Split a delay into hops of 1…6 ticks, long hops first (15 → 6, 6, 3)."""
    n = -(-delay // HOP_MAX)
    return [HOP_MAX] * (n - 1) + [delay - HOP_MAX * (n - 1)]


def _tn_attrs(config: NetworkConfig) -> list[list[dict]]:
    """SANA-FE soma attributes of every neuron; refuses what SANA-FE cannot run exactly."""
    out = []
    for c, core in enumerate(config.cores):
        p = core.neurons
        where = f"core {c}"
        attrs = []
        for j in range(core.n_neurons):
            at = f"{where}, neuron {j}"
            if p.threshold_mask[j] != 0:
                raise HardwareLimitError(f"{at}: a stochastic threshold (threshold_mask="
                                         f"{int(p.threshold_mask[j])}) cannot be reproduced in SANA-FE")
            if p.stochastic_leak[j] and p.leak[j] != 0:
                raise HardwareLimitError(f"{at}: a stochastic leak cannot be reproduced in SANA-FE")
            if core.stochastic_synapse[j].any() and core.crossbar[:, j].any():
                raise HardwareLimitError(f"{at}: stochastic synapses cannot be reproduced in SANA-FE")
            if p.leak_reversal[j] and p.leak[j] != 0:
                raise HardwareLimitError(
                    f"{at}: leak reversal (SANA-FE takes the leak's sign before integrating the input, "
                    f"TrueNorth after)")
            gamma, kappa = int(p.reset_mode[j]), int(p.neg_saturate[j])
            a = {"threshold": int(p.threshold[j]), "reset_mode": _RESET_NAMES[gamma],
                 "reset": int(p.reset_value[j]), "bias": int(p.leak[j])}
            beta = int(p.neg_threshold[j])
            if kappa == 1:
                a.update(reverse_threshold=-beta, reverse_reset_mode="saturate")
            elif gamma == RESET_LINEAR:
                raise HardwareLimitError(
                    f"{at}: linear reset with a non-saturating negative threshold (neg_saturate=0): "
                    f"SANA-FE's soft reverse reset computes V − β − 1, TrueNorth V + β")
            else:
                a.update(reverse_threshold=-beta - 1, reverse_reset=-int(p.reset_value[j]),
                         reverse_reset_mode=_RESET_NAMES[gamma])
            attrs.append(a)
        out.append(attrs)
    return out


RELAY_ATTRS = {"threshold": 1, "reset_mode": "hard", "reset": 0, "reverse_threshold": 0,
               "reverse_reset_mode": "none"}


def plan(config: NetworkConfig) -> SanafePlan:
    """Translate ``config`` (see the module docstring); raises on what cannot be exact."""
    n_cores = len(config.cores)
    groups: dict[str, _Group] = {}
    for c, attrs in enumerate(_tn_attrs(config)):
        groups[f"n{c}"] = _Group("tn", c, attrs)
        groups[f"r{c}"] = _Group("relay", c)
        groups[f"i{c}"] = _Group("input", c)
    edges: dict[tuple[str, str], tuple[list, list, list]] = {}

    def connect(src: tuple[str, int], dst: tuple[str, int], weight: int, delay: int) -> None:
        pairs, weights, delays = edges.setdefault((src[0], dst[0]), ([], [], []))
        pairs.append((src[1], dst[1]))
        weights.append(int(weight))
        delays.append(int(delay))

    def new_relay(c: int) -> tuple[str, int]:
        g = groups[f"r{c}"]
        g.attrs.append(RELAY_ATTRS)
        return f"r{c}", g.size - 1

    def chain(src: tuple[str, int], core: int, delay: int) -> tuple[tuple[str, int], int]:
        """Relays for all hops but the last; returns the last sender and the last hop."""
        parts = _hop_parts(delay)
        for part in parts[:-1]:
            relay = new_relay(core)
            connect(src, relay, 1, part - 1)
            src = relay
        return src, parts[-1]

    # sources of every axon: neurons (core, neuron, delay) and ports
    neuron_src: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for c, core in enumerate(config.cores):
        for j in np.flatnonzero(core.target_core != NO_TARGET):
            key = (int(core.target_core[j]), int(core.target_axon[j]))
            neuron_src.setdefault(key, []).append((c, int(j), int(core.target_delay[j])))
    port_src: dict[tuple[int, int], list[int]] = {}
    for k, p in enumerate(config.inputs):
        port_src.setdefault((p.core, p.index), []).append(k)
    shared = {key for key in set(neuron_src) | set(port_src)
              if len(neuron_src.get(key, ())) + len(port_src.get(key, ())) > 1}
    k_offset = 3 if any(key in shared for key in port_src) else 2

    port_neuron: list[tuple[str, int, int] | None] = [None] * len(config.inputs)
    for k, p in enumerate(config.inputs):
        g = groups[f"i{p.core}"]
        g.attrs.append({})
        port_neuron[k] = (f"i{p.core}", g.size - 1, 2 if (p.core, p.index) in shared else 1)

    final_hops = []
    for c, core in enumerate(config.cores):
        for a in range(core.n_axons):
            targets = np.flatnonzero(core.crossbar[a])
            key = (c, a)
            if not len(targets) or key not in neuron_src and key not in port_src:
                continue
            weights = core.type_weights[targets, core.axon_types[a]]
            if key in shared:
                for sc, sj, d in neuron_src.get(key, ()):
                    if d < 2:
                        raise HardwareLimitError(
                            f"core {sc}, neuron {sj}: delay {d} to axon {a} of core {c}, which "
                            f"{len(neuron_src[key]) + len(port_src.get(key, ()))} sources share: "
                            f"their spikes must merge in a relay, which takes one tick")
                relay = new_relay(c)
                for sc, sj, d in neuron_src.get(key, ()):
                    last_src, last = chain((f"n{sc}", sj), sc, d - 1)
                    connect(last_src, relay, 1, last - 1)
                for port in port_src.get(key, ()):
                    connect(port_neuron[port][:2], relay, 1, 0)
                sender, last_delay = relay, 0
                final_hops.append(_FinalHop(len(targets), sources=tuple(neuron_src.get(key, ()))))
            elif key in neuron_src:
                sc, sj, d = neuron_src[key][0]
                sender, last = chain((f"n{sc}", sj), sc, d)
                last_delay = last - 1
                final_hops.append(_FinalHop(len(targets), source=(sc, sj), delay=d, last=last))
            else:
                sender, last_delay = port_neuron[port_src[key][0]][:2], 0
            for j, w in zip(targets, weights, strict=True):
                connect(sender, (f"n{c}", int(j)), int(w), last_delay)
    for c in range(n_cores):
        relays, ports = groups[f"r{c}"].size, groups[f"i{c}"].size
        if max(relays, ports) > DENDRITE_MAX:
            raise HardwareLimitError(
                f"core {c}: {relays} relays and {ports} input ports; a SANA-FE dendrite unit holds "
                f"at most {DENDRITE_MAX} neurons")
    return SanafePlan(groups=groups, edges=edges, port_neuron=port_neuron, k=k_offset,
                      final_hops=final_hops, n_cores=n_cores,
                      ports_per_core=[groups[f"i{c}"].size for c in range(n_cores)])


def potential_bounds(config: NetworkConfig, ticks: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per core, bounds (low, high) int64 (N,) of every neuron's membrane over ``ticks`` ticks.

    An axon delivers at most one event a tick, so a neuron's input per tick lies in
    ``[Σ min(0, S), Σ max(0, S)]`` over its connected axons (plus λ). A reset to a value
    stops growth; a linear reset stops it only while the input per tick is below α.
    """
    out = []
    for core in config.cores:
        p = core.neurons
        s = core.type_weights[:, core.axon_types].T * core.crossbar  # (A, N)
        up = np.maximum(s, 0).sum(0) + np.maximum(p.leak, 0)
        down = -(np.minimum(s, 0).sum(0) + np.minimum(p.leak, 0))
        alpha, beta, r = p.threshold, p.neg_threshold, p.reset_value
        post_hi = np.select(
            [p.reset_mode == RESET_TO_VALUE, p.reset_mode == RESET_LINEAR],
            [np.maximum.reduce([alpha - 1, r, -r]), alpha - 1 + ticks * np.maximum(up - alpha, 0)],
            ticks * up)
        floor = np.where(p.reset_mode == RESET_TO_VALUE, np.minimum(-beta, np.minimum(r, -r)),
                         np.minimum(-beta, 0))
        post_lo = np.where((p.neg_saturate == 0) & (p.reset_mode == RESET_NONE), -ticks * down, floor)
        out.append((np.minimum(post_lo - down, 0), np.maximum(post_hi + up, 0)))
    return out


def check_potential_range(config: NetworkConfig, ticks: int) -> None:
    """Refuse a run whose membranes could reach TrueNorth's 20-bit saturation."""
    for c, (lo, hi) in enumerate(potential_bounds(config, ticks)):
        bad = np.flatnonzero((lo < L.V_MIN) | (hi > L.V_MAX))
        if len(bad):
            j = int(bad[0])
            raise HardwareLimitError(
                f"core {c}, neuron {j}: over {ticks} ticks its membrane could reach "
                f"{int(lo[j])}…{int(hi[j])}, beyond the 20-bit range {L.V_MIN}…{L.V_MAX} where "
                f"TrueNorth saturates and SANA-FE does not; run shorter questions")

"""Run a TrueNorth configuration in SANA-FE and compare it, tick by tick, with our simulator.

SANA-FE (Boyle et al., IEEE TCAD 2025; https://github.com/SLAM-Lab/SANA-FE, tested with
the 2.2.9 wheel) is a neuromorphic simulator written by others, with a ``truenorth``
soma model. A :class:`~rnn2snn.targets.truenorth.config.NetworkConfig` agreeing with it spike
for spike is evidence, from outside this project, that the exported configuration
means what :func:`rnn2snn.targets.truenorth.simulator.run_cores` says it means.

How the configuration is translated, and why each piece is needed:

* **Neurons.** Every TrueNorth neuron is a SANA-FE neuron on a ``truenorth`` soma unit:
  threshold α; reset mode γ = 0/1/2 → ``hard`` (to R) / ``soft`` (V − α) / ``none``;
  a saturating negative threshold (κ = 1) → ``reverse_threshold = −β`` with
  ``reverse_reset_mode: saturate`` (SANA-FE tests ``V ≤ −β`` and sets ``V ← −β``, which
  is ``max(V, −β)``); κ = 0 → ``reverse_threshold = −β − 1`` (our test is ``V < −β``)
  with a ``hard`` reset to −R or ``none``. SANA-FE applies its leak before integrating,
  so a leak λ without reversal becomes its ``bias`` (added in the same tick, so the sum
  is the same); with leak reversal the sign would be taken before the input instead of
  after it, so that is refused.
* **Axons and the crossbar.** SANA-FE connects neurons to neurons, so axon ``a`` of
  core ``c`` becomes one connection from its source to each neuron ``j`` with
  ``crossbar[a, j] = 1``, weight ``S_j^{G_a}`` (weight 0 kept: it is still a synaptic
  event). A TrueNorth axon holds one bit per tick — spikes reaching it in the same tick
  merge — so an axon fed by several sources gets an *OR relay* (threshold 1, reset to
  0) that fires once however many arrive.
* **Delays.** SANA-FE integrates a spike one step after it is sent, plus the dendrite
  delay ``d`` of the connection (``accumulator_with_delay``, d ≤ 5): one hop is
  ``1 + d`` ticks, at most 6. A delay D > 6 runs through relay neurons (threshold 1,
  weight 1, reset to 0) on the sender's core: D = 15 is 6 + 6 + 3. Each dendrite unit
  is fed by exactly one synapse unit, because the delays are stored by the synapse
  unit's connection address and two units would overwrite each other's.
* **Buffer inside the dendrite.** With SANA-FE's usual ``buffer_position: soma`` a
  delayed charge reaches the soma only when another spike arrives for that neuron;
  keeping the buffer inside the dendrite updates every dendrite every step.
* **Input ports.** Each port is a neuron on its own ``input`` soma unit (the unit holds
  one spike train), on the core of the axon it drives.
* **Time.** TrueNorth tick ``t`` is SANA-FE step ``t + K`` (steps count from 1):
  K = 2, or 3 when a port drives a shared axon (its spike must pass an OR relay). The
  first K − 1 steps only carry the inputs in, so a leak (``bias``) is switched on at
  step K, not before.
* **Energy.** Only crossbar synapses cost energy, 2.3 pJ each
  (:data:`rnn2snn.targets.truenorth.power.ENERGY_PER_SYNAPTIC_EVENT`); relays and input neurons
  are artefacts of the translation and cost nothing. SANA-FE's synapse energy divided by
  2.3 pJ is therefore *its* count of crossbar synaptic events. SANA-FE counts an event
  when the spike is sent to the synapse, TrueNorth when it is delivered, so events still
  in flight when a run ends are in SANA-FE's count only (:func:`sanafe_crosscheck`
  computes them).

Refused (:class:`~rnn2snn.errors.HardwareLimitError`, naming core and neuron):
stochastic synapses, leaks and thresholds (SANA-FE draws from C ``rand()``, not our
seeded generator); leak reversal with a non-zero leak; linear reset (γ = 1) with a
non-saturating negative threshold (SANA-FE's soft reverse reset adds its negative
threshold, V − β − 1, where TrueNorth adds β); a delay of 1 on an axon several sources
share; and any run in which the membrane could leave the 20-bit range (TrueNorth
saturates there, SANA-FE keeps a double) — checked by a bound computed from the
weights before anything runs.

Questions run one after another on one chip (:func:`sanafe_run`): each gets its own
spike trains, ``chip.reset()`` clears membranes and dendrite buffers between them.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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


def _import_sanafe():
    try:
        import sanafe
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SanafeUnavailableError(
            f"the SANA-FE cross-check needs the 'sanafe' package ({exc}); install it with: "
            f"{INSTALL_HINT}") from exc
    return sanafe


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


# --------------------------------------------------------------------------- architecture


def _units(name: str, model: str, kind: str, energy: float = 0.0) -> str:
    if kind == "synapse":
        extra = f"energy_process_spike: {energy!r}, latency_process_spike: 0.0"
    elif kind == "dendrite":
        extra = "energy_update: 0.0, latency_update: 0.0"
    else:
        extra = ("energy_access_neuron: 0.0, latency_access_neuron: 0.0, energy_update_neuron: 0.0, "
                 "latency_update_neuron: 0.0, energy_spike_out: 0.0, latency_spike_out: 0.0")
    return f"            - name: {name}\n              attributes: {{model: {model}, {extra}}}\n"


def architecture_yaml(p: SanafePlan) -> str:
    """SANA-FE architecture for ``p``: one tile per core, units named as the plan uses them."""
    zero_hops = ", ".join(f"{e}_{d}_hop: 0.0" for d in ("north", "east", "south", "west")
                          for e in ("energy", "latency"))
    text = ["architecture:\n  name: rnn2snn_truenorth\n",
            f"  attributes: {{topology: mesh, width: {p.n_cores}, height: 1, link_buffer_size: 1, "
            f"sync_model: fixed, latency_sync: 0.0}}\n  tile:\n"]
    for c in range(p.n_cores):
        neurons = sum(g.size for g in p.groups.values() if g.core == c)
        text.append(f"    - name: tile{c}\n      attributes: {{{zero_hops}}}\n      core:\n"
                    f"        - name: core{c}\n          attributes: {{buffer_position: dendrite, "
                    f"buffer_inside_unit: true, max_neurons_supported: {max(neurons, 1)}}}\n"
                    f"          axon_in:\n            - name: axon_in\n              attributes: "
                    f"{{energy_message_in: 0.0, latency_message_in: 0.0}}\n          synapse:\n")
        text.append(_units("crossbar", "current_based", "synapse", EVENT_ENERGY))
        text.append(_units("relay_synapse", "current_based", "synapse"))
        text.append("          dendrite:\n")
        text.append(_units("tn_dendrite", "accumulator_with_delay", "dendrite"))
        text.append(_units("relay_dendrite", "accumulator_with_delay", "dendrite"))
        text.append(_units("input_dendrite", "accumulator", "dendrite"))
        text.append("          soma:\n")
        text.append(_units("tn_soma", "truenorth", "soma"))
        text.append(_units("relay_soma", "truenorth", "soma"))
        if p.ports_per_core[c]:
            text.append(_units(f"input[0..{p.ports_per_core[c] - 1}]", "input", "soma"))
        text.append("          axon_out:\n            - name: axon_out\n              attributes: "
                    "{energy_message_out: 0.0, latency_message_out: 0.0}\n")
    return "".join(text)


_UNITS = {"tn": ("crossbar", "tn_dendrite", "tn_soma"),
          "relay": ("relay_synapse", "relay_dendrite", "relay_soma"),
          "input": ("relay_synapse", "input_dendrite", None)}


def _build(sanafe, p: SanafePlan, workdir: Path):
    """The SANA-FE architecture and network of plan ``p``, mapped core by core."""
    arch_path = workdir / "arch.yaml"
    arch_path.write_text(architecture_yaml(p))
    arch = sanafe.load_arch(str(arch_path))
    cores = arch.cores()
    net = sanafe.Network()
    made = {}
    for name, g in p.groups.items():
        if not g.size:
            continue
        syn, dend, soma = _UNITS[g.kind]
        group = net.create_neuron_group(
            name, g.size, model_attributes=RELAY_ATTRS if g.kind == "relay" else {},
            default_synapse_hw_name=syn, default_dendrite_hw_name=dend,
            log_spikes=g.kind == "tn", soma_hw_name=soma or "input[0]")
        if g.kind == "input":
            for i in range(g.size):
                group[i].set_attributes(soma_hw_name=f"input[{i}]")
        elif g.kind == "tn":
            for i, attrs in enumerate(g.attrs):
                group[i].set_attributes(model_attributes=attrs)
        group.map_to_core(cores[g.core])
        made[name] = group
    for (src, dst), (pairs, weights, delays) in p.edges.items():
        made[src].connect_neurons_sparse(made[dst], {"weight": weights, "delay": delays}, pairs)
    return arch, net


@dataclass
class SanafeRun:
    """Result of :func:`sanafe_run`.

    rasters : per core bool (B, ticks, N_c); ticks at or after ``until[b]`` are not run (False).
    synaptic_events : SANA-FE's crossbar synaptic events, all questions (its synapse
        energy / 2.3 pJ; counted when sent, so including events in flight at the end).
    spikes : TrueNorth-neuron spikes in SANA-FE's spike trace, all questions.
    seconds : wall time of building and running; build_seconds of building alone.
    relays : relay neurons the translation added.
    """

    rasters: list[np.ndarray]
    synaptic_events: int
    spikes: int
    seconds: float
    build_seconds: float = 0.0
    relays: int = 0
    energy_j: float = 0.0


def _sim(chip, steps: int, energy_sum: list[float]) -> list:
    """Run ``steps`` steps; add the synapse energy to ``energy_sum[0]``; the spike trace."""
    if steps <= 0:
        return []
    result = chip.sim(steps, timing_model="simple", processing_threads=1, spike_trace=True)
    energy_sum[0] += result["energy"]["synapse"]
    return list(result["spike_trace"])


def sanafe_run(config: NetworkConfig, inputs: np.ndarray, until: np.ndarray | None = None,
               progress=None) -> SanafeRun:
    """Run ``config`` in SANA-FE, question by question.

    inputs : bool (B, ticks, n_input_ports) — spikes through each port, as for
        :func:`~rnn2snn.targets.truenorth.simulator.run_cores`.
    until : int (B,), optional — run question ``b`` for its first ``until[b]`` ticks only.
    progress : optional callable ``(done, total)`` called after each question.
    """
    inputs = np.asarray(inputs, dtype=bool)
    if inputs.ndim != 3 or inputs.shape[2] != len(config.inputs):
        raise SanafeInputError(f"inputs must be (B, ticks, {len(config.inputs)}) for this configuration's "
                         f"{len(config.inputs)} input ports, got shape {inputs.shape}")
    batch, ticks, _ = inputs.shape
    until = np.full(batch, ticks, dtype=np.int64) if until is None else np.asarray(until, np.int64)
    if until.shape != (batch,) or (until < 0).any() or (until > ticks).any():
        raise SanafeInputError(f"until must be (B,) = ({batch},) with values in 0…{ticks}")
    p = plan(config)
    check_potential_range(config, int(until.max(initial=0)))
    sanafe = _import_sanafe()
    start = time.perf_counter()
    rasters = [np.zeros((batch, ticks, core.n_neurons), dtype=bool) for core in config.cores]
    spikes = 0
    quiet = io.StringIO()  # SANA-FE prints a progress line per run
    with tempfile.TemporaryDirectory(prefix="rnn2snn-sanafe-") as tmp, contextlib.redirect_stdout(quiet):
        arch, net = _build(sanafe, p, Path(tmp))
        chip = sanafe.SpikingChip(arch)
        chip.load(net)
        mapped = chip.mapped_neuron_groups
        port_neurons = [(mapped[g][i], p.k - lead - 1) for g, i, lead in p.port_neuron]
        tn_core = {f"n{c}": c for c in range(len(config.cores))}
        leaky = [(mapped[f"n{c}"][j], int(core.neurons.leak[j])) for c, core in enumerate(config.cores)
                 for j in np.flatnonzero(core.neurons.leak)]
        energy_sum = [0.0]
        build_seconds = time.perf_counter() - start
        for b in range(batch):
            t_end = int(until[b])
            if t_end == 0:
                continue
            chip.reset()
            for k, (neuron, pad) in enumerate(port_neurons):
                on = np.flatnonzero(inputs[b, :t_end, k])
                if len(on):  # a port without spikes keeps its spent train: it emits nothing
                    train = np.zeros(pad + on[-1] + 1, dtype=np.int64)
                    train[pad + on] = 1
                    neuron.set_attributes(model_attributes={"spikes": train.tolist()})
            trace = []
            if leaky:  # no leak before tick 0: the first K − 1 steps only carry the inputs in
                for neuron, _ in leaky:
                    neuron.set_attributes(model_attributes={"bias": 0})
                trace += _sim(chip, p.k - 1, energy_sum)
                for neuron, leak in leaky:
                    neuron.set_attributes(model_attributes={"bias": leak})
            trace += _sim(chip, t_end + p.k - 1 - len(trace), energy_sum)
            for step, fired in enumerate(trace):
                t = step + 1 - p.k
                if t < 0 or not fired:
                    continue
                for address in fired:
                    rasters[tn_core[address.group_name]][b, t, address.neuron_offset] = True
                    spikes += 1
            if progress is not None:
                progress(b + 1, batch)
    energy = energy_sum[0]
    return SanafeRun(rasters=rasters, synaptic_events=int(round(energy / EVENT_ENERGY)), spikes=spikes,
                     seconds=time.perf_counter() - start, build_seconds=build_seconds,
                     relays=p.relays, energy_j=energy)


def events_in_flight(config: NetworkConfig, rasters: list[np.ndarray], until: np.ndarray) -> int:
    """Crossbar events SANA-FE has counted by the end of each run but TrueNorth has not.

    SANA-FE counts an event when the last hop towards the crossbar is sent; TrueNorth
    when the spike is delivered. An event sent before ``until[b]`` and delivered at or
    after it is in SANA-FE's count only. ``rasters`` are the run's own (per core, bool
    (B, ticks, N_c)); they must cover ticks up to ``until[b]``.
    """
    total = 0
    for hop in plan(config).final_hops:
        for b, t_end in enumerate(np.asarray(until, dtype=np.int64)):
            if hop.source is not None:
                c, j = hop.source
                # delivered at t + delay ≥ t_end, last hop sent at t + delay − last ≤ t_end − 1
                lo, hi = max(t_end - hop.delay, 0), max(t_end - hop.delay + hop.last, 0)
                total += hop.n_targets * int(rasters[c][b, lo:hi, j].sum())
            else:  # OR relay: sends one tick before delivery, so only a delivery at t_end counts
                hit = any(t_end - d >= 0 and rasters[c][b, t_end - d, j] for c, j, d in hop.sources)
                total += hop.n_targets * int(hit)
    return total


def sanafe_crosscheck(config: NetworkConfig, inputs: np.ndarray, until: np.ndarray | None = None,
                      progress=None) -> dict:
    """Run ``inputs`` through SANA-FE and :func:`run_cores`; count disagreements tick by tick.

    Returns ``sanafe_mismatches`` (neuron, tick) pairs that differ over every question's
    first ``until[b]`` ticks, ``sanafe_neuron_ticks`` compared, the seconds of each
    simulator, both simulators' synaptic events and spikes, and
    ``sanafe_events_in_flight``: the events SANA-FE counted that were still travelling
    when a question ended (see :func:`events_in_flight`); ``events_explained`` says
    whether SANA-FE's count equals ours plus those.
    """
    from rnn2snn.targets.truenorth.simulator import run_cores

    inputs = np.asarray(inputs, dtype=bool)
    batch, ticks, _ = inputs.shape
    until = np.full(batch, ticks, dtype=np.int64) if until is None else np.asarray(until, np.int64)
    theirs = sanafe_run(config, inputs, until, progress=progress)
    start = time.perf_counter()
    ours = run_cores(config, inputs, record=True, until=until)
    ours_s = time.perf_counter() - start
    valid = np.arange(ticks)[None, :] < until[:, None]  # (B, ticks)
    mismatches = sum(int(((a != b) & valid[:, :, None]).sum())
                     for a, b in zip(ours.rasters, theirs.rasters, strict=True))
    neuron_ticks = int(valid.sum()) * config.n_neurons
    in_flight = events_in_flight(config, ours.rasters, until)
    return {
        "questions": int(batch),
        "sanafe_mismatches": mismatches,
        "sanafe_neuron_ticks": neuron_ticks,
        "sanafe_s": round(theirs.seconds, 3),
        "sanafe_build_s": round(theirs.build_seconds, 3),
        "ours_s": round(ours_s, 3),
        "sanafe_synaptic_events": theirs.synaptic_events,
        "ours_synaptic_events": int(ours.synaptic_events),
        "sanafe_events_in_flight": in_flight,
        "events_explained": theirs.synaptic_events == ours.synaptic_events + in_flight,
        "sanafe_spikes": theirs.spikes,
        "ours_spikes": int(ours.spikes),
        "sanafe_relays": theirs.relays,
        "sanafe_energy_j": theirs.energy_j,
    }

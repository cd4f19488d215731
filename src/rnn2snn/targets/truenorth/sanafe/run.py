"""Running a plan in SANA-FE question by question, and the cross-check against
:func:`rnn2snn.targets.truenorth.simulator.run_cores`."""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn2snn.targets.truenorth.config import NetworkConfig
from rnn2snn.targets.truenorth.sanafe.architecture import UNITS, architecture_yaml
from rnn2snn.targets.truenorth.sanafe.plan import (
    EVENT_ENERGY,
    INSTALL_HINT,
    RELAY_ATTRS,
    SanafeInputError,
    SanafePlan,
    SanafeUnavailableError,
    check_potential_range,
    plan,
)


def _import_sanafe():
    try:
        import sanafe
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SanafeUnavailableError(
            f"the SANA-FE cross-check needs the 'sanafe' package ({exc}); install it with: "
            f"{INSTALL_HINT}") from exc
    return sanafe


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
        syn, dend, soma = UNITS[g.kind]
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

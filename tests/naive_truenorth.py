"""A deliberately naive TrueNorth reference, written for the tests from the equations.

Scalar Python, one neuron and one spike at a time, dictionaries for the delay
queue: slow and obvious. Deterministic modes only.
"""

from __future__ import annotations

V_MIN, V_MAX = -(2**19), 2**19 - 1


def naive_step(v, i, alpha, beta, leak, eps, gamma, r, kappa):
    """One tick of one neuron, straight from shared/docs/truenorth.md. Returns (spike, v)."""
    v = min(max(v + i, V_MIN), V_MAX)
    sgn = (v > 0) - (v < 0)
    omega = sgn if eps else 1
    v = min(max(v + omega * leak, V_MIN), V_MAX)
    if v >= alpha:
        return True, (r if gamma == 0 else v - alpha if gamma == 1 else v)
    if v < -beta:
        if kappa:
            return False, -beta
        return False, (-r if gamma == 0 else v + beta if gamma == 1 else v)
    return False, v


def naive_run(config: dict, port_spikes):
    """Raster and potentials, lists [tick][core][neuron], for one run of a JSON configuration.

    port_spikes : list over ticks of lists over ports (truthy = spike).
    """
    cores = config["cores"]
    v = [[0] * len(c["neurons"]) for c in cores]
    queue = {}  # tick -> set of (core, axon)
    raster, potentials = [], []
    for t, ports in enumerate(port_spikes):
        arriving = set(queue.pop(t, set()))
        for k, s in enumerate(ports):
            if s:
                arriving.add((config["inputs"][k]["core"], config["inputs"][k]["axon"]))
        tick_spikes, tick_v = [], []
        for c, core in enumerate(cores):
            row_spikes = []
            for j, n in enumerate(core["neurons"]):
                total = 0
                for a, axon in enumerate(core["axons"]):
                    if (c, a) in arriving and core["crossbar"][a][j] == "1":
                        total += n["weights"][axon["type"]]
                s, v[c][j] = naive_step(v[c][j], total, n["threshold"], n["neg_threshold"],
                                        n["leak"], n["leak_reversal"], n["reset_mode"],
                                        n["reset_value"], n["neg_saturate"])
                row_spikes.append(s)
            tick_spikes.append(row_spikes)
            tick_v.append(list(v[c]))
        for c, core in enumerate(cores):
            for j, n in enumerate(core["neurons"]):
                if tick_spikes[c][j] and n["target"] is not None:
                    tg = n["target"]
                    queue.setdefault(t + tg["delay"], set()).add((tg["core"], tg["axon"]))
        raster.append(tick_spikes)
        potentials.append(tick_v)
    return raster, potentials

"""A deliberately naive TrueNorth reference, written for the tests from the equations.

Scalar Python, one neuron and one spike at a time, dictionaries for the delay
queue: slow and obvious. Deterministic modes only.
"""

from __future__ import annotations

V_MIN, V_MAX = -(2**19), 2**19 - 1


def naive_step(v, i, alpha, beta, leak, eps, gamma, r, kappa):
    """One tick of one neuron, straight from docs/truenorth.md. Returns (spike, v)."""
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


# ---------------------------------------------------------------------------------------------
# Network level: an integer weight matrix run as spiking neurons, one question, one tick at a time.


def naive_schedule(level, ticks, schedule):
    """The ticks (a set, 0…ticks−1) of a word window at which an input of ``level`` spikes.

    early: the first ``level`` ticks; late: the last ``level`` ticks; spread: the m-th spike
    (m = 1…level) at the last tick of the m-th of ``level`` equal parts of the window.
    """
    if schedule == "early":
        return set(range(level))
    if schedule == "late":
        return set(range(ticks - level, ticks))
    if schedule == "spread":
        return {-(-m * ticks // level) - 1 for m in range(1, level + 1)}
    raise ValueError(schedule)


def naive_split(w):
    """(excitatory part, inhibitory part) of an integer weight −8…7 on axon types 1, 2, 4, −8:
    the −8 type carries the sign, the three others the non-negative remainder."""
    neg = -8 if w < 0 else 0
    return w - neg, neg


def naive_network(w, n_inputs, alpha, beta, kappa, x, length, ticks, delay, neg_delay,
                  schedule, neg_schedule, flush, gamma=1):
    """Spike counts [word][neuron] and the raster [tick][neuron] of one question.

    w : list of rows (one per neuron) of integer weights, inputs first, then recurrent.
    alpha, beta, kappa : per neuron; gamma : reset mode (1 linear, 0 to zero).
    x : [word][input] levels. A spike fired at tick t reaches its targets at t + delay
    (excitatory part of the weight) and at t + neg_delay (inhibitory part). Word k owns
    ticks k·T … (k+1)·T − 1; the ``flush`` ticks after the last word count for the last word.
    """
    h = len(w)
    total = length * ticks + flush
    v = [0] * h
    pending = {}  # tick -> per-neuron input already on its way
    counts = [[0] * h for _ in range(length)]
    raster = []
    for t in range(total):
        syn = list(pending.pop(t, [0] * h))
        word, s = divmod(t, ticks)
        if word < length:
            for i in range(n_inputs):
                level = x[word][i]
                on_pos = s in naive_schedule(level, ticks, schedule)
                on_neg = s in naive_schedule(level, ticks, neg_schedule)
                for j in range(h):
                    pos, neg = naive_split(w[j][i])
                    syn[j] += pos * on_pos + neg * on_neg
        row = []
        for j in range(h):
            spike, v[j] = naive_step(v[j], syn[j], alpha[j], beta[j], 0, 0, gamma, 0, kappa[j])
            row.append(spike)
            if spike:
                counts[min(word, length - 1)][j] += 1
                for m in range(h):
                    pos, neg = naive_split(w[m][n_inputs + j])
                    pending.setdefault(t + delay, [0] * h)[m] += pos
                    pending.setdefault(t + neg_delay, [0] * h)[m] += neg
        raster.append(row)
    return counts, raster


def naive_events(config: dict, port_spikes, until=None):
    """(synaptic events, neuron spikes) of one run of a JSON configuration before tick ``until``.

    A synaptic event is one axon spike reaching one connected synapse (crossbar '1').
    """
    raster, _ = naive_run(config, port_spikes)
    until = len(port_spikes) if until is None else until
    cores = config["cores"]
    events = spikes = 0
    queue = {}
    for t in range(len(port_spikes)):
        arriving = set(queue.pop(t, set()))
        for k, s in enumerate(port_spikes[t]):
            if s:
                arriving.add((config["inputs"][k]["core"], config["inputs"][k]["axon"]))
        for c, a in arriving:
            if t < until:
                events += cores[c]["crossbar"][a].count("1")
        for c, core in enumerate(cores):
            for j, n in enumerate(core["neurons"]):
                if raster[t][c][j]:
                    spikes += t < until
                    if n["target"] is not None:
                        tg = n["target"]
                        queue.setdefault(t + tg["delay"], set()).add((tg["core"], tg["axon"]))
    return events, spikes

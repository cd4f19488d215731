"""An independent build of a TrueNorth configuration in Brian2 (test and benchmark helper).

Written from the exported JSON fields and the tick equations only; it shares no
code with rnn2snn's simulators. Integer state (``v : integer``); the network's
schedule is reordered so that, within a tick, synaptic input is integrated before
the leak and the thresholds (TrueNorth's order). Brian step ``n`` is tick ``n − 1``:
a port spike at tick ``t`` is emitted at step ``t`` and integrated at step ``t + 1``;
a neuron spike at tick ``t`` with axonal delay ``d`` is integrated at tick ``t + d``
(a Brian delay of ``d − 1`` steps after the one-step push).
Deterministic neurons only; each axon is fed by one neuron or port at a time.
"""

from __future__ import annotations

import numpy as np

V_MIN, V_MAX = -(2**19), 2**19 - 1


def run_brian2(config: dict, port_spikes: np.ndarray) -> np.ndarray:
    """Spike raster bool (B, ticks, total neurons) of ``config`` (the JSON dict) for port spikes
    bool (B, ticks, ports); batch elements are independent copies of the network."""
    import brian2 as b2

    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    b2.defaultclock.dt = 1 * b2.ms
    batch, ticks, n_ports = port_spikes.shape
    cores = config["cores"]
    offset = np.cumsum([0] + [len(c["neurons"]) for c in cores])
    per_copy = int(offset[-1])
    fields = ("threshold", "neg_threshold", "leak", "leak_reversal", "reset_mode", "reset_value",
              "neg_saturate")
    params = {f: np.array([n[f] for c in cores for n in c["neurons"]], dtype=np.int64) for f in fields}
    for c in cores:
        for n in c["neurons"]:
            if n["threshold_mask"] or n["stochastic_leak"] or any(n["stochastic_synapse"]):
                raise ValueError("the Brian2 build covers deterministic neurons only")
    G = b2.NeuronGroup(
        batch * per_copy,
        """v : integer
           alpha : integer (constant)
           beta : integer (constant)
           lam : integer (constant)
           eps : integer (constant)
           gamma : integer (constant)
           R : integer (constant)
           kappa : integer (constant)""",
        threshold="v >= alpha",
        reset="v = int(gamma == 0) * R + int(gamma == 1) * (v - alpha) + int(gamma == 2) * v",
    )
    for name, f in (("alpha", "threshold"), ("beta", "neg_threshold"), ("lam", "leak"),
                    ("eps", "leak_reversal"), ("gamma", "reset_mode"), ("R", "reset_value"),
                    ("kappa", "neg_saturate")):
        setattr(G, name, np.tile(params[f], batch))
    G.run_regularly(
        f"""v = int(clip(v, {V_MIN}, {V_MAX}))
            v = int(clip(v + lam * ((1 - eps) + eps * sign(v)), {V_MIN}, {V_MAX}))
            below = int(v < -beta)
            mirrored = int(gamma == 0) * (-R - v) + int(gamma == 1) * beta
            v = v + below * (kappa * (-beta - v) + (1 - kappa) * mirrored)""",
        when="groups",
    )
    # crossbar fan-out of every axon: (core, axon) -> (neurons, weights)
    fan = {}
    for c, core in enumerate(cores):
        for a, row in enumerate(core["crossbar"]):
            typ = core["axons"][a]["type"]
            post = np.flatnonzero(np.frombuffer(row.encode(), dtype=np.uint8) == ord("1"))
            wts = np.array([core["neurons"][m]["weights"][typ] for m in post], dtype=np.int64)
            fan[(c, a)] = (post + offset[c], wts)
    pre, post, weight, delay = [], [], [], []
    for c, core in enumerate(cores):
        for j, n in enumerate(core["neurons"]):
            t = n["target"]
            if t is None:
                continue
            targets, wts = fan[(t["core"], t["axon"])]
            pre.append(np.full(len(targets), offset[c] + j))
            post.append(targets)
            weight.append(wts)
            delay.append(np.full(len(targets), t["delay"] - 1))
    net = [G]
    if pre:
        pre, post = np.concatenate(pre), np.concatenate(post)
        weight, delay = np.concatenate(weight), np.concatenate(delay)
        S = b2.Synapses(G, G, "w : integer (constant)", on_pre="v_post += w")
        shift = (np.arange(batch) * per_copy)[:, None]
        S.connect(i=(pre[None] + shift).ravel(), j=(post[None] + shift).ravel())
        S.w = np.tile(weight, batch)
        S.delay = np.tile(delay, batch) * b2.ms
        net.append(S)
    b, t, k = np.nonzero(port_spikes)
    if len(b):
        gen = b2.SpikeGeneratorGroup(batch * n_ports, b * n_ports + k, t * b2.ms)
        ipre, ipost, iw = [], [], []
        for k_, port in enumerate(config["inputs"]):
            targets, wts = fan[(port["core"], port["axon"])]
            ipre.append(np.full(len(targets), k_))
            ipost.append(targets)
            iw.append(wts)
        ipre, ipost, iw = np.concatenate(ipre), np.concatenate(ipost), np.concatenate(iw)
        Sin = b2.Synapses(gen, G, "w : integer (constant)", on_pre="v_post += w")
        Sin.connect(i=(ipre[None] + (np.arange(batch) * n_ports)[:, None]).ravel(),
                    j=(ipost[None] + (np.arange(batch) * per_copy)[:, None]).ravel())
        Sin.w = np.tile(iw, batch)
        net += [gen, Sin]
    mon = b2.SpikeMonitor(G)
    network = b2.Network(*net, mon)
    network.schedule = ["start", "synapses", "groups", "thresholds", "resets", "end"]
    network.run((ticks + 1) * b2.ms)
    raster = np.zeros((batch, ticks + 1, per_copy), dtype=bool)
    idx = np.asarray(mon.i[:])
    step = np.rint(np.asarray(mon.t / b2.ms)).astype(np.int64)
    raster[idx // per_copy, step, idx % per_copy] = True
    return raster[:, 1:]

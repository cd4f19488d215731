"""An independent, deliberately plain model of one Xylo core: per neuron, per event, Python ints.

Why it exists: the NumPy tick in ``rnn2snn.targets.xylo.neuron`` is vectorised and takes a
shortcut (all events of a tick at once where no ordering of them can saturate). This file
transliterates xylosim 0.1.3's C++ (``src/v2/cpp/XyloLayer.cpp``, ``XyloIAFNeuron.cpp``)
line by line instead — a loop over source neurons, their synapses and every single event,
``safe_add`` as written — so the two are compared by the property tests in tests/xylo.
It shares no code with rnn2snn.
"""

from __future__ import annotations

BITS_STATE = 16
MAX_NUM_INP_SPIKES = 15
MAX_NUM_SPIKES = 31
MAX_NUM_OUT_SPIKES = 1


def to_int16(x: int) -> int:
    """C++ conversion of an int to int16_t (two's complement wrap)."""
    x &= 0xFFFF
    return x - 0x10000 if x >= 0x8000 else x


def safe_add(x: int, y: int, bits: int = BITS_STATE) -> int:
    """``safe_add`` of XyloIAFNeuron.h, as written (it clamps at the bound of y's sign)."""
    max_val = 2 ** (bits - 1) - 1
    if y < 0:
        max_val = -(2 ** (bits - 1))
    if abs(max_val - x) > abs(y):
        return x + y
    return max_val


def decay(v: int, dash: int) -> int:
    dv = v >> dash  # Python's >> on ints is arithmetic, as C++'s on a negative int16 promoted to int
    if dv == 0:
        if v > 0:
            dv = 1
        elif v < 0:
            dv = -1
    return dv


class Neuron:
    def __init__(self, dash_mem: int, dash_syns: list[int], v_th: int, bias: int):
        self.dash_mem, self.dash_syns, self.v_th, self.bias = dash_mem, dash_syns, v_th, bias
        self.v_mem = 0
        self.i_syns = [0 for _ in dash_syns]

    def receive(self, weight: int, syn: int) -> None:
        self.i_syns[syn] = safe_add(self.i_syns[syn], weight)

    def evolve(self, max_spikes: int) -> int:
        for i, dash in enumerate(self.dash_syns):
            self.i_syns[i] -= decay(self.i_syns[i], dash)
        i_syn = sum(self.i_syns)
        dv_mem = to_int16(-decay(self.v_mem, self.dash_mem))
        dv_mem = to_int16(safe_add(dv_mem, i_syn))
        dv_mem = safe_add(dv_mem, self.bias)
        self.v_mem = safe_add(self.v_mem, dv_mem)
        n = 0
        while self.v_mem >= self.v_th:
            if n < max_spikes:
                n += 1
                self.v_mem = to_int16(self.v_mem - self.v_th)
            else:
                break
        return n


def naive_run(w_in, w_rec, w_out, dash_mem, dash_syns, threshold, bias, dash_mem_out, dash_syn_out,
              threshold_out, bias_out, shift_in, shift_rec, shift_out, raster):
    """Run one example; nested lists in, a dict of per-tick lists out.

    ``w_in[i][j][s]``, ``w_rec[j][k][s]``, ``w_out[j][o]``; ``dash_syns[j]`` a list (one dash a
    synapse); ``raster[t][i]`` input counts. Returns ``spikes``, ``vmem``, ``isyn`` (synapse 1),
    ``isyn2`` (synapse 2, 0 without one), ``out_spikes``, ``vmem_out``, ``isyn_out``, each [t][neuron].
    """
    n_h, n_out = len(w_rec), len(w_out[0]) if w_out else 0
    hidden = [Neuron(dash_mem[j], list(dash_syns[j]), threshold[j], bias[j]) for j in range(n_h)]
    outputs = [Neuron(dash_mem_out[o], [dash_syn_out[o]], threshold_out[o], bias_out[o])
               for o in range(n_out)]
    rec = {k: [] for k in ("spikes", "vmem", "isyn", "isyn2", "out_spikes", "vmem_out", "isyn_out")}
    recurrent = [0] * n_h

    def deliver(counts, weights, targets, max_spikes, shift, n_syn):
        for pre, count in enumerate(counts):
            count = min(count, max_spikes)
            if count == 0:
                continue
            for post in range(len(targets)):
                for s in range(n_syn):
                    w = weights(pre, post, s)
                    if w == 0:
                        continue
                    for _ in range(count):
                        targets[post].receive(to_int16(w << shift), s)

    n_syn = len(w_in[0][0])
    for counts in raster:
        deliver(counts, lambda i, j, s: w_in[i][j][s], hidden, MAX_NUM_INP_SPIKES, shift_in, n_syn)
        deliver(recurrent, lambda i, j, s: w_rec[i][j][s], hidden, MAX_NUM_SPIKES, shift_rec, n_syn)
        deliver(recurrent, lambda j, o, s: w_out[j][o], outputs, MAX_NUM_SPIKES, shift_out, 1)
        recurrent = [n.evolve(MAX_NUM_SPIKES) for n in hidden]
        out = [n.evolve(MAX_NUM_OUT_SPIKES) for n in outputs]
        rec["spikes"].append(recurrent)
        rec["vmem"].append([n.v_mem for n in hidden])
        rec["isyn"].append([n.i_syns[0] for n in hidden])
        rec["isyn2"].append([n.i_syns[1] if len(n.i_syns) > 1 else 0 for n in hidden])
        rec["out_spikes"].append(out)
        rec["vmem_out"].append([n.v_mem for n in outputs])
        rec["isyn_out"].append([n.i_syns[0] for n in outputs])
    return rec

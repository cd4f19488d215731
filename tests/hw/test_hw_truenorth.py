"""Placement, core-level simulation, resources and power, each checked from first principles.

* placement: the exported JSON file read back with ``json`` alone — which source every
  axon carries, the effective integer weight of every (neuron, source) pair and the delay
  of every recurrent connection — against the integer network; and the placed file run
  on the core-level simulator against the naive network-level reference;
* the greedy multi-core split: every neuron placed once, 256 axons and 256 neurons a core;
* the core-level simulator against the naive core reference on random multi-core
  configurations, synaptic events counted by hand (none after ``until``), and
  stochastic synapses against their probability;
* resources counted by hand; power from its formula and its constants.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from reference.naive_truenorth import naive_events, naive_network, naive_run, naive_schedule, naive_split

from rnn2snn.errors import HardwareLimitError, Rnn2SnnError
from rnn2snn.program.integer import IntegerRNN
from rnn2snn.program.network import SpikingConfig, convert, simulate, split_weights
from rnn2snn.targets.truenorth import power as P
from rnn2snn.targets.truenorth.config import NetworkConfig
from rnn2snn.targets.truenorth.config_io import config_from_dict, load_config, save_config
from rnn2snn.targets.truenorth.placement import decode_counts, encode_inputs, place
from rnn2snn.targets.truenorth.resources import (
    axon_types_used,
    check_groups,
    core_usage,
    count_resources,
    partition_neurons,
)
from rnn2snn.targets.truenorth.simulator import run_cores

FALSE_ALARM = 1e-6


def within_chernoff(hits: int, n: int, p: float) -> bool:
    """Two-sided Chernoff (relative-entropy) bound; false alarm ≤ FALSE_ALARM."""
    q = hits / n
    if p in (0.0, 1.0):
        return q == p

    def term(a, b):
        return 0.0 if a == 0 else a * math.log(a / b)

    return 2 * math.exp(-n * (term(q, p) + term(1 - q, 1 - p))) > FALSE_ALARM


# ---------------------------------------------------------------------------------------------
# Placement, read back from the exported file without the project's reader.

def read_placed_file(path):
    """Rebuild, from the JSON text alone, the effective integer weights (H, P + H), the
    recurrent weights split by delay {delay: (H, H)}, the neuron parameters of each unit,
    and the per-core sizes. Asserts the structural rules on the way: one source per axon,
    copies of a unit identical, output ports reading the right unit."""
    d = json.loads(path.read_text())
    ports = d["ports"]
    n_in, h = ports["n_inputs"], ports["n_hidden"]
    cores = d["cores"]
    carried, delay_of = {}, {}
    for k, port in enumerate(d["inputs"]):
        unit, kind = ports["input_port_source"][k]
        assert cores[port["core"]]["axons"][port["axon"]]["type"] == kind
        carried.setdefault((port["core"], port["axon"]), []).append(unit)
    for c, core in enumerate(cores):
        for n, neuron in enumerate(core["neurons"]):
            tg = neuron["target"]
            if tg is not None:
                carried.setdefault((tg["core"], tg["axon"]), []).append(n_in + ports["neuron_unit"][c][n])
                delay_of[(tg["core"], tg["axon"])] = tg["delay"]
    for c, core in enumerate(cores):
        assert len(core["axons"]) <= 256 and len(core["neurons"]) <= 256
        for a in range(len(core["axons"])):
            assert len(carried.get((c, a), [])) == 1, f"core {c} axon {a} carries {carried.get((c, a))}"
    weights = {}
    by_delay = {}
    params = {}
    fields = ("threshold", "neg_threshold", "leak", "leak_reversal", "reset_mode", "reset_value",
              "neg_saturate", "threshold_mask", "stochastic_leak")
    for c, core in enumerate(cores):
        for n, neuron in enumerate(core["neurons"]):
            u = ports["neuron_unit"][c][n]
            col = [0] * (n_in + h)
            rec = {}
            for a, axon in enumerate(core["axons"]):
                if core["crossbar"][a][n] == "1":
                    s = carried[(c, a)][0]
                    w = neuron["weights"][axon["type"]]
                    col[s] += w
                    if s >= n_in:
                        key = (delay_of[(c, a)], s - n_in)
                        rec[key] = rec.get(key, 0) + w
            p = tuple(neuron[f] for f in fields) + (tuple(neuron["stochastic_synapse"]),)
            if u in weights:  # a copy: same column, same parameters
                assert weights[u] == col and params[u] == p and by_delay[u] == rec
            weights[u], params[u], by_delay[u] = col, p, rec
    assert sorted(weights) == list(range(h))
    for k, port in enumerate(d["outputs"]):
        assert ports["neuron_unit"][port["core"]][port["neuron"]] == ports["output_port_unit"][k]
    assert sorted(ports["output_port_unit"]) == list(range(h))
    w = np.array([weights[u] for u in range(h)])
    delays = {}
    for u in range(h):
        for (dl, src), val in by_delay[u].items():
            delays.setdefault(dl, np.zeros((h, h), dtype=np.int64))[u, src] += val
    return w, delays, params, d


def random_net(rng, h, p, density=0.7, groups=None, alpha_max=12):
    w = rng.integers(-8, 8, size=(h, p + h)) * (rng.random((h, p + h)) < density)
    alpha = rng.integers(1, alpha_max + 1, size=h)
    return IntegerRNN(w_in=w[:, :p], w_rec=w[:, p:], threshold=alpha, groups=groups)


def expected_delays(net, cfg):
    out = {}
    for j in range(net.n_hidden):
        for u in range(net.n_hidden):
            pos, neg = naive_split(int(net.w_rec[j, u]))
            for d, part in ((cfg.delay, pos), (cfg.neg_delay, neg)):
                if part:
                    out.setdefault(d, np.zeros(net.w_rec.shape, dtype=np.int64))[j, u] += part
    return out


def same_delays(a, b):
    keys = {k for k in a if a[k].any()} | {k for k in b if b[k].any()}
    return all(np.array_equal(a.get(k, 0) * 1, b.get(k, 0) * 1) for k in keys)


PLACEMENT_CASES = [
    (SpikingConfig(), None),
    (SpikingConfig(delay=14, neg_delay=15), None),
    (SpikingConfig(delay=15, neg_delay=6, flush_ticks=3), ((0, 1), (2, 3, 4))),
    (SpikingConfig(input_schedule="spread", neg_input_schedule="late", delay=9, neg_delay=12),
     ((0,), (1, 2), (3, 4))),
    (SpikingConfig(neg_threshold=2, neg_saturate=0, input_schedule="late", flush_ticks=5),
     ((3, 4), (0, 1, 2))),
    (SpikingConfig(ticks_per_word=17, neg_input_schedule="spread", reset_mode=0), None),
]


@pytest.mark.parametrize("cfg,groups", PLACEMENT_CASES)
def test_exported_file_holds_the_integer_network(tmp_path, cfg, groups):
    rng = np.random.default_rng(100 * cfg.delay + 10 * cfg.neg_delay + cfg.flush_ticks)
    for trial in range(3):
        net = random_net(rng, 5, 4, groups=groups)
        snn = convert(net, cfg)
        path = tmp_path / f"tn{trial}.json"
        save_config(place(snn), path)
        w, delays, params, d = read_placed_file(path)
        assert np.array_equal(w, net.weights)
        assert same_delays(delays, expected_delays(net, cfg))
        beta = net.threshold if cfg.neg_threshold is None else [cfg.neg_threshold] * net.n_hidden
        for u in range(net.n_hidden):
            assert params[u] == (int(net.threshold[u]), int(beta[u]), 0, 0, cfg.reset_mode, 0,
                                 cfg.neg_saturate, 0, 0, (0, 0, 0, 0))
        if groups is not None:
            assert len(d["cores"]) == len(groups)
            for c, g in enumerate(groups):
                assert set(d["ports"]["neuron_unit"][c]) == set(g)
        m = d["ports"]
        assert (m["ticks_per_word"], m["flush_ticks"], m["input_schedule"], m["neg_input_schedule"],
                m["levels"], m["n_inputs"], m["n_hidden"]) == (
            cfg.ticks_per_word, cfg.flush_ticks, cfg.input_schedule, cfg.neg_input_schedule, 16,
            net.n_inputs, net.n_hidden)


@pytest.mark.parametrize("cfg,groups", PLACEMENT_CASES)
def test_placed_file_runs_like_the_naive_network(tmp_path, cfg, groups):
    """Placement + port encoding + core simulator + decoding = the naive network reference."""
    rng = np.random.default_rng(7 + cfg.delay + 3 * cfg.neg_delay + cfg.flush_ticks)
    for _ in range(3):
        net = random_net(rng, 5, 3, groups=groups)
        path = save_config(place(convert(net, cfg)), tmp_path / "tn.json")
        config = load_config(path)
        lengths = np.array([3, 1, 2])
        x = rng.integers(0, 16, size=(3, 3, net.n_inputs))
        x[np.arange(3)[None, :] >= lengths[:, None]] = 0  # no input after a question's end
        run = run_cores(config, encode_inputs(config, x))
        counts = decode_counts(config, run.outputs, lengths)
        beta = net.threshold.tolist() if cfg.neg_threshold is None else [cfg.neg_threshold] * 5
        for b in range(3):
            want, _ = naive_network(net.weights.tolist(), net.n_inputs, net.threshold.tolist(), beta,
                                    [cfg.neg_saturate] * 5, x[b].tolist(), int(lengths[b]),
                                    cfg.ticks_per_word, cfg.delay, cfg.neg_delay, cfg.input_schedule,
                                    cfg.neg_input_schedule, cfg.flush_ticks, cfg.reset_mode)
            assert counts[b, : lengths[b]].tolist() == want
            assert not counts[b, lengths[b]:].any()


def test_place_copies_by_hand():
    """2 inputs, 2 neurons. w = [[3, 0, 0, −1], [0, −8, 1, 0]] (targets × sources).
    Axons: in0 {1, 2}, in1 {−8}, rec0 {1}, rec1 {1, 2, 4, −8} → 8 axons; copies: neuron 0 feeds
    1 axon + output = 2, neuron 1 feeds 4 axons + output = 5 → 7 neurons."""
    net = IntegerRNN(w_in=np.array([[3, 0], [0, -8]]), w_rec=np.array([[0, -1], [1, 0]]), threshold=2)
    cfg = place(convert(net, SpikingConfig(delay=10, neg_delay=4)))
    assert len(cfg.cores) == 1
    core = cfg.cores[0]
    assert core.n_axons == 8 and core.n_neurons == 7
    assert core.axon_types.tolist() == [0, 1, 3, 0, 0, 1, 2, 3]  # sources in order, types in order
    assert [(p.core, p.index) for p in cfg.inputs] == [(0, 0), (0, 1), (0, 2)]
    assert cfg.ports.input_port_source == ((0, 0), (0, 1), (1, 3))
    assert cfg.ports.neuron_unit == ((0, 0, 1, 1, 1, 1, 1),)
    assert [(p.core, p.index) for p in cfg.outputs] == [(0, 1), (0, 6)]
    assert core.target_axon.tolist()[:1] == [3] and core.target_delay.tolist() == [10, 0, 10, 10, 10, 4, 0]
    assert core.target_core.tolist() == [0, -1, 0, 0, 0, 0, -1]
    assert core.target_axon.tolist() == [3, 0, 4, 5, 6, 7, 0]
    assert core.type_weights.tolist() == [[1, 2, 4, -8]] * 7
    assert core.stochastic_synapse.tolist() == [[0] * 4] * 7
    # the documented dtypes (config.CoreConfig): int64 everywhere, a bool crossbar
    assert core.crossbar.dtype == bool
    for name in ("axon_types", "type_weights", "stochastic_synapse", "target_core", "target_axon",
                 "target_delay"):
        assert getattr(core, name).dtype == np.int64, name
    r = count_resources(split_weights(net.weights), 2)
    assert (r.cores, r.axons, r.neurons, r.input_axons, r.recurrent_axons, r.output_ports) == (
        1, 8, 7, 3, 5, 2)
    assert r.to_dict() == {"cores": 1, "axons": 8, "neurons": 7, "input_axons": 3,
                           "recurrent_axons": 5, "output_ports": 2}


def test_encode_inputs_and_decode_counts_by_hand():
    net = IntegerRNN(w_in=np.array([[3, -1]]), w_rec=np.zeros((1, 1), dtype=np.int64), threshold=4)
    cfg = place(convert(net, SpikingConfig(input_schedule="late", neg_input_schedule="spread",
                                           flush_ticks=2)))
    src = cfg.ports.input_port_source
    x = np.array([[[2, 5], [0, 15]]])
    spikes = encode_inputs(cfg, x)
    assert spikes.dtype == bool
    assert spikes.shape == (1, 2 * 15 + 2, len(src)) and not spikes[0, 30:].any()
    for k, (unit, kind) in enumerate(src):
        sched = "spread" if kind == 3 else "late"
        for word in range(2):
            want = naive_schedule(int(x[0, word, unit]), 15, sched)
            got = set(np.flatnonzero(spikes[0, word * 15:(word + 1) * 15, k]).tolist())
            assert got == want, (k, unit, kind, word)
    outputs = np.zeros((2, 32, 1), dtype=bool)
    outputs[0, [0, 14, 15, 30, 31]] = True
    outputs[1, [3, 16, 17]] = True
    counts = decode_counts(cfg, outputs, np.array([2, 1]))
    assert counts.dtype == np.int64
    # question 0: word 0 ticks 0…14, word 1 ticks 15…29 plus flush 30, 31
    # question 1 (one word): ticks 0…14, then its flush ticks 15, 16 count for word 0 (not 17)
    assert counts[:, :, 0].tolist() == [[2, 3], [2, 0]]
    bare = NetworkConfig(cores=cfg.cores, inputs=cfg.inputs, outputs=cfg.outputs)
    with pytest.raises(HardwareLimitError, match=r"^this configuration has no port map"):
        encode_inputs(bare, x)
    with pytest.raises(HardwareLimitError, match=r"it was not exported by rnn2snn$"):
        decode_counts(bare, outputs, [1, 1])


def test_encode_inputs_blanks_words_past_each_length():
    """Padding may hold any level: with lengths, the core run sends nothing after a
    question's last word (flush ticks included) and equals the network-level simulator."""
    rng = np.random.default_rng(3)
    net = IntegerRNN(w_in=rng.integers(-8, 8, size=(5, 4)), w_rec=rng.integers(-8, 8, size=(5, 5)),
                     threshold=rng.integers(5, 30, size=5))
    cfg = SpikingConfig(flush_ticks=3)
    snn = convert(net, cfg)
    config = place(snn)
    x = rng.integers(1, 16, size=(3, 4, 4))  # no zero level anywhere, padding included
    lengths = np.array([4, 2, 1])
    spikes = encode_inputs(config, x, lengths)
    for b, n in enumerate(lengths):
        assert spikes[b, : n * 15].any() and not spikes[b, n * 15:].any()
    assert np.array_equal(spikes[0], encode_inputs(config, x)[0])  # the full-length question
    run = run_cores(config, spikes)
    assert np.array_equal(decode_counts(config, run.outputs, lengths), simulate(snn, x, lengths).counts)
    assert encode_inputs(config, x)[1, 30:].any()  # without lengths the padding is sent
    for bad in ([4, 2], [4, 2, -1], 3):
        with pytest.raises(Rnn2SnnError, match=r"^lengths: expected 3 word counts ≥ 0, one per sequence"):
            encode_inputs(config, x, bad)
    assert not encode_inputs(config, x, [0, 0, 0]).any()
    assert np.array_equal(encode_inputs(config, x, [9, 9, 9]), encode_inputs(config, x))


def test_inhibitory_inputs_only():
    """Inputs that only inhibit (w = −8: the −8 type alone) still reach their ports."""
    net = IntegerRNN(w_in=np.array([[-8, -8]]), w_rec=np.zeros((1, 1), dtype=np.int64), threshold=3)
    cfg = place(convert(net, SpikingConfig(neg_input_schedule="late")))
    assert cfg.ports.input_port_source == ((0, 3), (1, 3))
    spikes = encode_inputs(cfg, np.array([[[2, 1]]]))
    assert np.flatnonzero(spikes[0, :, 0]).tolist() == [13, 14]
    assert np.flatnonzero(spikes[0, :, 1]).tolist() == [14]


def test_decode_counts_sums_ports_of_the_same_unit():
    net = IntegerRNN(w_in=np.ones((2, 1), dtype=np.int64), w_rec=np.zeros((2, 2), dtype=np.int64),
                     threshold=1)
    cfg = place(convert(net))
    m = replace(cfg.ports, output_port_unit=(1, 1))
    outputs = np.zeros((1, 15, 2), dtype=bool)
    outputs[0, 0, 0] = outputs[0, 1, 1] = outputs[0, 2, 1] = True
    counts = decode_counts(replace(cfg, ports=m), outputs, [1])
    assert counts.tolist() == [[[0, 3]]]


def test_place_refuses_too_many_copies_on_a_core():
    """60 neurons each read by all 60 on all four types, held on one core (``groups``):
    60 × (4 + 1) copies > 256. Without groups the split spreads them (next section)."""
    w = np.full((60, 60), -1)
    net = IntegerRNN(w_in=np.zeros((60, 1), dtype=np.int64), w_rec=w, threshold=1,
                     groups=(tuple(range(60)),))
    with pytest.raises(HardwareLimitError, match="300 neurons with copies, over the limit of 256"):
        place(convert(net))


# ---------------------------------------------------------------------------------------------
# The greedy multi-core split.

def axons_of(bits, g):
    return int(bits[:, g, :].any(axis=1).sum())


def check_split(bits, n_in, groups):
    """Every neuron once, in order; ≤ 256 axons and ≤ 256 neurons (copies counted over all
    cores that read each neuron) on every core."""
    flat = np.concatenate(groups).tolist()
    h = bits.shape[1]
    assert sorted(flat) == list(range(h)) and flat == list(range(h))
    readers = np.zeros(h, dtype=np.int64)
    for g in groups:
        used = bits[:, g, :].any(axis=1)  # (4, S)
        readers += used[:, n_in:].sum(axis=0)
    for g in groups:
        assert axons_of(bits, g) <= 256
        assert int((readers[g] + 1).sum()) <= 256


@pytest.mark.parametrize("seed", range(4))
def test_greedy_split_respects_256_axons_and_neurons(seed):
    rng = np.random.default_rng(seed)
    h, p = 30, 70
    w = rng.integers(-8, 8, size=(h, p + h)) * (rng.random((h, p + h)) < 0.5)
    bits = split_weights(w)
    groups = partition_neurons(bits, p)
    assert len(groups) > 1
    check_split(bits.astype(bool), p, groups)
    b = bits.astype(bool)
    copies = b[:, :, p:].any(axis=1).sum(axis=0) + 1
    for g, nxt in zip(groups[:-1], groups[1:], strict=True):
        more = list(g) + [int(nxt[0])]  # greedy: the next neuron did not fit
        assert axons_of(b, more) > 256 or int(copies[more].sum()) > 256
    r = count_resources(bits, p)
    assert r.cores == len(groups) and r.output_ports == h
    used = [b[:, g, :].any(axis=1) for g in groups]
    assert r.axons == sum(int(u.sum()) for u in used)
    assert r.input_axons == sum(int(u[:, :p].sum()) for u in used)
    assert r.recurrent_axons == r.axons - r.input_axons


def test_greedy_split_places_and_runs_across_cores(tmp_path):
    """A layer the greedy split spreads over several cores, placed, exported, re-read, and run
    against the naive network reference."""
    rng = np.random.default_rng(5)
    h, p = 12, 70
    w = rng.integers(-8, 8, size=(h, p + h)) * (rng.random((h, p + h)) < 0.6)
    net = IntegerRNN(w_in=w[:, :p], w_rec=w[:, p:], threshold=rng.integers(20, 40, size=h))
    cfg = SpikingConfig(delay=13, neg_delay=15)
    snn = convert(net, cfg)
    groups = partition_neurons(snn.bits, p)
    assert len(groups) >= 2
    path = save_config(place(snn), tmp_path / "multi.json")
    wr, delays, _, d = read_placed_file(path)
    assert len(d["cores"]) == len(groups)
    assert np.array_equal(wr, net.weights) and same_delays(delays, expected_delays(net, cfg))
    assert {t["core"] for c in d["cores"] for t in (n["target"] for n in c["neurons"]) if t} != {0}
    config = load_config(path)
    x = rng.integers(0, 16, size=(2, 2, p))
    run = run_cores(config, encode_inputs(config, x))
    counts = decode_counts(config, run.outputs, [2, 2])
    for b in range(2):
        want, _ = naive_network(net.weights.tolist(), p, net.threshold.tolist(), net.threshold.tolist(),
                                [1] * h, x[b].tolist(), 2, 15, 13, 15, "early", "early", 0)
        assert counts[b].tolist() == want
    assert counts.sum() > 0


def test_exactly_256_axons_and_256_neurons_fit_one_core():
    """16 inputs read on all 4 types (w = −1) and 64 neurons read on types 1, 2, 4 (w = 7) by
    every neuron: 16·4 + 64·3 = 256 axons, 64·(3 + 1) = 256 neurons with copies."""
    h, n_in = 64, 16
    w = np.concatenate([np.full((h, n_in), -1), np.full((h, h), 7)], axis=1)
    bits = split_weights(w)
    r = count_resources(bits, n_in)
    assert (r.cores, r.axons, r.neurons, r.input_axons, r.recurrent_axons) == (1, 256, 256, 64, 192)
    assert count_resources(bits, n_in, [list(range(h))]).neurons == 256
    assert [g.tolist() for g in partition_neurons(bits, n_in, [np.arange(h)])] == [list(range(h))]
    net = IntegerRNN(w_in=w[:, :n_in], w_rec=w[:, n_in:], threshold=100)
    cfg = place(convert(net))
    assert len(cfg.cores) == 1 and cfg.cores[0].n_axons == 256 and cfg.cores[0].n_neurons == 256
    # one neuron reading 64 sources on 4 types: 256 axons alone still fit
    assert len(partition_neurons(split_weights(np.full((1, 64), -1)), 63)) == 1
    # a second neuron that adds a 257th axon goes to a second core
    w = np.zeros((2, 67), dtype=np.int64)
    w[0, :64] = -1
    w[1, 64] = 1
    assert [g.tolist() for g in partition_neurons(split_weights(w), 65)] == [[0], [1]]
    w[1, 64] = 0
    w[1, 0] = -1  # nothing new: both on one core
    assert [g.tolist() for g in partition_neurons(split_weights(w), 65)] == [[0, 1]]


def test_greedy_split_when_the_copies_bind():
    """Neuron 0 is read by nobody (1 copy); neurons 1…59 read themselves on all 4 types
    (4 axons, 5 copies each). A core fills at 1 + 5·51 = 256 neurons: 52 neurons, then 8."""
    h = 60
    w = np.zeros((h, 1 + h), dtype=np.int64)
    w[:, 0] = 1
    for j in range(1, h):
        w[j, 1 + j] = -1
    bits = split_weights(w)
    groups = partition_neurons(bits, 1)
    assert [len(g) for g in groups] == [52, 8]
    check_split(bits.astype(bool), 1, groups)
    r = count_resources(bits, 1)
    assert r.cores == 2 and r.neurons == 1 + 5 * 59


def test_greedy_split_reruns_when_the_split_adds_copies():
    """60 neurons all-to-all on 4 types: one core would need 60 · 5 = 300 neurons, and every
    core a neuron is read on adds 4 copies of it, so k cores hold 256 // (4k + 1) neurons
    each: 2 cores 28, 3 cores 19, 4 cores 15 — the first split that fits is 4 × 15. The
    one-core estimate alone (51 + 9) would be refused by its own check."""
    h = 60
    w = np.full((h, 1 + h), -1, dtype=np.int64)
    w[:, 0] = 1
    bits = split_weights(w)
    groups = partition_neurons(bits, 1)
    assert [len(g) for g in groups] == [15, 15, 15, 15]
    assert core_usage(bits, 1, groups)[1] == [255, 255, 255, 255]
    check_split(bits.astype(bool), 1, groups)
    net = IntegerRNN(w_in=w[:, :1], w_rec=w[:, 1:], threshold=2)
    config = place(convert(net))
    assert len(config.cores) == 4
    x = np.array([[[9], [15], [0]]])
    counts = decode_counts(config, run_cores(config, encode_inputs(config, x)).outputs, [3])
    want, _ = naive_network(net.weights.tolist(), 1, [2] * h, [2] * h, [1] * h, x[0].tolist(), 3,
                            15, 15, 15, "early", "early", 0)
    assert counts[0].tolist() == want and counts.sum() > 0


def test_one_greedy_pass_counts_copies_as_on_one_core():
    """One pass at a given budget: neuron j costs 1 + the axon types it is read on anywhere
    (the output port and one copy per type): 59 neurons read on 4 types cost 5 each,
    neuron 0, read on 2 types, costs 3; a core takes neurons while their cost fits."""
    from rnn2snn.targets.truenorth.resources import _greedy_split

    h = 60
    w = np.full((h, 1 + h), -1, dtype=np.int64)
    w[:, 0] = 1
    w[:, 1] = 3  # neuron 0 is read on types 1 and 2 only: it costs 3
    bits = split_weights(w).astype(bool)
    assert [len(g) for g in _greedy_split(bits, 1, 75)] == [15, 15, 15, 15]  # 3 + 14·5 = 73, +5 > 75
    assert [len(g) for g in _greedy_split(bits, 1, 73)] == [15, 14, 14, 14, 3]
    assert [len(g) for g in _greedy_split(bits, 1, 72)] == [14, 14, 14, 14, 4]
    assert [len(g) for g in _greedy_split(bits, 1, 256)] == [51, 9]


def test_greedy_split_refuses_a_layer_no_split_holds():
    """Neurons 1…64 each read 256 axons (neuron 0 and 63 inputs of their own, 4 types), so
    each sits alone on its core, and neuron 0 is read on 4 types on 64 cores: 257 copies."""
    h, per = 65, 63
    n_in = (h - 1) * per
    w = np.zeros((h, n_in + h), dtype=np.int64)
    for j in range(1, h):
        w[j, (j - 1) * per: j * per] = -1
        w[j, n_in] = -1
    with pytest.raises(HardwareLimitError, match=r"^core \d+: 257 neurons with copies, over the limit"):
        partition_neurons(split_weights(w), n_in)


def test_count_resources_follows_the_given_groups():
    w = np.array([[1, 0, 0, 0], [1, 2, 0, 0], [0, 0, 3, 0]])
    bits = split_weights(w)
    assert count_resources(bits, 1).cores == 1
    r = count_resources(bits, 1, [[0], [1, 2]])
    # core 0: input on type 1 (1 axon); core 1: input type 1, neuron 0 type 2, neuron 1 types 1, 2
    assert (r.cores, r.axons, r.input_axons, r.recurrent_axons) == (2, 5, 2, 3)
    assert r.neurons == (1 + 1) + (2 + 1) + 1


def test_an_empty_core_group_is_an_empty_core():
    net = IntegerRNN(w_in=np.ones((2, 1), dtype=np.int64), w_rec=np.zeros((2, 2), dtype=np.int64),
                     threshold=1, groups=((0, 1), ()))
    bits = split_weights(net.weights)
    parts = partition_neurons(bits, 1, [[0, 1], []])
    assert [g.tolist() for g in parts] == [[0, 1], []] and parts[1].dtype == np.int64
    cfg = place(convert(net))
    assert [(c.n_axons, c.n_neurons) for c in cfg.cores] == [(1, 2), (0, 0)]
    for name in ("axon_types", "type_weights", "stochastic_synapse", "target_core", "target_axon",
                 "target_delay"):
        assert getattr(cfg.cores[1], name).dtype == np.int64, name
    # a layer with no neuron at all: no core, and empty counts
    empty = place(convert(IntegerRNN(w_in=np.zeros((0, 2), dtype=np.int64),
                                     w_rec=np.zeros((0, 0), dtype=np.int64), threshold=1)))
    assert empty.cores == [] and empty.outputs == []
    counts = decode_counts(empty, np.zeros((1, 15, 0), dtype=bool), [1])
    assert counts.shape == (1, 1, 0) and counts.dtype == np.int64


def test_partition_refuses_what_cannot_fit():
    bits = split_weights(np.full((1, 70), -1))  # one neuron reading 70 sources × 4 types
    with pytest.raises(HardwareLimitError, match=r"^recurrent neuron 0 alone needs 280 axons \(limit 256 "
                                                 r"per core\): reduce its fan-in$"):
        partition_neurons(bits, 69)
    w = np.zeros((2, 70), dtype=np.int64)
    w[0, 0] = 1
    w[1] = -1  # neuron 1 reads all 70 sources on 4 types: 280 axons, alone on its core
    with pytest.raises(HardwareLimitError, match=r"^recurrent neuron 1 alone needs 280 axons"):
        partition_neurons(split_weights(w), 68)
    w = np.zeros((3, 5), dtype=np.int64)
    with pytest.raises(HardwareLimitError, match=r"^core groups must place each of the 3 recurrent "
                                                 r"neurons once$"):
        partition_neurons(split_weights(w), 2, [[0, 1], [1, 2]])
    with pytest.raises(HardwareLimitError, match="place each of the 3"):
        partition_neurons(split_weights(w), 2, [[0, 1]])
    assert [g.tolist() for g in partition_neurons(split_weights(w), 2, [[2], [0, 1]])] == [[2], [0, 1]]
    assert [g.tolist() for g in partition_neurons(split_weights(w), 2)] == [[0, 1, 2]]
    assert partition_neurons(np.zeros((4, 0, 3)), 3) == []


def test_check_groups_names_the_core_and_the_count():
    w = np.full((20, 300), -1)
    with pytest.raises(HardwareLimitError, match=r"^core 1: its neurons read 1200 axons \(sources × "
                                                 r"types\), over the limit of 256 axons a core"):
        check_groups(split_weights(w), 280, [np.array([], dtype=np.int64), np.arange(20)])
    w = np.zeros((60, 61), dtype=np.int64)
    w[:, 1:] = -1  # every neuron read on 4 types by both cores: 2 × 4 + 1 = 9 copies each
    with pytest.raises(HardwareLimitError, match=r"^core 1: 288 neurons with copies, over the limit "
                                                 r"of 256 neurons a core"):
        check_groups(split_weights(w), 1, [np.arange(28), np.arange(28, 60)])
    w = np.zeros((56, 57), dtype=np.int64)
    w[:, 1:] = -1  # 28 × 9 = 252 on each core: fits
    check_groups(split_weights(w), 1, [np.arange(28), np.arange(28, 56)])


def test_core_usage_counts_copies_across_cores():
    """Neuron 0 is read on type 1 by a neuron of core 0 and on types 1, −8 by one of core 1:
    3 axons fed + its output port = 4 copies."""
    w = np.zeros((3, 2 + 3), dtype=np.int64)
    w[1, 2] = 1
    w[2, 2] = -7  # −8 + 1
    bits = split_weights(w)
    used, neurons = core_usage(bits, 2, [np.array([0, 1]), np.array([2])])
    assert neurons == [4 + 1, 1]
    assert used[0].sum() == 1 and used[1].sum() == 2
    assert axon_types_used(bits)[:, 2].tolist() == [True, False, False, True]


# ---------------------------------------------------------------------------------------------
# The core-level simulator.

def random_config(rng, n_cores=None, stochastic=False):
    """A random configuration (JSON tree): 1-3 cores, any neuron model, targets across cores,
    several neurons sometimes targeting one axon."""
    n_cores = n_cores or int(rng.integers(1, 4))
    shapes = [(int(rng.integers(1, 7)), int(rng.integers(1, 6))) for _ in range(n_cores)]
    cores = []
    for c, (n_axons, n_neurons) in enumerate(shapes):
        neurons = []
        for _ in range(n_neurons):
            target = None
            if rng.random() < 0.7:
                tc = int(rng.integers(0, n_cores))
                target = {"core": tc, "axon": int(rng.integers(0, min(2, shapes[tc][0]))),
                          "delay": int(rng.choice([1, 2, 15, int(rng.integers(1, 16))]))}
            neurons.append({
                "weights": [int(v) for v in rng.integers(-60, 61, size=4)],
                "threshold": int(rng.integers(1, 120)), "neg_threshold": int(rng.integers(0, 120)),
                "leak": int(rng.integers(-5, 6)), "leak_reversal": int(rng.integers(0, 2)),
                "reset_mode": int(rng.integers(0, 3)), "reset_value": int(rng.integers(-20, 21)),
                "neg_saturate": int(rng.integers(0, 2)), "threshold_mask": 0, "stochastic_leak": 0,
                "stochastic_synapse": [int(stochastic)] * 2 + [0, 0], "target": target})
        crossbar = ["".join(rng.choice(["0", "1"], size=n_neurons)) for _ in range(n_axons)]
        cores.append({"index": c, "axons": [{"type": int(t)} for t in rng.integers(0, 4, size=n_axons)],
                      "crossbar": crossbar, "neurons": neurons})
    inputs = []
    for _ in range(int(rng.integers(1, 5))):
        c = int(rng.integers(0, n_cores))
        inputs.append({"core": c, "axon": int(rng.integers(0, shapes[c][0]))})
    outputs = [{"core": c, "neuron": j} for c, (_, n) in enumerate(shapes) for j in range(n)]
    return {"format": "rnn2snn-truenorth", "version": 2, "cores": cores, "inputs": inputs,
            "outputs": outputs, "ports": None}


def test_core_simulator_matches_naive_reference():
    rng = np.random.default_rng(42)
    for _ in range(40):
        tree = random_config(rng)
        cfg = config_from_dict(tree)
        batch, ticks = 3, int(rng.integers(1, 45))
        spikes = rng.random((batch, ticks, len(tree["inputs"]))) < 0.4
        until = rng.integers(0, ticks + 1, size=batch)
        run = run_cores(cfg, spikes, record=True, record_potentials=True, until=until)
        full = run_cores(cfg, spikes)
        assert run.outputs.dtype == bool and full.outputs.dtype == bool
        assert all(r.dtype == bool for r in run.rasters)
        assert all(p.dtype == np.int64 for p in run.potentials)
        events = spk = active_any = 0
        for b in range(batch):
            raster, pots = naive_run(tree, spikes[b].tolist())
            for c in range(len(cfg.cores)):
                assert run.rasters[c][b].tolist() == [tick[c] for tick in raster]
                assert run.potentials[c][b].tolist() == [tick[c] for tick in pots]
            flat = [[s for c in range(len(cfg.cores)) for s in tick[c]] for tick in raster]
            assert run.outputs[b].tolist() == flat
            e, s = naive_events(tree, spikes[b].tolist(), int(until[b]))
            events, spk = events + e, spk + s
            active_any += naive_events(tree, spikes[b].tolist())[0]
        assert run.synaptic_events == events and run.spikes == spk
        assert full.synaptic_events == active_any
        assert full.rasters is None and full.potentials is None
        assert 0 <= run.active_cores <= len(cfg.cores)


def test_events_and_spikes_counted_by_hand_on_a_tiny_layer():
    """One neuron, inputs w = (3, −1), itself w = 2, α = 4.
    Axons: in0 types {1, 2}, in1 types {1, 2, 4, −8}, rec0 type {2}: 7 axons; the neuron has 2
    copies (1 axon fed + output), each connected to every axon: 2 events per axon spike.
    Word 0, levels (2, 1), early: tick 0 in0 (2 axons) + in1 (4 axons), tick 1 in0 (2 axons):
    (2 + 4 + 2) × 2 = 16 events. V: 3 − 1 = 2, then 5 → spike at tick 1 (2 copies), V = 1.
    The spike reaches rec0 at tick 16: 1 axon × 2 = 2 more events, V = 3 (no spike)."""
    net = IntegerRNN(w_in=np.array([[3, -1]]), w_rec=np.array([[2]]), threshold=4)
    snn = convert(net, SpikingConfig())
    cfg = place(snn)
    assert cfg.cores[0].n_axons == 7 and cfg.cores[0].n_neurons == 2
    x = np.zeros((2, 2, 2), dtype=np.int64)
    x[:, 0] = [2, 1]
    inputs = encode_inputs(cfg, x)
    run = run_cores(cfg, inputs, until=np.array([15, 30]))  # question 0: one word, question 1: two
    assert run.synaptic_events == 16 + 18 and run.spikes == 2 + 2 and run.active_cores == 1
    run = run_cores(cfg, inputs)
    assert run.synaptic_events == 18 + 18 and run.spikes == 4
    run = run_cores(cfg, inputs, until=np.array([0, 0]))
    assert run.synaptic_events == 0 and run.spikes == 0 and run.active_cores == 0
    run = run_cores(cfg, inputs, until=np.array([1, 0]))
    assert run.synaptic_events == 12 and run.spikes == 0 and run.active_cores == 1
    run = run_cores(cfg, inputs, until=np.array([2, 0]))
    assert run.synaptic_events == 16 and run.spikes == 2


def test_activity_power_of_the_tiny_layer():
    """The pipeline's activity estimate counts the events inside each question's own ticks:
    16 events and 2 spikes in 15 ticks (one word); the 2 events of tick 16 are not counted."""
    from rnn2snn.targets.truenorth.target import activity_estimate

    net = IntegerRNN(w_in=np.array([[3, -1]]), w_rec=np.array([[2]]), threshold=4)
    snn = convert(net, SpikingConfig())
    x = np.zeros((1, 2, 2), dtype=np.int64)
    x[0, 0] = [2, 1]
    est = activity_estimate(snn, x, np.array([1]))
    seconds = 15e-3
    static = 42e-3 / 4096 * 1e6
    syn = 16 / seconds * 2.3e-12 * 1e6
    spk = 2 / seconds * 2.3e-12 * 1e6
    assert est["synaptic_events_per_word"] == 16 and est["spikes_per_word"] == 2
    assert est["cores_placed"] == 1 and est["active_cores"] == 1
    assert est["power_uw_activity"] == pytest.approx(static + syn + spk, rel=1e-12)
    assert est["power_activity_parts_uw"]["synaptic"] == pytest.approx(syn, rel=1e-12)
    assert est["synaptic_events_per_second"] == pytest.approx(16 / seconds)


def test_stochastic_synapses_against_their_probability():
    """A stochastic synapse of weight S adds sgn(S) with probability |S|/256 per event.
    Neuron 0: S = 64 on type 0 (p = 1/4); neuron 1: S = −192 on type 1 (p = 3/4); neuron 2 the
    same as neuron 0 but deterministic; neuron 3: two type-0 axons at once, Binomial(2, 1/4);
    neuron 4: S = 255 (p = 255/256: the rare misses tell 256 from 257)."""
    big = 2**18 - 1
    neuron = {"threshold": big, "neg_threshold": big, "leak": 0, "leak_reversal": 0,
              "reset_mode": 2, "reset_value": 0, "neg_saturate": 0, "threshold_mask": 0,
              "stochastic_leak": 0, "target": None}
    tree = {"format": "rnn2snn-truenorth", "version": 2, "ports": None,
            "cores": [{"index": 0, "axons": [{"type": 0}, {"type": 1}, {"type": 0}],
                       "crossbar": ["10110", "01001", "00010"],
                       "neurons": [dict(neuron, weights=[64, 0, 0, 0], stochastic_synapse=[1, 0, 0, 0]),
                                   dict(neuron, weights=[0, -192, 0, 0], stochastic_synapse=[0, 1, 0, 0]),
                                   dict(neuron, weights=[64, 0, 0, 0], stochastic_synapse=[0, 0, 0, 0]),
                                   dict(neuron, weights=[64, 0, 0, 0], stochastic_synapse=[1, 0, 0, 0]),
                                   dict(neuron, weights=[0, 255, 0, 0], stochastic_synapse=[0, 1, 0, 0])]}],
            "inputs": [{"core": 0, "axon": 0}, {"core": 0, "axon": 1}, {"core": 0, "axon": 2}],
            "outputs": []}
    cfg = config_from_dict(tree)
    n = 200_000
    spikes = np.ones((n, 1, 3), dtype=bool)
    run = run_cores(cfg, spikes, record_potentials=True, rng=np.random.default_rng(31))
    v = run.potentials[0][:, 0, :]
    assert set(np.unique(v[:, 0])) <= {0, 1} and within_chernoff(int(v[:, 0].sum()), n, 0.25)
    assert set(np.unique(v[:, 1])) <= {0, -1} and within_chernoff(int(-v[:, 1].sum()), n, 0.75)
    assert (v[:, 2] == 64).all()
    for k, prob in ((0, 9 / 16), (1, 6 / 16), (2, 1 / 16)):
        assert within_chernoff(int((v[:, 3] == k).sum()), n, prob)
    assert within_chernoff(int((v[:, 4] == 0).sum()), n, 1 / 256)
    assert run.synaptic_events == 6 * n
    with pytest.raises(ValueError, match=r"^stochastic synapses need a seeded rng$"):
        run_cores(cfg, spikes[:2])


def test_stochastic_neurons_on_the_core_simulator():
    """A core of stochastic-threshold neurons (M = 15): a potential of α + k spikes with
    probability (k + 1)/16 — the simulator hands its rng to the neuron update."""
    ks = [0, 7]
    neuron = {"threshold": 20, "neg_threshold": 0, "leak": 0, "leak_reversal": 0, "reset_mode": 0,
              "reset_value": 0, "neg_saturate": 1, "threshold_mask": 15, "stochastic_leak": 0,
              "stochastic_synapse": [0, 0, 0, 0], "target": None}
    tree = {"format": "rnn2snn-truenorth", "version": 2, "ports": None,
            "cores": [{"index": 0, "axons": [{"type": 0}], "crossbar": ["11"],
                       "neurons": [dict(neuron, weights=[20 + k, 0, 0, 0]) for k in ks]}],
            "inputs": [{"core": 0, "axon": 0}], "outputs": [{"core": 0, "neuron": 0},
                                                            {"core": 0, "neuron": 1}]}
    cfg = config_from_dict(tree)
    n = 40_000
    run = run_cores(cfg, np.ones((n, 1, 1), dtype=bool), rng=np.random.default_rng(6))
    for j, k in enumerate(ks):
        assert within_chernoff(int(run.outputs[:, 0, j].sum()), n, (k + 1) / 16)
    with pytest.raises(ValueError, match=r"^a stochastic threshold needs a seeded rng$"):
        run_cores(cfg, np.ones((1, 1, 1), dtype=bool))


def test_ports_and_outputs():
    tree = random_config(np.random.default_rng(3), n_cores=2)
    cfg = config_from_dict(tree)
    with pytest.raises(ValueError, match=rf"^inputs have 9 ports, the configuration {len(cfg.inputs)}$"):
        run_cores(cfg, np.zeros((1, 3, 9), dtype=bool))
    # an input port and a spike from the delay buffer on the same axon and tick: one event
    neuron = {"weights": [5, 0, 0, 0], "threshold": 1, "neg_threshold": 0, "leak": 0,
              "leak_reversal": 0, "reset_mode": 0, "reset_value": 0, "neg_saturate": 1,
              "threshold_mask": 0, "stochastic_leak": 0, "stochastic_synapse": [0, 0, 0, 0]}
    tree = {"format": "rnn2snn-truenorth", "version": 2, "ports": None,
            "cores": [{"index": 0, "axons": [{"type": 0}], "crossbar": ["11"],
                       "neurons": [dict(neuron, target={"core": 0, "axon": 0, "delay": 2}),
                                   dict(neuron, target={"core": 0, "axon": 0, "delay": 2})]}],
            "inputs": [{"core": 0, "axon": 0}, {"core": 0, "axon": 0}], "outputs": [{"core": 0, "neuron": 1}]}
    cfg = config_from_dict(tree)
    spikes = np.zeros((1, 5, 2), dtype=bool)
    spikes[0, 0] = [True, True]
    spikes[0, 2, 0] = True
    run = run_cores(cfg, spikes, record_potentials=True)
    # tick 0: both ports on axon 0 → one axon spike → 2 events; both neurons fire; their spikes
    # (two neurons, one axon) reach axon 0 at tick 2, together with port 0 → one axon spike.
    assert run.outputs[0, :, 0].tolist() == [True, False, True, False, True]
    assert run.synaptic_events == 2 * 3 and run.spikes == 2 * 3
    assert run.potentials[0][0, :, 0].tolist() == [0, 0, 0, 0, 0]


# ---------------------------------------------------------------------------------------------
# Power.

def test_activity_power_formula():
    p = P.activity_power_uw(cores=2, synaptic_events=1000, spikes=50, ticks=500, hops_per_spike=3)
    static = 2 * 42e-3 / 4096 * 1e6
    assert p.static_uw == pytest.approx(static, rel=1e-12)
    assert p.synaptic_uw == pytest.approx(2000 * 2.3e-12 * 1e6, rel=1e-12)
    assert p.spike_uw == pytest.approx(100 * 3 * 2.3e-12 * 1e6, rel=1e-12)
    assert p.total_uw == pytest.approx(p.static_uw + p.synaptic_uw + p.spike_uw, rel=1e-12)
    assert p.synaptic_events_per_second == pytest.approx(2000) and p.spikes_per_second == pytest.approx(100)
    assert p.to_dict()["total_uw"] == p.total_uw and len(p.to_dict()) == 6
    q = P.activity_power_uw(cores=1, synaptic_events=10, spikes=10, ticks=1)
    assert q.spike_uw == pytest.approx(10 / 1e-3 * 2.3e-12 * 1e6, rel=1e-12)
    for bad in (0, -1):
        with pytest.raises(ValueError, match=rf"^ticks must be > 0, got {bad}$"):
            P.activity_power_uw(1, 1, 1, bad)


def test_core_share_power():
    assert P.core_share_power_uw(1) == pytest.approx(70e-3 / 4096 * 1e6, rel=1e-12)
    assert P.core_share_power_uw(4) == pytest.approx(4 * 70e-3 / 4096 * 1e6, rel=1e-12)
    assert P.core_share_power_uw(0) == 0
    with pytest.raises(ValueError, match=r"^cores must be ≥ 0, got -1$"):
        P.core_share_power_uw(-1)


def test_constants_table_lists_every_constant_with_its_source():
    rows = P.constants_table()
    assert [r["name"] for r in rows] == ["chip_power", "static_power_per_core",
                                         "energy_per_synaptic_event", "energy_per_spike_hop"]
    assert [r["value"] for r in rows] == [70e-3, 42e-3 / 4096, 2.3e-12, 2.3e-12]
    assert [r["unit"] for r in rows] == ["W", "W", "J", "J"]
    assert all("et al." in r["source"] for r in rows)

"""SANA-FE, a simulator written by others, runs our TrueNorth configurations spike for spike."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
from extras import need

from rnn2snn.constrain import input_levels
from rnn2snn.errors import HardwareLimitError
from rnn2snn.program.neuron import NeuronParams
from rnn2snn.targets.truenorth.config import NO_TARGET, CoreConfig, NetworkConfig, Port
from rnn2snn.targets.truenorth.placement import encode_inputs, place
from rnn2snn.targets.truenorth.sanafe import (
    SanafeInputError,
    SanafeUnavailableError,
    check_potential_range,
    plan,
    sanafe_crosscheck,
    sanafe_run,
)
from rnn2snn.targets.truenorth.simulator import run_cores


@pytest.fixture(scope="module")
def sanafe():
    return need("sanafe")


def _core(index, axon_types, crossbar, weights, targets, **neuron):
    n = crossbar.shape[1]
    tc = np.array([t[0] if t else NO_TARGET for t in targets], dtype=np.int64)
    return CoreConfig(
        axon_types=np.asarray(axon_types, dtype=np.int64), crossbar=np.asarray(crossbar, dtype=bool),
        type_weights=np.asarray(weights, dtype=np.int64), neurons=NeuronParams.make(n, **neuron),
        stochastic_synapse=np.zeros((n, 4), dtype=np.int64), target_core=tc,
        target_axon=np.array([t[1] if t else 0 for t in targets], dtype=np.int64),
        target_delay=np.array([t[2] if t else 0 for t in targets], dtype=np.int64), index=index)


def random_config(rng: np.random.Generator) -> NetworkConfig:
    """1–3 cores, every delay 1…15, all reset modes SANA-FE supports, saturating and
    resetting negative thresholds, leaks, and axons shared by several sources."""
    n_cores = int(rng.integers(1, 4))
    shapes = [(int(rng.integers(2, 9)), int(rng.integers(1, 7))) for _ in range(n_cores)]
    targets = [[None if rng.random() < 0.2 else
                (int(tc := rng.integers(n_cores)), int(rng.integers(shapes[tc][0])), int(rng.integers(1, 16)))
                for _ in range(n)] for _, n in shapes]
    ports = [Port(int(c := rng.integers(n_cores)), int(rng.integers(shapes[c][0])))
             for _ in range(int(rng.integers(1, 5)))]
    sources = {}
    for tlist in targets:
        for t in tlist:
            if t:
                sources[t[:2]] = sources.get(t[:2], 0) + 1
    for p in ports:
        sources[(p.core, p.index)] = sources.get((p.core, p.index), 0) + 1
    cores = []
    for c, (a, n) in enumerate(shapes):
        # a shared axon needs a delay ≥ 2 (a relay merges its spikes); keep every other one
        tl = [t if not t or sources[t[:2]] == 1 or t[2] > 1 else (t[0], t[1], 2) for t in targets[c]]
        reset = rng.choice([0, 1, 2], size=n)
        saturate = np.where(reset == 1, 1, rng.integers(0, 2, size=n))
        cores.append(_core(
            c, rng.integers(0, 4, size=a), rng.random((a, n)) < 0.6,
            rng.integers(-120, 200, size=(n, 4)), tl, threshold=rng.integers(1, 300, size=n),
            neg_threshold=rng.integers(0, 300, size=n), leak=rng.integers(-15, 16, size=n),
            reset_mode=reset, reset_value=rng.integers(-40, 41, size=n), neg_saturate=saturate))
    return NetworkConfig(cores=cores, inputs=ports, outputs=[Port(0, 0)])


def test_random_configurations_agree_spike_for_spike(sanafe):
    spikes = relays = shared = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        config = random_config(rng)
        ticks = int(rng.integers(20, 60))
        inputs = rng.random((3, ticks, len(config.inputs))) < 0.4
        until = np.array([ticks, int(rng.integers(1, ticks)), int(rng.integers(1, ticks))])
        result = sanafe_crosscheck(config, inputs, until)
        assert result["sanafe_mismatches"] == 0, (seed, result)
        assert result["sanafe_spikes"] == result["ours_spikes"], (seed, result)
        assert result["events_explained"], (seed, result)
        spikes += result["ours_spikes"]
        relays += result["sanafe_relays"]
        shared += plan(config).k == 3
    assert spikes > 500 and relays > 20 and shared > 0  # the cases above were really exercised


def test_spikes_meeting_at_one_axon_merge_as_on_truenorth(sanafe):
    """Two neurons spike into axon 1 in the same tick: TrueNorth delivers one event."""
    crossbar = np.array([[1, 1, 0], [0, 0, 1]])
    config = NetworkConfig(cores=[_core(0, [0, 0], crossbar, np.ones((3, 4)), [(0, 1, 3), (0, 1, 3), None],
                                        threshold=[1, 1, 2])], inputs=[Port(0, 0)], outputs=[Port(0, 2)])
    inputs = np.zeros((1, 12, 1), dtype=bool)
    inputs[0, 0] = True
    ours = run_cores(config, inputs, record=True)
    theirs = sanafe_run(config, inputs)
    assert ours.rasters[0][0, :, 2].sum() == 0  # one merged event a tick stays below threshold 2
    np.testing.assert_array_equal(theirs.rasters[0], ours.rasters[0])
    assert theirs.relays == 1


def test_real_network_slice_agrees_and_a_changed_threshold_is_seen(sanafe, small_run):
    config = place(small_run.snn)
    test = small_run.test.subset(np.arange(40))
    inputs = encode_inputs(config, input_levels(small_run.model, test))
    result = sanafe_crosscheck(config, inputs)
    assert result["sanafe_mismatches"] == 0, result
    assert result["ours_spikes"] > 1000 and result["sanafe_spikes"] == result["ours_spikes"]
    assert result["events_explained"]
    assert result["sanafe_neuron_ticks"] == inputs.shape[0] * inputs.shape[1] * config.n_neurons
    # the comparison can fail: the busiest neuron's threshold one higher changes its spikes
    core = config.cores[0]
    ours = run_cores(config, inputs[:5], record=True)
    busiest = int(ours.rasters[0].sum((0, 1)).argmax())
    threshold = core.neurons.threshold.copy()
    threshold[busiest] += 1
    changed = replace(config, cores=[replace(core, neurons=replace(core.neurons, threshold=threshold))]
                      + config.cores[1:])
    theirs = sanafe_run(changed, inputs[:5])
    assert (theirs.rasters[0] != ours.rasters[0]).sum() > 0


def _one_neuron(**neuron):
    return NetworkConfig(cores=[_core(0, [0], np.ones((1, 1)), np.ones((1, 4)), [None], **neuron)],
                         inputs=[Port(0, 0)], outputs=[Port(0, 0)])


@pytest.mark.parametrize("neuron, words", [
    ({"threshold": 4, "threshold_mask": 3}, "stochastic threshold"),
    ({"threshold": 4, "leak": 2, "stochastic_leak": 1}, "stochastic leak"),
    ({"threshold": 4, "leak": -1, "leak_reversal": 1}, "leak reversal"),
    ({"threshold": 4, "reset_mode": 1, "neg_saturate": 0}, "linear reset"),
])
def test_refuses_what_sanafe_cannot_run_exactly(neuron, words):
    with pytest.raises(HardwareLimitError, match=words) as err:
        plan(_one_neuron(**neuron))
    assert "core 0, neuron 0" in str(err.value)


def test_refuses_a_delay_of_one_into_a_shared_axon_and_a_membrane_beyond_20_bits():
    config = NetworkConfig(cores=[_core(0, [0, 0], np.ones((2, 2)), np.ones((2, 4)), [(0, 1, 1), (0, 1, 4)],
                                        threshold=1)], inputs=[Port(0, 0)], outputs=[Port(0, 0)])
    with pytest.raises(HardwareLimitError, match="delay 1 to axon 1 of core 0"):
        plan(config)
    big = _one_neuron(threshold=1, reset_mode=2, neg_saturate=1)  # no reset: the membrane only grows
    check_potential_range(big, 1000)
    with pytest.raises(HardwareLimitError, match="20-bit"):
        check_potential_range(big, 600_000)


def test_missing_sanafe_names_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "sanafe", None)
    with pytest.raises(SanafeUnavailableError, match=r"pip install -e '\.\[crosscheck\]'"):
        sanafe_run(_one_neuron(threshold=2), np.zeros((1, 3, 1), dtype=bool))


def test_inputs_must_fit_the_ports():
    with pytest.raises(SanafeInputError, match="1 input ports"):
        sanafe_run(_one_neuron(threshold=2), np.zeros((1, 3, 2), dtype=bool))
    with pytest.raises(SanafeInputError, match="until"):
        sanafe_run(_one_neuron(threshold=2), np.zeros((1, 3, 1), dtype=bool), until=np.array([4]))

"""Batches of examples give exactly what one run over all examples gives (issue 16: memory flat in
the data size): the network-level simulator, the program's spiking and integer runs, the
ablation and count comparison, and the core-level simulator, with a batch of 3 so that
several batches (and a short last one) run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn2snn.batching import map_batches
from rnn2snn.program import run_integer, simulate_program
from rnn2snn.program.diagnostics import ablation, compare_counts
from rnn2snn.program.integer import IntegerRNN
from rnn2snn.program.network import SpikingConfig, convert, simulate
from rnn2snn.program.spec import FeatureEncoder, Readout, RecurrentLayer, SpikingProgram, TokenEncoder
from rnn2snn.targets.truenorth.placement import encode_inputs, place
from rnn2snn.targets.truenorth.simulator import CoreRun, run_cores
from rnn2snn.targets.truenorth.target import activity_estimate

ALL = 10 ** 6  # one batch
TIMINGS = [SpikingConfig(), SpikingConfig(flush_ticks=4, delay=3, neg_delay=1, input_schedule="spread"),
           SpikingConfig(neg_input_schedule="late", neg_threshold=30, neg_saturate=0, reset_mode=0)]


def random_net(rng, h=5, p=4) -> IntegerRNN:
    return IntegerRNN(w_in=rng.integers(-8, 8, size=(h, p)), w_rec=rng.integers(-8, 8, size=(h, h)),
                      threshold=rng.integers(1, 10, size=h))


def random_data(rng, n=11, steps=6, p=4):
    x = rng.integers(0, 16, size=(n, steps, p))
    lengths = rng.integers(1, steps + 1, size=n)
    lengths[3] = steps
    return x, lengths


def test_map_batches_covers_every_row_once_in_order():
    assert map_batches(lambda s: (s.start, s.stop), 7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert map_batches(lambda s: (s.start, s.stop), 0, 3) == [(0, 0)]  # empty data keeps its shapes
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match=r"^batch_size must be an integer ≥ 1, got "):
            map_batches(lambda s: s, 5, bad)


@pytest.mark.parametrize("timing", TIMINGS, ids=range(len(TIMINGS)))
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2 ** 31), size=st.integers(1, 5))
def test_simulate_in_batches_equals_one_run(timing, seed, size):
    rng = np.random.default_rng(seed)
    net = convert(random_net(rng), timing)
    x, lengths = random_data(rng)
    whole = simulate(net, x, lengths, record=True, batch_size=ALL)  # one batch, every tick simulated
    for record in (False, True):
        part = simulate(net, x, lengths, record=record, batch_size=size)
        assert part.ticks == whole.ticks and part.counts.dtype == np.int64
        np.testing.assert_array_equal(part.counts, whole.counts)
        if record:
            np.testing.assert_array_equal(part.raster, whole.raster)
        else:
            assert part.raster is None


def test_simulate_keeps_shapes_for_empty_data_and_a_stochastic_run_is_one_batch():
    net = convert(random_net(np.random.default_rng(1)))
    rec = simulate(net, np.zeros((0, 4, 4), dtype=np.int64), np.zeros(0, dtype=np.int64), record=True)
    assert rec.counts.shape == (0, 4, 5) and rec.raster.shape == (0, rec.ticks, 5)
    x, lengths = random_data(np.random.default_rng(2))
    a = simulate(net, x, lengths, rng=np.random.default_rng(5), batch_size=3)
    b = simulate(net, x, lengths, rng=np.random.default_rng(5), batch_size=ALL)
    np.testing.assert_array_equal(a.counts, b.counts)


def two_layer_program(rng, pooling: str, features: bool, timing: SpikingConfig) -> SpikingProgram:
    """A small random program: two layers (so a lag of one window), bias inputs, flush ticks."""
    p, h1, h2 = 4, 5, 3
    if features:
        encoder = FeatureEncoder(weight=rng.normal(0, 4, size=(p, 3)), bias=rng.normal(2, 1, size=p))
    else:
        vocab = ["<pad>", "<unk>", *(f"w{i}" for i in range(10))]
        encoder = TokenEncoder(table=rng.integers(0, 16, size=(len(vocab), p)), vocab=vocab)
    layers = tuple(RecurrentLayer(w_in=rng.integers(-8, 8, size=(h, below)),
                                  w_rec=rng.integers(-8, 8, size=(h, h)),
                                  threshold=alpha, w_bias=rng.integers(-3, 4, size=h))
                   for below, h, alpha in ((p, h1, 7), (h1, h2, 5)))
    readout = Readout(pooling, rng.normal(size=(3, h2)), rng.normal(size=3))
    return SpikingProgram(encoder, layers, timing, readout, ("a", "b", "c"))


def program_data(rng, program: SpikingProgram, n=13, steps=7):
    lengths = rng.integers(1, steps + 1, size=n)
    lengths[5] = steps
    if isinstance(program.encoder, FeatureEncoder):
        inputs = rng.normal(size=(n, steps, 3)).astype(np.float32)
    else:
        inputs = rng.integers(1, len(program.vocab), size=(n, steps))
    inputs[np.arange(steps)[None, :] >= lengths[:, None]] = 0
    return inputs, lengths


def assert_same_run(part, whole):
    for name in ("sources", "counts", "logits"):
        a, b = getattr(part, name), getattr(whole, name)
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("pooling,features",
                         [("last", False), ("mean", False), ("max", False), ("mean", True)])
def test_program_runs_in_batches_equal_one_run(pooling, features):
    rng = np.random.default_rng(len(pooling) + features)
    program = two_layer_program(rng, pooling, features, TIMINGS[1])
    inputs, lengths = program_data(rng, program)
    whole = simulate_program(program, inputs, lengths, record=True, batch_size=ALL)
    part = simulate_program(program, inputs, lengths, batch_size=3)
    assert_same_run(part, whole)
    assert part.record.raster is None and part.record.ticks == whole.record.ticks
    recorded = simulate_program(program, inputs, lengths, record=True, batch_size=3)
    np.testing.assert_array_equal(recorded.record.raster, whole.record.raster)
    for carry in (None, False):
        assert_same_run(run_integer(program, inputs, lengths, carry, batch_size=3),
                        run_integer(program, inputs, lengths, carry, batch_size=ALL))


def test_the_first_questions_alone_have_the_rasters_of_the_whole_run():
    """What the report plots (the first questions' rasters) needs no record of the whole test set."""
    rng = np.random.default_rng(3)
    program = two_layer_program(rng, "last", False, TIMINGS[0])
    inputs, lengths = program_data(rng, program)
    whole = simulate_program(program, inputs, lengths, record=True, batch_size=ALL)
    first = simulate_program(program, inputs[:2], lengths[:2], record=True, batch_size=ALL)
    np.testing.assert_array_equal(first.record.raster, whole.record.raster[:2])


def test_ablation_and_count_comparison_in_batches_equal_one_run():
    rng = np.random.default_rng(4)
    program = two_layer_program(rng, "mean", False, TIMINGS[1])
    inputs, lengths = program_data(rng, program)
    labels = rng.integers(0, 3, size=len(lengths))
    integer = run_integer(program, inputs, lengths, batch_size=ALL)
    spiking = simulate_program(program, inputs, lengths, batch_size=3)
    run_len = program.run_lengths(lengths)

    def classify(counts):
        return program.logits(counts, lengths).argmax(1)

    rows = [ablation(program.network(), integer.sources, run_len, integer.counts, classify, labels,
                     program.timing, batch_size=size) for size in (3, ALL)]
    assert rows[0] == rows[1] and len(rows[0]) >= 4
    whole = simulate_program(program, inputs, lengths, batch_size=ALL)
    assert compare_counts(spiking.counts, integer.counts, run_len) == compare_counts(
        whole.counts, integer.counts, run_len)


def test_core_simulator_in_batches_equals_one_run():
    rng = np.random.default_rng(6)
    snn = convert(random_net(rng), TIMINGS[1])
    x, lengths = random_data(rng)
    config = place(snn)
    until = snn.config.clock.end(lengths)
    inputs = encode_inputs(config, x, lengths)
    whole = run_cores(config, inputs, record=True, record_potentials=True, until=until)
    part = CoreRun.joined(map_batches(
        lambda s: run_cores(config, inputs[s], record=True, record_potentials=True, until=until[s]),
        len(x), 3))
    np.testing.assert_array_equal(part.outputs, whole.outputs)
    for a, b in zip(part.rasters + part.potentials, whole.rasters + whole.potentials, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (part.synaptic_events, part.spikes, part.active_cores) == (
        whole.synaptic_events, whole.spikes, whole.active_cores)
    assert whole.synaptic_events > 0 and whole.spikes > 0
    assert run_cores(config, inputs, until=until, keep_outputs=False).outputs is None
    assert activity_estimate(snn, x, lengths, batch_size=3) == activity_estimate(snn, x, lengths,
                                                                                 batch_size=ALL)

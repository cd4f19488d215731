"""Ensembles stacked in one program: the combined program is exactly its members."""

import numpy as np
import pytest

from rnn2snn.errors import Rnn2SnnError
from rnn2snn.program import run_integer, simulate_program
from rnn2snn.program.ensemble import combine, member_slices
from rnn2snn.program.network import SpikingConfig
from rnn2snn.program.spec import Readout, RecurrentLayer, SpikingProgram, TokenEncoder
from rnn2snn.targets.truenorth.resources import count_resources

VOCAB = ("<pad>", "<unk>", *(f"w{i}" for i in range(30)))


def member(seed: int, p: int, h: int, alpha: int, pooling: str = "max") -> SpikingProgram:
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 16, size=(len(VOCAB), p))
    table[0] = 0
    w_in = rng.integers(-8, 8, size=(h, p)) * (rng.random((h, p)) < 0.6)
    w_rec = rng.integers(-8, 8, size=(h, h)) * (rng.random((h, h)) < 0.5)
    layer = RecurrentLayer(w_in=w_in, w_rec=w_rec, threshold=alpha, levels=16)
    readout = Readout(pooling, rng.normal(size=(4, h)).astype(np.float32),
                      rng.normal(size=4).astype(np.float32))
    return SpikingProgram(TokenEncoder(table, VOCAB, 16), (layer,), SpikingConfig(), readout,
                          ("a", "b", "c", "d"))


@pytest.fixture(scope="module")
def questions():
    rng = np.random.default_rng(7)
    lengths = rng.integers(1, 9, size=12)
    tokens = rng.integers(1, len(VOCAB), size=(12, 8)) * (np.arange(8)[None, :] < lengths[:, None])
    return tokens, lengths


@pytest.mark.parametrize("pooling", ["max", "mean", "last"])
def test_combined_logits_are_the_mean_and_each_block_spikes_as_its_member(questions, pooling):
    tokens, lengths = questions
    members = [member(s, p, h, a, pooling) for s, p, h, a in ((1, 8, 8, 9), (2, 6, 10, 14), (3, 8, 6, 20))]
    both = combine(members)
    run = simulate_program(both, tokens, lengths)
    own = [simulate_program(m, tokens, lengths) for m in members]
    assert run.counts.sum() > 0
    for (neurons, _), m_run in zip(member_slices(both), own, strict=True):
        assert np.array_equal(run.counts[:, :, neurons], m_run.counts)  # spike for spike
    assert np.allclose(run.logits, np.mean([r.logits for r in own], axis=0), atol=1e-5)
    integer = run_integer(both, tokens, lengths)
    assert np.allclose(integer.logits, np.mean([run_integer(m, tokens, lengths).logits for m in members],
                                               axis=0), atol=1e-5)
    # one α per member, kept per neuron
    assert list(both.layers[0].threshold) == [9] * 8 + [14] * 10 + [20] * 6


def test_members_sit_on_their_own_cores_and_pass_verification(questions):
    from rnn2snn.targets.truenorth.verify import verify_program

    tokens, lengths = questions
    members = [member(s, 8, 8, 12) for s in (4, 5, 6)]
    both = combine(members)
    snn = both.spiking_network()
    one = members[0].spiking_network()
    cores = count_resources(snn.bits, snn.n_inputs, snn.groups).cores
    assert cores == 3 * count_resources(one.bits, one.n_inputs, one.groups).cores == 3
    check = verify_program(both, tokens[:4], lengths[:4])
    assert check.ok and check.mismatches == 0 and check.spikes > 0


def test_members_that_cannot_be_stacked_are_refused():
    a, b = member(1, 8, 8, 9), member(2, 8, 8, 9, pooling="mean")
    with pytest.raises(Rnn2SnnError, match="member 1.*pooling"):
        combine([a, b])
    other = SpikingProgram(TokenEncoder(a.encoder.table[:-1], VOCAB[:-1], 16), a.layers, a.timing,
                           a.readout, a.classes)
    with pytest.raises(Rnn2SnnError, match="member 1.*vocabulary"):
        combine([a, other])


def test_vote_and_mean_combinations_by_hand():
    """Three members, two questions: the vote follows the majority, ties go to the mean."""
    from types import SimpleNamespace

    from rnn2snn.pipeline.ensemble import _mean_accuracy, _vote_accuracy

    def member(*rows):
        return SimpleNamespace(spiking_logits=(np.array(rows, dtype=float), None))

    # question 0: votes 1, 1, 0 but member 2 is very sure of 0 → vote 1, mean 0
    # question 1: votes 0, 1, 2 (a tie) → the mean decides: 2
    members = [member([0, 1, 0], [5, 0, 0]), member([0, 1, 0], [0, 5, 0]), member([9, 0, 0], [0, 0, 6])]
    assert _vote_accuracy(members, 0, np.array([1, 2])) == 1.0
    assert _mean_accuracy(members, 0, np.array([0, 2])) == 1.0
    assert _vote_accuracy(members, 0, np.array([0, 0])) == 0.0

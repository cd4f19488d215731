"""Distillation: the loss mixes labels and a teacher's soft targets, and training follows the teacher."""

import numpy as np
import pytest
import torch

from rnn2snn.config import TrainConfig
from rnn2snn.data.text import Encoded
from rnn2snn.model.elman import ElmanClassifier, ElmanConfig
from rnn2snn.model.teacher import KimCNN, TeacherConfig
from rnn2snn.model.train import Distillation, distill_loss, predict, train


def test_loss_is_ce_without_teacher_and_the_scaled_kl_with_one():
    torch.manual_seed(0)
    s, t = torch.randn(5, 3), torch.randn(5, 3)
    y = torch.tensor([0, 1, 2, 1, 0])
    ce = torch.nn.functional.cross_entropy(s, y)
    assert torch.allclose(distill_loss(s, y, None, 0.7, 2.0), ce)
    assert torch.allclose(distill_loss(s, y, t, 0.0, 2.0), ce)
    p_t = torch.softmax(t / 3, 1)
    kl = (p_t * (p_t.log() - torch.log_softmax(s / 3, 1))).sum(1).mean()
    assert torch.allclose(distill_loss(s, y, t, 0.25, 3.0), 0.75 * ce + 0.25 * 9 * kl, atol=1e-6)
    assert float(distill_loss(t, y, t, 1.0, 2.0)) == pytest.approx(0.0, abs=1e-6)  # student = teacher


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 7, size=n)
    tokens = rng.integers(2, 20, size=(n, 6)) * (np.arange(6)[None, :] < lengths[:, None])
    labels = (tokens[:, 0] % 2).astype(np.int64)  # the first word decides
    return Encoded(tokens.astype(np.int64), lengths.astype(np.int64), labels)


def test_training_with_lambda_one_moves_the_student_toward_the_teacher():
    fit, val = data(), data(32, 1)
    # A teacher that contradicts the labels: always class 2 of 3 (validation agrees with it,
    # so selection keeps the epochs that learned from it).
    val = Encoded(val.tokens, val.lengths, np.full(len(val), 2))
    teacher = np.tile(np.array([[-4.0, -4.0, 4.0]], dtype=np.float32), (len(fit), 1))
    results = {}
    for lam in (0.0, 1.0):
        torch.manual_seed(0)
        model = ElmanClassifier(ElmanConfig(vocab_size=20, n_classes=3, embed_dim=8, proj_dim=6,
                                            hidden_dim=6, readout="mean"))
        train(model, fit, val, TrainConfig(epochs=6, lr=1e-2, patience=20), progress=False,
              distill=Distillation(teacher, lam, 2.0))
        results[lam] = float((predict(model, fit).argmax(1) == 2).mean())  # share the teacher's class
    assert results[1.0] > 0.9 and results[0.0] < 0.1


def test_soft_targets_must_match_the_training_data():
    fit = data(16)
    model = ElmanClassifier(ElmanConfig(vocab_size=20, n_classes=3, embed_dim=4, proj_dim=4, hidden_dim=4))
    with pytest.raises(ValueError, match="distill.logits"):
        train(model, fit, fit, TrainConfig(epochs=1), progress=False,
              distill=Distillation(np.zeros((15, 3), np.float32)))


def test_teacher_ignores_padding():
    torch.manual_seed(0)
    cnn = KimCNN(TeacherConfig(vocab_size=20, n_classes=3, embed_dim=8, maps=4)).eval()
    tokens = torch.tensor([[3, 4, 0, 0, 0, 0]])
    short = torch.tensor([[3, 4]])
    assert torch.allclose(cnn(tokens, torch.tensor([2])), cnn(short, torch.tensor([2])), atol=1e-6)


@pytest.mark.parametrize("change, message", [({"distill": 1.5}, "distill=1.5"),
                                             ({"distill_temperature": 0.0}, "distill_temperature"),
                                             ({"teachers": 0}, "teachers=0"), ({"ensemble": 0}, "ensemble=0"),
                                             ({"keep_vector_words": True}, "packaged vectors")])
def test_bad_distillation_and_ensemble_settings_are_refused_before_training(change, message):
    from dataclasses import replace

    from rnn2snn.checks import ParameterError, check_pipeline_config
    from rnn2snn.config import PipelineConfig

    with pytest.raises(ParameterError, match=message):
        check_pipeline_config(replace(PipelineConfig(), **change))

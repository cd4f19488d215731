"""A run's data and teacher: the validation split, the vocabulary and the encoding; Kim's CNN
trained as the distillation teacher."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from rnn2snn.config import PipelineConfig, member_seed
from rnn2snn.data.sequences import Sequences
from rnn2snn.data.text import Examples, Vocabulary, encode, stratified_split
from rnn2snn.model.train import predict, train


def prepare_data(train_ex: Examples, test_ex: Examples, config: PipelineConfig):
    """Split validation from training (stratified, seeded), build vocabulary, encode."""
    tr_idx, val_idx = stratified_split(train_ex.labels, config.val_fraction, config.seed)
    fit, val = train_ex.subset(tr_idx), train_ex.subset(val_idx)
    vocab = Vocabulary.build(fit.texts, min_count=config.min_count)
    if config.vectors and config.keep_vector_words and config.min_count > 1:
        from rnn2snn.model.vectors import known_words

        known = known_words(config.vectors)
        rare = Vocabulary.build(fit.texts, min_count=1)
        kept = set(vocab.tokens)
        vocab = Vocabulary(vocab.tokens + [t for t in rare.tokens[2:] if t not in kept and t in known])
    classes = sorted(set(train_ex.labels))
    return vocab, classes, encode(fit, vocab, classes), encode(val, vocab, classes), \
        encode(test_ex, vocab, classes)


def train_teacher(fit: Sequences, val: Sequences, test: Sequences, config: PipelineConfig,
                  vocab_size: int, n_classes: int, matrix, progress, log):
    """Train Kim's CNN on the fit split (validation for early stopping); its soft targets
    on the fit split and its own accuracies."""
    from rnn2snn.model.teacher import KimCNN, TeacherConfig, soft_targets
    from rnn2snn.model.train import Distillation

    t0 = time.perf_counter()
    fit_logits, val_logits, test_logits = [], [], []
    for k in range(config.teachers):
        seed = member_seed(config.seed, k)
        torch.manual_seed(seed)
        teacher = KimCNN(TeacherConfig(vocab_size=vocab_size, n_classes=n_classes,
                                       embed_dim=config.embed_dim, maps=config.teacher_maps))
        if matrix is not None:
            with torch.no_grad():
                teacher.embedding.weight.copy_(torch.from_numpy(matrix))
        train(teacher, fit, val, replace(config.teacher_train, seed=seed), "teacher", progress)
        fit_logits.append(soft_targets(teacher, fit))
        val_logits.append(predict(teacher, val))
        test_logits.append(predict(teacher, test))

    def acc(logits, data):
        return float((np.mean(logits, axis=0).argmax(1) == data.labels).mean())

    info = {"model": f"Kim's CNN, widths 3/4/5 x {config.teacher_maps} maps, embedding "
                     f"{config.embed_dim}" + (f" from {config.vectors}" if config.vectors else "")
                     + (f"; mean of {config.teachers} CNNs' logits" if config.teachers > 1 else ""),
            "val_accuracy": acc(val_logits, val), "test_accuracy": acc(test_logits, test),
            "single_cnn_test_accuracy": [acc([t], test) for t in test_logits],
            "lambda": config.distill, "temperature": config.distill_temperature,
            "seconds": round(time.perf_counter() - t0, 2)}
    log(f"{'teacher':>10}: val {info['val_accuracy']:.3f}  test {info['test_accuracy']:.3f}  "
        f"({info['seconds']:.1f} s)")
    return Distillation(np.mean(fit_logits, axis=0), config.distill, config.distill_temperature), info

"""A user's model and data for :func:`rnn2snn.convert_model`, checked before any training.

Why: a conversion trains for minutes; a model the reader misreads, or data it would
silently cast (float labels), index wrongly (−1 padding) or choose on too little of
(three examples), must fail in the first second with the data set, the row and the rule
named. :func:`check_user_inputs` reads the model (:mod:`rnn2snn.model.from_torch`, with
a batch of the training data so the order ``forward`` calls the modules is read and its
logits are compared), parses and checks the three data sets, and returns them with the
configuration the run uses (the model's sizes, pooling and dropout, so the provenance
records what is used).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from rnn2snn.config import PipelineConfig
from rnn2snn.data.sequences import Sequences, as_sequences
from rnn2snn.data.text import stratified_split
from rnn2snn.errors import DataFormatError, Rnn2SnnError
from rnn2snn.model.elman import ElmanClassifier
from rnn2snn.model.from_torch import ForwardCallError, UnsupportedModelError, read_torch_model
from rnn2snn.program.constraints import TRUENORTH, TargetConstraints

#: Fewest training examples convert_model accepts: enough to hold out a validation split
#: (every choice is made on it) and train on the rest.
MIN_TRAIN_EXAMPLES = 10
#: Rows of the training data the user's forward and the read model are compared on.
COMPARE_ROWS = 64


@dataclass(frozen=True)
class UserInputs:
    """What convert_model runs on: the read model, the fit / validation / test data, the
    class names, the vocabulary, and the configuration with the model's own sizes."""

    model: ElmanClassifier
    fit: Sequences
    val: Sequences
    test: Sequences
    classes: list[str] | None
    vocab: list[str] | None
    config: PipelineConfig


def _example(data: Sequences) -> tuple[torch.Tensor, torch.Tensor]:
    part = data.subset(np.arange(min(COMPARE_ROWS, len(data))))
    return torch.from_numpy(np.ascontiguousarray(part.inputs)), torch.from_numpy(part.lengths)


def _fits_model(name: str, data: Sequences, model: ElmanClassifier) -> None:
    c = model.config
    if c.tokens != (data.inputs.ndim == 2):
        want = "token ids (N, L)" if c.tokens else f"features (N, L, {c.n_features})"
        raise DataFormatError(f"{name}: the model reads {want}, got inputs of shape {data.inputs.shape}")
    if not c.tokens and data.inputs.shape[2] != c.n_features:
        raise DataFormatError(f"{name}: {data.inputs.shape[2]} features a step, the model reads "
                              f"{c.n_features}")
    if c.tokens and data.inputs.size and data.inputs.max() >= c.vocab_size:
        row, pos = (int(i) for i in np.argwhere(data.inputs >= c.vocab_size)[0])
        raise DataFormatError(f"{name}: row {row}, position {pos} holds token id "
                              f"{int(data.inputs[row, pos])}, outside the embedding ({c.vocab_size} rows: "
                              f"ids 0…{c.vocab_size - 1})")
    bad = (data.labels < 0) | (data.labels >= c.n_classes)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataFormatError(f"{name}: row {row} has label {int(data.labels[row])}; labels must lie in "
                              f"0…{c.n_classes - 1} (the readout has {c.n_classes} outputs)")


def _enough(name: str, data: Sequences, least: int) -> None:
    if len(data) < least:
        raise DataFormatError(f"{name}: {len(data)} example{'s' * (len(data) != 1)}; at least {least} "
                              "needed")


def check_user_inputs(model: torch.nn.Module, train_data, test_data, *, pooling: str, val_data=None,
                      classes=None, vocab=None, config: PipelineConfig = PipelineConfig(),
                      limits: TargetConstraints | None = TRUENORTH) -> UserInputs:
    """Read ``model`` and check it with the data (module docstring) against the target's
    ``limits``; raise before any training.

    ``limits=None``: a chain with limits of its own (Xylo) checks the model's sizes itself;
    here only the settings every chain reads (seed, val_fraction, …:
    :func:`~rnn2snn.checks.rules.check_settings`) are checked, not the TrueNorth-class cores.
    """
    from rnn2snn.checks import check_pipeline_config, check_settings

    if not isinstance(model, torch.nn.Module):
        raise UnsupportedModelError(f"expected a torch.nn.Module, got {type(model).__name__}")
    try:
        # registration order: refuses most models early
        first = read_torch_model(model, pooling, limits=limits)
        first_error = None
    except UnsupportedModelError as exc:
        first, first_error = None, exc
    train_seq = as_sequences(train_data, "train_data")
    test_seq = as_sequences(test_data, "test_data")
    val_seq = None if val_data is None else as_sequences(val_data, "val_data")
    named = [("train_data", train_seq), ("test_data", test_seq)]
    if val_seq is not None:
        named.insert(1, ("val_data", val_seq))
    data_error = None
    if first is not None:  # check the data against the model before calling the model on it
        try:
            for name, data in named:
                _fits_model(name, data, first)
        except DataFormatError as exc:  # final only if forward cannot run either (the registration
            data_error = exc            # order may misread a model: the call order decides)
    _enough("train_data", train_seq, MIN_TRAIN_EXAMPLES)
    _enough("test_data", test_seq, 1)
    if val_seq is not None:
        _enough("val_data", val_seq, 1)
    where = f"the first {min(COMPARE_ROWS, len(train_seq))} rows of train_data"
    try:
        ours = read_torch_model(model, pooling, _example(train_seq), where, limits)
    except ForwardCallError:
        if data_error is not None:
            raise data_error from None
        if first_error is not None:  # not callable as convert_model calls it, and not readable
            raise first_error from None
        raise
    except UnsupportedModelError:
        if data_error is not None:
            raise data_error from None
        raise
    for name, data in named:
        _fits_model(name, data, ours)
    if len(np.unique(train_seq.labels)) < 2:
        raise DataFormatError(f"train_data: every label is {int(train_seq.labels[0])}; a classifier needs "
                              "examples of at least 2 classes")
    c = ours.config
    run_config = replace(config, readout=pooling, dropout=c.dropout, hidden_dim=c.hidden_dim,
                         proj_dim=c.proj_dim, embed_dim=c.embed_dim if c.tokens else config.embed_dim)
    if limits is None:
        check_settings(replace(run_config, proj_dim=c.proj_dim or 1))
    else:
        check_pipeline_config(replace(run_config, proj_dim=c.proj_dim or 1), c, limits)  # c: its cores
    if val_seq is None:
        fit_idx, val_idx = stratified_split(list(train_seq.labels), config.val_fraction, config.seed)
        if len(val_idx) == 0:
            raise DataFormatError(
                f"train_data: {len(train_seq)} examples leave no validation example "
                f"(val_fraction={config.val_fraction} of each class is held out, and every class keeps "
                "one for training): give more training data or val_data")
        fit, val = train_seq.subset(fit_idx), train_seq.subset(val_idx)
    else:
        fit, val = train_seq, val_seq
    if classes is not None and len(classes) != c.n_classes:
        raise Rnn2SnnError(f"classes: {len(classes)} names for {c.n_classes} readout outputs")
    n_vocab = None if vocab is None else len(getattr(vocab, "tokens", vocab))
    if c.tokens and n_vocab is not None and n_vocab != c.vocab_size:
        raise Rnn2SnnError(f"vocab: {n_vocab} tokens for an embedding of {c.vocab_size} rows")
    if c.tokens and vocab is None:
        vocab = ["<pad>", "<unk>", *(f"<token {i}>" for i in range(2, c.vocab_size))]
    return UserInputs(model=ours, fit=fit, val=val, test=test_seq,
                      classes=None if classes is None else list(classes), vocab=vocab, config=run_config)


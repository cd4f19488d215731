"""Build a :class:`~rnn2snn.program.spec.SpikingProgram` from a constrained model (training side).

The only place that reads a trained torch module into the program: the encoder becomes
a table (tokens) or an affine map (features), the flattened recurrent weights are cut
back into layers, and the readout is copied.
"""

from __future__ import annotations

import numpy as np
import torch

from rnn2snn.constrain.steps import to_integer
from rnn2snn.model.elman import ElmanClassifier
from rnn2snn.program.network import SpikingConfig
from rnn2snn.program.spec import FeatureEncoder, Readout, RecurrentLayer, SpikingProgram, TokenEncoder


@torch.no_grad()
def build_program(model: ElmanClassifier, timing: SpikingConfig, classes, vocab=None,
                  provenance: dict | None = None) -> SpikingProgram:
    """The program of ``model`` (all constraints on) with the conversion ``timing``.

    vocab : the tokens (a :class:`~rnn2snn.data.text.Vocabulary` or a sequence) for a
    token model; None for real-valued features.
    """
    model.eval()
    c, k = model.config, model.constraints
    if k.activity_levels is None:
        raise ValueError("build_program needs a model whose activities are quantised")
    levels = int(k.activity_levels)
    if c.tokens:
        if vocab is None:
            raise ValueError("a token model needs its vocabulary")
        tokens = list(getattr(vocab, "tokens", vocab))
        ids = torch.arange(c.vocab_size)[None, :]
        table = model.input_activity(ids)[0].numpy()
        table[0] = 0  # padding carries no input
        encoder = TokenEncoder(np.rint(table).astype(np.int64), tuple(tokens), levels)
    else:
        f = c.n_features
        if model.proj is not None:
            weight, bias = model.proj.weight.numpy(), model.proj.bias.numpy()
        else:
            s = float(model.input_scale)
            eye = np.eye(f, dtype=np.float32)
            weight, bias = np.concatenate([s * eye, -s * eye]), np.zeros(2 * f, dtype=np.float32)
        encoder = FeatureEncoder(weight.copy(), bias.copy(), levels)
    net = to_integer(model)
    p = c.encoder_dim
    layers = []
    for ell, rows in enumerate(c.layer_slices()):
        w_in = net.w_in[rows, :p] if ell == 0 else net.w_rec[rows, c.layer_slices()[ell - 1]]
        groups = None
        if k.groups is not None and c.n_layers == 1:
            groups = tuple(tuple(int(j) for j in g) for g in k.groups)
        layers.append(RecurrentLayer(
            w_in=w_in, w_rec=net.w_rec[rows, rows], threshold=net.threshold[rows],
            levels=levels, carry_residual=net.carry_residual,
            w_bias=net.w_in[rows, p + ell] if c.bias else None, groups=groups))
    readout = Readout(c.readout, model.readout.weight.numpy().copy(), model.readout.bias.numpy().copy())
    return SpikingProgram(encoder=encoder, layers=tuple(layers), timing=timing, readout=readout,
                          classes=tuple(classes), provenance=dict(provenance or {}))

"""Ensembles over cores: K independent one-layer programs stacked into ONE program.

Why one program: verify, export, placement and every backend read a single
:class:`~rnn2snn.program.SpikingProgram`; an ensemble written that way needs nothing
new downstream. Members share the vocabulary (same split) and the timing; member k
reads its own encoder units (the token tables are concatenated side by side), its
neurons see only its own inputs and its own neurons (block-diagonal ``w_in`` and
``w_rec``), keep their own thresholds (one α per neuron) and sit on their own core(s)
(``groups``), so no core holds two members and the cores add up.

Combination rule "mean" (the mean of the members' class scores) is exact as one
readout when all members pool the same way: pooling acts per neuron, so
``mean_k(W_k·f_k + b_k) = [W_1 … W_K]/K · [f_1; …; f_K] + mean_k b_k``.
"""

from __future__ import annotations

import numpy as np

from rnn2snn.errors import Rnn2SnnError
from rnn2snn.program.spec import Readout, RecurrentLayer, SpikingProgram, TokenEncoder

RULES = ("mean",)


def combine(members: list[SpikingProgram], rule: str = "mean",
            provenance: dict | None = None) -> SpikingProgram:
    """One program holding every member (module docstring); refuses members that differ
    where they must agree (vocabulary, classes, timing, levels, pooling, one layer, no bias)."""
    if rule not in RULES:
        raise Rnn2SnnError(f"ensemble rule {rule!r}: expected one of {', '.join(RULES)}")
    if not members:
        raise Rnn2SnnError("an ensemble needs at least one member")
    first = members[0]
    for k, m in enumerate(members):
        where = f"ensemble member {k}"
        if not isinstance(m.encoder, TokenEncoder):
            raise Rnn2SnnError(f"{where}: only token programs can be stacked (its encoder is a feature map)")
        if m.encoder.vocab != first.encoder.vocab:
            raise Rnn2SnnError(f"{where}: its vocabulary differs from member 0's (members share the split)")
        if len(m.layers) != 1 or m.layers[0].w_bias is not None:
            raise Rnn2SnnError(f"{where}: members must have one recurrent layer without a bias input")
        if m.timing != first.timing:
            raise Rnn2SnnError(f"{where}: its timing {m.timing} differs from member 0's {first.timing}")
        if m.classes != first.classes or m.readout.pooling != first.readout.pooling:
            raise Rnn2SnnError(f"{where}: classes and readout pooling must equal member 0's")
        if m.levels != first.levels or m.layers[0].carry_residual != first.layers[0].carry_residual:
            raise Rnn2SnnError(f"{where}: levels and carry_residual must equal member 0's")
    k = len(members)
    layers = [m.layers[0] for m in members]
    hs = [layer.n_hidden for layer in layers]
    ps = [layer.n_inputs for layer in layers]
    h, p = sum(hs), sum(ps)
    w_in = np.zeros((h, p), dtype=np.int64)
    w_rec = np.zeros((h, h), dtype=np.int64)
    groups: list[tuple[int, ...]] = []
    r = c = 0
    for layer in layers:
        w_in[r: r + layer.n_hidden, c: c + layer.n_inputs] = layer.w_in
        w_rec[r: r + layer.n_hidden, r: r + layer.n_hidden] = layer.w_rec
        for g in layer.groups or (tuple(range(layer.n_hidden)),):
            groups.append(tuple(r + j for j in g))
        r += layer.n_hidden
        c += layer.n_inputs
    layer = RecurrentLayer(w_in=w_in, w_rec=w_rec,
                           threshold=np.concatenate([layer.threshold for layer in layers]),
                           levels=first.levels, carry_residual=first.layers[0].carry_residual,
                           groups=tuple(groups))
    encoder = TokenEncoder(np.concatenate([m.encoder.table for m in members], axis=1),
                           first.encoder.vocab, first.encoder.levels)
    readout = Readout(first.readout.pooling,
                      np.concatenate([m.readout.weight for m in members], axis=1) / k,
                      np.mean([m.readout.bias for m in members], axis=0))
    prov = dict(provenance or {})
    prov.setdefault("ensemble", {"members": k, "rule": rule, "hidden": hs, "inputs": ps})
    return SpikingProgram(encoder=encoder, layers=(layer,), timing=first.timing, readout=readout,
                          classes=first.classes, provenance=prov)


def member_slices(program: SpikingProgram) -> list[tuple[slice, slice]]:
    """(neurons, encoder units) of each member of a combined program, from its provenance."""
    info = program.provenance.get("ensemble")
    if not info:
        return [(slice(0, program.n_hidden), slice(0, program.encoder.n_outputs))]
    hs, ps = np.cumsum([0, *info["hidden"]]), np.cumsum([0, *info["inputs"]])
    return [(slice(int(hs[i]), int(hs[i + 1])), slice(int(ps[i]), int(ps[i + 1])))
            for i in range(len(info["hidden"]))]

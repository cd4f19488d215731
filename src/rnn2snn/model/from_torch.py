"""Read a user's plain ``torch.nn`` recurrent classifier into the constrained model.

Supported family (leaf modules in the order ``forward`` calls them when an example is
given — :func:`rnn2snn.convert_model` always gives one — else in registration order, the
order ``model.modules()`` lists them): an optional ``nn.Embedding`` (token inputs; without
one the inputs are real-valued features), an optional ``nn.Linear`` + ``nn.ReLU``
(the off-chip projection), one or more ``nn.RNN(nonlinearity="relu")`` (stacked
modules, or one with ``num_layers > 1``; unidirectional), an ``nn.Linear`` readout with
at least two outputs. ``nn.Dropout`` is allowed anywhere, and so is ``dropout=`` of a
stacked ``nn.RNN``: the largest of these rates is used in training, applied to the
embedding and to the pooled feature (where the constrained model has dropout);
``nn.Identity`` is skipped. How the words' activities become one feature is not visible
in the modules, so the caller names it (``pooling``: last, mean or max).

Calling convention: ``model(inputs, lengths)`` with ``inputs`` a LongTensor (N, L) of token
ids or a FloatTensor (N, L, F), zero-padded, and ``lengths`` a LongTensor (N,), returns
the logits (N, classes) — the convention the examples and the README use. What ``forward``
does between the modules (a scale, a residual, another pooling) cannot be read from them,
so with an example the read model's logits are compared with the model's own and a
difference is refused (:data:`LOGIT_ATOL`, :data:`LOGIT_RTOL`).

Biases: an ``nn.RNN`` bias (``b_ih + b_hh``) becomes the weight of a bias input — a
source held at the top activity level while the layer computes a word, an ordinary
input axon on the chip — so it stays on-chip and is trained and quantised like any
weight. Without a projection, a signed input ``v`` enters as two non-negative
channels ``relu(s·v)`` and ``relu(−s·v)`` with weights ``W`` and ``−W`` (spike
counts cannot be negative).
"""

from __future__ import annotations

import torch
from torch import nn

from rnn2snn.errors import HardwareLimitError, Rnn2SnnError
from rnn2snn.model.elman import ElmanClassifier, ElmanConfig
from rnn2snn.program.constraints import TRUENORTH, TargetConstraints
from rnn2snn.readouts import READOUTS

#: Tolerance of the logit comparison (float32 arithmetic in another order).
LOGIT_ATOL, LOGIT_RTOL = 1e-4, 1e-3
CALLING = ("convert_model calls the model as model(inputs, lengths): inputs a LongTensor (N, L) of "
           "token ids or a FloatTensor (N, L, F) of features, zero-padded, lengths a LongTensor (N,); "
           "it must return the logits (N, classes) as one tensor")

SUPPORTED = ("nn.Embedding (optional, first), nn.Linear + nn.ReLU (optional projection), "
             "nn.RNN(nonlinearity='relu', bidirectional=False) (one or more), nn.Linear (readout); "
             "nn.Dropout and nn.Identity anywhere")


class UnsupportedModelError(Rnn2SnnError, TypeError):
    """The model is outside the family that converts to integrate-and-fire neurons."""


class ForwardCallError(UnsupportedModelError):
    """The model cannot be called as ``model(inputs, lengths) → logits`` (:data:`CALLING`)."""


def _refuse(name: str, module: nn.Module, why: str):
    raise UnsupportedModelError(
        f"module {name!r} ({type(module).__name__}): {why}. Supported: {SUPPORTED}")


def _leaves(model: nn.Module) -> list[tuple[str, nn.Module]]:
    out = []
    for name, m in model.named_modules():
        if isinstance(m, nn.RNNBase) or not list(m.children()):
            if any(name.startswith(p + ".") for p, q in out if isinstance(q, nn.RNNBase)):
                continue
            out.append((name or type(model).__name__, m))
    return out


def _check_stack_fits(dims: list[int], limits: TargetConstraints) -> None:
    """Refuse, before any training, stacked layers whose neurons cannot fit a core each.

    A neuron sends its spikes to one axon, so it is copied once per axon type each core
    reading it uses (≤ 4 for its own layer, ≤ 4 for the layer above) plus once for its
    output port (:meth:`~rnn2snn.program.constraints.TargetConstraints.copies`); a layer's
    neurons and copies share its core's neurons (256 on TrueNorth).
    """
    if len(dims) < 2:
        return  # one layer: checked like any layer (rnn2snn.checks)
    for ell, h in enumerate(dims):
        copies = limits.copies(readers=2 if ell < len(dims) - 1 else 1)
        need = h * copies
        if need > limits.neurons_per_core:
            raise HardwareLimitError(
                f"recurrent layer {ell} ({h} neurons): stacked layers take one core each, and each "
                f"neuron needs up to {copies} copies ({limits.axon_types} axon types per "
                f"layer reading it, plus its output), {need} > {limits.neurons_per_core} neurons a core; "
                f"use at most {limits.neurons_per_core // copies} neurons in this layer")


def _call_order(model: nn.Module, example, where: str) -> tuple[list[tuple[str, nn.Module]], torch.Tensor]:
    """The leaf modules in the order ``model(*example)`` first calls them, and its logits.

    The model runs in eval mode without gradients; every module's mode is restored after.
    A module with weights called twice (a shared layer) is refused: the reader maps each once.
    """
    leaves = _leaves(model)
    calls: list[str] = []
    hooks = [m.register_forward_hook(lambda _m, _a, _o, name=name: calls.append(name)) for name, m in leaves]
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        with torch.no_grad():
            logits = model(*example)
    except Exception as exc:  # noqa: BLE001 - whatever the user's forward raises
        raise ForwardCallError(f"{type(model).__name__}: calling it on {where} raised "
                               f"{type(exc).__name__}: {exc}. {CALLING}") from None
    finally:
        for h in hooks:
            h.remove()
        for m, mode in modes.items():
            m.training = mode
    n = len(example[1])
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != n:
        got = (f"a tensor of shape {tuple(logits.shape)}" if isinstance(logits, torch.Tensor)
               else type(logits).__name__)
        raise ForwardCallError(f"{type(model).__name__}: on {where} ({n} rows) it returned {got}. "
                               f"{CALLING}")
    by_name = dict(leaves)
    order: list[tuple[str, nn.Module]] = []
    for name in calls:
        if any(name == seen for seen, _ in order):
            if any(True for _ in by_name[name].parameters()):
                _refuse(name, by_name[name], f"called {calls.count(name)} times in forward; each layer "
                        "with weights must be used once")
            continue
        order.append((name, by_name[name]))
    return order, logits


def read_torch_model(model: nn.Module, pooling: str, example=None,
                     where: str = "the example",
                     limits: TargetConstraints | None = TRUENORTH) -> ElmanClassifier:
    """An :class:`ElmanClassifier` holding the weights of ``model`` (which is not changed).

    ``example``: ``(inputs, lengths)`` tensors the model can be called with (module
    docstring). With it, the modules are read in the order ``forward`` calls them, and
    the read model's logits must equal the model's own on it (``where`` names the
    example in the messages). Raises :class:`UnsupportedModelError` naming the first
    module outside the family, or the largest logit difference. ``limits``: the target's
    constraints, which stacked layers must fit.
    """
    if not isinstance(model, nn.Module):
        raise UnsupportedModelError(f"expected a torch.nn.Module, got {type(model).__name__}")
    if pooling not in READOUTS:
        raise Rnn2SnnError(f"pooling={pooling!r}: choose one of {READOUTS}")
    if example is None:
        return _read(model, pooling, _leaves(model), order_note=True, limits=limits)
    order, logits = _call_order(model, example, where)
    ours = _read(model, pooling, order, order_note=False, limits=limits)
    ours.eval()
    with torch.no_grad():
        mine = ours(*example).double()
    theirs = logits.detach().double().cpu()
    if mine.shape != theirs.shape:
        raise UnsupportedModelError(
            f"{type(model).__name__}: returns {theirs.shape[1]} scores a row, its readout "
            f"{mine.shape[1]}: forward does more than the modules say. {CALLING}")
    if not torch.isfinite(theirs).all():
        raise UnsupportedModelError(f"{type(model).__name__}: returns NaN or infinite logits on {where}; "
                                    "convert a model that computes finite scores")
    diff = (mine - theirs).abs()
    if (diff > LOGIT_ATOL + LOGIT_RTOL * theirs.abs()).any():
        raise UnsupportedModelError(
            f"{type(model).__name__}: its forward computes something the reader cannot see — the "
            f"logits read from its modules ({_describe(ours.config)}, pooling={pooling!r}) differ "
            f"from the model's own by up to {float(diff.max()):.3g} on {where} (allowed "
            f"{LOGIT_ATOL:g} + {LOGIT_RTOL:g}·|logit|). A scale or residual in forward, a function "
            "called between the layers (e.g. torch.tanh on the states), or a pooling "
            "other than the one named cannot be converted: compute exactly that chain, or name the "
            "pooling forward uses")
    return ours


def _describe(c: ElmanConfig) -> str:
    parts = [f"Embedding({c.vocab_size}, {c.embed_dim})" if c.tokens else f"{c.n_features} features"]
    if c.proj_dim:
        parts.append(f"Linear+ReLU({c.proj_dim})")
    parts.append("RNN(" + ", ".join(str(h) for h in c.hidden_dims) + ")")
    parts.append(f"Linear({c.n_classes})")
    return " → ".join(parts)


ORDER_NOTE = (" (modules are read in registration order here; if forward calls them in another "
              "order, give an example — convert_model does — so the order forward calls them is read)")


def _read(model: nn.Module, pooling: str, leaves, order_note: bool,
          limits: TargetConstraints | None) -> ElmanClassifier:
    note = ORDER_NOTE if order_note else ""
    embedding = proj = readout = None
    rnns: list[tuple[str, nn.RNN]] = []
    dropout = 0.0
    pending_linear = None
    for name, m in leaves:
        if isinstance(m, nn.Dropout):
            dropout = max(dropout, float(m.p))
        elif isinstance(m, nn.Identity):
            continue
        elif isinstance(m, nn.Embedding):
            if embedding is not None or rnns or pending_linear is not None:
                _refuse(name, m, "an embedding must come first, once" + note)
            embedding = m
        elif isinstance(m, nn.Linear):
            if rnns:
                if readout is not None:
                    _refuse(name, m, "only one nn.Linear may follow the recurrent layers (the readout)"
                            + note)
                readout = m
            elif pending_linear is not None or proj is not None:
                _refuse(name, m, "one nn.Linear (+ nn.ReLU) projection at most before the RNN" + note)
            else:
                pending_linear = (name, m)
        elif isinstance(m, nn.ReLU):
            if pending_linear is None:
                _refuse(name, m, "a ReLU is supported only right after the projection nn.Linear" + note)
            proj, pending_linear = pending_linear[1], None
        elif isinstance(m, nn.RNNBase):
            if type(m) is not nn.RNN:
                _refuse(name, m, f"{type(m).__name__} gates cannot be mapped to integrate-and-fire "
                        "neurons; train an nn.RNN(nonlinearity='relu') instead")
            if m.nonlinearity != "relu":
                _refuse(name, m, f"nonlinearity={m.nonlinearity!r}: only 'relu' matches a spiking "
                        "neuron's rate (non-negative, unbounded above)")
            if m.bidirectional:
                _refuse(name, m, "bidirectional=True reads the future words, which a causal "
                        "spiking network cannot")
            if getattr(m, "proj_size", 0):
                _refuse(name, m, "proj_size is not supported")
            if pending_linear is not None:
                _refuse(pending_linear[0], pending_linear[1],
                        "a projection before the RNN needs an nn.ReLU (spike counts are ≥ 0)" + note)
            if m.num_layers > 1:  # torch applies an nn.RNN's dropout between its layers only
                dropout = max(dropout, float(m.dropout))
            rnns.append((name, m))
        else:
            _refuse(name, m, "not a supported layer")
    if not rnns:
        raise UnsupportedModelError(f"{type(model).__name__}: no nn.RNN found. Supported: {SUPPORTED}")
    if readout is None:
        raise UnsupportedModelError(f"{type(model).__name__}: no nn.Linear readout after the RNN"
                                    f"{note}. Supported: {SUPPORTED}")
    if readout.out_features < 2:
        raise UnsupportedModelError(f"{type(model).__name__}: the readout has {readout.out_features} "
                                    "output; a classifier needs at least 2 classes (one score a class)")
    layers = []  # (w_ih, w_hh, bias or None) per layer
    for _, rnn in rnns:
        for k in range(rnn.num_layers):
            w_ih = getattr(rnn, f"weight_ih_l{k}").detach()
            w_hh = getattr(rnn, f"weight_hh_l{k}").detach()
            b = None
            if rnn.bias:
                b = (getattr(rnn, f"bias_ih_l{k}") + getattr(rnn, f"bias_hh_l{k}")).detach()
            layers.append((w_ih, w_hh, b))
    dims = [w_hh.shape[0] for _, w_hh, _ in layers]
    in_dim = (proj.out_features if proj is not None else
              (embedding.embedding_dim if embedding is not None else layers[0][0].shape[1]))
    if layers[0][0].shape[1] != in_dim:
        raise UnsupportedModelError(f"the first RNN reads {layers[0][0].shape[1]} inputs, the layer "
                                    f"before gives {in_dim}")
    if readout.in_features != dims[-1]:
        raise UnsupportedModelError(f"the readout reads {readout.in_features} units, the last RNN "
                                    f"layer has {dims[-1]}")
    if embedding is not None:
        feat = {"vocab_size": embedding.num_embeddings, "embed_dim": embedding.embedding_dim}
    else:
        first = proj.in_features if proj is not None else layers[0][0].shape[1]
        feat = {"vocab_size": 0, "n_features": first}
    if limits is not None:
        _check_stack_fits(dims, limits)
    config = ElmanConfig(
        n_classes=readout.out_features, proj_dim=proj.out_features if proj is not None else 0,
        hidden_dim=dims[0], upper_dims=tuple(dims[1:]), readout=pooling, dropout=dropout,
        bias=any(b is not None for *_, b in layers), **feat)
    ours = ElmanClassifier(config)
    with torch.no_grad():
        if embedding is not None:
            ours.embedding.weight.copy_(embedding.weight)
        if proj is not None:
            ours.proj.weight.copy_(proj.weight)
            ours.proj.bias.copy_(proj.bias)
        ours.readout.weight.copy_(readout.weight)
        ours.readout.bias.copy_(readout.bias)
        w = torch.zeros_like(ours.recurrent)
        s, p = config.n_sources, config.encoder_dim
        for ell, (rows, (w_ih, w_hh, b)) in enumerate(zip(config.layer_slices(), layers, strict=True)):
            if ell == 0:
                w[rows, :p] = w_ih if proj is not None else torch.cat([w_ih, -w_ih], dim=1)
            else:
                below = config.layer_slices()[ell - 1]
                w[rows, s + below.start: s + below.stop] = w_ih
            w[rows, s + rows.start: s + rows.stop] = w_hh
            if b is not None:
                w[rows, p + ell] = b
        ours.recurrent.copy_(w)
    return ours

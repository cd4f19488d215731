"""Train-and-constrain for Xylo: a float rate model of the chip's neuron, then a fine-tune on the chip's tick.

Why two models and not one: Xylo has no integrate-and-fire setting (a synaptic low-pass
that cannot be switched off, a membrane that keeps all inhibition, ≤ 31 spikes a tick), so
an Elman RNN trained without them converts badly (benchmarks/xylo_conversion.py). Stage 1
trains :class:`RateXylo`, an Elman ReLU RNN *with* the chip's structure — the synaptic
filter ``Isyn ← λ(Isyn + input)``, ``λ = 1 − 2^−dash_syn``, the membrane
``V ← μV + Isyn + b`` with ``μ = 1 − 2^−dash_mem``, the hidden count ``h = clip(V, 0, 31)``
with subtractive reset ``V ← V − h``, the one-tick recurrent and output delay, output
neurons integrating the previous tick's counts — with real-valued counts.
:func:`~rnn2snn.targets.xylo.convert.to_spec` rounds it to a spec. Stage 2
(:class:`ChipXylo`) fine-tunes the spec's integers with the forward pass computed by
:func:`rnn2snn.targets.xylo.neuron.tick` itself — the one implementation of the tick, the
simulator's — so every value the loss sees is the chip's; only the backward pass is a
straight-through surrogate (rounding passes the gradient, a spike count's derivative is
``1/θ`` for ``−θ < V < 31θ``, the decays are taken as their linear factors, the reset is
not differentiated).

Data are duck-typed: any object with ``tokens`` (N, L) int, ``lengths`` (N,) and
``labels`` (N,) arrays (:class:`rnn2snn.data.Encoded` is one).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from rnn2snn.errors import HardwareLimitError
from rnn2snn.targets.xylo.chips import get_chip
from rnn2snn.targets.xylo.convert import FloatXylo, StateRange, XyloDynamics, rasters
from rnn2snn.targets.xylo.neuron import MAX_HIDDEN_SPIKES, MAX_INPUT_COUNT, STATE_MAX, Core, State, tick
from rnn2snn.targets.xylo.simulate import classify, simulate
from rnn2snn.targets.xylo.spec import XyloSpec, validate

DTYPE = torch.float64
#: Input events per unit of :class:`RateXylo`'s encoder parameter.
ENCODER_UNIT = float(MAX_INPUT_COUNT)


@dataclass(frozen=True)
class FitConfig:
    """One training stage: Adam, minibatches, the epoch with the best validation accuracy kept."""

    epochs: int = 30
    lr: float = 3e-3
    batch_size: int = 64
    patience: int = 6
    clip: float = 1.0
    weight_decay: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class EpochRow:
    epoch: int
    loss: float
    train_accuracy: float
    val_accuracy: float
    seconds: float


@dataclass(frozen=True)
class FitResult:
    best_epoch: int  # 0: the start was best (kept)
    best_val_accuracy: float
    history: tuple[EpochRow, ...]


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start: start + batch_size]


def _trimmed(data, idx):
    lengths = np.asarray(data.lengths)[idx]
    width = int(lengths.max())
    return np.asarray(data.tokens)[idx, :width], lengths, np.asarray(data.labels)[idx]


class _Round(torch.autograd.Function):
    """``round`` forward, identity backward (the straight-through estimator)."""

    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def ste_round(x: torch.Tensor) -> torch.Tensor:
    return _Round.apply(x)


class RateXylo(nn.Module):
    """Stage 1: the chip's neuron with real-valued counts (units: thresholds; outputs: logits)."""

    def __init__(self, vocab_size: int, hidden: int, classes: int, dynamics: XyloDynamics,
                 n_inputs: int = 16, seed: int = 0, rec_mask: np.ndarray | None = None,
                 dropout: float = 0.0, vectors: np.ndarray | None = None, tune_vectors: bool = True,
                 members: int = 1, chip: str | None = None):
        super().__init__()
        if members < 1 or hidden % members:
            raise HardwareLimitError(f"members = {members} must be >= 1 and divide hidden = {hidden}")
        self.members = members
        gen = torch.Generator().manual_seed(seed)
        self.dynamics = dynamics
        k = dynamics.ticks_per_step
        # one event vector a tick of a word: k ticks give a word 16·k input numbers; held in
        # units of 15 events so that Adam moves it as fast (relatively) as the weights
        self.encoder = nn.Parameter(torch.rand(vocab_size, k, n_inputs, generator=gen, dtype=DTYPE)
                                    * (6.0 / ENCODER_UNIT))
        self.vectors = None
        if vectors is not None:
            # pretrained word vectors (V, D), fine-tuned, through a learned map to the events: the
            # table stays a table (computed once off-chip), but rare words get sensible rows
            vec = torch.as_tensor(np.asarray(vectors, np.float64), dtype=DTYPE)
            if vec.shape[0] != vocab_size:
                raise HardwareLimitError(f"vectors have {vec.shape[0]} rows for {vocab_size} tokens")
            spread = float(vec[1:].std()) * vec.shape[1] ** 0.5 or 1.0
            self.vectors = nn.Parameter(vec, requires_grad=tune_vectors)
            self.vec_map = nn.Parameter(torch.randn(vec.shape[1], k * n_inputs, generator=gen, dtype=DTYPE)
                                        * (0.15 / spread))
            self.encoder.data.fill_(0.2)  # the map's offset (a token's own row is not used then)
        self.w_in = nn.Parameter(torch.randn(n_inputs, hidden, generator=gen, dtype=DTYPE) * 0.05)
        self.w_rec = nn.Parameter(torch.randn(hidden, hidden, generator=gen, dtype=DTYPE)
                                  * 0.5 / hidden ** 0.5)
        self.bias = nn.Parameter(torch.zeros(hidden, dtype=DTYPE))
        # which recurrent (source, target) pairs exist (the chip's fan-out and memory limits)
        # and which members they join (block-diagonal: members never feed each other)
        mask = np.ones((hidden, hidden)) if rec_mask is None else np.asarray(rec_mask, np.float64)
        mask = mask * member_mask(hidden, members)
        self.register_buffer("rec_mask", torch.as_tensor(mask, dtype=DTYPE))
        # which neurons may receive input and drive outputs on ``chip`` (IMU: the first / last 128)
        in_mask, out_mask = (np.ones(hidden, bool),) * 2 if chip is None else get_chip(chip).layout(hidden)
        self.register_buffer("in_mask", torch.as_tensor(in_mask, dtype=DTYPE))
        self.register_buffer("out_mask", torch.as_tensor(out_mask, dtype=DTYPE))
        self.drop = nn.Dropout(dropout)  # on the input events in training (the chip sees them all)
        self.w_out = nn.Parameter(torch.randn(hidden, classes, generator=gen, dtype=DTYPE)
                                  * 0.1 / hidden ** 0.5)

    def table(self, tokens: torch.Tensor | None = None) -> torch.Tensor:
        """The encoder's events (V, k, 16) — or of ``tokens`` (…, k, 16) — real, 0..15."""
        if self.vectors is None:
            raw = self.encoder if tokens is None else self.encoder[tokens]
        else:  # only the rows asked for: the vocabulary is large, a batch's tokens few
            vec = self.vectors if tokens is None else self.vectors[tokens]
            raw = self.encoder[0] + (vec @ self.vec_map).reshape(*vec.shape[:-1], *self.encoder.shape[1:])
        return (raw * ENCODER_UNIT).clamp(0, MAX_INPUT_COUNT)

    def inputs(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.table(tokens) * (tokens > 0)[..., None, None]  # (B, L, k, 16)

    def forward(self, tokens: np.ndarray, lengths: np.ndarray, ranges: bool = False, each: bool = False):
        """Logits (B, C) at each question's read tick; with ``ranges`` also the states seen (tensors);
        with ``each`` the logits each member contributes, (members, B, C) (they sum to the logits)."""
        x_all = self.drop(self.inputs(torch.as_tensor(tokens)))
        out, seen = rate_ticks(x_all, self.w_in * self.in_mask, self.w_rec * self.rec_mask, self.bias,
                               self.w_out * self.out_mask[:, None], self.dynamics, lengths, self.members,
                               ranges)
        return members_output(out, seen, each)

    def export(self) -> FloatXylo:
        def arr(p):
            return p.detach().numpy().copy()

        encoder = arr(self.table())
        encoder[0] = 0
        return FloatXylo(encoder=encoder, w_in=arr(self.w_in * self.in_mask),
                         w_rec=arr(self.w_rec * self.rec_mask), bias=arr(self.bias),
                         w_out=arr(self.w_out * self.out_mask[:, None]), dynamics=self.dynamics)


def member_mask(hidden: int, members: int) -> np.ndarray:
    """(N, N) float: 1 inside the members' diagonal blocks of the recurrent matrix, 0 between them."""
    block = np.arange(hidden) // (hidden // members)
    return (block[:, None] == block[None, :]).astype(np.float64)


def rate_ticks(x_all: torch.Tensor, w_in: torch.Tensor, w_rec: torch.Tensor, bias: torch.Tensor,
               w_out: torch.Tensor, dynamics: XyloDynamics, lengths: np.ndarray, members: int = 1,
               ranges: bool = False) -> tuple[torch.Tensor, dict | None]:
    """The rate model's ticks for any encoder (the float stage's one loop, tokens' and features').

    ``x_all`` (B, L, k, Nin): the real input counts of each step's k ticks; ``w_rec`` masked.
    Returns each member's output ``Vmem`` at the read tick, (members, B, C) — the output
    neurons integrate linearly, so the chip's logits are their sum — and, with ``ranges``,
    the states seen while a sequence is live (what :func:`state_ranges` reads), else None.
    """
    dyn = dynamics
    n_batch, n_steps, k = x_all.shape[:3]
    read = torch.as_tensor(np.asarray(lengths) * k + dyn.tail_ticks - 1)
    lam, mu = 1 - 2.0 ** -dyn.dash_syn, 1 - 2.0 ** -dyn.dash_mem
    lam_o, mu_o = 1 - 2.0 ** -dyn.dash_syn_out, 1 - 2.0 ** -dyn.dash_mem_out
    n_hidden, n_out = w_out.shape
    w_out_m = w_out.reshape(members, -1, n_out)
    zeros = torch.zeros(n_batch, n_hidden, dtype=DTYPE)
    isyn, v, h = zeros, zeros, zeros
    isyn_o = v_o = out = torch.zeros(members, n_batch, n_out, dtype=DTYPE)
    seen: dict[str, list] = {"h": [], "isyn": [], "vmem": [], "isyn_out": [], "vmem_out": []}
    for t in range(n_steps * k + dyn.tail_ticks):
        live = (t <= read)[:, None]
        drive = h @ w_rec
        if t < n_steps * k:
            drive = drive + x_all[:, t // k, t % k] @ w_in
        if members == 1:
            pre_o = isyn_o + (h @ w_out)[None]
        else:
            pre_o = isyn_o + torch.einsum("bmn,mnc->mbc", h.reshape(n_batch, members, -1), w_out_m)
        isyn_o = lam_o * pre_o
        v_o = mu_o * v_o + isyn_o
        pre = isyn + drive
        isyn = lam * pre
        v = mu * v + isyn + bias
        if ranges:
            pre_sum, v_sum = pre_o.sum(0), v_o.sum(0)
            seen["isyn"].append(pre.abs()[live.expand_as(pre)])
            seen["vmem"].append(v.clamp(min=0)[live.expand_as(v)])
            seen["isyn_out"].append(pre_sum.abs()[live.expand_as(pre_sum)])
            seen["vmem_out"].append(v_sum.abs()[live.expand_as(v_sum)])
        h = v.clamp(0, MAX_HIDDEN_SPIKES)
        v = v - h
        if ranges:
            seen["h"].append(h[live.expand_as(h)])
        out = torch.where((read == t)[None, :, None], v_o, out)
    if not ranges:
        return out, None
    return out, {key: torch.cat(values) for key, values in seen.items()}


def members_output(out: torch.Tensor, seen: dict | None, each: bool):
    """What a rate model's ``forward`` returns from :func:`rate_ticks`: each member's logits
    (``each``), else their sum, with the states seen when they were recorded."""
    if each:
        return out
    return out.sum(0) if seen is None else (out.sum(0), seen)


def state_ranges(model: RateXylo, data, batch_size: int = 256) -> StateRange:
    """How large the float model's states get on ``data`` (what :func:`choose_scales` needs)."""
    parts: dict[str, list] = {}
    with torch.no_grad():
        for start in range(0, len(data.labels), batch_size):
            idx = np.arange(start, min(len(data.labels), start + batch_size))
            tokens, lengths, _ = _trimmed(data, idx)
            _, seen = model(tokens, lengths, ranges=True)
            for key, value in seen.items():
                parts.setdefault(key, []).append(value.numpy())
    seen = {key: np.concatenate(values) for key, values in parts.items()}
    active = seen["h"][seen["h"] > 0]
    p = 99.9
    return StateRange(hidden_p999=float(np.percentile(active, p)) if active.size else 1.0,
                      hidden_max=float(seen["h"].max()), isyn=float(np.percentile(seen["isyn"], p)),
                      vmem=float(np.percentile(seen["vmem"], p)), isyn_out=float(seen["isyn_out"].max()),
                      vmem_out=float(seen["vmem_out"].max()))


def rate_accuracy(model: RateXylo, data, batch_size: int = 256) -> float:
    with torch.no_grad():
        return float(np.mean(_rate_predict(model, data, batch_size) == np.asarray(data.labels)))


def _rate_predict(model: RateXylo, data, batch_size: int) -> np.ndarray:
    preds = []
    for start in range(0, len(data.labels), batch_size):
        idx = np.arange(start, min(len(data.labels), start + batch_size))
        tokens, lengths, _ = _trimmed(data, idx)
        preds.append(model(tokens, lengths).argmax(1).numpy())
    return np.concatenate(preds)


def _fit(model: nn.Module, loss_fn, accuracy_fn, train, val, config: FitConfig, log=None) -> FitResult:
    """Adam over ``train``; the parameters of the best validation epoch (0 = the start) are kept."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    best_val = accuracy_fn(model, val)
    best_state, best_epoch, history, waited = copy.deepcopy(model.state_dict()), 0, [], 0
    if log:
        log(f"  epoch 0: val {best_val:.4f}")
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        model.train()
        losses, correct = [], 0
        for idx in _batches(len(train.labels), config.batch_size, rng):
            tokens, lengths, labels = _trimmed(train, idx)
            loss, right = loss_fn(model, tokens, lengths, torch.as_tensor(labels))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            opt.step()
            losses.append(float(loss.detach()) * len(idx))
            correct += right
        model.eval()
        val_acc = accuracy_fn(model, val)
        row = EpochRow(epoch=epoch, loss=sum(losses) / len(train.labels),
                       train_accuracy=correct / len(train.labels),
                       val_accuracy=val_acc, seconds=time.perf_counter() - start)
        history.append(row)
        if log:
            log(f"  epoch {epoch}: loss {row.loss:.4f} train {row.train_accuracy:.4f} val {val_acc:.4f} "
                f"({row.seconds:.1f} s)")
        if val_acc > best_val:
            best_val, best_epoch, waited = val_acc, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
            if waited >= config.patience:
                break
    model.load_state_dict(best_state)
    return FitResult(best_epoch=best_epoch, best_val_accuracy=best_val, history=tuple(history))


def _kl(logits: torch.Tensor, soft: torch.Tensor, temperature: float) -> torch.Tensor:
    log_p = nn.functional.log_softmax(logits / temperature, dim=1)
    return nn.functional.kl_div(log_p, soft, reduction="batchmean") * temperature ** 2


def member_loss(each: torch.Tensor, labels: torch.Tensor, soft: torch.Tensor | None = None,
                distill: float = 0.0, temperature: float = 1.0) -> tuple[torch.Tensor, int]:
    """The float stage's loss of members' logits ``each`` (M, B, C): the mean of each member's own
    ``(1 − λ)·CE + λ·T²·KL(soft ‖ member_T)`` (CE alone without ``soft``), and the right answers
    of their sum. Why each its own: every member learns the whole task, so their sum on the
    chip is an ensemble's, not one wide network's."""
    def one(logits):
        ce = nn.functional.cross_entropy(logits, labels)
        return ce if soft is None else (1 - distill) * ce + distill * _kl(logits, soft, temperature)

    loss = torch.stack([one(logits) for logits in each]).mean()
    return loss, int((each.sum(0).argmax(1) == labels).sum())


def _rate_loss(model, tokens, lengths, labels):
    return member_loss(model(tokens, lengths, each=True), labels)


def train_rate(model: RateXylo, train, val, config: FitConfig, log=None, teacher=None, distill: float = 0.0,
               temperature: float = 2.0) -> FitResult:
    """Stage 1: fit the float rate model (cross-entropy on the read tick's output).

    With a ``teacher`` (any ``teacher(tokens, lengths)`` → logits, e.g. a float CNN) and
    ``distill`` λ > 0 the loss is ``(1 − λ)·CE + λ·T²·KL(teacher_T ‖ model_T)``.
    """
    if teacher is None or distill <= 0:
        return _fit(model, _rate_loss, rate_accuracy, train, val, config, log)

    def loss_fn(m, tokens, lengths, labels):
        with torch.no_grad():
            soft = nn.functional.softmax(teacher(tokens, lengths) / temperature, dim=1)
        return member_loss(m(tokens, lengths, each=True), labels, soft, distill, temperature)

    return _fit(model, loss_fn, rate_accuracy, train, val, config, log)


# --- stage 2: the chip's integers, trained through the chip's tick ------------------------------

class _Spikes(torch.autograd.Function):
    """The chip's spike counts forward; ``1/θ`` for ``−θ < V < 31θ`` backward."""

    @staticmethod
    def forward(ctx, vmem, counts, threshold):
        ctx.save_for_backward(vmem, threshold)
        return counts

    @staticmethod
    def backward(ctx, grad):
        vmem, threshold = ctx.saved_tensors
        gate = (vmem > -threshold) & (vmem < MAX_HIDDEN_SPIKES * threshold)
        return grad * gate / threshold, None, None


def _inject(surrogate: torch.Tensor, exact: np.ndarray) -> torch.Tensor:
    """``exact``'s values with ``surrogate``'s gradient."""
    exact_t = torch.as_tensor(exact, dtype=DTYPE)
    return surrogate + (exact_t - surrogate).detach()


class ChipXylo(nn.Module):
    """Stage 2: a spec's integers as trainable latents; forward = :func:`~rnn2snn.targets.xylo.neuron.tick`.

    Latents are the integers over a fixed scale (int8 weights / 127, biases / θ, encoder
    counts / 15), rounded and clipped to the chip's ranges in every forward. The chip
    settings (dashes, thresholds, shifts) stay as the spec has them. One synapse.
    """

    def __init__(self, spec: XyloSpec, dynamics: XyloDynamics, out_scale: float,
                 rec_mask: np.ndarray | None = None):
        super().__init__()
        if spec.n_synapses != 1 or spec.encoder_table is None:
            raise HardwareLimitError("ChipXylo trains one-synapse specs with an encoder table")
        validate(spec)  # the latents are clamped to the chip's ranges: an invalid template would change
        if len(np.unique(spec.threshold)) != 1:
            raise HardwareLimitError("ChipXylo trains specs with one hidden threshold")
        self.template, self.dynamics, self.out_scale = spec, dynamics, float(out_scale)
        self.threshold = int(spec.threshold[0])
        self.bias_scale = float(self.threshold)

        def latent(values, scale):
            return nn.Parameter(torch.as_tensor(np.asarray(values, np.float64) / scale, dtype=DTYPE))

        self.p_in = latent(spec.weights_in[:, :, 0], 127)
        self.p_rec = latent(spec.weights_rec[:, :, 0], 127)
        # the pairs that may hold a weight (default: those the template has, or all if it is dense)
        if rec_mask is None:
            rec_mask = spec.weights_rec[:, :, 0] != 0
            if spec.n_hidden <= get_chip(spec.chip).max_fanout:
                rec_mask = np.ones_like(rec_mask)
        self.register_buffer("rec_mask", torch.as_tensor(np.asarray(rec_mask, np.float64), dtype=DTYPE))
        self.p_out = latent(spec.weights_out, 127)
        self.p_bias = latent(spec.bias, self.bias_scale)
        self.p_enc = latent(spec.encoder_table, MAX_INPUT_COUNT)
        in_mask, out_mask = get_chip(spec.chip).layout(spec.n_hidden)  # the chip's layout (IMU)
        self.register_buffer("in_mask", torch.as_tensor(in_mask, dtype=DTYPE))
        self.register_buffer("out_mask", torch.as_tensor(out_mask, dtype=DTYPE))

    def integers(self) -> dict[str, torch.Tensor]:
        """The chip's integers now (float tensors holding integers; gradients straight through)."""
        def q(p, scale, low, high):
            return ste_round((p * scale).clamp(low, high))

        return {"w_in": q(self.p_in, 127, -128, 127) * self.in_mask,
                "w_rec": q(self.p_rec, 127, -128, 127) * self.rec_mask,
                "w_out": q(self.p_out, 127, -128, 127) * self.out_mask[:, None],
                "bias": q(self.p_bias, self.bias_scale, -STATE_MAX - 1, STATE_MAX),
                "enc": q(self.p_enc, MAX_INPUT_COUNT, 0, MAX_INPUT_COUNT)}

    def spec(self) -> XyloSpec:
        """The spec these latents round to, validated against the chip."""
        ints = {key: value.detach().numpy().astype(np.int64) for key, value in self.integers().items()}
        enc = ints["enc"].copy()
        enc[0] = 0
        t = self.template
        return validate(replace(t, weights_in=ints["w_in"][:, :, None], weights_rec=ints["w_rec"][:, :, None],
                                weights_out=ints["w_out"], bias=ints["bias"],
                                encoder_table=enc))

    def forward(self, tokens: np.ndarray, lengths: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        """(output ``Vmem`` at the read tick as a tensor with surrogate gradients, the same exactly)."""
        ints = self.integers()
        tokens = np.asarray(tokens, np.int64)
        lengths = np.asarray(lengths, np.int64)
        n_steps = tokens.shape[1]
        mask = torch.as_tensor(np.arange(n_steps)[None, :] < lengths[:, None])
        x_all = ints["enc"][torch.as_tensor(tokens)] * (mask & torch.as_tensor(tokens > 0))[..., None, None]
        x_np = x_all.detach().numpy().astype(np.int64)
        return chip_forward(self.spec(), ints, self.dynamics, self.threshold, x_np, x_all, lengths)


def chip_forward(spec: XyloSpec, ints: dict, dynamics: XyloDynamics, threshold: int, x_np: np.ndarray,
                 x_all: torch.Tensor, lengths: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
    """The chip's ticks (forward: :func:`~rnn2snn.targets.xylo.neuron.tick` itself) with the
    straight-through surrogate beside them, for any encoder: ``x_np`` (N, L, k, Nin) the exact
    input counts of each step's k ticks, ``x_all`` the same as a tensor carrying the encoder's
    gradient. Returns (output ``Vmem`` at the read tick with surrogate gradients, the same exactly)."""
    core = Core.from_spec(spec)
    n_batch, n_steps = x_np.shape[:2]
    k = dynamics.ticks_per_step
    read = np.asarray(lengths, np.int64) * k + dynamics.tail_ticks - 1
    w_in = ints["w_in"] * 2.0 ** spec.weight_shift_in
    w_rec = ints["w_rec"] * 2.0 ** spec.weight_shift_rec
    w_out = ints["w_out"] * 2.0 ** spec.weight_shift_out
    lam, mu = 1 - 2.0 ** -dynamics.dash_syn, 1 - 2.0 ** -dynamics.dash_mem
    lam_o, mu_o = 1 - 2.0 ** -dynamics.dash_syn_out, 1 - 2.0 ** -dynamics.dash_mem_out
    theta = torch.tensor(float(threshold), dtype=DTYPE)
    state = State.zeros(core, n_batch)
    zeros = torch.zeros(n_batch, spec.n_hidden, dtype=DTYPE)
    isyn, v, h = zeros, zeros, zeros
    isyn_o = v_o = out = torch.zeros(n_batch, spec.n_outputs, dtype=DTYPE)
    exact_out = np.zeros((n_batch, spec.n_outputs), np.int64)
    blank = np.zeros((n_batch, spec.n_inputs), np.int64)
    read_t = torch.as_tensor(read)
    for t in range(n_steps * k + dynamics.tail_ticks):
        word = t < n_steps * k
        state = tick(core, state, x_np[:, t // k, t % k] if word else blank)
        drive = h @ w_rec + (x_all[:, t // k, t % k] @ w_in if word else 0.0)
        isyn_o = _inject(lam_o * (isyn_o + h @ w_out), state.isyn_out[0])
        v_o = _inject(mu_o * v_o + isyn_o, state.vmem_out)
        isyn = _inject(lam * (isyn + drive), state.isyn[0])
        v_pre = _inject(mu * v + isyn + ints["bias"], state.vmem + state.spikes * threshold)
        h = _Spikes.apply(v_pre, torch.as_tensor(state.spikes, dtype=DTYPE), theta)
        v = v_pre - theta * h.detach()
        now = read == t
        out = torch.where(read_t[:, None] == t, v_o, out)
        exact_out[now] = state.vmem_out[now]
    return out, exact_out


def _chip_loss(model: ChipXylo, tokens, lengths, labels, soft: torch.Tensor | None = None,
               distill: float = 0.0, temperature: float = 1.0):
    vmem_out, exact = model(tokens, lengths)
    logits = vmem_out / model.out_scale
    # keep the output membranes clear of 2^15 - 1, where an output neuron would spike and reset
    excess = torch.relu(vmem_out.abs() - 0.9 * STATE_MAX) / STATE_MAX
    loss = nn.functional.cross_entropy(logits, labels)
    if soft is not None:
        loss = (1 - distill) * loss + distill * _kl(logits, soft, temperature)
    return loss + (excess ** 2).mean(), int((exact.argmax(1) == labels.numpy()).sum())


def chip_predict(spec: XyloSpec, data, tail_ticks: int, batch_size: int = 256) -> np.ndarray:
    """The classes the chip reads for ``data`` (``simulate`` then ``classify``)."""
    preds = []
    for start in range(0, len(data.labels), batch_size):
        idx = np.arange(start, min(len(data.labels), start + batch_size))
        tokens, lengths, _ = _trimmed(data, idx)
        counts, read = rasters(spec, tokens, lengths, tail_ticks)
        record = simulate(spec, counts, record=False, batch_size=batch_size)
        preds.append(classify(record, spec.readout, read))
    return np.concatenate(preds)


def chip_accuracy(spec: XyloSpec, data, tail_ticks: int) -> float:
    return float(np.mean(chip_predict(spec, data, tail_ticks) == np.asarray(data.labels)))


def finetune_chip(model: ChipXylo, train, val, config: FitConfig, log=None, teacher=None,
                  distill: float = 0.0, temperature: float = 2.0) -> FitResult:
    """Stage 2: fit the integers against the chip's tick; validation accuracy by the simulator.

    With a ``teacher`` (the float rate model, or any ``teacher(tokens, lengths)`` → logits)
    and ``distill`` λ > 0 the loss is
    ``(1 − λ)·CE + λ·T²·KL(teacher_T ‖ chip_T)``: the chip is pulled toward the float
    model's class scores, which carry more than the (mostly already fitted) labels.
    """
    def accuracy(m, data):
        return chip_accuracy(m.spec(), data, m.dynamics.tail_ticks)

    if teacher is None or distill <= 0:
        return _fit(model, _chip_loss, accuracy, train, val, config, log)
    if isinstance(teacher, nn.Module):
        teacher.eval()

    def loss_fn(m, tokens, lengths, labels):
        with torch.no_grad():
            soft = nn.functional.softmax(teacher(tokens, lengths) / temperature, dim=1)
        return _chip_loss(m, tokens, lengths, labels, soft, distill, temperature)

    return _fit(model, loss_fn, accuracy, train, val, config, log)


def rate_from_spec(spec: XyloSpec, dynamics: XyloDynamics, out_scale: float) -> RateXylo:
    """The rate model holding a spec's integers (back in threshold and logit units): the quantised stage.

    Its counts stay real-valued, so it measures what rounding the weights, biases and
    encoder costs, apart from what integer spike counts cost.
    """
    th = float(spec.threshold[0])
    n_hidden, n_out = spec.weights_out.shape
    model = RateXylo(len(spec.encoder_table), n_hidden, n_out, dynamics, spec.n_inputs,
                     rec_mask=spec.weights_rec[:, :, 0] != 0)

    def set_(param, values):
        param.data = torch.as_tensor(np.asarray(values, np.float64), dtype=DTYPE)

    set_(model.encoder, spec.encoder_table / ENCODER_UNIT)
    set_(model.w_in, spec.weights_in[:, :, 0] * 2.0 ** spec.weight_shift_in / th)
    set_(model.w_rec, spec.weights_rec[:, :, 0] * 2.0 ** spec.weight_shift_rec / th)
    set_(model.bias, spec.bias / th)
    # counts in the spec's units are c × the float model's; logits are Vmem_out / out_scale
    set_(model.w_out, spec.weights_out * 2.0 ** spec.weight_shift_out / out_scale)
    return model

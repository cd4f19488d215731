"""Train-and-constrain for Xylo from real feature frames (sensor data) instead of tokens.

Why a feature map and not a table: a frame of F real features (e.g. 12 LPC coefficients)
has no index to look up, and the chip takes at most 16 channels of 0..15 events a tick.
The off-chip encoder is therefore an affine map with rounding, done on the host:
``counts = clip(round(x @ W + b), 0, 15)`` on every tick of the frame's step
(:func:`~rnn2snn.targets.xylo.spec.encode_features`). It is learned with the network: the
rate model (:class:`RateFeatureXylo`) applies it with a straight-through rounding, so the
float stage already sees integer counts, and the fine-tune on the chip's tick
(:class:`ChipFeatureXylo`) keeps training it. The input normalisation (mean, standard
deviation of the training frames) is folded into ``W`` and ``b`` in the spec, so the spec
takes raw frames.

Why masks (:meth:`~rnn2snn.targets.xylo.chips.XyloChip.layout`): Xylo IMU lets only its
first 128 hidden neurons receive input and only its last 128 drive outputs
(:data:`~rnn2snn.targets.xylo.chips.XYLO_IMU`). With N ≤ 128 hidden neurons every neuron
may do both; above, the models (token and feature) train with those weights held at 0, so
the spec obeys the layout that :func:`~rnn2snn.targets.xylo.spec.validate` checks.

Data are duck-typed: ``features`` (N, L, F) float, ``lengths`` (N,), ``labels`` (N,)
(:class:`FeatureSet`); ``tokens`` is the same array, the name train.py's loops slice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from rnn2snn.errors import HardwareLimitError
from rnn2snn.targets.xylo.chips import XyloChip, get_chip
from rnn2snn.targets.xylo.convert import FloatXylo, Scales, XyloDynamics, _int8
from rnn2snn.targets.xylo.limits import CHAIN_INPUTS, check_run_sizes
from rnn2snn.targets.xylo.method import XyloConversion, XyloSettings, XyloStage, check_settings, search_scales
from rnn2snn.targets.xylo.neuron import MAX_INPUT_COUNT, STATE_MAX
from rnn2snn.targets.xylo.simulate import classify, simulate
from rnn2snn.targets.xylo.spec import XyloSpec, encode_features, validate
from rnn2snn.targets.xylo.train import (
    DTYPE,
    FitConfig,
    _chip_loss,
    _fit,
    _inject,
    _trimmed,
    chip_forward,
    member_loss,
    member_mask,
    members_output,
    rate_accuracy,
    rate_ticks,
    state_ranges,
    ste_round,
)

#: Input event counts the encoder starts near (mid-range of 0..15, so rounding and clipping both train).
_ENCODER_OFFSET = 4.0


@dataclass(frozen=True, eq=False)
class FeatureSet:
    """Feature sequences: ``features`` (N, L, F) float (zero past each length), ``lengths``, ``labels``."""

    features: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        f = np.asarray(self.features, np.float64)
        lengths, labels = np.asarray(self.lengths, np.int64), np.asarray(self.labels, np.int64)
        if f.ndim != 3 or lengths.shape != (len(f),) or labels.shape != (len(f),):
            raise HardwareLimitError(
                f"FeatureSet: features must be (N, L, F) with lengths and labels (N,), "
                f"found {f.shape}, {lengths.shape}, {labels.shape}"
            )
        if len(f) and (lengths.min() < 1 or lengths.max() > f.shape[1]):
            raise HardwareLimitError(f"FeatureSet: lengths must lie in 1..{f.shape[1]}")
        if not np.all(np.isfinite(f)):
            raise HardwareLimitError("FeatureSet: features must be finite")
        object.__setattr__(self, "features", f)
        object.__setattr__(self, "lengths", lengths)
        object.__setattr__(self, "labels", labels)

    @property
    def tokens(self) -> np.ndarray:
        """The per-step inputs under the name :mod:`rnn2snn.targets.xylo.train`'s loops slice."""
        return self.features

    def __len__(self) -> int:
        return len(self.labels)


def check_feature_limits(chip: str | XyloChip, n_features: int, hidden: int, n_classes: int,
                         members: int = 1) -> XyloChip:
    """``chip`` if ``members`` dense networks of ``hidden / members`` neurons for ``n_classes`` fit,
    else the limit named (:func:`~rnn2snn.targets.xylo.limits.check_run_sizes`, the one set of
    rules). Run before training: 9 classes on Xylo Audio 2 are refused here, not after an hour.
    """
    if n_features < 1:
        raise HardwareLimitError(f"n_features = {n_features}: the feature encoder needs at least one feature")
    check_run_sizes(chip, n_inputs=CHAIN_INPUTS, hidden=hidden, n_classes=n_classes, members=members,
                    hidden_param="settings.hidden")
    return get_chip(chip)


def normalisation(data: FeatureSet) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation over the valid frames of ``data`` (the fit set)."""
    valid = np.arange(data.features.shape[1])[None, :] < data.lengths[:, None]
    frames = data.features[valid]
    return frames.mean(axis=0), np.maximum(frames.std(axis=0), 1e-9)


class _Encoder(nn.Module):
    """The host's feature map in normalised units; :meth:`folded` gives it in raw units for the spec."""

    def __init__(
        self, n_features: int, n_inputs: int, mean: np.ndarray, std: np.ndarray, gen, noise: float = 0.0
    ):
        super().__init__()
        self.noise = float(noise)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=DTYPE))
        self.register_buffer("std", torch.as_tensor(std, dtype=DTYPE))
        self.weight = nn.Parameter(torch.randn(n_features, n_inputs, generator=gen, dtype=DTYPE) * 2.0)
        self.bias = nn.Parameter(torch.full((n_inputs,), _ENCODER_OFFSET, dtype=DTYPE))

    def forward(self, frames: torch.Tensor, lengths: np.ndarray) -> torch.Tensor:
        """Counts (B, L, Nin): integers forward (round, clip to 0..15), straight through backward.

        In training, Gaussian noise of ``noise`` standard deviations is added to the
        normalised frames (augmentation: a few hundred sequences are learned by heart).
        """
        x = (frames - self.mean) / self.std
        if self.training and self.noise > 0:
            x = x + self.noise * torch.randn(x.shape, dtype=DTYPE)
        z = x @ self.weight + self.bias
        valid = torch.as_tensor(np.arange(frames.shape[1])[None, :] < np.asarray(lengths)[:, None])
        return ste_round(z.clamp(0, MAX_INPUT_COUNT)) * valid[..., None]

    def folded(self) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) on raw frames: ``((x - m) / s) @ W0 + b0 = x @ (W0 / s) + (b0 - (m / s) @ W0)``."""
        w0, b0 = self.weight.detach().numpy(), self.bias.detach().numpy()
        m, s = self.mean.numpy(), self.std.numpy()
        return w0 / s[:, None], b0 - (m / s) @ w0


class RateFeatureXylo(nn.Module):
    """Stage 1 for features: :class:`~rnn2snn.targets.xylo.train.RateXylo`'s neuron behind a learned map."""

    def __init__(
        self,
        n_features: int,
        hidden: int,
        classes: int,
        dynamics: XyloDynamics,
        mean: np.ndarray,
        std: np.ndarray,
        chip: str | XyloChip,
        n_inputs: int = 16,
        seed: int = 0,
        noise: float = 0.0,
        members: int = 1,
    ):
        super().__init__()
        if members < 1 or hidden % members:
            raise HardwareLimitError(f"members = {members} must be >= 1 and divide hidden = {hidden}")
        self.members = members
        gen = torch.Generator().manual_seed(seed)
        self.dynamics = dynamics
        self.encoder = _Encoder(n_features, n_inputs, mean, std, gen, noise)
        self.w_in = nn.Parameter(torch.randn(n_inputs, hidden, generator=gen, dtype=DTYPE) * 0.05)
        self.w_rec = nn.Parameter(torch.randn(hidden, hidden, generator=gen, dtype=DTYPE) * 0.5 / hidden**0.5)
        self.bias = nn.Parameter(torch.zeros(hidden, dtype=DTYPE))
        self.w_out = nn.Parameter(
            torch.randn(hidden, classes, generator=gen, dtype=DTYPE) * 0.1 / hidden**0.5
        )
        in_mask, out_mask = get_chip(chip).layout(hidden)
        self.register_buffer("in_mask", torch.as_tensor(in_mask, dtype=DTYPE))
        self.register_buffer("out_mask", torch.as_tensor(out_mask, dtype=DTYPE))
        self.register_buffer("rec_mask", torch.as_tensor(member_mask(hidden, members), dtype=DTYPE))

    def forward(self, frames: np.ndarray, lengths: np.ndarray, ranges: bool = False, each: bool = False):
        """Logits (B, C) at each sequence's read tick; with ``ranges`` also the states seen (as RateXylo's).

        With ``each``, the logits each member contributes, (members, B, C): the output
        neurons integrate linearly, so the logits are their sum.
        """
        x_all = self.encoder(torch.as_tensor(frames, dtype=DTYPE), lengths)
        k = self.dynamics.ticks_per_step  # one frame's counts on each of its k ticks
        out, seen = rate_ticks(x_all[:, :, None].expand(-1, -1, k, -1), self.w_in * self.in_mask,
                               self.w_rec * self.rec_mask, self.bias, self.w_out * self.out_mask[:, None],
                               self.dynamics, lengths, self.members, ranges)
        return members_output(out, seen, each)

    def export(self) -> FloatXylo:
        """The float network (masked weights) in :func:`~rnn2snn.targets.xylo.convert.choose_scales`' form."""

        def arr(p):
            return p.detach().numpy().copy()

        return FloatXylo(
            encoder=np.zeros((1, self.w_in.shape[0])),
            w_in=arr(self.w_in * self.in_mask),
            w_rec=arr(self.w_rec * self.rec_mask),
            bias=arr(self.bias),
            w_out=arr(self.w_out * self.out_mask[:, None]),
            dynamics=self.dynamics,
        )


def features_to_spec(
    model: RateFeatureXylo, scales: Scales, chip: str = "xylo-imu", classes: tuple[str, ...] = ()
) -> XyloSpec:
    """The rounded spec of ``model`` at ``scales`` with its feature encoder, validated against ``chip``."""
    dyn, net = model.dynamics, model.export()
    c, th, k = scales.activity, scales.threshold, scales.out_scale
    n_hidden, n_out = net.w_rec.shape[0], net.w_out.shape[1]
    weights, bias = model.encoder.folded()
    spec = XyloSpec(
        weights_in=_int8(net.w_in * c * th, scales.weight_shift_in, "weights_in")[:, :, None],
        weights_rec=_int8(net.w_rec * th, scales.weight_shift_rec, "weights_rec")[:, :, None],
        weights_out=_int8(net.w_out / c * k, scales.weight_shift_out, "weights_out"),
        dash_mem=np.full(n_hidden, dyn.dash_mem),
        dash_syn=np.full(n_hidden, dyn.dash_syn),
        dash_syn_2=np.full(n_hidden, dyn.dash_syn),
        threshold=np.full(n_hidden, th),
        bias=np.clip(np.round(net.bias * c * th), -STATE_MAX - 1, STATE_MAX).astype(np.int64),
        dash_mem_out=np.full(n_out, dyn.dash_mem_out),
        dash_syn_out=np.full(n_out, dyn.dash_syn_out),
        threshold_out=np.full(n_out, STATE_MAX),
        bias_out=np.zeros(n_out, np.int64),
        weight_shift_in=scales.weight_shift_in,
        weight_shift_rec=scales.weight_shift_rec,
        weight_shift_out=scales.weight_shift_out,
        chip=get_chip(chip).name,
        readout=dyn.readout,
        ticks_per_step=dyn.ticks_per_step,
        classes=classes,
        feature_weights=weights,
        feature_bias=bias,
    )
    return validate(spec)


def feature_rasters(
    spec: XyloSpec, frames: np.ndarray, lengths: np.ndarray, tail_ticks: int
) -> tuple[np.ndarray, np.ndarray]:
    """Input event counts (B, T, Nin) of raw frames (B, L, F) through the spec's encoder, and the read ticks.

    Each frame takes ``ticks_per_step`` ticks with the same counts; after a sequence's
    last frame come ``tail_ticks`` blank ticks. Returns the raster and, per sequence, the
    number of ticks up to and including the read tick (``classify``'s ``lengths``).
    """
    frames, lengths = np.asarray(frames, np.float64), np.asarray(lengths, np.int64)
    counts = encode_features(spec, frames)
    counts *= (np.arange(frames.shape[1])[None, :] < lengths[:, None])[..., None]
    raster = np.repeat(counts, spec.ticks_per_step, axis=1)
    raster = np.concatenate([raster, np.zeros((len(frames), tail_ticks, spec.n_inputs), np.int64)], axis=1)
    return raster, lengths * spec.ticks_per_step + tail_ticks


def feature_chip_predict(
    spec: XyloSpec, data: FeatureSet, tail_ticks: int, batch_size: int = 256
) -> np.ndarray:
    """The classes the chip reads for ``data`` (our simulator, on-chip ``vmem_last`` readout)."""
    preds = []
    for start in range(0, len(data.labels), batch_size):
        idx = np.arange(start, min(len(data.labels), start + batch_size))
        frames, lengths, _ = _trimmed(data, idx)
        counts, read = feature_rasters(spec, frames, lengths, tail_ticks)
        preds.append(
            classify(simulate(spec, counts, record=False, batch_size=batch_size), spec.readout, read)
        )
    return np.concatenate(preds)


def feature_chip_score(spec: XyloSpec, data: FeatureSet, tail_ticks: int, out_scale: float) -> float:
    """:func:`selection_score` of the chip's output ``Vmem`` at the read tick (``out_scale`` per logit)."""
    counts, read = feature_rasters(spec, data.features, data.lengths, tail_ticks)
    vmem = simulate(spec, counts, record=False).vmem_out[np.arange(len(read)), read - 1]
    return selection_score(vmem / out_scale, data.labels)


def feature_chip_accuracy(spec: XyloSpec, data: FeatureSet, tail_ticks: int) -> float:
    return float(np.mean(feature_chip_predict(spec, data, tail_ticks) == data.labels))


class ChipFeatureXylo(nn.Module):
    """Stage 2 for features: the spec's integers and the host's feature map, forward by the chip's tick.

    As :class:`~rnn2snn.targets.xylo.train.ChipXylo` (integers as latents over fixed scales,
    the tick of :mod:`rnn2snn.targets.xylo.neuron` forward, straight-through surrogates
    backward), with the feature map as the encoder: the counts the tick sees are the
    spec's own (:func:`~rnn2snn.targets.xylo.spec.encode_features`, NumPy), so training
    and the simulator read the same events.
    """

    def __init__(self, spec: XyloSpec, rate: RateFeatureXylo, out_scale: float):
        super().__init__()
        if spec.n_synapses != 1 or spec.feature_weights is None or len(np.unique(spec.threshold)) != 1:
            raise HardwareLimitError(
                "ChipFeatureXylo trains one-synapse specs with a feature encoder and one hidden threshold"
            )
        self.template, self.dynamics, self.out_scale = spec, rate.dynamics, float(out_scale)
        self.threshold = int(spec.threshold[0])
        self.encoder = _Encoder(
            spec.feature_weights.shape[0],
            spec.n_inputs,
            rate.encoder.mean.numpy(),
            rate.encoder.std.numpy(),
            torch.Generator().manual_seed(0),
            0.0,
        )
        self.encoder.load_state_dict(rate.encoder.state_dict())
        self.noise = rate.encoder.noise
        self.register_buffer("in_mask", rate.in_mask.clone())
        self.register_buffer("out_mask", rate.out_mask.clone())
        self.register_buffer("rec_mask", rate.rec_mask.clone())

        def latent(values, scale):
            return nn.Parameter(torch.as_tensor(np.asarray(values, np.float64) / scale, dtype=DTYPE))

        self.p_in = latent(spec.weights_in[:, :, 0], 127)
        self.p_rec = latent(spec.weights_rec[:, :, 0], 127)
        self.p_out = latent(spec.weights_out, 127)
        self.p_bias = latent(spec.bias, self.threshold)

    def integers(self) -> dict[str, torch.Tensor]:
        """The chip's integers now (float tensors holding integers; the layout masks applied)."""

        def q(p, scale, low, high):
            return ste_round((p * scale).clamp(low, high))

        return {
            "w_in": q(self.p_in, 127, -128, 127) * self.in_mask,
            "w_rec": q(self.p_rec, 127, -128, 127) * self.rec_mask,
            "w_out": q(self.p_out, 127, -128, 127) * self.out_mask[:, None],
            "bias": q(self.p_bias, self.threshold, -STATE_MAX - 1, STATE_MAX),
        }

    def spec(self) -> XyloSpec:
        """The spec these latents round to, validated against the chip."""
        ints = {key: value.detach().numpy().astype(np.int64) for key, value in self.integers().items()}
        weights, bias = self.encoder.folded()
        return validate(
            replace(
                self.template,
                weights_in=ints["w_in"][:, :, None],
                weights_rec=ints["w_rec"][:, :, None],
                weights_out=ints["w_out"],
                bias=ints["bias"],
                feature_weights=weights,
                feature_bias=bias,
            )
        )

    def forward(self, frames: np.ndarray, lengths: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        """(output ``Vmem`` at the read tick with surrogate gradients, the same values exactly)."""
        dyn = self.dynamics
        ints = self.integers()
        spec = self.spec()
        frames = np.asarray(frames, np.float64)
        if self.training and self.noise > 0:  # the rate model's augmentation, in raw units
            frames = (
                frames
                + self.noise * self.encoder.std.numpy() * torch.randn(frames.shape, dtype=DTYPE).numpy()
            )
        lengths = np.asarray(lengths, np.int64)
        valid = np.arange(frames.shape[1])[None, :] < lengths[:, None]
        x_np = encode_features(spec, frames) * valid[..., None]
        x_all = _inject(self.encoder(torch.as_tensor(frames, dtype=DTYPE), lengths), x_np)
        # one frame's counts on each of its k ticks
        k = dyn.ticks_per_step
        return chip_forward(spec, ints, dyn, self.threshold, np.repeat(x_np[:, :, None], k, axis=2),
                            x_all[:, :, None].expand(-1, -1, k, -1), lengths)


def quantised_rate(spec: XyloSpec, rate: RateFeatureXylo, out_scale: float) -> RateFeatureXylo:
    """The rate model holding the spec's integers (real counts, rounded weights): the quantised stage."""
    th = float(spec.threshold[0])
    model = RateFeatureXylo(
        spec.feature_weights.shape[0],
        spec.n_hidden,
        spec.n_outputs,
        rate.dynamics,
        rate.encoder.mean.numpy(),
        rate.encoder.std.numpy(),
        spec.chip,
        spec.n_inputs,
        members=rate.members,
    )
    model.encoder.load_state_dict(rate.encoder.state_dict())

    def set_(param, values):
        param.data = torch.as_tensor(np.asarray(values, np.float64), dtype=DTYPE)

    set_(model.w_in, spec.weights_in[:, :, 0] * 2.0**spec.weight_shift_in / th)
    set_(model.w_rec, spec.weights_rec[:, :, 0] * 2.0**spec.weight_shift_rec / th)
    set_(model.bias, spec.bias / th)
    set_(model.w_out, spec.weights_out * 2.0**spec.weight_shift_out / out_scale)
    return model


#: Weight of the validation cross-entropy in the selection score: a tie-break below one example's worth.
LOSS_TIE_BREAK = 0.01


def selection_score(logits: np.ndarray, labels: np.ndarray) -> float:
    """Validation accuracy minus ``LOSS_TIE_BREAK`` × mean cross-entropy.

    Why not accuracy alone: a validation set of a few dozen sequences (JapaneseVowels: 36)
    reaches its best accuracy early and then ties for many epochs, so the first tied
    epoch would be kept; the loss separates the tied epochs.
    """
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(np.mean(log_p[np.arange(len(labels)), labels]))
    return float(np.mean(logits.argmax(axis=1) == labels)) - LOSS_TIE_BREAK * loss


def _evaluated(model: nn.Module, run):
    """``run()`` with ``model`` in eval mode (no training noise), its mode restored after.

    Why: train.py's loop scores the start (epoch 0) before its first ``model.train()``, and
    a fresh module is in training mode; the start must be scored as the epochs are.
    """
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            return run()
    finally:
        model.train(was)


def _rate_score(model: RateFeatureXylo, data: FeatureSet) -> float:
    logits = _evaluated(model, lambda: model(data.features, data.lengths))
    return selection_score(logits.numpy(), data.labels)


def _chip_score(model: ChipFeatureXylo, data: FeatureSet) -> float:
    """The score of the chip's own output ``Vmem`` (the tick's exact values) in logit units."""
    _, exact = _evaluated(model, lambda: model(data.features, data.lengths))
    return selection_score(exact / model.out_scale, data.labels)


def _l2_loss(l2: float):
    """The rate loss plus ``l2`` × the mean square of the network's weights (thresholds per event)."""

    def loss(model, frames, lengths, labels):
        ce, right = member_loss(model(frames, lengths, each=True), labels)
        if l2 > 0:
            ce = ce + l2 * sum((w**2).mean() for w in (model.w_in, model.w_rec, model.w_out))
        return ce, right

    return loss


def convert_features_for_xylo(
    fit: FeatureSet,
    val: FeatureSet,
    test: FeatureSet | None,
    n_features: int,
    classes: tuple[str, ...],
    chip: str = "xylo-imu",
    settings: XyloSettings = XyloSettings(),
    log=None,
    start=None,
) -> XyloConversion:
    """:func:`~rnn2snn.targets.xylo.method.convert_for_xylo` for feature frames: the same stages, one chain.

    Limits are checked first (classes, hidden size, dense recurrence). Stages: ``float``
    (rate model, integer input counts), ``quantised``, ``spiking_before_finetune``,
    ``spiking``; validation picks the epoch and the activity scale, test is only reported.
    ``settings.noise``: training augmentation, Gaussian noise in standard deviations of each
    feature; ``settings.l2``: weight penalty of the float stage (see :func:`_l2_loss`);
    ``settings.members``: the hidden layer as that many independent networks of
    ``hidden / members`` neurons side by side (block-diagonal recurrence, one shared
    encoder), each trained on its own loss in the float stage, their output ``Vmem`` summed
    by the output neurons: an ensemble on one chip, for less variance from a training set
    of a few hundred sequences. ``start``: called with the fresh :class:`RateFeatureXylo`
    before it trains, to set its weights (a user's model: :mod:`rnn2snn.targets.xylo.start`);
    None: the random start.
    """
    check_settings(settings)
    chip_ = check_feature_limits(chip, n_features, settings.hidden, len(classes), settings.members)
    noise, l2, members = settings.noise, settings.l2, settings.members
    if fit.features.shape[2] != n_features:
        raise HardwareLimitError(
            f"n_features = {n_features} but the fit set's frames have {fit.features.shape[2]} features"
        )
    say = log or (lambda *a, **k: None)
    dyn = settings.dynamics
    stages: list[XyloStage] = []

    def measure(name, accuracy_of, seconds=0.0, best_epoch=None):
        row = XyloStage(
            name, accuracy_of(val), None if test is None else accuracy_of(test), round(seconds, 1), best_epoch
        )
        stages.append(row)
        shown = "" if row.test is None else f"  test {row.test:.4f}"
        say(f"{name:>26}: val {row.val:.4f}{shown}")

    t0 = time.perf_counter()
    mean, std = normalisation(fit)
    rate = RateFeatureXylo(
        n_features,
        settings.hidden,
        len(classes),
        dyn,
        mean,
        std,
        chip_,
        seed=settings.seed,
        noise=noise,
        members=members,
    )
    if start is not None:
        start(rate)
    # every epoch runs (patience = epochs): the score's best epoch is kept
    fit_float = _fit(
        rate,
        _l2_loss(l2),
        _rate_score,
        fit,
        val,
        FitConfig(epochs=settings.epochs, lr=settings.lr, seed=settings.seed, patience=settings.epochs),
        log,
    )
    measure("float", lambda d: rate_accuracy(rate, d), time.perf_counter() - t0, fit_float.best_epoch)

    def scored(spec, scales):  # accuracy, ties broken by the cross-entropy
        score = feature_chip_score(spec, val, dyn.tail_ticks, scales.out_scale)
        return score, feature_chip_accuracy(spec, val, dyn.tail_ticks), f" (score {score:.6f})"

    ranges = state_ranges(rate, fit)
    trials, target, scales, spec = search_scales(
        rate.export(), ranges, settings.target_counts,
        lambda scales: features_to_spec(rate, scales, chip_.name, tuple(classes)), scored, say)
    quant = quantised_rate(spec, rate, scales.out_scale)
    measure("quantised", lambda d: rate_accuracy(quant, d))
    measure("spiking_before_finetune", lambda d: feature_chip_accuracy(spec, d, dyn.tail_ticks))

    t0 = time.perf_counter()
    chip_model = ChipFeatureXylo(spec, rate, scales.out_scale)
    config = FitConfig(
        epochs=settings.ft_epochs, lr=settings.ft_lr, seed=settings.seed, patience=settings.ft_patience
    )
    fit_chip = _fit(chip_model, _chip_loss, _chip_score, fit, val, config, log)
    spec = chip_model.spec()
    measure(
        "spiking",
        lambda d: feature_chip_accuracy(spec, d, dyn.tail_ticks),
        time.perf_counter() - t0,
        fit_chip.best_epoch,
    )
    return XyloConversion(
        spec=spec,
        settings=settings,
        stages=tuple(stages),
        scales=scales,
        target_counts=target,
        trials=trials,
        float_ranges=ranges,
        float_history=tuple(fit_float.history),
        finetune_history=tuple(fit_chip.history),
    )

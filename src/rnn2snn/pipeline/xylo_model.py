"""A user's own torch model converted for Xylo: :func:`rnn2snn.convert_model` with ``target='xylo-…'``.

Why beside the TrueNorth-class path: reading the model and checking the data are the same
(:func:`rnn2snn.model.user_data.check_user_inputs`, every error before any work), but the
chain is Xylo's (:func:`~rnn2snn.targets.xylo.method.convert_for_xylo` for tokens,
:func:`~rnn2snn.targets.xylo.features.convert_features_for_xylo` for feature frames), its
limits are the chip's (:func:`~rnn2snn.targets.xylo.limits.check_run_sizes`), and its float
stage starts from the user's weights (:mod:`rnn2snn.targets.xylo.start` says what is carried
and what not). The stage table starts with ``given`` (the user's model by its own forward,
before any training); a loss of more than 2 validation points from it to ``spiking`` is a
warning naming the step that lost most (:func:`rnn2snn.guard.chain_warning`). Validation
picks every choice; the test data are only measured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace

import numpy as np
import torch

from rnn2snn.checks import ParameterError
from rnn2snn.config import PipelineConfig
from rnn2snn.guard import RunWarning, chain_warning, validation_warning
from rnn2snn.model.elman import ElmanClassifier
from rnn2snn.pipeline.method import stage_logger
from rnn2snn.targets.xylo.chips import get_chip
from rnn2snn.targets.xylo.features import FeatureSet, convert_features_for_xylo
from rnn2snn.targets.xylo.limits import CHAIN_INPUTS, check_run_sizes
from rnn2snn.targets.xylo.method import (
    XyloConversion,
    XyloSettings,
    XyloStage,
    check_settings,
    convert_for_xylo,
)
from rnn2snn.targets.xylo.model import XyloModel
from rnn2snn.targets.xylo.spec import XyloSpec
from rnn2snn.targets.xylo.start import ElmanWeights, StartReport, feature_start, token_start
from rnn2snn.threads import fixed_threads

#: The settings of ``config`` a Xylo conversion reads (the validation split); the sizes are read
#: from the model, as on TrueNorth (``CONFIG_SIZES``, not refused). Any other field is the
#: TrueNorth-class chain's and is refused if set.
CONFIG_READ = ("seed", "val_fraction", "target")
CONFIG_SIZES = ("embed_dim", "proj_dim", "hidden_dim")

#: What to change when a Xylo stage loses accuracy (the warning names the stage).
XYLO_ADVICE = {
    "float": ("more float epochs (settings.epochs) or another settings.lr: the rate model of the chip's "
              "neuron retrains from your model's weights",
              "more chip ticks a word (settings.dynamics.ticks_per_step)"),
    "quantised": ("more activity targets to choose from (settings.target_counts)",),
    "spiking_before_finetune": ("more activity targets to choose from (settings.target_counts)",
                                "more chip ticks a word (settings.dynamics.ticks_per_step)"),
    "spiking": ("more fine-tune epochs (settings.ft_epochs) or another settings.ft_lr",),
}
#: The choices a Xylo conversion makes on validation (named when the split is small).
XYLO_CHOICES = "the epoch kept by the float stage and by the fine-tune, and the activity scale"


@dataclass(frozen=True, eq=False)
class XyloModelResult:
    """A user's model converted for a Xylo chip.

    ``conversion``: the chain's spec and stages; ``given``: the user's model as given (its own
    forward, before any training); ``warnings``: a loss over 2 validation points from ``given``
    to ``spiking`` (naming the step), and a validation split too small to choose on;
    ``start``: what of the model the float stage started from. Save a token program with
    ``rnn2snn.targets.xylo.model.save_xylo_model(result.model, folder)`` (``rnn2snn verify``,
    ``predict`` and ``export --format xylo`` read the folder); a feature program's spec with
    ``rnn2snn.targets.xylo.spec.save_spec(result.spec, path)``.
    """

    chip: str
    conversion: XyloConversion
    given: XyloStage
    warnings: tuple[RunWarning, ...]
    classes: tuple[str, ...]
    vocab: tuple[str, ...] | None  # None: a feature model
    start: StartReport
    wall_seconds: float

    @property
    def stages(self) -> tuple[XyloStage, ...]:
        """``given``, then the chain's: float, quantised, spiking_before_finetune, spiking."""
        return (self.given, *self.conversion.stages)

    def stage(self, name: str) -> XyloStage:
        return next(s for s in self.stages if s.name == name)

    @property
    def spec(self) -> XyloSpec:
        return self.conversion.spec

    @property
    def model(self) -> XyloModel:
        """The program folder's content (spec, vocabulary, blank ticks) of a token model."""
        if self.vocab is None:
            raise ParameterError("model", "a feature model's program has no vocabulary; save its spec with "
                                          "rnn2snn.targets.xylo.spec.save_spec(result.spec, path)")
        return XyloModel(spec=self.spec, vocab=self.vocab,
                         tail_ticks=self.conversion.settings.dynamics.tail_ticks)


def _check_config(config: PipelineConfig, name: str) -> None:
    default = PipelineConfig()
    for f in fields(PipelineConfig):
        if f.name in CONFIG_READ or f.name in CONFIG_SIZES:
            continue
        if getattr(config, f.name) != getattr(default, f.name):
            raise ParameterError(f"config.{f.name}", f"config.{f.name}: a setting of the TrueNorth-class "
                                                     f"chain; target={name!r} reads only config's "
                                                     f"{', '.join(CONFIG_READ[:2])} (the validation split) "
                                                     f"and trains with settings=XyloSettings(...)")


def _settings(settings: XyloSettings | None, model: ElmanClassifier) -> XyloSettings:
    """The chain's settings with the model's size (a dense layer, every recurrent pair kept) and,
    for tokens, its embedding as the table's vectors."""
    c = model.config
    settings = XyloSettings() if settings is None else settings
    if settings.hidden not in (XyloSettings().hidden, c.hidden_dim):
        raise ParameterError("settings", f"settings.hidden={settings.hidden}: the model has {c.hidden_dim} "
                                         "hidden neurons and the chain starts from its weights; leave "
                                         "hidden out")
    if settings.vectors is not None or settings.vector_source is not None:
        raise ParameterError("settings", "settings.vectors / vector_source: the model's own "
                                         + ("embedding seeds the token table" if c.tokens else
                                            "inputs are feature frames, which have no word vectors"))
    if not c.tokens and settings.teacher_maps > 0:
        raise ParameterError("settings", "settings.teacher_maps: the teacher (Kim's CNN) reads tokens; "
                                         "this model reads feature frames")
    settings = replace(settings, hidden=c.hidden_dim, fanout=max(settings.fanout, c.hidden_dim))
    if c.tokens:
        settings = replace(settings, vectors=model.embedding.weight.detach().double().numpy().copy())
    return settings


def _dropped_by_the_chip(weights: ElmanWeights, settings: XyloSettings, target: str,
                         pooling: str) -> tuple[str, ...]:
    """What of the model the chain's own structure sets aside, beyond what the start could not
    carry: recurrent pairs between members, the IMU's input / output layout, the pooling."""
    lines = []
    hidden = weights.w_hh.shape[0]
    if settings.members > 1:
        block = np.arange(hidden) // (hidden // settings.members)
        between = block[:, None] != block[None, :]
        lost = int(np.count_nonzero(weights.w_hh[between]))
        lines.append(f"W_hh between the {settings.members} members (settings.members: block-diagonal "
                     f"recurrence): {lost} of the model's {int(np.count_nonzero(weights.w_hh))} non-zero "
                     f"recurrent weights start at 0")
    takes_input, drives_output = get_chip(target).layout(hidden)
    if not takes_input.all() or not drives_output.all():
        lines.append(f"the {target} layout: W_ih into hidden neurons {int(takes_input.sum())}–{hidden - 1} "
                     f"and the readout from neurons 0–{int((~drives_output).sum()) - 1} are held at 0 "
                     f"(only the first {int(takes_input.sum())} take input, the last "
                     f"{int(drives_output.sum())} drive outputs)")
    if pooling != "mean":
        lines.append(f"pooling={pooling!r}: the chip's output neurons sum every tick (a mean times the "
                     f"length); the float stage retrains the readout to that")
    return tuple(lines)


def _batches(data, batch_size: int = 256):
    for start in range(0, len(data), batch_size):
        idx = np.arange(start, min(len(data), start + batch_size))
        yield (torch.from_numpy(np.ascontiguousarray(data.inputs[idx])),
               torch.from_numpy(np.asarray(data.lengths[idx])), idx)


def _evaluated(model: torch.nn.Module, run):
    """``run()`` with ``model`` in eval mode without gradients; every module's mode restored after."""
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            return run()
    finally:
        for m, mode in modes.items():
            m.training = mode


def given_accuracy(model: torch.nn.Module, data) -> float:
    """The share of ``data`` the user's model classifies right, by its own ``forward(inputs, lengths)``."""
    def run():
        right = 0
        for x, lengths, idx in _batches(data):
            right += int((model(x, lengths).argmax(1).cpu().numpy() == data.labels[idx]).sum())
        return right / len(data)

    return _evaluated(model, run)


def elman_weights(ours: ElmanClassifier, fit) -> ElmanWeights:
    """The one-layer model ``ours`` (read from the user's) in torch's orientation, with the 99.9th
    percentile of its non-zero activities on ``fit``."""
    c = ours.config
    w = ours.recurrent.detach().double().numpy()
    p, s = c.encoder_dim, c.n_sources
    # without a projection the read model splits each input into relu(v), relu(−v), weights W, −W
    w_ih = w[:, :p] if c.proj_dim else w[:, : p // 2] * float(ours.input_scale)

    def run():
        active = []
        for x, lengths, _ in _batches(fit):
            _, act = ours(x, lengths, return_activity=True)
            valid = (torch.arange(act.shape[1])[None, :] < lengths[:, None]).numpy()
            a = act.numpy()[valid]
            active.append(a[a > 0])
        return np.concatenate(active)

    active = _evaluated(ours, run)

    def arr(t):
        return None if t is None else t.detach().double().numpy().copy()

    return ElmanWeights(w_ih=w_ih, w_hh=w[:, s:], bias=w[:, p] if c.bias else None,
                        w_out=arr(ours.readout.weight), b_out=arr(ours.readout.bias),
                        hidden_p999=float(np.percentile(active, 99.9)) if active.size else 0.0,
                        proj_w=None if ours.proj is None else arr(ours.proj.weight),
                        proj_b=None if ours.proj is None else arr(ours.proj.bias),
                        embedding=None if ours.embedding is None else arr(ours.embedding.weight))


def convert_model_for_xylo(model: torch.nn.Module, train_data, test_data, *, pooling: str, target: str,
                           val_data=None, classes=None, vocab=None,
                           config: PipelineConfig = PipelineConfig(), settings: XyloSettings | None = None,
                           progress: bool = True, log=None) -> XyloModelResult:
    """:func:`rnn2snn.convert_model` for a Xylo ``target`` (its arguments; module docstring).

    Refused before any work: everything :func:`~rnn2snn.model.user_data.check_user_inputs`
    refuses, a stacked model (Xylo has one hidden population), more hidden neurons or classes
    than the chip holds, a dense layer over its fan-out or recurrent memory, ``config``
    settings of the TrueNorth-class chain, ``settings`` that contradict the model.
    """
    from rnn2snn.model.user_data import check_user_inputs

    start_time = time.perf_counter()
    _check_config(config, target)
    user = check_user_inputs(model, train_data, test_data, pooling=pooling, val_data=val_data,
                             classes=classes, vocab=vocab, config=config, limits=None)
    ours, fit, val, test = user.model, user.fit, user.val, user.test
    c = ours.config
    settings = check_settings(_settings(settings, ours))
    check_run_sizes(target, n_inputs=CHAIN_INPUTS, hidden=c.hidden_dim, n_classes=c.n_classes,
                    layers=c.n_layers, members=settings.members, model=True)
    names = tuple(user.classes) if user.classes is not None else tuple(str(i) for i in range(c.n_classes))
    say = stage_logger(progress, log)
    say(f"{target}: {len(fit)} fit, {len(val)} validation, {len(test)} test sequences; "
        f"{c.hidden_dim} hidden neurons (the model's), {c.n_classes} output neurons")
    warnings: list[RunWarning] = []

    def warn(w: RunWarning | None) -> None:
        if w is not None:
            warnings.append(w)
            say(f"warning: {w.message}")

    val_source = ("val_data" if val_data is not None else
                  f"held out of train_data, val_fraction={config.val_fraction:g}")
    warn(validation_warning(val.labels, list(names), val_source, XYLO_CHOICES))
    with fixed_threads():
        t0 = time.perf_counter()
        given = XyloStage("given", given_accuracy(model, val), given_accuracy(model, test),
                          round(time.perf_counter() - t0, 1))
        say(f"{'given':>26}: val {given.val:.4f}  test {given.test:.4f}")
        weights = elman_weights(ours, fit)
        torch.manual_seed(settings.seed)
        if c.tokens:
            start, report = token_start(weights, fit)
            for line in report.carried:
                say(f"  carried: {line}")
            conversion = convert_for_xylo(fit, val, test, c.vocab_size, names, target, settings, log=say,
                                          start=start)
        else:
            fit_f, val_f, test_f = (FeatureSet(d.features, d.lengths, d.labels) for d in (fit, val, test))
            start, report = feature_start(weights, fit_f)
            for line in report.carried:
                say(f"  carried: {line}")
            conversion = convert_features_for_xylo(fit_f, val_f, test_f, c.n_features, names, target,
                                                   settings, log=say, start=start)
    report = replace(report, not_carried=report.not_carried + _dropped_by_the_chip(weights, settings, target,
                                                                                  pooling))
    rows = [(s.name, s.val) for s in (given, *conversion.stages)]
    warn(chain_warning(rows, XYLO_ADVICE))
    tokens = None if user.vocab is None else tuple(getattr(user.vocab, "tokens", user.vocab))
    return XyloModelResult(chip=target, conversion=conversion, given=given, warnings=tuple(warnings),
                           classes=names, vocab=tokens, start=report,
                           wall_seconds=time.perf_counter() - start_time)

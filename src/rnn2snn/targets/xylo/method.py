"""Train-and-constrain for Xylo as one call: float rate model → spec → fine-tune on the chip's tick.

Why one function: the CLI (``reproduce --target xylo-…``), the API (``convert_model``) and
the benchmarks must run the same chain, with every stage measured in the same place.
Validation picks every choice (epoch, activity scale); test is only reported.

Data are duck-typed: any object with ``tokens`` (N, L) int, ``lengths`` (N,) and
``labels`` (N,) arrays (:class:`rnn2snn.data.Encoded` is one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from rnn2snn.checks.params import ParameterError
from rnn2snn.config import member_seed
from rnn2snn.targets.xylo.convert import (
    Scales,
    StateRange,
    XyloDynamics,
    choose_scales,
    recurrent_mask,
    to_spec,
)
from rnn2snn.targets.xylo.limits import CHAIN_INPUTS, check_run_sizes
from rnn2snn.targets.xylo.spec import XyloSpec
from rnn2snn.targets.xylo.train import (
    ChipXylo,
    EpochRow,
    FitConfig,
    RateXylo,
    chip_accuracy,
    finetune_chip,
    rate_accuracy,
    rate_from_spec,
    state_ranges,
    train_rate,
)


@dataclass(frozen=True)
class XyloSettings:
    """Everything the chain chooses or is told: sizes, chip dynamics, training schedules."""

    hidden: int = 64
    #: recurrent targets a hidden neuron may have (a fixed random mask when hidden > fanout)
    fanout: int = 64
    #: 2 ticks a word, each with its own 16 event counts: 32 input numbers a word, and integer
    #: spike counts closer to the rate model's (chosen on validation, seeds 0-2)
    dynamics: XyloDynamics = field(default_factory=lambda: XyloDynamics(ticks_per_step=2))
    #: 99.9th-percentile hidden counts a tick to try as the activity scale (validation picks).
    target_counts: tuple[float, ...] = (4.0, 8.0, 16.0)
    epochs: int = 60
    lr: float = 3e-3
    #: dropout on the float model's input events and Adam's weight decay (float stage only)
    dropout: float = 0.4
    weight_decay: float = 0.0
    patience: int = 10
    ft_epochs: int = 12
    ft_lr: float = 1e-3
    ft_patience: int = 4
    #: distillation weight λ of the float model's class scores in the fine-tune (0: labels only)
    ft_distill: float = 0.0
    ft_temperature: float = 2.0
    seed: int = 0
    #: pretrained word vectors (n_tokens, D) by token id (rnn2snn.model.vectors.load_vectors), or
    #: None: the float stage's table is then learned from scratch
    vectors: np.ndarray | None = field(default=None, compare=False, repr=False)
    tune_vectors: bool = True  # fine-tune the vectors (False: only the map from them is learned)
    #: packaged vectors the caller should load into ``vectors`` (:func:`with_vectors`), keeping the
    #: rare training words they know in the vocabulary; None: no vectors
    vector_source: str | None = None
    #: a float teacher: Kim's CNN with this many maps per filter width, trained on ``fit`` (0: none);
    #: ``distill`` is the weight of its soft targets in the float stage; with a teacher the fine-tune
    #: distils from it too (else from the rate model)
    teacher_maps: int = 0
    distill: float = 0.0
    teacher_epochs: int = 20
    #: CNNs in the teacher (their logits averaged), each with its own seed (:func:`member_seed`)
    teachers: int = 1
    #: the hidden layer as this many independent networks side by side (block-diagonal
    #: recurrence, one shared encoder), each trained on its own loss in the float stage, their
    #: output ``Vmem`` summed by the output neurons: an ensemble on one chip
    members: int = 1
    #: feature chain only: Gaussian noise on the frames in training (in standard deviations of
    #: each feature), and the float stage's weight penalty (features._l2_loss)
    noise: float = 0.0
    l2: float = 0.0


def check_settings(settings: XyloSettings) -> XyloSettings:
    """``settings`` if the chain can run them, else a :class:`ParameterError` naming the field;
    called before any work (an empty ``target_counts`` would otherwise fail after the float stage)."""
    def refuse(name: str, why: str):
        raise ParameterError(f"settings.{name}", f"settings.{name}={getattr(settings, name)!r}: {why}")

    for name in ("hidden", "fanout", "members", "teachers", "epochs", "ft_epochs", "patience", "ft_patience",
                 "teacher_epochs", "teacher_maps"):
        value = getattr(settings, name)
        least = 0 if name in ("epochs", "ft_epochs", "teacher_epochs", "teacher_maps") else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            refuse(name, f"must be a whole number ≥ {least}")
    for name in ("lr", "ft_lr", "ft_temperature"):
        if not getattr(settings, name) > 0:
            refuse(name, "must be > 0")
    for name in ("distill", "ft_distill"):
        if not 0 <= getattr(settings, name) <= 1:
            refuse(name, "is a weight λ of the soft targets: it must lie in 0…1")
    if not 0 <= settings.dropout < 1:
        refuse("dropout", "must lie in 0 ≤ p < 1")
    for name in ("weight_decay", "noise", "l2"):
        if not getattr(settings, name) >= 0:
            refuse(name, "must be ≥ 0")
    if not settings.target_counts or not all(t > 0 for t in settings.target_counts):
        refuse("target_counts", "give at least one activity target, each > 0 (hidden counts a tick, e.g. "
                                "(4.0, 8.0, 16.0)); validation picks among them")
    return settings


def with_vectors(settings: XyloSettings, vocab) -> XyloSettings:
    """``settings`` with ``vectors`` loaded for ``vocab`` (a :class:`rnn2snn.data.Vocabulary`) from
    ``settings.vector_source`` (unchanged without one). Needs the ``[vectors]`` extra."""
    if settings.vector_source is None:
        return settings
    from rnn2snn.model.vectors import PACKAGED, load_vectors

    matrix, _ = load_vectors(settings.vector_source, vocab, PACKAGED.get(settings.vector_source, 50),
                             seed=settings.seed)
    return replace(settings, vectors=matrix)


@dataclass(frozen=True)
class XyloStage:
    """One measured stage: accuracy on validation and (if given) test."""

    name: str
    val: float
    test: float | None
    seconds: float = 0.0
    best_epoch: int | None = None


@dataclass(frozen=True)
class ScaleTrial:
    target_counts: float
    spiking_val: float
    scales: Scales


@dataclass(frozen=True, eq=False)
class XyloConversion:
    """What the chain hands back: the chip's spec, each stage measured, and how it was chosen."""

    spec: XyloSpec
    settings: XyloSettings
    stages: tuple[XyloStage, ...]
    scales: Scales
    target_counts: float
    trials: tuple[ScaleTrial, ...]
    float_ranges: StateRange
    float_history: tuple[EpochRow, ...]
    finetune_history: tuple[EpochRow, ...]
    #: the float teacher's accuracies (None without one); it never goes on the chip
    teacher: XyloStage | None = None

    def stage(self, name: str) -> XyloStage:
        return next(s for s in self.stages if s.name == name)


def convert_for_xylo(fit, val, test, n_tokens: int, classes: tuple[str, ...], chip: str = "xylo-audio2",
                     settings: XyloSettings = XyloSettings(), log=None, start=None) -> XyloConversion:
    """Train a rate model of ``chip``'s neuron on ``fit``, convert it, fine-tune it on the chip's tick.

    Stages: ``float`` (the rate model), ``quantised`` (the spec's integers back in the rate
    model), ``spiking_before_finetune`` (the spec on the chip's tick, on-chip readout),
    ``spiking`` (after the fine-tune). ``test`` may be None (then only validation is measured).
    ``start``: called with the fresh :class:`RateXylo` before it trains, to set its weights (a
    user's model: :mod:`rnn2snn.targets.xylo.start`); None: the random start.
    """
    check_settings(settings)
    check_run_sizes(chip, n_inputs=CHAIN_INPUTS, hidden=settings.hidden, n_classes=len(classes),
                    members=settings.members, fanout=settings.fanout, hidden_param="settings.hidden")
    for name, data in (("fit", fit), ("val", val), ("test", test)):
        if data is not None and len(data.labels) and int(np.asarray(data.tokens).max()) >= n_tokens:
            raise ParameterError("n_tokens", f"n_tokens={n_tokens}: {name} holds token id "
                                             f"{int(np.asarray(data.tokens).max())}; ids must lie in "
                                             f"0…{n_tokens - 1} (n_tokens is the vocabulary's size)")
    say = log or (lambda *a, **k: None)
    dyn = settings.dynamics
    stages: list[XyloStage] = []

    def measure(name, accuracy_of, seconds=0.0, best_epoch=None):
        row = XyloStage(name, accuracy_of(val), None if test is None else accuracy_of(test),
                        round(seconds, 1), best_epoch)
        stages.append(row)
        shown = "" if row.test is None else f"  test {row.test:.4f}"
        say(f"{name:>26}: val {row.val:.4f}{shown}")

    teacher, teacher_row = None, None
    if settings.teacher_maps > 0:
        t0 = time.perf_counter()
        teacher = _train_teacher(fit, val, n_tokens, len(classes), settings)
        teacher_row = XyloStage("teacher", _accuracy_of(teacher, val),
                                None if test is None else _accuracy_of(teacher, test),
                                round(time.perf_counter() - t0, 1))
        shown = "" if teacher_row.test is None else f"  test {teacher_row.test:.4f}"
        say(f"{'teacher (float CNN)':>26}: val {teacher_row.val:.4f}{shown}")

    t0 = time.perf_counter()
    rate = RateXylo(n_tokens, settings.hidden, len(classes), dyn, seed=settings.seed,
                    rec_mask=recurrent_mask(settings.hidden, settings.fanout, chip, settings.seed,
                                            settings.members),
                    dropout=settings.dropout, vectors=settings.vectors, tune_vectors=settings.tune_vectors,
                    members=settings.members, chip=chip)
    mask = rate.rec_mask.numpy() != 0
    if start is not None:
        start(rate)
    fit_float = train_rate(rate, fit, val,
                           FitConfig(epochs=settings.epochs, lr=settings.lr, seed=settings.seed,
                                     patience=settings.patience, weight_decay=settings.weight_decay),
                           log=log, teacher=teacher, distill=settings.distill,
                           temperature=settings.ft_temperature)
    measure("float", lambda d: rate_accuracy(rate, d), time.perf_counter() - t0, fit_float.best_epoch)

    def scored(spec, scales):
        accuracy = chip_accuracy(spec, val, dyn.tail_ticks)
        return accuracy, accuracy, ""

    ranges = state_ranges(rate, fit)
    trials, target, scales, spec = search_scales(
        rate.export(), ranges, settings.target_counts,
        lambda scales: to_spec(rate.export(), scales, chip, tuple(classes)), scored, say)
    quant = rate_from_spec(spec, dyn, scales.out_scale)
    measure("quantised", lambda d: rate_accuracy(quant, d))
    measure("spiking_before_finetune", lambda d: chip_accuracy(spec, d, dyn.tail_ticks))

    t0 = time.perf_counter()
    chip_model = ChipXylo(spec, dyn, scales.out_scale, rec_mask=mask)
    ft_config = FitConfig(epochs=settings.ft_epochs, lr=settings.ft_lr, seed=settings.seed,
                          patience=settings.ft_patience)
    fit_chip = finetune_chip(chip_model, fit, val, ft_config, log=log,
                             teacher=rate if teacher is None else teacher, distill=settings.ft_distill,
                             temperature=settings.ft_temperature)
    spec = chip_model.spec()
    measure("spiking", lambda d: chip_accuracy(spec, d, dyn.tail_ticks), time.perf_counter() - t0,
            fit_chip.best_epoch)
    return XyloConversion(spec=spec, settings=settings, stages=tuple(stages), scales=scales,
                          target_counts=target,
                          trials=trials, float_ranges=ranges, float_history=tuple(fit_float.history),
                          finetune_history=tuple(fit_chip.history), teacher=teacher_row)


def search_scales(net, ranges: StateRange, targets, make_spec, score, say):
    """Each activity target's scales and spec (``make_spec(scales)``), scored on validation; the best kept.

    ``score(spec, scales)`` → (key to maximise, spiking accuracy, a note for the log). Both
    chains (tokens, features) choose the activity scale here; the first of equal keys wins.
    Returns (the trials, and the chosen target, scales and spec).
    """
    trials, best = [], None
    for target in targets:
        scales = choose_scales(net, ranges, target)
        spec = make_spec(scales)
        key, accuracy, note = score(spec, scales)
        trials.append(ScaleTrial(target, accuracy, scales))
        say(f"  target {target}: {scales}  spiking val {accuracy:.4f}{note}")
        if best is None or key > best[0]:
            best = (key, target, scales, spec)
    return (tuple(trials), *best[1:])


def _train_teacher(fit, val, n_tokens: int, n_classes: int, settings: XyloSettings):
    """Kim's CNN trained on ``fit`` (early-stopped on ``val``), as ``teacher(tokens, lengths)`` → logits."""
    import torch

    from rnn2snn.config import TrainConfig
    from rnn2snn.data.text import Encoded
    from rnn2snn.model.teacher import KimCNN, TeacherConfig
    from rnn2snn.model.train import train

    def encoded(d):
        return Encoded(np.asarray(d.tokens, np.int64), np.asarray(d.lengths, np.int64),
                       np.asarray(d.labels, np.int64))

    dim = 128 if settings.vectors is None else settings.vectors.shape[1]
    cnns = []
    for k in range(settings.teachers):
        seed = member_seed(settings.seed, k)
        torch.manual_seed(seed)
        cnn = KimCNN(TeacherConfig(vocab_size=n_tokens, n_classes=n_classes, embed_dim=dim,
                                   maps=settings.teacher_maps))
        if settings.vectors is not None:
            with torch.no_grad():
                cnn.embedding.weight.copy_(torch.as_tensor(np.asarray(settings.vectors, np.float32)))
        train(cnn, encoded(fit), encoded(val), TrainConfig(epochs=settings.teacher_epochs, lr=1e-3,
                                                           patience=4, seed=seed), "teacher", progress=False)
        cnns.append(cnn.eval())

    def teacher(tokens, lengths):
        tokens_t = torch.as_tensor(np.asarray(tokens, np.int64))
        lengths_t = torch.as_tensor(np.asarray(lengths, np.int64))
        with torch.no_grad():
            return torch.stack([cnn(tokens_t, lengths_t).double() for cnn in cnns]).mean(0)

    return teacher


def _accuracy_of(teacher, data, batch_size: int = 256) -> float:
    right = 0
    for start in range(0, len(data.labels), batch_size):
        idx = np.arange(start, min(len(data.labels), start + batch_size))
        width = int(np.asarray(data.lengths)[idx].max())
        logits = teacher(np.asarray(data.tokens)[idx, :width], np.asarray(data.lengths)[idx])
        right += int((logits.argmax(1).numpy() == np.asarray(data.labels)[idx]).sum())
    return right / len(data.labels)


#: The named configurations: ``xylo-audio2`` is what ``reproduce --target xylo-audio2`` runs;
#: ``xylo-best`` adds GloVe 6B 50-d vectors (the ``[vectors]`` extra; :func:`with_vectors`; rare
#: training words the vectors know are kept in the vocabulary) and distillation (λ 0.9, float
#: stage and fine-tune) from Kim's CNN (100 maps a width) trained in the same run; λ chosen over
#: 0.5 on mean validation accuracy of seeds 0-1 (benchmarks/xylo_trec.py).
XYLO_PRESETS: dict[str, XyloSettings] = {
    "xylo-audio2": XyloSettings(),
    "xylo-best": XyloSettings(vector_source="glove-6b-50d", dropout=0.25, teacher_maps=100, distill=0.9,
                              ft_distill=0.9),
}

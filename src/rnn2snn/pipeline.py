"""Train-and-constrain end to end.

``run_pipeline(train, test, config)`` builds the paper's network for labelled text and
runs :func:`constrain_and_convert`: train → fan-in → weights → activities (each
constraint followed by retraining) → the converted :class:`~rnn2snn.program.SpikingProgram`
→ spiking fine-tune → spiking evaluation, resource count and power. The same function
serves a user's own model (:func:`convert_model`), whose table starts with the model as
given. Each row is measured right after its own step, so every change of accuracy is
attributed to the step that caused it; no retraining returns a model worse on
validation than it started from, and a loss over 2 points is remedied where the tool
can and reported (:mod:`rnn2snn.guard`). Every choice is made on a validation split;
the test data is only evaluated. Once the program is built, everything reads the
program only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from rnn2snn.checks import cores_message
from rnn2snn.config import PipelineConfig
from rnn2snn.constrain.build import build_program
from rnn2snn.constrain.steps import (
    limit_fan_in,
    quantize_model_activities,
    quantize_model_weights,
)
from rnn2snn.data.sequences import Sequences
from rnn2snn.data.text import Examples, Vocabulary, encode, stratified_split
from rnn2snn.finetune.evaluate import choose_input_schedule
from rnn2snn.finetune.spiking import finetune_spiking
from rnn2snn.guard import (
    Remedy,
    RunWarning,
    constraint_warning,
    conversion_warning,
    diagnose,
    needs_remedy,
    overall_warning,
    spiking_remedies,
    stage_label,
    validation_warning,
)
from rnn2snn.model.elman import ElmanClassifier, ElmanConfig
from rnn2snn.model.train import predict, train
from rnn2snn.program import SpikingProgram, run_integer, simulate_program
from rnn2snn.program.diagnostics import ablation, compare_counts
from rnn2snn.program.network import SpikeRecord, SpikingRNN
from rnn2snn.targets import constraints_of
from rnn2snn.targets.truenorth.power import core_share_power_uw
from rnn2snn.targets.truenorth.resources import Resources, count_resources
from rnn2snn.targets.truenorth.target import activity_estimate
from rnn2snn.threads import fixed_threads

#: The rows of a run's stage table, in order (``given`` only for a user's model, and
#: ``spiking_before_finetune`` not for an ensemble, whose members each have theirs).
STAGES = ("given", "float", "fan_in", "weights", "activities", "spiking_before_finetune", "spiking")
#: The stages measured on the torch model (float side), one per step of training.
MODEL_STAGES = ("float", "fan_in", "weights", "activities")


@dataclass
class StageResult:
    """One row of the stage table, measured right after its step.

    kept_start : for a retraining stage, whether no epoch beat the weights it started
    from (so they were kept); ``None`` for a row without retraining.
    """

    name: str
    val_accuracy: float
    test_accuracy: float
    seconds: float
    kept_start: bool | None = None


@dataclass
class PipelineResult:
    """Everything a run produced; ``to_json`` gives the ``results.json`` content.

    ``program`` is the converted network (what every backend reads); ``model`` the
    constrained torch model it was read from (a training artefact); ``warnings`` the
    loss guard's (:class:`rnn2snn.guard.RunWarning`): each loss over 2 validation points
    with the remedies tried, and a validation split too small to choose on.
    """

    config: PipelineConfig
    stages: list[StageResult]
    program: SpikingProgram
    model: ElmanClassifier
    classes: list[str]
    resources: Resources
    power_uw: float
    conversion: dict
    ablation: list[dict]
    test: Sequences
    test_record: SpikeRecord
    wall_seconds: float = 0.0
    extra: dict = field(default_factory=dict)
    warnings: list[RunWarning] = field(default_factory=list)

    @property
    def snn(self) -> SpikingRNN:
        return self.program.spiking_network()

    @property
    def integer(self):
        """The program's integer network (all layers flattened)."""
        return self.program.network()

    @property
    def vocab(self) -> Vocabulary | None:
        v = self.program.vocab
        return None if v is None else Vocabulary(list(v))

    def stage(self, name: str) -> StageResult:
        return next(s for s in self.stages if s.name == name)

    def to_json(self) -> dict:
        cfg = self.program.timing
        thresholds = [_compact_threshold(layer.threshold, self.program)
                      for layer in self.program.layers]
        net = self.program.network()
        max_fan_in = self.extra.get("max_fan_in")
        if max_fan_in is None:
            max_fan_in = int(self.model.allowed().sum(1).max())
        more = {k: self.extra[k] for k in ("teacher", "ensemble", "vectors") if k in self.extra}
        return {
            "stages": [{"name": s.name, "test_accuracy": s.test_accuracy,
                        "val_accuracy": s.val_accuracy, "seconds": round(s.seconds, 2),
                        "kept_start": s.kept_start}
                       for s in self.stages],
            "warnings": [w.to_dict() for w in self.warnings],
            "hardware": {
                "cores": self.resources.cores,
                "axons": self.resources.axons,
                "neurons": self.resources.neurons,
                "ticks_per_word": cfg.ticks_per_word,
                "delay": cfg.delay,
                "power_uw": self.power_uw,
                "threshold": thresholds[0] if len(thresholds) == 1 else thresholds,
                **{k: v for k, v in self.extra.get("hardware", {}).items()},
            },
            "conversion": {
                **self.conversion,
                "ablation": self.ablation,
            },
            "constraints": {
                "threshold": thresholds[0] if len(thresholds) == 1 else thresholds,
                "weight_range": [int(net.weights.min()), int(net.weights.max())],
                "max_fan_in": int(max_fan_in),
                "pruned_connections": self.extra.get("pruned_connections", 0),
                "layers": len(self.program.layers),
                "core_groups": None if net.groups is None else len(net.groups),
                "recurrent_bias": ("a bias input per layer (an input axon held at the top level)"
                                   if self.program.bias_layers else
                                   "none (the on-chip layers have no bias; leak = 0)"),
            },
            **more,
            "seed": self.config.seed,
            "wall_seconds": self.wall_seconds,
            "config": self.config.to_dict(),
            "classes": self.classes,
        }


def _compact_threshold(alpha: np.ndarray, program: SpikingProgram):
    """α of a layer: one int, or one per ensemble member (each uniform), or one per neuron."""
    if (alpha == alpha[0]).all():
        return int(alpha[0])
    if "ensemble" in program.provenance and len(program.layers) == 1:
        from rnn2snn.program.ensemble import member_slices

        per = [alpha[rows] for rows, _ in member_slices(program)]
        if all((a == a[0]).all() for a in per):
            return [int(a[0]) for a in per]
    return alpha.tolist()


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


def conversion_summary(program: SpikingProgram, val: Sequences, test: Sequences) -> dict:
    """Integer vs spiking accuracy (validation and test) and the count mismatch on test."""
    out = {}
    snn = program.spiking_network()
    for name, data in (("val", val), ("test", test)):
        integer = run_integer(program, data.inputs, data.lengths)
        spiking = simulate_program(program, data.inputs, data.lengths, snn=snn)
        out[f"{name}_integer_accuracy"] = float((integer.predictions == data.labels).mean())
        out[f"{name}_spiking_accuracy"] = float((spiking.predictions == data.labels).mean())
        out[f"{name}_prediction_differs_share"] = float((integer.predictions != spiking.predictions).mean())
        if name == "test":
            stats = compare_counts(spiking.counts, integer.counts, program.run_lengths(data.lengths))
            out.update({k: stats[k] for k in ("exact_share", "mean_abs_diff", "per_neuron_exact_share",
                                              "per_question_mean_abs_diff")})
    out["loss_points"] = 100 * (out["test_integer_accuracy"] - out["test_spiking_accuracy"])
    return out


def _logger(progress: bool, log):
    """Where stage lines go: ``log`` if given, else ``print`` with ``progress`` and nowhere
    without (``progress=False`` prints nothing; the warnings stay on the result)."""
    if log is not None:
        return log
    return print if progress else (lambda *_: None)


def run_pipeline(train_ex: Examples, test_ex: Examples,
                 config: PipelineConfig = PipelineConfig(), progress: bool = True,
                 log=None) -> PipelineResult:
    """Build the paper's network for labelled text and run :func:`constrain_and_convert`.

    Runs with one PyTorch thread (:mod:`rnn2snn.threads`): the figures do not depend on
    the machine's thread count. ``log``: where stage lines go (default: printed when
    ``progress``, nothing otherwise).
    """
    _check(config)
    log = _logger(progress, log)
    # the layout's cores, before any training (rnn2snn.checks)
    log(cores_message(config, limits=constraints_of(config)))
    with fixed_threads():
        return _run_pipeline(train_ex, test_ex, config, progress, log)


def _run_pipeline(train_ex, test_ex, config, progress, log) -> PipelineResult:
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    vocab, classes, fit, val, test = prepare_data(train_ex, test_ex, config)
    matrix = None
    extra: dict = {}
    if config.vectors:
        from rnn2snn.model.vectors import load_vectors

        matrix, found = load_vectors(config.vectors, vocab, config.embed_dim, config.seed)
        log(f"word vectors: {found}/{len(vocab) - 2} words found in {config.vectors}")
        extra["vectors"] = {"source": config.vectors, "vocabulary": len(vocab) - 2, "found": found,
                            "unknown_words": "random normal (the vectors' std), fine-tuned"}
    distill = None
    if config.distill > 0:
        distill, extra["teacher"] = train_teacher(fit, val, test, config, len(vocab), len(classes),
                                                  matrix, progress, log)

    def member(k: int, member_config: PipelineConfig) -> PipelineResult:
        # Member 0 is exactly the single network; member k > 0 differs in init seed and
        # data order only (the split and vocabulary come from the run's seed).
        torch.manual_seed(member_config.seed)
        model = ElmanClassifier(ElmanConfig.for_run(config, vocab_size=len(vocab), n_classes=len(classes)))
        if matrix is not None:
            with torch.no_grad():
                model.embedding.weight.copy_(torch.from_numpy(matrix))
        if config.ensemble > 1:
            log(f"ensemble member {k + 1}/{config.ensemble} (seed {member_config.seed})")
        return constrain_and_convert(model, fit, val, test, member_config, classes, vocab, progress,
                                     log, distill=distill, evaluate=config.ensemble == 1,
                                     fixed_timing=k > 0,
                                     val_source=f"held out of the training data, val_fraction="
                                                f"{config.val_fraction:g}")

    first = member(0, config)
    if config.ensemble == 1:
        result = first
    else:
        members = [first]
        # all members share member 0's timing (its schedule was chosen on validation)
        shared = replace(config, choose_schedule=False, spiking=first.config.spiking)
        for k in range(1, config.ensemble):
            members.append(member(k, replace(shared, seed=member_seed(config.seed, k))))
        result = ensemble_result(members, fit, val, test, config, log)
    result.extra.update(extra)
    result.wall_seconds = time.perf_counter() - start
    return result


def member_seed(seed: int, k: int) -> int:
    """Init and data-order seed of ensemble member ``k`` (member 0 is the run's own seed)."""
    return (seed + 1000 * k) % 2 ** 32


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


def _mean_accuracy(members: list[PipelineResult], split: int, labels: np.ndarray) -> float:
    logits = np.mean([m.extra["spiking_logits"][split] for m in members], axis=0)
    return float((logits.argmax(1) == labels).mean())


def _vote_accuracy(members: list[PipelineResult], split: int, labels: np.ndarray) -> float:
    """Majority vote of the members' spiking predictions (ties: the mean of their scores) —
    the other usual combination, measured beside the mean to choose between them."""
    logits = np.stack([m.extra["spiking_logits"][split] for m in members])  # (K, N, C)
    votes = np.zeros(logits.shape[1:])
    np.add.at(votes, (np.arange(logits.shape[1])[None, :], logits.argmax(2)), 1.0)
    tie_break = logits.mean(0) - logits.mean(0).min(1, keepdims=True)
    tie_break /= tie_break.max(1, keepdims=True) + 1.0  # in [0, 1): only ties move
    return float(((votes + tie_break).argmax(1) == labels).mean())


def ensemble_result(members: list[PipelineResult], fit: Sequences, val: Sequences, test: Sequences,
                    config: PipelineConfig, log) -> PipelineResult:
    """Stack the converted members into one program (:func:`rnn2snn.program.ensemble.combine`) and
    evaluate it like a single run; the float-side stages are the mean of the members' logits."""
    from rnn2snn.program.ensemble import combine

    stages = []
    for name in MODEL_STAGES:
        val_logits = np.mean([m.extra["stage_logits"][name][0] for m in members], axis=0)
        test_logits = np.mean([m.extra["stage_logits"][name][1] for m in members], axis=0)
        stages.append(StageResult(name, float((val_logits.argmax(1) == val.labels).mean()),
                                  float((test_logits.argmax(1) == test.labels).mean()),
                                  sum(m.stage(name).seconds for m in members)))
        e = stages[-1]
        log(f"{'ensemble':>10} {stage_label(name)}: val {e.val_accuracy:.3f}  test {e.test_accuracy:.3f}")
    first = members[0]
    provenance = {"config": first.config.to_dict(), "seed": config.seed,
                  "stages": {s.name: {"val": s.val_accuracy, "test": s.test_accuracy} for s in stages},
                  "members": [{"seed": m.config.seed, "stages": {s.name: {"val": s.val_accuracy,
                                                                         "test": s.test_accuracy}
                                                                for s in m.stages}} for m in members]}
    program = combine([m.program for m in members], provenance=provenance)
    result = evaluate_program(program, first.model, stages, val, test,
                              replace(first.config, seed=config.seed), first.classes, None,
                              first.conversion["input_schedule_val_agreement"],
                              sum(m.extra["pruned_connections"] for m in members), log)
    result.extra["max_fan_in"] = max(int(m.model.allowed().sum(1).max()) for m in members)
    # each member's warnings (the validation split is shared: its warning once), and the
    # combination's own first → spiking drop
    for k, m in enumerate(members):
        for w in m.warnings:
            if w.kind == "small_validation":
                if k == 0:
                    result.warnings.append(w)
            else:
                result.warnings.append(replace(w, message=f"ensemble member {k + 1}: {w.message}"))
    if needs_remedy(stages[0].val_accuracy, result.stage("spiking").val_accuracy):
        result.warnings.append(overall_warning(result.stages))
        log(f"warning: {result.warnings[-1].message}")
    ks = range(1, len(members) + 1)
    result.extra["ensemble"] = {
        "members": len(members), "rule": "mean of the members' logits (one readout [W_1 … W_K]/K)",
        "member_seeds": [m.config.seed for m in members],
        "member_spiking_test": [m.stage("spiking").test_accuracy for m in members],
        "member_spiking_val": [m.stage("spiking").val_accuracy for m in members],
        "member_cores": [m.resources.cores for m in members],
        # the first k members' combination (mean of their spiking class scores, what the
        # program of those k members computes), k = 1 … K: K is chosen on validation
        "first_k_spiking_val": [_mean_accuracy(members[:k], 0, val.labels) for k in ks],
        "first_k_spiking_test": [_mean_accuracy(members[:k], 1, test.labels) for k in ks],
        # the combination rule: the mean (one exact affine readout) against a majority vote
        "rule_spiking_val": {"mean": _mean_accuracy(members, 0, val.labels),
                             "vote": _vote_accuracy(members, 0, val.labels)},
        "rule_spiking_test": {"mean": _mean_accuracy(members, 1, test.labels),
                              "vote": _vote_accuracy(members, 1, test.labels)},
    }
    return result


def _check(config: PipelineConfig) -> None:
    from rnn2snn.checks import check_pipeline_config

    check_pipeline_config(config, limits=constraints_of(config))


def constrain_and_convert(model: ElmanClassifier, fit: Sequences, val: Sequences, test: Sequences,
                          config: PipelineConfig = PipelineConfig(), classes=None, vocab=None,
                          progress: bool = True, log=None, distill=None,
                          evaluate: bool = True, given: bool = False, fixed_timing: bool = False,
                          val_source: str = "given") -> PipelineResult:
    """Train ``model`` and constrain it (retraining after each step), convert it, and measure.

    ``model`` may come pre-trained (``given``: a user's model, measured first as the
    ``given`` row; its float stage then fine-tunes it and never returns it worse on
    validation); the sizes of ``config`` are ignored here (the model has them), its
    training, constraint and spiking settings are used. ``distill``: a teacher's soft
    targets on ``fit`` (:class:`rnn2snn.model.train.Distillation`) used by every
    train-and-constrain stage. ``evaluate=False`` (an ensemble member) stops after the
    spiking stage: no ablation, core simulation or power (the combined program gets
    those). ``fixed_timing``: the loss guard may not change the spiking timing (an
    ensemble member after the first shares the first's). ``val_source`` says where the
    validation split came from (in the warning when it is small).
    """
    log = _logger(progress, log)
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    classes = list(classes) if classes is not None else [str(i) for i in range(model.config.n_classes)]
    stages: list[StageResult] = []
    stage_logits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    warnings: list[RunWarning] = []

    def warn(w: RunWarning) -> None:
        warnings.append(w)
        log(f"warning: {w.message}")

    small = validation_warning(val.labels, classes, val_source)
    if small is not None:
        warn(small)

    def measure(name: str, t0: float, kept_start: bool | None = None) -> StageResult:
        v, t = predict(model, val), predict(model, test)
        stage_logits[name] = (v, t)
        stages.append(StageResult(name, float((v.argmax(1) == val.labels).mean()),
                                  float((t.argmax(1) == test.labels).mean()),
                                  time.perf_counter() - t0, kept_start))
        s = stages[-1]
        log(f"{stage_label(name):>10}: val {s.val_accuracy:.3f}  test {s.test_accuracy:.3f}  "
            f"({s.seconds:.1f} s)" + ("  (kept its starting weights)" if kept_start else ""))
        return s

    def retrain(name: str, t0: float, train_config) -> None:
        """Retrain after a constraint step; a loss over DROP_POINTS gets more retraining first."""
        result = train(model, fit, val, train_config, name.replace("_", "-"), progress, distill,
                       start_is_candidate=False)
        before, after = stages[-1], measure(name, t0, result.kept_start)
        if not needs_remedy(before.val_accuracy, after.val_accuracy):
            return
        more = replace(train_config, epochs=2 * train_config.epochs, seed=train_config.seed + 1)
        again = train(model, fit, val, more, f"{name} (remedy)", progress, distill)
        remedy = Remedy(f"retraining {more.epochs} more epochs", again.best_val_accuracy,
                        kept=not again.kept_start)
        stages.pop()
        after = measure(name, t0, result.kept_start and again.kept_start)
        warn(constraint_warning(name, before.name, before.val_accuracy, after.val_accuracy,
                                result.start_val_accuracy, (remedy,)))

    limits = constraints_of(config)
    config = replace(config, spiking=limits.timing(config.spiking))  # the target's neuron
    ft = replace(config.finetune, seed=config.seed)
    if given:
        measure("given", time.perf_counter())
    t0 = time.perf_counter()
    trained = train(model, fit, val, replace(config.train, seed=config.seed), "float", progress, distill)
    measure("float", t0, trained.kept_start)
    t0 = time.perf_counter()
    pruned = limit_fan_in(model, config.max_fan_in, config.cores, limits)
    retrain("fan_in", t0, ft)
    t0 = time.perf_counter()
    half = config.weight_levels // 2
    quantize_model_weights(model, -half, half - 1)
    retrain("weights", t0, ft)
    t0 = time.perf_counter()
    quantize_model_activities(model, fit, config.activity_levels,
                              carry_residual=config.carry_residual)
    retrain("activities", t0, ft)
    activities = stages[-1]
    model.eval()
    t0 = time.perf_counter()
    schedule_agreement = None
    if config.choose_schedule:
        chosen, schedule_agreement = choose_input_schedule(model, val, config.spiking)
        config = replace(config, spiking=chosen)
        log(f"{'schedule':>10}: {chosen.input_schedule} (validation agreement "
            + ", ".join(f"{k} {v:.3f}" for k, v in schedule_agreement.items()) + ")")
    # the converted network before the spiking fine-tune: the conversion's own row
    before = conversion_summary(build_program(model, config.spiking, classes, vocab), val, test)
    stages.append(StageResult("spiking_before_finetune", before["val_spiking_accuracy"],
                              before["test_spiking_accuracy"], time.perf_counter() - t0))
    pre = stages[-1]
    log(f"{stage_label(pre.name)}: val {pre.val_accuracy:.3f}  test {pre.test_accuracy:.3f}  "
        f"({pre.seconds:.1f} s)")
    spiking_val, finetuned = pre.val_accuracy, None
    if config.spiking_finetune.epochs > 0:
        finetuned = finetune_spiking(model, fit, val, config.spiking,
                                     replace(config.spiking_finetune, seed=config.seed), progress)
        spiking_val = finetuned.best_val_accuracy
    remedies: tuple[Remedy, ...] = ()
    if needs_remedy(activities.val_accuracy, spiking_val) or needs_remedy(stages[0].val_accuracy,
                                                                           spiking_val):
        spiking_config, remedies = spiking_remedies(model, fit, val, config, spiking_val, fixed_timing,
                                                    progress)
        config = replace(config, spiking=spiking_config)
        log(f"{'remedies':>10}: " + "; ".join(f"{r.name} → val {r.val_accuracy:.3f}"
                                               + (" (kept)" if r.kept else "") for r in remedies))

    # From here on, only the program is read.
    provenance = {"config": config.to_dict(), "seed": config.seed,
                  "stages": {s.name: {"val": s.val_accuracy, "test": s.test_accuracy} for s in stages}}
    program = build_program(model, config.spiking, classes, vocab, provenance)
    result = evaluate_program(program, model, stages, val, test, config, classes, before,
                              schedule_agreement, pruned, log, full=evaluate)
    spiking = result.stage("spiking")
    kept = finetuned is not None and finetuned.kept_start and not any(r.kept for r in remedies)
    spiking.kept_start = None if finetuned is None else kept
    result.conversion["spiking_finetune"] = {
        "epochs_run": 0 if finetuned is None else len(finetuned.history) - 1,
        "best_epoch": None if finetuned is None else finetuned.best_epoch,
        "kept_start": spiking.kept_start}
    if remedies or needs_remedy(activities.val_accuracy, pre.val_accuracy) \
            or needs_remedy(activities.val_accuracy, spiking.val_accuracy):
        warn(conversion_warning(activities.val_accuracy, pre.val_accuracy, spiking.val_accuracy,
                                remedies, diagnose(program, val)))
    elif needs_remedy(result.stages[0].val_accuracy, spiking.val_accuracy) \
            and not any(w.kind == "accuracy_drop" for w in warnings):
        warn(overall_warning(result.stages))
    result.warnings = warnings
    result.extra["stage_logits"] = stage_logits
    result.wall_seconds = time.perf_counter() - start
    return result


def evaluate_program(program: SpikingProgram, model, stages: list[StageResult], val: Sequences,
                     test: Sequences, config: PipelineConfig, classes, before: dict,
                     schedule_agreement, pruned: int, log=print, full: bool = True) -> PipelineResult:
    """The spiking stage of ``program`` and (``full``) conversion, ablation, resources and power.

    ``stages`` are the rows measured before (given … spiking before fine-tune); the
    spiking one is added. The conversion loss is the program's own: its integer network
    against its spiking run (test).
    """
    start = time.perf_counter()
    stages = list(stages)
    provenance = dict(program.provenance)
    t0 = time.perf_counter()
    snn = program.spiking_network()
    val_run = simulate_program(program, val.inputs, val.lengths, snn=snn)
    test_run = simulate_program(program, test.inputs, test.lengths, snn=snn)
    # the report plots one question's raster: keep the rasters of the first few questions only
    first = slice(0, 8)
    test_record = simulate_program(program, test.inputs[first], test.lengths[first], record=True,
                                   snn=snn).record
    stages.append(StageResult("spiking", float((val_run.predictions == val.labels).mean()),
                              float((test_run.predictions == test.labels).mean()),
                              time.perf_counter() - t0))
    s = stages[-1]
    log(f"{'spiking':>10}: val {s.val_accuracy:.3f}  test {s.test_accuracy:.3f}  ({s.seconds:.1f} s)")
    program = replace(program, provenance={
        **provenance, "stages": {s.name: {"val": s.val_accuracy, "test": s.test_accuracy} for s in stages}})
    resources = count_resources(snn.bits, snn.n_inputs, snn.groups)
    if not full:  # an ensemble member: keep its spiking class scores for the combination
        return PipelineResult(
            config=config, stages=stages, program=program, model=model, classes=classes,
            resources=resources, power_uw=core_share_power_uw(resources.cores),
            conversion={"input_schedule": config.spiking.input_schedule,
                        "input_schedule_val_agreement": schedule_agreement,
                        "before_spiking_finetune": before},
            ablation=[], test=test, test_record=test_record,
            extra={"pruned_connections": pruned, "spiking_logits": (val_run.logits, test_run.logits)})

    run_len = program.run_lengths(test.lengths)
    integer = run_integer(program, test.inputs, test.lengths)
    conversion = compare_counts(test_run.counts, integer.counts, run_len)
    conversion["prediction_differs_share"] = float((integer.predictions != test_run.predictions).mean())
    conversion["test_integer_accuracy"] = float((integer.predictions == test.labels).mean())
    conversion["loss_points"] = 100 * (conversion["test_integer_accuracy"] - stages[-1].test_accuracy)
    conversion["before_spiking_finetune"] = before
    conversion["input_schedule"] = config.spiking.input_schedule
    conversion["input_schedule_val_agreement"] = schedule_agreement
    if program.layers[0].carry_residual:  # what modelling the carried membrane gains, measured
        cleared_run = run_integer(program, test.inputs, test.lengths, carry_residual=False)
        cleared = compare_counts(test_run.counts, cleared_run.counts, run_len)
        conversion["integer_net_cleared_each_word"] = {
            "test_accuracy": float((cleared_run.predictions == test.labels).mean()),
            "prediction_differs_share": float((cleared_run.predictions != test_run.predictions).mean()),
            **{k: cleared[k] for k in ("exact_share", "mean_abs_diff", "per_neuron_exact_share",
                                       "per_question_mean_abs_diff")},
        }
        del cleared_run  # not read again: its arrays are freed before the ablation and core runs

    def classify(counts):
        return program.logits(counts, test.lengths).argmax(1)

    net = program.network()
    rows = ablation(net, test_run.sources, run_len, integer.counts, classify, test.labels, program.timing)
    hardware = activity_estimate(snn, test_run.sources, run_len)
    result = PipelineResult(
        config=config, stages=stages, program=program, model=model, classes=classes,
        resources=resources, power_uw=core_share_power_uw(resources.cores),
        conversion=conversion, ablation=rows, test=test, test_record=test_record,
        extra={"pruned_connections": pruned, "hardware": hardware})
    result.wall_seconds = time.perf_counter() - start
    return result


def convert_model(model: torch.nn.Module, train_data, test_data, *, pooling: str,
                  val_data=None, classes=None, vocab=None,
                  config: PipelineConfig = PipelineConfig(), progress: bool = True,
                  log=None, target: str | None = None) -> PipelineResult:
    """Train-and-constrain a user's own ``torch.nn`` recurrent classifier and convert it.

    model : a plain torch model of the supported family (see
        :mod:`rnn2snn.model.from_torch`); it is read, not changed. Anything else is refused
        with an error naming the module.
    train_data, test_data, val_data : ``(inputs, lengths, labels)`` arrays or tensors —
        token ids (N, L) or features (N, L, F), zero-padded — or a DataLoader of such
        batches. Without ``val_data`` a stratified ``config.val_fraction`` of the training
        data is held out for every choice (early stopping, schedule, fine-tuning).
    pooling : how the words' activities become one feature (last / mean / max).
    classes : class names (default "0", "1", …); vocab : the tokens of a token model
        (id 0 padding, id 1 unknown), needed to save a program that reads text.
    config : training, constraint and spiking settings (its sizes are the model's).
    target : the target to convert for (:data:`rnn2snn.targets.TARGETS`; default
        ``config.target``): its constraints bound the stages, its neuron sets the timing.

    progress, log : progress bars and stage lines (``log``, default ``print``) when
        ``progress``; ``progress=False`` prints nothing.

    Returns the :class:`PipelineResult`: its stages start with ``given`` (the model as
    read, before any training); ``result.warnings`` holds every loss over 2 validation
    points with the remedies tried (:mod:`rnn2snn.guard`); ``result.program`` is the
    converted program (save it with :func:`rnn2snn.program.save_program`).
    """
    from rnn2snn.model.user_data import check_user_inputs

    start = time.perf_counter()
    # refuse an unsupported model or bad data before any work (rnn2snn.model.user_data)
    if target is not None:
        config = replace(config, target=target)
    limits = constraints_of(config)
    user = check_user_inputs(model, train_data, test_data, pooling=pooling, val_data=val_data,
                             classes=classes, vocab=vocab, config=config, limits=limits)
    ours, fit, val, test_seq, config = user.model, user.fit, user.val, user.test, user.config
    classes, vocab = user.classes, user.vocab
    _logger(progress, log)(cores_message(config, ours.config, limits))  # before any training
    with fixed_threads():
        result = constrain_and_convert(
            ours, fit, val, test_seq, config, classes, vocab, progress, log, given=True,
            val_source=("val_data" if val_data is not None else
                        f"held out of train_data, val_fraction={config.val_fraction:g}"))
    result.wall_seconds = time.perf_counter() - start
    return result

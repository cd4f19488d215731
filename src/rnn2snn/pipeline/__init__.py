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
from dataclasses import replace
from typing import TYPE_CHECKING

import torch

from rnn2snn.checks import cores_message
from rnn2snn.config import PipelineConfig, member_seed
from rnn2snn.data.text import Examples
from rnn2snn.model.elman import ElmanClassifier, ElmanConfig
from rnn2snn.pipeline.data import prepare_data, train_teacher
from rnn2snn.pipeline.ensemble import ensemble_result
from rnn2snn.pipeline.measure import conversion_summary, evaluate_program
from rnn2snn.pipeline.method import CONSTRAINT_STEPS, ConstraintStep, constrain_and_convert, stage_logger
from rnn2snn.pipeline.result import MODEL_STAGES, STAGES, PipelineResult, StageResult
from rnn2snn.targets import TARGETS, constraints_of, runs_pipeline
from rnn2snn.threads import fixed_threads

if TYPE_CHECKING:
    from rnn2snn.pipeline.xylo_model import XyloModelResult
    from rnn2snn.targets.xylo.method import XyloSettings

__all__ = ["CONSTRAINT_STEPS", "MODEL_STAGES", "STAGES", "ConstraintStep", "PipelineConfig", "PipelineResult",
           "StageResult", "constrain_and_convert", "conversion_summary", "convert_model", "evaluate_program",
           "prepare_data", "run_pipeline"]


def run_pipeline(train_ex: Examples, test_ex: Examples,
                 config: PipelineConfig = PipelineConfig(), progress: bool = True,
                 log=None, target: str | None = None) -> PipelineResult:
    """Build the paper's network for labelled text and run :func:`constrain_and_convert`.

    Runs with one PyTorch thread (:mod:`rnn2snn.threads`): the figures do not depend on
    the machine's thread count. ``log``: where stage lines go (default: printed when
    ``progress``, nothing otherwise). ``target``: the target to convert for
    (:data:`rnn2snn.targets.TARGETS`; default ``config.target``).
    """
    if target is not None:
        config = replace(config, target=target)
    _check(config)
    log = stage_logger(progress, log)
    # the layout's cores, before any training (rnn2snn.checks)
    log(cores_message(config, limits=constraints_of(config)))
    with fixed_threads():
        return _run_pipeline(train_ex, test_ex, config, progress, log)


def _run_pipeline(train_ex, test_ex, config, progress, log) -> PipelineResult:
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    vocab, classes, fit, val, test = prepare_data(train_ex, test_ex, config)
    matrix = None
    vectors = teacher = None
    if config.vectors:
        from rnn2snn.model.vectors import load_vectors

        matrix, found = load_vectors(config.vectors, vocab, config.embed_dim, config.seed)
        log(f"word vectors: {found}/{len(vocab) - 2} words found in {config.vectors}")
        vectors = {"source": config.vectors, "vocabulary": len(vocab) - 2, "found": found,
                            "unknown_words": "random normal (the vectors' std), fine-tuned"}
    distill = None
    if config.distill > 0:
        distill, teacher = train_teacher(fit, val, test, config, len(vocab), len(classes),
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
    result.vectors, result.teacher = vectors, teacher
    result.wall_seconds = time.perf_counter() - start
    return result


def _check(config: PipelineConfig) -> None:
    from rnn2snn.checks import check_pipeline_config

    check_pipeline_config(config, limits=constraints_of(config))


def convert_model(model: torch.nn.Module, train_data, test_data, *, pooling: str,
                  val_data=None, classes=None, vocab=None,
                  config: PipelineConfig = PipelineConfig(), progress: bool = True,
                  log=None, target: str | None = None,
                  settings: XyloSettings | None = None) -> PipelineResult | XyloModelResult:
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
        ``"xylo-audio2"`` / ``"xylo-imu"`` run the Xylo chain instead
        (:mod:`rnn2snn.pipeline.xylo_model`): ``config`` then gives only the validation split
        (``seed``, ``val_fraction``), ``settings`` (a
        :class:`~rnn2snn.targets.xylo.method.XyloSettings`; its ``hidden`` is the model's) the
        chain's training, and the result is a
        :class:`~rnn2snn.pipeline.xylo_model.XyloModelResult` (stages ``given``, ``float``,
        ``quantised``, ``spiking_before_finetune``, ``spiking``; ``result.model`` saved with
        :func:`rnn2snn.targets.xylo.model.save_xylo_model`).

    progress, log : progress bars and stage lines (``log``, default ``print``) when
        ``progress``; ``progress=False`` prints nothing.

    Returns the :class:`PipelineResult`: its stages start with ``given`` (the model as
    read, before any training); ``result.warnings`` holds every loss over 2 validation
    points with the remedies tried (:mod:`rnn2snn.guard`); ``result.program`` is the
    converted program (save it with :func:`rnn2snn.program.save_program`).
    """
    from rnn2snn.model.user_data import check_user_inputs

    name = target if target is not None else config.target
    if name in TARGETS and not runs_pipeline(name):
        from rnn2snn.pipeline.xylo_model import convert_model_for_xylo

        return convert_model_for_xylo(model, train_data, test_data, pooling=pooling, target=name,
                                      val_data=val_data, classes=classes, vocab=vocab,
                                      config=replace(config, target=name), settings=settings,
                                      progress=progress, log=log)
    if settings is not None:
        from rnn2snn.checks import ParameterError

        constraints_of(replace(config, target=name))  # a misspelt target is named first

        raise ParameterError("settings", f"settings: the Xylo chain's (target='xylo-audio2' or 'xylo-imu'); "
                                         f"target={name!r} trains with config")
    start = time.perf_counter()
    # refuse an unsupported model or bad data before any work (rnn2snn.model.user_data)
    if target is not None:
        config = replace(config, target=target)
    limits = constraints_of(config)
    user = check_user_inputs(model, train_data, test_data, pooling=pooling, val_data=val_data,
                             classes=classes, vocab=vocab, config=config, limits=limits)
    ours, fit, val, test_seq, config = user.model, user.fit, user.val, user.test, user.config
    classes, vocab = user.classes, user.vocab
    stage_logger(progress, log)(cores_message(config, ours.config, limits))  # before any training
    with fixed_threads():
        result = constrain_and_convert(
            ours, fit, val, test_seq, config, classes, vocab, progress, log, given=True,
            val_source=("val_data" if val_data is not None else
                        f"held out of train_data, val_fraction={config.val_fraction:g}"))
    result.wall_seconds = time.perf_counter() - start
    return result

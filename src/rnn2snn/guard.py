"""The loss guard: no stage loses accuracy silently.

Rules (validation accuracy only; the test set never enters a choice):

* a drop of more than :data:`DROP_POINTS` points between two consecutive stages, or
  between the first row (``given``, or ``float`` when training from scratch) and
  ``spiking``, gives a :class:`RunWarning`;
* before warning, the tool tries the remedies it has for the step that lost (more
  retraining for a constraint step; the other input schedules, a longer word window and
  more spiking fine-tune for the conversion) and keeps the best one on validation if it
  is strictly better;
* a validation split of fewer than :data:`MIN_VAL_EXAMPLES` examples, or fewer than
  :data:`MIN_VAL_PER_CLASS` of some class, gives a warning naming the choices that rest
  on it.

The warnings are frozen dataclasses on :class:`rnn2snn.pipeline.PipelineResult`
(``result.warnings``), in ``results.json`` (``"warnings"``), printed by the CLI and shown
in ``report.md``.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, replace

import numpy as np

DROP_POINTS = 2.0
MIN_VAL_EXAMPLES = 50
MIN_VAL_PER_CLASS = 5

#: How each stage is shown in tables (the names are identifiers, as in ``results.json``).
STAGE_LABELS = {"spiking_before_finetune": "spiking (before fine-tune)"}

#: What a user can change when a step loses accuracy.
ADVICE = {
    "fan_in": ("a larger max_fan_in (at most 64 on one core) or the layer spread over more "
               "cores (config.cores / --cores)",
               "a smaller projection or hidden layer, so the sources each neuron keeps hold what it needs",
               "more retraining epochs (config.finetune.epochs)"),
    "weights": ("more retraining epochs (config.finetune.epochs) or a lower learning rate "
                "(config.finetune.lr): the chip holds 16 weight levels −8…7",),
    "activities": ("more retraining epochs (config.finetune.epochs)",
                   "another pooling (last / mean / max): mean pooling over long sequences loses "
                   "most to 16 activity levels",
                   "a model whose activities vary less between steps (a smaller hidden layer)"),
    "spiking": ("the input schedule (spiking.input_schedule with choose_schedule=False)",
                "more spiking fine-tune epochs (config.spiking_finetune.epochs)",
                "a longer word window (spiking.ticks_per_word ≤ 15, delay = ticks_per_word)",
                "another pooling, or target='truenorth' if another target was chosen; the ablation "
                "in report.md says which design choice the mismatch comes from"),
}


def stage_label(name: str) -> str:
    return STAGE_LABELS.get(name, name)


@dataclass(frozen=True)
class Remedy:
    """One remedy tried on validation: what it was, the validation accuracy it gave, and
    whether it was kept (strictly better than what the step had)."""

    name: str
    val_accuracy: float
    kept: bool


@dataclass(frozen=True)
class Diagnosis:
    """Why the spiking network differs from the integer network it was converted from (validation).

    prediction_differs_share : share of validation examples predicted differently;
    window_exact_share : share of neuron × word windows whose spike count equals the
    integer activity; mechanism : the design choice whose undoing (the ablation of
    :func:`rnn2snn.program.diagnostics.ablation`) removes most of the differences.
    """

    prediction_differs_share: float
    window_exact_share: float
    mechanism: str


@dataclass(frozen=True)
class RunWarning:
    """A loss (or a weak basis for a choice) the run found, with what was done about it.

    kind : ``"small_validation"`` or ``"accuracy_drop"``; stage : the step the drop is
    attributed to (``None`` for the validation size); val_before / val_after : validation
    accuracy before and after that step (after the remedies).
    """

    kind: str
    message: str
    stage: str | None = None
    val_before: float | None = None
    val_after: float | None = None
    remedies: tuple[Remedy, ...] = ()
    diagnosis: Diagnosis | None = None
    advice: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)


#: The choices a TrueNorth-class run makes on validation (named when the split is small).
PIPELINE_CHOICES = ("the epoch kept by every retraining stage, the input schedule, the spiking "
                    "fine-tune's epoch and the remedies of the loss guard")


def validation_warning(labels: np.ndarray, classes: list[str], source: str,
                       choices: str = PIPELINE_CHOICES) -> RunWarning | None:
    """A warning when the validation split is too small to choose on (see the module's rule);
    ``choices``: what the run chooses on it."""
    labels = np.asarray(labels)
    per_class = np.bincount(labels, minlength=len(classes))[: len(classes)] if labels.size else \
        np.zeros(len(classes), dtype=int)
    fewest = int(per_class.argmin())
    if labels.size >= MIN_VAL_EXAMPLES and per_class[fewest] >= MIN_VAL_PER_CLASS:
        return None
    message = (f"validation ({source}) has {labels.size} examples, {int(per_class[fewest])} of class "
               f"{classes[fewest]!r}; the rule is ≥ {MIN_VAL_EXAMPLES} examples and ≥ "
               f"{MIN_VAL_PER_CLASS} of every class. The choices resting on it: {choices}. Give more "
               "training data, a larger val_fraction, or val_data")
    return RunWarning("small_validation", message)


def drop_points(before: float, after: float) -> float:
    return 100.0 * (before - after)


def _lost(before: float, after: float) -> str:
    lost = drop_points(before, after)
    return f"{lost:.1f} points lost" if lost > DROP_POINTS else f"within {DROP_POINTS:g} points"


def _tried(remedies) -> str:
    if not remedies:
        return "no remedy"
    return "; ".join(f"{r.name} → {r.val_accuracy:.3f}" + (" (kept)" if r.kept else "") for r in remedies)


def constraint_warning(stage: str, before: str, val_before: float, val_after: float,
                       val_constrained: float, remedies: tuple[Remedy, ...]) -> RunWarning:
    """A constraint step (fan-in, weights, activities) that lost more than DROP_POINTS on validation."""
    lost = drop_points(val_before, val_after)
    now = (f"{lost:.1f} points lost by this constraint step" if lost > DROP_POINTS else
           f"within {DROP_POINTS:g} points after the remedy")
    message = (f"{stage}: validation accuracy {val_before:.3f} ({before}) → {val_after:.3f} "
               f"({now}; {val_constrained:.3f} right after the constraint, before its retraining). "
               f"Tried on validation: {_tried(remedies)}. You can change: " + "; ".join(ADVICE[stage]))
    return RunWarning("accuracy_drop", message, stage, val_before, val_after, remedies,
                      advice=ADVICE[stage])


def conversion_warning(val_integer: float, val_before_ft: float, val_after: float,
                       remedies: tuple[Remedy, ...], diagnosis: Diagnosis) -> RunWarning:
    """The conversion (integer network → spiking network) lost more than DROP_POINTS on validation."""
    tried = (f"Tried on validation: {_tried(remedies)}" if remedies else
             "The spiking fine-tune brought it back; no remedy was needed")
    message = (f"spiking: validation accuracy {val_integer:.3f} (activities, the integer network) → "
               f"{val_before_ft:.3f} (spiking, before fine-tune) → {val_after:.3f} (spiking, as "
               f"delivered; {_lost(val_integer, val_after)}). {tried}. Diagnosis (validation): "
               "integer and spiking predictions differ on "
               f"{100 * diagnosis.prediction_differs_share:.1f} % of the examples; spike counts equal "
               f"the integer activities in {100 * diagnosis.window_exact_share:.1f} % of neuron × word "
               f"windows; {diagnosis.mechanism}. You can change: " + "; ".join(ADVICE["spiking"]))
    return RunWarning("accuracy_drop", message, "spiking", val_integer, val_after, remedies,
                      diagnosis, ADVICE["spiking"])


def _step_losses(rows) -> str:
    """``name +points`` lost by each step of ``rows`` ((stage name, validation accuracy) in order)."""
    return ", ".join(f"{stage_label(b)} {drop_points(va, vb):+.1f}"
                     for (_, va), (b, vb) in zip(rows, rows[1:], strict=False))


def overall_warning(stages) -> RunWarning:
    """First row → spiking lost more than DROP_POINTS although no single step did: the steps' shares."""
    first, last = stages[0], stages[-1]
    steps = _step_losses([(s.name, s.val_accuracy) for s in stages])
    message = (f"{first.name} → spiking: validation accuracy {first.val_accuracy:.3f} → "
               f"{last.val_accuracy:.3f} ({_lost(first.val_accuracy, last.val_accuracy)}, no single "
               f"step over {DROP_POINTS:g}); points lost by each step: {steps}. "
               "You can change: " + "; ".join(ADVICE["activities"][:1] + ADVICE["spiking"][:3]))
    return RunWarning("accuracy_drop", message, "spiking", first.val_accuracy, last.val_accuracy,
                      advice=ADVICE["activities"][:1] + ADVICE["spiking"][:3])


def chain_warning(rows, advice: dict[str, tuple[str, ...]]) -> RunWarning | None:
    """For a chain without remedies (Xylo): the first row → the last lost more than DROP_POINTS on
    validation; the warning names the step that lost most (``stage``), each step's share, and
    ``advice[stage]``. ``rows``: (stage name, validation accuracy) in order. None within DROP_POINTS."""
    (first, v0), (last, v1) = rows[0], rows[-1]
    if not needs_remedy(v0, v1):
        return None
    pairs = list(zip(rows, rows[1:], strict=False))
    (_, va), (worst, vb) = max(pairs, key=lambda p: drop_points(p[0][1], p[1][1]))
    hint = advice.get(worst, ())
    message = (f"{first} → {last}: validation accuracy {v0:.3f} → {v1:.3f} ({_lost(v0, v1)}); most of it "
               f"at {stage_label(worst)} ({drop_points(va, vb):.1f} points); points lost by each step: "
               f"{_step_losses(rows)}. No remedy is tried"
               + (". You can change: " + "; ".join(hint) if hint else ""))
    return RunWarning("accuracy_drop", message, worst, v0, v1, advice=hint)


def needs_remedy(reference: float, value: float) -> bool:
    return drop_points(reference, value) > DROP_POINTS


def spiking_remedies(model, fit, val, config, current_val: float, fixed_timing: bool,
                     progress: bool) -> tuple[object, tuple[Remedy, ...]]:
    """Try the conversion's remedies on validation; keep the best if strictly better.

    ``model`` (after the spiking fine-tune) is changed in place only when a fine-tune
    remedy wins. Tried: every other input schedule, with the delay as set, with the delay
    the design needs (= ticks per word) and, when the window is shorter than the longest
    delay the chip has, with the longest window (delay = window), each with the model as
    it is; then more spiking fine-tune epochs under the best timing. With
    ``fixed_timing`` (an ensemble member after the first, which shares its timing) only
    the fine-tune. Returns the spiking settings to use and the remedies tried.
    """
    from rnn2snn.finetune.spiking import finetune_spiking, spiking_accuracy
    from rnn2snn.program.limits import DELAY_MAX
    from rnn2snn.program.network import SCHEDULES

    spk = config.spiking
    levels = int(model.constraints.activity_levels)
    candidates = []
    if not fixed_timing:
        T = spk.ticks_per_word
        timings = [(T, None)]  # (window, recurrent delay): as set, the delay the design needs, longer
        if (spk.delay, spk.neg_delay) != (T, T):
            timings.append((T, T))
        if T < DELAY_MAX:
            timings.append((DELAY_MAX, DELAY_MAX))
        for window, delay in timings:
            for schedule in SCHEDULES:
                cfg = replace(spk, input_schedule=schedule, neg_input_schedule=schedule)
                what = f"input schedule {schedule}"
                if delay is not None:
                    cfg = replace(cfg, ticks_per_word=window, delay=delay, neg_delay=delay)
                    what += (f", {window} ticks per word" if window != T else "") + f", delay {delay}"
                if cfg == spk:
                    continue
                cfg.validate(levels)
                candidates.append((what, cfg, spiking_accuracy(model, val, cfg)))
    best_name, best_cfg, best_acc = "as converted", spk, current_val
    for what, cfg, acc in candidates:
        if acc > best_acc:
            best_name, best_cfg, best_acc = what, cfg, acc
    epochs = max(2 * config.spiking_finetune.epochs, 4)
    tuned = copy.deepcopy(model)
    ft = finetune_spiking(tuned, fit, val, best_cfg,
                          replace(config.spiking_finetune, epochs=epochs, seed=config.seed + 1), progress)
    ft_name = f"spiking fine-tune {epochs} more epochs" + (f" ({best_name})" if best_cfg != spk else "")
    kept_ft = ft.best_val_accuracy > best_acc and not ft.kept_start
    remedies = [Remedy(what, acc, kept=not kept_ft and cfg == best_cfg and cfg != spk)
                for what, cfg, acc in candidates]
    remedies.append(Remedy(ft_name, ft.best_val_accuracy, kept=kept_ft))
    if kept_ft:
        model.load_state_dict(tuned.state_dict())
        model.eval()
    return best_cfg, tuple(remedies)


def diagnose(program, val) -> Diagnosis:
    """Share of validation predictions and windows that differ, and the mechanism (ablation)."""
    from rnn2snn.program import run_integer, simulate_program
    from rnn2snn.program.diagnostics import ablation, compare_counts

    integer = run_integer(program, val.inputs, val.lengths)
    spiking = simulate_program(program, val.inputs, val.lengths)
    run_len = program.run_lengths(val.lengths)
    stats = compare_counts(spiking.counts, integer.counts, run_len)

    def classify(counts):
        return program.logits(counts, val.lengths).argmax(1)

    rows = ablation(program.network(), spiking.sources, run_len, integer.counts, classify, val.labels,
                    program.timing)
    base, others = rows[0], rows[1:]
    best = min(others, key=lambda r: r["prediction_differs_share"]) if others else None
    if best is not None and best["prediction_differs_share"] < base["prediction_differs_share"]:
        mechanism = (f"most of it comes from the {best['cause']}: with '{best['variant']}' the "
                     f"predictions differ on {100 * best['prediction_differs_share']:.1f} % (as "
                     f"converted {100 * base['prediction_differs_share']:.1f} %)")
    else:
        mechanism = ("no single design choice of the ablation removes it (excitation arriving before "
                     "inhibition inside a window, or potential carried between words)")
    return Diagnosis(float((integer.predictions != spiking.predictions).mean()),
                     float(stats["exact_share"]), mechanism)

"""Everything a run's settings, data and output folder can be checked for before training.

Why: a run trains for minutes; a value the method or the TrueNorth core cannot take
must fail in the first second, naming the parameter and the limit, not after
training with a traceback. The hardware numbers come from the target's
:class:`~rnn2snn.program.constraints.TargetConstraints` (``limits``, TrueNorth's by default)
and the program's ranges (:mod:`rnn2snn.program.limits`), never re-typed here.

* :func:`check_pipeline_config` — sizes, seed, cores and fan-in against a core's
  256 axons and 256 neurons, timing (levels, ticks per word, delays), rates, names.
* :func:`check_data` — at least two classes, test labels known, a validation split,
  a vocabulary that keeps words (returns warnings for a vocabulary that keeps few).
* :func:`check_output_dir` — the run folder can be written and replaced as a whole.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path

from rnn2snn.errors import DataFormatError, HardwareLimitError, Rnn2SnnError
from rnn2snn.program import limits as L
from rnn2snn.program.constraints import TRUENORTH, TargetConstraints, plan_cores
from rnn2snn.rundir import RUN_MARKERS, is_run_folder

#: Largest seed: numpy and torch both take 32-bit seeds everywhere.
SEED_LIMIT = 2 ** 32
#: A vocabulary that maps more than this share of the training words to <unk> is warned about.
UNKNOWN_WARN_SHARE = 0.5

# The command-line flag of each parameter that has one, named in the messages.
_FLAGS = {name: "--" + name.replace("_", "-") for name in (
    "seed", "embed_dim", "proj_dim", "hidden_dim", "min_count", "max_fan_in", "cores", "readout",
    "vectors", "ticks_per_word", "delay", "max_cores", "ensemble")}


class ParameterError(Rnn2SnnError, ValueError):
    """A setting outside what the method accepts; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class ParameterLimitError(ParameterError, HardwareLimitError):
    """A setting the TrueNorth core cannot hold (a :class:`HardwareLimitError` too)."""


def _name(parameter: str, value) -> str:
    """``parameter=value`` as an API user wrote it; the CLI adds the flag (:func:`with_flags`)."""
    return f"{parameter}={value!r}"


# ``name=value`` of a parameter with a flag (not inside a quoted text), the value a repr: quoted,
# or up to a space or separator.
_NAMED = re.compile(r"(?<![\w.'\"])(" + "|".join(sorted(_FLAGS, key=len, reverse=True)) + r")="
                    r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s:,;()]+)")


def with_flags(message: str) -> str:
    """``message`` for a command-line user: the first ``name=value`` of a parameter that has a
    flag gets the flag (``hidden_dim=0 (--hidden-dim) must be ≥ 1``). The CLI prints errors
    and warnings through it; the API's messages name the parameter only."""
    match = _NAMED.search(message)
    if match is None or message[match.end():].startswith(" (--"):
        return message
    return f"{message[:match.end()]} ({_FLAGS[match.group(1)]}){message[match.end():]}"


def _whole(parameter: str, value, lo: int | None = None, hi: int | None = None, why: str = "",
           error=ParameterError) -> int:
    """Refuse anything but an integer in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(parameter, f"{_name(parameter, value)} must be a whole number, "
                                        f"got {type(value).__name__}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bound = (f"≥ {lo}" if hi is None else f"≤ {hi}" if lo is None else f"in {lo}…{hi}")
        raise error(parameter, f"{_name(parameter, value)} must be {bound}" + (f": {why}" if why else ""))
    return value


def _real(parameter: str, value, lo: float, hi: float, lo_open: bool, hi_open: bool,
          why: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(parameter, f"{_name(parameter, value)} must be a finite number")
    if (value <= lo if lo_open else value < lo) or (value >= hi if hi_open else value > hi):
        span = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ParameterError(parameter, f"{_name(parameter, value)} must lie in {span}"
                                        + (f": {why}" if why else ""))
    return float(value)


def _choice(parameter: str, value, allowed) -> None:
    if value not in allowed:
        raise ParameterError(parameter, f"{_name(parameter, value)} is not one of "
                                        f"{', '.join(map(str, allowed))}")


def _flag(parameter: str, value) -> None:
    if not isinstance(value, bool):
        raise ParameterError(parameter, f"{_name(parameter, value)} must be true or false")


def check_train_config(prefix: str, cfg, min_epochs: int = 0) -> None:
    """An optimisation setting (``TrainConfig``); ``prefix`` names it in messages (``train``)."""
    _whole(f"{prefix}.epochs", cfg.epochs, min_epochs)
    _whole(f"{prefix}.batch_size", cfg.batch_size, 1)
    _whole(f"{prefix}.patience", cfg.patience, 0)
    _real(f"{prefix}.lr", cfg.lr, 0.0, math.inf, True, True, "Adam needs a positive step")
    _real(f"{prefix}.weight_decay", cfg.weight_decay, 0.0, math.inf, False, True)
    _real(f"{prefix}.clip_grad", cfg.clip_grad, 0.0, math.inf, True, True)


def check_spiking_config(cfg, activity_levels: int) -> None:
    """Timing of the converted layer (``SpikingConfig``) for ``activity_levels`` levels."""
    from rnn2snn.program.network import SCHEDULES

    T = _whole("ticks_per_word", cfg.ticks_per_word)
    if T < activity_levels - 1:
        raise ParameterLimitError(
            "ticks_per_word",
            f"{_name('ticks_per_word', T)} is below levels − 1 = {activity_levels - 1}: a neuron "
            f"fires at most once a tick, so it could not emit every one of the "
            f"{activity_levels} activity levels in a word's window")
    if T > L.DELAY_MAX:
        raise ParameterLimitError(
            "ticks_per_word",
            f"{_name('ticks_per_word', T)} is over {L.DELAY_MAX}, the longest axonal delay "
            f"({L.DELAY_MIN}…{L.DELAY_MAX} ticks): a recurrent spike must land in the next "
            f"word's window at the tick it left, which needs delay = ticks_per_word")
    for name in ("delay", "neg_delay"):
        d = _whole(name, getattr(cfg, name), L.DELAY_MIN, L.DELAY_MAX,
                   "the axonal delays the hardware has", ParameterLimitError)
        if d > T:
            raise ParameterLimitError(
                name, f"{_name(name, d)} is longer than ticks_per_word={T}: a recurrent spike "
                      f"would land past the next word's window; set it to {T} (= ticks_per_word)")
    for name in ("input_schedule", "neg_input_schedule"):
        _choice(name, getattr(cfg, name), SCHEDULES)
    if cfg.neg_threshold is not None:
        _whole("neg_threshold", cfg.neg_threshold, L.NEG_THRESHOLD_MIN, L.NEG_THRESHOLD_MAX,
               "the hardware's negative threshold β", ParameterLimitError)
    _whole("neg_saturate", int(cfg.neg_saturate) if isinstance(cfg.neg_saturate, bool)
           else cfg.neg_saturate, 0, 1)
    _whole("flush_ticks", cfg.flush_ticks, 0)
    try:  # and whatever else SpikingConfig itself refuses (fields added later)
        cfg.validate(activity_levels)
    except ValueError as exc:
        raise ParameterError("spiking", f"spiking: {exc}") from None


def check_pipeline_config(config, model=None, limits: TargetConstraints = TRUENORTH) -> None:
    """Refuse a ``PipelineConfig`` the pipeline or a TrueNorth core cannot run, before any work.

    Raises :class:`ParameterError` (or :class:`ParameterLimitError` for a hardware
    limit) naming the parameter, its value and the limit. ``model``: the
    :class:`~rnn2snn.model.elman.ElmanConfig` of a user's model (``convert_model``), whose
    layers and sources decide the cores instead of the config's sizes. ``limits``: the
    target's constraints.
    """
    from rnn2snn.readouts import READOUTS

    _whole("seed", config.seed, 0, SEED_LIMIT - 1, "numpy and torch take 32-bit seeds")
    for name, what in (("embed_dim", "word-vector size"), ("proj_dim", "projection units"),
                       ("hidden_dim", "recurrent neurons")):
        _whole(name, getattr(config, name), 1, why=f"the {what}")
    _whole("min_count", config.min_count, 1, why="a word seen fewer times becomes <unk>")
    _real("dropout", config.dropout, 0.0, 1.0, False, True, "the share of units dropped in training")
    _real("val_fraction", config.val_fraction, 0.0, 1.0, True, True,
          "the share of each class held out for validation")
    _choice("readout", config.readout, READOUTS)
    _flag("carry_residual", config.carry_residual)
    _flag("choose_schedule", config.choose_schedule)
    spiking = limits.timing(config.spiking)  # with the target's neuron semantics

    # Levels: a 16-level weight is split over the axon types S = (1, 2, 4, −8).
    _whole("weight_levels", config.weight_levels, 2, limits.weight_levels,
           f"the {limits.axon_types} axon types (1, 2, 4, −8) hold integer weights −8…7",
           ParameterLimitError)
    _whole("activity_levels", config.activity_levels, 2, why="an activity is 0 or more spikes")
    check_spiking_config(spiking, config.activity_levels)

    # Fan-in and cores: every source a neuron reads takes up to one axon per type.
    hidden = config.hidden_dim
    axons, types, neurons = limits.axons_per_core, limits.axon_types, limits.neurons_per_core
    max_fan_in = limits.max_fan_in
    _whole("max_fan_in", config.max_fan_in, 1, max_fan_in,
           f"a core has {axons} axons and each source needs up to {types} "
           f"(one per axon type of the 16-level weights), so at most "
           f"{axons} / {types} = {max_fan_in} sources a neuron", ParameterLimitError)
    copies = limits.copies(readers=1)  # one copy per axon type its own core uses + output port
    if config.cores is None:
        if hidden * copies > neurons:
            need = math.ceil(hidden / (neurons // copies))
            raise ParameterLimitError(
                "hidden_dim",
                f"{_name('hidden_dim', hidden)} without cores: on one core each recurrent neuron "
                f"needs up to {copies} copies ({types} axon types it feeds + its output), "
                f"{hidden} × {copies} = {hidden * copies} neurons, over the {neurons} "
                f"of a core; keep hidden_dim ≤ {neurons // copies} or spread the "
                f"layer with cores (--cores {need} or more)")
    else:
        cores = _whole("cores", config.cores, 1, hidden,
                       f"each core holds at least one of the hidden_dim={hidden} recurrent neurons")
        per_core = math.ceil(hidden / cores)
        if per_core > neurons:
            raise ParameterLimitError(
                "cores", f"{_name('cores', cores)} puts {per_core} recurrent neurons on a core, "
                         f"over its {neurons} neurons; use at least "
                         f"{math.ceil(hidden / neurons)} cores")

    check_train_config("train", config.train, 1)
    check_train_config("finetune", config.finetune)
    check_train_config("spiking_finetune", config.spiking_finetune)
    if config.vectors is not None:
        from rnn2snn.model.vectors import PACKAGED, check_vectors_available

        if config.vectors in PACKAGED:
            if config.embed_dim != PACKAGED[config.vectors]:
                raise ParameterError("embed_dim", f"{_name('embed_dim', config.embed_dim)}: --vectors "
                                     f"{config.vectors} has {PACKAGED[config.vectors]} dimensions; set "
                                     f"--embed-dim {PACKAGED[config.vectors]}")
            try:
                check_vectors_available(config.vectors)
            except Rnn2SnnError as exc:
                raise ParameterError("vectors", str(exc)) from None
        else:
            check_readable_file("vectors", config.vectors)
    check_extensions(config, limits)
    check_core_budget(config, model, limits)


def core_plan(config, model=None, limits: TargetConstraints = TRUENORTH):
    """The cores the run's layout takes on the target ``limits``, known before training
    (:func:`rnn2snn.program.constraints.plan_cores`, the rule the resource count follows).

    From the config the pipeline's own network (``proj_dim`` inputs, no bias input,
    ``ensemble`` members); with ``model`` (an ``ElmanConfig``: ``convert_model``) that
    model's sources and layers, one member.
    """
    if model is None:
        return plan_cores(config.proj_dim, (config.hidden_dim,), config.max_fan_in, config.cores,
                          getattr(config, "ensemble", 1), limits)
    return plan_cores(model.n_sources, model.hidden_dims, config.max_fan_in, config.cores, limits=limits)


def cores_message(config, model=None, limits: TargetConstraints = TRUENORTH) -> str:
    """The line a run logs before training: the cores its layout takes, and the budget."""
    max_cores = getattr(config, "max_cores", None)
    budget = (f"within max_cores={max_cores}" if max_cores is not None
              else "no max_cores budget set")
    return f"cores: {core_plan(config, model, limits).describe()}; {budget}"


def _sources(config, model, plan) -> str:
    """Where a neuron's candidate sources come from, with the setting that sets each."""
    h = plan.layers[0]
    if model is None:
        return f"proj_dim + hidden_dim = {config.proj_dim} + {h} = {plan.candidates} sources"
    if model.proj_dim:
        inputs = f"a {model.proj_dim}-wide projection"
    else:
        channels = model.n_features or model.embed_dim
        inputs = (f"{model.encoder_dim} input units ({channels} input channels, each split into its "
                  f"positive and negative part)")
    bias = f" + {model.n_layers} bias input" if model.bias else ""
    return f"{plan.candidates} sources ({inputs}{bias} + {h} recurrent neurons)"


def check_core_budget(config, model=None, limits: TargetConstraints = TRUENORTH):
    """Refuse, before training, a layout that may take more than ``max_cores`` cores; return its plan.

    The budget is a promise about the result, so a layout whose count is known only
    after the fan-in step (each neuron keeping its own sources) is judged by the most it
    can take. The refusal names the count and the settings that reduce it.
    """
    max_cores = getattr(config, "max_cores", None)
    if max_cores is not None:
        _whole("max_cores", max_cores, 1, why="TrueNorth cores the converted layers may take in all")
    layers = (config.hidden_dim,) if model is None else model.hidden_dims
    if len(layers) > 1 and config.cores is not None:
        raise ParameterError("cores", f"{_name('cores', config.cores)} spreads one recurrent layer over "
                                      f"cores; this model has {len(layers)} stacked layers, which take "
                                      f"one core each: leave cores unset")
    plan = core_plan(config, model, limits)
    if max_cores is None or plan.high <= max_cores:
        return plan
    takes = f"takes {plan.count()}" if plan.exact else f"may take up to {plan.high} cores"
    fixes = []
    room = max_cores // plan.members  # cores each member may take
    if plan.members > 1:
        if max_cores >= plan.member_high:
            fixes.append(f"{_name('ensemble', max_cores // plan.member_high)} or fewer members "
                         f"(now {plan.members})")
        else:
            fixes.append(f"{_name('ensemble', max_cores)} or fewer members (now {plan.members}), each "
                         f"on fewer cores")
            room = 1
    h = layers[0]
    member_fixes: list[str] = []
    if plan.rule == "blocks" and room < plan.member_high:
        member_fixes.append(f"{_name('cores', room)} or fewer (now {config.cores}; each core then "
                            f"holds more of the {h} recurrent neurons)")
    elif plan.rule == "stacked" and room < plan.member_high:
        member_fixes.append(f"{room} stacked recurrent layer{'s' if room > 1 else ''} or fewer "
                            f"(now {len(layers)})")
    elif plan.rule == "own" and room < plan.member_high:
        sources, fan_in = plan.candidates - h, config.max_fan_in

        def largest(fits, start: int) -> int | None:
            """The largest value below ``start`` whose layout fits ``room`` cores (the plan's rule)."""
            return next((v for v in range(start - 1, 0, -1) if fits(v)), None)

        member_fixes.append(f"{_name('cores', room)} or fewer (the layer spread over exactly that many "
                            f"cores, each reading one block of ≤ {fan_in} sources)")
        one_core = limits.max_fan_in  # sources one core's axons always hold
        proj = largest(lambda v: plan_cores(v, (h,), fan_in, limits=limits).high <= room, config.proj_dim) \
            if model is None else None
        member_fixes.append((f"{_name('proj_dim', proj)} or fewer (" if proj else "fewer sources (")
                            + f"now {_sources(config, model, plan)}; at most {one_core} take one core "
                            f"whatever each neuron keeps)")
        lower = largest(lambda v: plan_cores(sources, (h,), v, limits=limits).high <= room, fan_in)
        if lower:
            member_fixes.append(f"{_name('max_fan_in', lower)} or lower (now {fan_in}: a core then "
                                f"holds {limits.axons_per_core} // ({limits.axon_types} × {lower}) neurons "
                                f"whatever they read)")
        fewer = largest(lambda v: plan_cores(sources, (v,), fan_in, limits=limits).high <= room, h)
        if fewer:
            member_fixes.append(f"{_name('hidden_dim', fewer)} or fewer (now {h})")
    if member_fixes:
        heading = f"with each member on {room} core{'s' if room > 1 else ''}: " if plan.members > 1 else ""
        fixes.append(heading + "; or ".join(member_fixes))
    raise ParameterLimitError(
        "max_cores", f"{_name('max_cores', max_cores)}: the layout {takes}, more than {max_cores} "
                     f"(why: {plan.reason()}). To fit {max_cores}: " + "; or ".join(fixes))


def check_extensions(config, limits: TargetConstraints = TRUENORTH) -> None:
    """Distillation, teacher, ensemble and vocabulary settings (absent on older configs: skipped)."""
    if not hasattr(config, "distill"):
        return
    _flag("keep_vector_words", config.keep_vector_words)
    if config.keep_vector_words:
        from rnn2snn.model.vectors import PACKAGED

        if config.vectors not in PACKAGED:
            raise ParameterError("keep_vector_words", "keep_vector_words needs packaged vectors "
                                 f"(--vectors {' or '.join(PACKAGED)}), got vectors={config.vectors!r}")
    _real("distill", config.distill, 0.0, 1.0, False, False,
          "the weight λ of the teacher's soft targets in the loss (0: off)")
    _real("distill_temperature", config.distill_temperature, 0.0, math.inf, True, True,
          "the softmax temperature T of the soft targets")
    _whole("teacher_maps", config.teacher_maps, 1, why="feature maps per filter width of the teacher")
    _whole("teachers", config.teachers, 1, why="CNNs averaged into the teacher")
    if config.distill > 0:
        check_train_config("teacher_train", config.teacher_train, 1)
    _whole("ensemble", config.ensemble, 1, limits.cores_per_chip,
           "independent members, each on its own core(s) of one chip")


def config_warnings(config) -> list[str]:
    """Settings that run but likely not as meant (one sentence each)."""
    out = []
    sources = config.proj_dim + config.hidden_dim
    if config.cores is None and sources > config.max_fan_in:
        out.append(
            f"proj_dim + hidden_dim = {sources} sources but max_fan_in = {config.max_fan_in} and no "
            f"cores: each neuron keeps its own {config.max_fan_in} strongest sources and the layer "
            f"is split over as many cores as their union needs (often one or two neurons a core); "
            f"set cores (--cores N) for a block-sparse fan-in over N cores")
    return out


def check_readable_file(parameter: str, path) -> Path:
    """An existing regular file that can be opened for reading."""
    p = Path(path)
    if not p.exists():
        raise ParameterError(parameter, f"{_name(parameter, str(path))}: no such file")
    if not p.is_file():
        raise ParameterError(parameter, f"{_name(parameter, str(path))} is not a file")
    try:
        with p.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise ParameterError(parameter, f"{_name(parameter, str(path))} cannot be read "
                                        f"({exc.strerror or exc})") from None
    return p


def check_data(train, test, config) -> list[str]:
    """Refuse data the pipeline cannot learn from; return warnings (one sentence each).

    Refused: fewer than two classes, test labels absent from training, no validation
    example, a ``min_count`` that keeps no word. Warned: more than half of the training
    words become ``<unk>``. Uses the pipeline's own split and vocabulary rule.
    """
    from rnn2snn.data.text import Vocabulary, stratified_split

    classes = sorted(set(train.labels))
    if len(classes) < 2:
        raise DataFormatError(
            f"{train.source or 'training data'}: only one class ({classes[0]!r} in all "
            f"{len(train)} examples); a classifier needs at least two")
    unknown = sorted(set(test.labels) - set(classes))
    if unknown:
        raise DataFormatError(f"{test.source or 'test data'}: labels {unknown[:5]} do not occur in "
                              f"the training data (classes: {classes})")
    fit_idx, val_idx = stratified_split(train.labels, config.val_fraction, config.seed)
    if len(val_idx) == 0:
        raise ParameterError(
            "val_fraction", f"val_fraction={config.val_fraction} holds out no example of the "
                            f"{len(train)} training examples; raise it or give more data")
    texts = [train.texts[i] for i in fit_idx]
    vocab = Vocabulary.build(texts, min_count=config.min_count)
    total = sum(len(t) for t in texts)
    known = set(vocab.tokens[2:])
    unk = sum(1 for t in texts for w in t if w not in known)
    if len(vocab) <= 2:
        from collections import Counter

        top = max(Counter(w for t in texts for w in t).values(), default=0)
        raise ParameterError(
            "min_count", f"{_name('min_count', config.min_count)} keeps no word: the most "
                         f"frequent training word occurs {top} times, so every word would become "
                         f"<unk> and the network could only count words; lower it")
    warnings = []
    if total and unk / total > UNKNOWN_WARN_SHARE:
        warnings.append(
            f"{_name('min_count', config.min_count)} maps {100 * unk / total:.1f} % of the training "
            f"words ({unk:,} of {total:,}) to <unk>, keeping {len(vocab) - 2} distinct words; the "
            f"network sees mostly unknown words (a lower min_count keeps more)")
    return warnings


def check_output_dir(path, kind: str = "run") -> Path:
    """The absolute folder a run of ``kind`` ("run" or "sweep") will be written to; creates nothing.

    Accepted: a path that does not exist yet, an empty folder, or the folder of a previous
    run of the same kind (it holds ``results.json`` / ``sweep.json``), which the new run
    replaces as a whole (:func:`rnn2snn.rundir.write_folder_atomic`). Refused, naming
    the path: an existing file or device (``/dev/null``), a folder holding anything else
    (it would be deleted), the current folder or one containing it, and a place where
    the folder cannot be created (a parent that is a file, read-only or not writable,
    probed by creating and removing an empty folder there).
    """
    given = str(path)
    if not given.strip():
        raise ParameterError("out", "--out is empty; name the folder to write")
    try:
        return _check_output_dir(given, kind)
    except OSError as exc:  # a name too long, a loop of links, an unreadable folder …
        raise ParameterError("out", f"--out {given}: cannot be used ({exc.strerror or exc})") from None


def _check_output_dir(given: str, kind: str) -> Path:
    p = Path(os.path.realpath(Path(given).expanduser()))
    marker = RUN_MARKERS[kind]
    if p.exists() or p.is_symlink():
        if not p.is_dir():
            raise ParameterError("out", f"--out {given} exists and is not a folder; name a new or "
                                        f"empty folder (or a previous run's, to replace it)")
        cwd = Path.cwd().resolve()
        if p == cwd or p in cwd.parents:
            raise ParameterError("out", f"--out {given} is the current folder or contains it; name "
                                        f"a folder inside it, e.g. --out runs/{kind}")
        if any(p.iterdir()) and not is_run_folder(p, kind):
            raise ParameterError(
                "out", f"--out {given} is a folder that holds other files and no {marker}, so it is "
                       f"not a previous {kind}; the {kind} replaces its folder as a whole, so name a "
                       f"new or empty folder")
    base = p.parent
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise ParameterError("out", f"--out {given}: {base} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".rnn2snn-probe-", dir=base))
    except OSError as exc:
        raise ParameterError("out", f"--out {given}: cannot create folders in {base} "
                                    f"({exc.strerror or exc})") from None
    return p


__all__ = ["ParameterError", "ParameterLimitError", "check_core_budget", "check_data",
           "check_output_dir", "check_pipeline_config", "check_readable_file", "check_spiking_config",
           "check_train_config", "config_warnings", "core_plan", "cores_message"]

"""The rules a run's settings must meet before training, as a list of named rules built on the
target's constraints (:data:`PIPELINE_RULES`, run in order by :func:`check_pipeline_config`),
and the cores a layout takes (:func:`core_plan`, :func:`check_core_budget`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rnn2snn.checks.files import check_readable_file
from rnn2snn.checks.params import (
    ParameterError,
    ParameterLimitError,
    boolean,
    named,
    one_of,
    real_number,
    whole_number,
)
from rnn2snn.errors import Rnn2SnnError
from rnn2snn.program import limits as L
from rnn2snn.program.constraints import TRUENORTH, TargetConstraints, plan_cores

#: Largest seed: numpy and torch both take 32-bit seeds everywhere.
SEED_LIMIT = 2 ** 32



def check_train_config(prefix: str, cfg, min_epochs: int = 0) -> None:
    """An optimisation setting (``TrainConfig``); ``prefix`` names it in messages (``train``)."""
    whole_number(f"{prefix}.epochs", cfg.epochs, min_epochs)
    whole_number(f"{prefix}.batch_size", cfg.batch_size, 1)
    whole_number(f"{prefix}.patience", cfg.patience, 0)
    real_number(f"{prefix}.lr", cfg.lr, 0.0, math.inf, True, True, "Adam needs a positive step")
    real_number(f"{prefix}.weight_decay", cfg.weight_decay, 0.0, math.inf, False, True)
    real_number(f"{prefix}.clip_grad", cfg.clip_grad, 0.0, math.inf, True, True)



def check_spiking_config(cfg, activity_levels: int) -> None:
    """Timing of the converted layer (``SpikingConfig``) for ``activity_levels`` levels."""
    from rnn2snn.program.network import SCHEDULES

    T = whole_number("ticks_per_word", cfg.ticks_per_word)
    if T < activity_levels - 1:
        raise ParameterLimitError(
            "ticks_per_word",
            f"{named('ticks_per_word', T)} is below levels − 1 = {activity_levels - 1}: a neuron "
            f"fires at most once a tick, so it could not emit every one of the "
            f"{activity_levels} activity levels in a word's window")
    if T > L.DELAY_MAX:
        raise ParameterLimitError(
            "ticks_per_word",
            f"{named('ticks_per_word', T)} is over {L.DELAY_MAX}, the longest axonal delay "
            f"({L.DELAY_MIN}…{L.DELAY_MAX} ticks): a recurrent spike must land in the next "
            f"word's window at the tick it left, which needs delay = ticks_per_word")
    for name in ("delay", "neg_delay"):
        d = whole_number(name, getattr(cfg, name), L.DELAY_MIN, L.DELAY_MAX,
                   "the axonal delays the hardware has", ParameterLimitError)
        if d > T:
            raise ParameterLimitError(
                name, f"{named(name, d)} is longer than ticks_per_word={T}: a recurrent spike "
                      f"would land past the next word's window; set it to {T} (= ticks_per_word)")
    for name in ("input_schedule", "neg_input_schedule"):
        one_of(name, getattr(cfg, name), SCHEDULES)
    if cfg.neg_threshold is not None:
        whole_number("neg_threshold", cfg.neg_threshold, L.NEG_THRESHOLD_MIN, L.NEG_THRESHOLD_MAX,
               "the hardware's negative threshold β", ParameterLimitError)
    whole_number("neg_saturate", int(cfg.neg_saturate) if isinstance(cfg.neg_saturate, bool)
           else cfg.neg_saturate, 0, 1)
    whole_number("flush_ticks", cfg.flush_ticks, 0)
    try:  # and whatever else SpikingConfig itself refuses (fields added later)
        cfg.validate(activity_levels)
    except ValueError as exc:
        raise ParameterError("spiking", f"spiking: {exc}") from None


@dataclass(frozen=True)
class Rule:
    """One named rule: ``check(config, model, limits)`` raises a :class:`ParameterError` naming
    the parameter when ``config`` breaks it. ``model``: a user's model's ``ElmanConfig`` or None."""

    name: str
    check: Callable[..., None]


def _settings(config, model, limits) -> None:
    """Seed, sizes, rates and switches: the values the method itself takes."""
    from rnn2snn.readouts import READOUTS

    whole_number("seed", config.seed, 0, SEED_LIMIT - 1, "numpy and torch take 32-bit seeds")
    for name, what in (("embed_dim", "word-vector size"), ("proj_dim", "projection units"),
                       ("hidden_dim", "recurrent neurons")):
        whole_number(name, getattr(config, name), 1, why=f"the {what}")
    whole_number("min_count", config.min_count, 1, why="a word seen fewer times becomes <unk>")
    real_number("dropout", config.dropout, 0.0, 1.0, False, True, "the share of units dropped in training")
    real_number("val_fraction", config.val_fraction, 0.0, 1.0, True, True,
                "the share of each class held out for validation")
    one_of("readout", config.readout, READOUTS)
    boolean("carry_residual", config.carry_residual)
    boolean("choose_schedule", config.choose_schedule)


def _levels_and_timing(config, model, limits) -> None:
    """Weight levels the axon types hold, activity levels, and the timing with the target's neuron."""
    # Levels: a 16-level weight is split over the axon types S = (1, 2, 4, −8).
    whole_number("weight_levels", config.weight_levels, 2, limits.weight_levels,
                 f"the {limits.axon_types} axon types (1, 2, 4, −8) hold integer weights −8…7",
                 ParameterLimitError)
    whole_number("activity_levels", config.activity_levels, 2, why="an activity is 0 or more spikes")
    check_spiking_config(limits.timing(config.spiking), config.activity_levels)


def _fan_in(config, model, limits) -> None:
    """Every source a neuron reads takes up to one axon per type of a core's axons."""
    axons, types, max_fan_in = limits.axons_per_core, limits.axon_types, limits.max_fan_in
    whole_number("max_fan_in", config.max_fan_in, 1, max_fan_in,
                 f"a core has {axons} axons and each source needs up to {types} "
                 f"(one per axon type of the 16-level weights), so at most "
                 f"{axons} / {types} = {max_fan_in} sources a neuron", ParameterLimitError)


def _neurons_fit_cores(config, model, limits) -> None:
    """The recurrent neurons and their copies fit a core (one, or the ``cores`` given)."""
    hidden, types, neurons = config.hidden_dim, limits.axon_types, limits.neurons_per_core
    copies = limits.copies(readers=1)  # one copy per axon type its own core uses + output port
    if config.cores is None:
        if hidden * copies > neurons:
            need = math.ceil(hidden / (neurons // copies))
            raise ParameterLimitError(
                "hidden_dim",
                f"{named('hidden_dim', hidden)} without cores: on one core each recurrent neuron "
                f"needs up to {copies} copies ({types} axon types it feeds + its output), "
                f"{hidden} × {copies} = {hidden * copies} neurons, over the {neurons} "
                f"of a core; keep hidden_dim ≤ {neurons // copies} or spread the "
                f"layer with cores (cores={need} or more)")
    else:
        cores = whole_number("cores", config.cores, 1, hidden,
                             f"each core holds at least one of the hidden_dim={hidden} recurrent neurons")
        per_core = math.ceil(hidden / cores)
        if per_core > neurons:
            raise ParameterLimitError(
                "cores", f"{named('cores', cores)} puts {per_core} recurrent neurons on a core, "
                         f"over its {neurons} neurons; use at least "
                         f"{math.ceil(hidden / neurons)} cores")


def _chip_io(config, model, limits) -> None:
    """The inputs, outputs and activity levels a target bounds (TrueNorth: only its cores)."""
    inputs = config.proj_dim if model is None else model.encoder_dim
    outputs = config.hidden_dim if model is None else model.hidden_dims[-1]
    checks = (("proj_dim", inputs, limits.max_inputs, "input channels"),
              ("hidden_dim", outputs, limits.max_outputs, "output channels (one a neuron of the last "
                                                         "layer: the readout is off-chip)"),
              ("activity_levels", config.activity_levels, limits.activity_levels,
               "activity levels a neuron can emit a word"))
    for parameter, value, most, what in checks:
        if most is not None and value > most:
            raise ParameterLimitError(parameter, f"{named(parameter, value)}: the {limits.name} target has "
                                                 f"at most {most} {what}, this layout needs {value}")


def _training(config, model, limits) -> None:
    """The optimisation settings of every training stage."""
    check_train_config("train", config.train, 1)
    check_train_config("finetune", config.finetune)
    check_train_config("spiking_finetune", config.spiking_finetune)


def _vectors(config, model, limits) -> None:
    """Word vectors that exist and match ``embed_dim``."""
    if config.vectors is None:
        return
    from rnn2snn.model.vectors import PACKAGED, check_vectors_available

    if config.vectors in PACKAGED:
        if config.embed_dim != PACKAGED[config.vectors]:
            raise ParameterError("embed_dim", f"{named('embed_dim', config.embed_dim)}: vectors="
                                 f"{config.vectors!r} has {PACKAGED[config.vectors]} dimensions; set "
                                 f"embed_dim={PACKAGED[config.vectors]}")
        try:
            check_vectors_available(config.vectors)
        except Rnn2SnnError as exc:
            raise ParameterError("vectors", str(exc)) from None
    else:
        check_readable_file("vectors", config.vectors)


#: The rules of :func:`check_pipeline_config`, in the order they are checked (the first broken
#: one is reported).
PIPELINE_RULES: tuple[Rule, ...] = (
    Rule("settings", _settings),
    Rule("levels_and_timing", _levels_and_timing),
    Rule("fan_in", _fan_in),
    Rule("neurons_fit_cores", _neurons_fit_cores),
    Rule("chip_io", _chip_io),
    Rule("training", _training),
    Rule("vectors", _vectors),
    Rule("extensions", lambda config, model, limits: check_extensions(config, limits)),
    Rule("core_budget", lambda config, model, limits: check_core_budget(config, model, limits)),
)


def check_settings(config) -> None:
    """The ``settings`` rule alone (seed, sizes ≥ 1, rates, names): what a chain with limits of its
    own (Xylo) shares with the pipeline."""
    _settings(config, None, TRUENORTH)


def check_pipeline_config(config, model=None, limits: TargetConstraints = TRUENORTH) -> None:
    """Refuse a ``PipelineConfig`` the pipeline or the target cannot run, before any work:
    every rule of :data:`PIPELINE_RULES`, in order.

    Raises :class:`ParameterError` (or :class:`ParameterLimitError` for a hardware
    limit) naming the parameter, its value and the limit. ``model``: the
    :class:`~rnn2snn.model.elman.ElmanConfig` of a user's model (``convert_model``), whose
    layers and sources decide the cores instead of the config's sizes. ``limits``: the
    target's constraints.
    """
    for rule in PIPELINE_RULES:
        rule.check(config, model, limits)


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
        whole_number("max_cores", max_cores, 1, why="TrueNorth cores the converted layers may take in all")
    layers = (config.hidden_dim,) if model is None else model.hidden_dims
    if len(layers) > 1 and config.cores is not None:
        raise ParameterError("cores", f"{named('cores', config.cores)} spreads one recurrent layer over "
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
            fixes.append(f"{named('ensemble', max_cores // plan.member_high)} or fewer members "
                         f"(now {plan.members})")
        else:
            fixes.append(f"{named('ensemble', max_cores)} or fewer members (now {plan.members}), each "
                         f"on fewer cores")
            room = 1
    h = layers[0]
    member_fixes: list[str] = []
    if plan.rule == "blocks" and room < plan.member_high:
        member_fixes.append(f"{named('cores', room)} or fewer (now {config.cores}; each core then "
                            f"holds more of the {h} recurrent neurons)")
    elif plan.rule == "stacked" and room < plan.member_high:
        member_fixes.append(f"{room} stacked recurrent layer{'s' if room > 1 else ''} or fewer "
                            f"(now {len(layers)})")
    elif plan.rule == "own" and room < plan.member_high:
        sources, fan_in = plan.candidates - h, config.max_fan_in

        def largest(fits, start: int) -> int | None:
            """The largest value below ``start`` whose layout fits ``room`` cores (the plan's rule)."""
            return next((v for v in range(start - 1, 0, -1) if fits(v)), None)

        member_fixes.append(f"{named('cores', room)} or fewer (the layer spread over exactly that many "
                            f"cores, each reading one block of ≤ {fan_in} sources)")
        one_core = limits.max_fan_in  # sources one core's axons always hold
        proj = largest(lambda v: plan_cores(v, (h,), fan_in, limits=limits).high <= room, config.proj_dim) \
            if model is None else None
        member_fixes.append((f"{named('proj_dim', proj)} or fewer (" if proj else "fewer sources (")
                            + f"now {_sources(config, model, plan)}; at most {one_core} take one core "
                            f"whatever each neuron keeps)")
        lower = largest(lambda v: plan_cores(sources, (h,), v, limits=limits).high <= room, fan_in)
        if lower:
            member_fixes.append(f"{named('max_fan_in', lower)} or lower (now {fan_in}: a core then "
                                f"holds {limits.axons_per_core} // ({limits.axon_types} × {lower}) neurons "
                                f"whatever they read)")
        fewer = largest(lambda v: plan_cores(sources, (v,), fan_in, limits=limits).high <= room, h)
        if fewer:
            member_fixes.append(f"{named('hidden_dim', fewer)} or fewer (now {h})")
    if member_fixes:
        heading = f"with each member on {room} core{'s' if room > 1 else ''}: " if plan.members > 1 else ""
        fixes.append(heading + "; or ".join(member_fixes))
    raise ParameterLimitError(
        "max_cores", f"{named('max_cores', max_cores)}: the layout {takes}, more than {max_cores} "
                     f"(why: {plan.reason()}). To fit {max_cores}: " + "; or ".join(fixes))


def check_extensions(config, limits: TargetConstraints = TRUENORTH) -> None:
    """Distillation, teacher, ensemble and vocabulary settings (absent on older configs: skipped)."""
    if not hasattr(config, "distill"):
        return
    boolean("keep_vector_words", config.keep_vector_words)
    if config.keep_vector_words:
        from rnn2snn.model.vectors import PACKAGED

        if config.vectors not in PACKAGED:
            raise ParameterError("keep_vector_words", "keep_vector_words needs packaged vectors "
                                 f"(vectors={' or '.join(map(repr, PACKAGED))}), "
                                 f"got vectors={config.vectors!r}")
    real_number("distill", config.distill, 0.0, 1.0, False, False,
          "the weight λ of the teacher's soft targets in the loss (0: off)")
    real_number("distill_temperature", config.distill_temperature, 0.0, math.inf, True, True,
          "the softmax temperature T of the soft targets")
    whole_number("teacher_maps", config.teacher_maps, 1, why="feature maps per filter width of the teacher")
    whole_number("teachers", config.teachers, 1, why="CNNs averaged into the teacher")
    if config.distill > 0:
        check_train_config("teacher_train", config.teacher_train, 1)
    whole_number("ensemble", config.ensemble, 1, limits.cores_per_chip,
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
            f"set cores=N for a block-sparse fan-in over N cores")
    return out

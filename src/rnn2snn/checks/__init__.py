"""Everything a run's settings, data and output folder can be checked for before training.

Why: a run trains for minutes; a value the method or the TrueNorth core cannot take
must fail in the first second, naming the parameter and the limit, not after
training with a traceback. The hardware numbers come from the target's
:class:`~rnn2snn.program.constraints.TargetConstraints` (``limits``, TrueNorth's by default)
and the program's ranges (:mod:`rnn2snn.program.limits`), never re-typed here.

* :func:`check_pipeline_config` — the named rules of
  :data:`~rnn2snn.checks.rules.PIPELINE_RULES`: sizes, seed, cores and fan-in against a
  core's axons and neurons, timing (levels, ticks per word, delays), rates, names.
* :func:`check_data` — at least two classes, test labels known, a validation split,
  a vocabulary that keeps words (returns warnings for a vocabulary that keeps few).
* :func:`check_output_dir` — the run folder can be written and replaced as a whole.

The parts: :mod:`~rnn2snn.checks.params` (the errors and value checks, the flags),
:mod:`~rnn2snn.checks.rules`, :mod:`~rnn2snn.checks.data`, :mod:`~rnn2snn.checks.files`.
"""

from rnn2snn.checks.data import UNKNOWN_WARN_SHARE, check_data
from rnn2snn.checks.files import check_output_dir, check_readable_file
from rnn2snn.checks.params import ParameterError, ParameterLimitError, with_flags
from rnn2snn.checks.rules import (
    PIPELINE_RULES,
    SEED_LIMIT,
    Rule,
    check_core_budget,
    check_extensions,
    check_pipeline_config,
    check_settings,
    check_spiking_config,
    check_train_config,
    config_warnings,
    core_plan,
    cores_message,
)

__all__ = ["PIPELINE_RULES", "SEED_LIMIT", "UNKNOWN_WARN_SHARE", "ParameterError", "ParameterLimitError",
           "Rule", "check_core_budget", "check_data", "check_extensions", "check_output_dir",
           "check_pipeline_config", "check_readable_file", "check_settings", "check_spiking_config",
           "check_train_config", "config_warnings", "core_plan", "cores_message", "with_flags"]

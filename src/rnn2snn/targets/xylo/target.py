"""SynSense Xylo Audio 2 and Xylo IMU as :class:`~rnn2snn.targets.base.Target`\\ s.

Their program is a :class:`~rnn2snn.targets.xylo.spec.XyloSpec`, not the TrueNorth-class
SpikingProgram, so the TrueNorth-class pipeline refuses them and
:func:`~rnn2snn.targets.xylo.method.convert_for_xylo` converts instead (the sizes a run may
ask for are checked by :func:`rnn2snn.targets.xylo.limits.check_run_sizes`; ``constraints``
describes the chip in :class:`TargetConstraints` terms). The jobs:
export writes the ``.npz`` ``XyloSim.from_specification`` loads; run replays such a file in
xylosim; verify compares xylosim with our simulator tick by tick; power estimates the
energy per question from published figures (:mod:`rnn2snn.targets.xylo.power`).
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from rnn2snn.targets.base import Exported, Target
from rnn2snn.targets.xylo.limits import CONSTRAINTS
from rnn2snn.targets.xylo.power import estimate_energy
from rnn2snn.targets.xylo.simulate import XyloRecord, simulate
from rnn2snn.targets.xylo.spec import XyloSpec, config_kwargs, load_spec, save_spec, validate
from rnn2snn.targets.xylo.xylosim_run import XylosimComparison, XylosimUnavailableError, compare_with_xylosim


def export(spec: XyloSpec, path: Path, exact: bool = True, origin: str = "") -> Exported:
    """Write ``spec`` (validated for its chip) as the ``.npz`` ``XyloSim.from_specification`` loads
    (after :func:`~rnn2snn.targets.xylo.spec.load_xylosim_kwargs` drops the ``rnn2snn_`` keys:
    the off-chip encoder, the readout rule, the classes). Always exact."""
    out = save_spec(spec, path)
    encoder = "no encoder" if spec.encoder_table is None else f"encoder of {len(spec.encoder_table)} tokens"
    return Exported(Path(out), f"Xylo spec for {spec.chip}: {spec.n_inputs} inputs, {spec.n_hidden} hidden, "
                               f"{spec.n_outputs} output neurons, readout {spec.readout}, {encoder}")


def run(path: Path, counts: np.ndarray, lengths: np.ndarray | None = None) -> XyloRecord:
    """A spec file run in xylosim on input event counts (B, T, Nin): its per-tick record."""
    from rnn2snn.targets.xylo.xylosim_run import run_xylosim

    return run_xylosim(load_spec(path), counts)


@dataclass(frozen=True)
class XyloVerification:
    """xylosim against our simulator on a spec's inputs (:func:`verify`)."""

    comparison: XylosimComparison

    @property
    def ok(self) -> bool:
        return self.comparison.total_mismatches == 0


def verify(spec: XyloSpec, counts: np.ndarray, lengths: np.ndarray | None = None) -> XyloVerification:
    """Every recorded array (hidden spikes, Vmem, Isyn, Isyn2, output spikes, Vmem, Isyn), every
    tick: xylosim's against ours. Needs xylosim (:class:`XylosimUnavailableError` says how)."""
    return XyloVerification(compare_with_xylosim(validate(spec), counts))


def power(spec: XyloSpec, counts: np.ndarray, lengths: np.ndarray | None = None) -> dict:
    """:func:`~rnn2snn.targets.xylo.power.estimate_energy` of a run of ``spec`` on ``counts``, as a dict."""
    return asdict(estimate_energy(spec, counts, simulate(spec, counts, record=True), lengths))


def chip_config(spec: XyloSpec):
    """The chip configuration of ``spec`` by rockpool's ``config_from_specification``: ``(config,
    is_valid, message)``, for writing to a real Xylo with samna.

    Why separate: rockpool's configuration code imports ``samna``, SynSense's driver, which
    is not on the package index (only a stand-in that downloads it), so it cannot be
    installed here or in CI. Without samna this raises :class:`XylosimUnavailableError`
    before anything of rockpool's device packages is imported; nothing else in rnn2snn
    imports samna.
    """
    if find_spec("samna") is None:
        raise XylosimUnavailableError("a Xylo chip configuration needs samna, SynSense's driver, which is "
                                      "not on the package index (install it from SynSense's instructions); "
                                      "the spec itself runs in xylosim without it")
    from rnn2snn.targets.xylo.xylosim_run import PACKAGES

    module = importlib.import_module(f"rockpool.devices.xylo.{PACKAGES[spec.chip]}")
    return module.config_from_specification(**config_kwargs(validate(spec)))


def _target(name: str) -> Target:
    return Target(name=name, constraints=CONSTRAINTS[name], file_name="xylo_spec.npz", export=export, run=run,
                  verify=verify, power=power, program_type=XyloSpec)


AUDIO2 = _target("xylo-audio2")
IMU = _target("xylo-imu")

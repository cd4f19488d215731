"""Xylo energy: SynSense's cycle model as rockpool writes it, and the published constants applied."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
from extras import need
from xylo_cases import random_spec

from rnn2snn.targets.xylo.power import DYNAMIC_POWER_W, cycles_per_tick, estimate_energy
from rnn2snn.targets.xylo.simulate import simulate


def rockpool_cycles_model(package: str):
    """rockpool's own ``cycles_model``, its source run without its (samna-only) type imports."""
    rockpool = need("rockpool")
    path = os.path.join(os.path.dirname(rockpool.__file__), "devices", "xylo", package,
                        "power_cycles_model.py")
    with open(path, encoding="utf-8") as file:
        source = file.read()
    lines = [line for line in source.splitlines()
             if "samna" not in line or line.lstrip().startswith(("#", '"'))]
    namespace: dict = {"XyloA2Config": object, "XyloIMUConfig": object, "XyloA3Config": object}
    exec("\n".join(lines).replace("import samna", ""), namespace)  # noqa: S102
    return namespace["cycles_model"]


@pytest.mark.parametrize("chip, package, synapses",
                         [("xylo-audio2", "syns61201", 2), ("xylo-imu", "syns63300", 1)])
def test_cycle_model_equals_rockpools(chip, package, synapses):
    model = rockpool_cycles_model(package)
    spec = random_spec(np.random.default_rng(4), n_hidden=40, n_outputs=5, synapses=synapses, chip=chip,
                       density=0.3)
    neurons = [SimpleNamespace(alias_target=None) for _ in range(spec.n_hidden)]
    layer = SimpleNamespace(weights=spec.weights_rec[:, :, 0], neurons=neurons)
    config = SimpleNamespace(input=SimpleNamespace(weights=spec.weights_in[:, :, 0]), reservoir=layer,
                             hidden=layer, readout=SimpleNamespace(weights=spec.weights_out),
                             synapse2_enable=synapses == 2)
    for p_in, p_hid, p_out in [(1.0, 1.0, 1.0), (0.3, 0.1, 0.05), (0.0, 0.0, 0.0)]:
        theirs = model(config, p_in, p_hid, p_out)
        theirs = theirs[0] if isinstance(theirs, tuple) else theirs
        assert cycles_per_tick(spec, p_in, p_hid, p_out) == pytest.approx(theirs, rel=1e-12)


def test_energy_is_the_measured_power_over_the_run_time():
    rng = np.random.default_rng(3)
    spec = random_spec(rng, n_hidden=20, n_outputs=4)
    counts = rng.integers(0, 3, (5, 12, 16))
    record = simulate(spec, counts)
    lengths = np.array([12, 10, 8, 6, 4])
    energy = estimate_energy(spec, counts, record, lengths=lengths, dt_s=2e-3)
    assert energy.ticks_per_question == 8.0
    assert energy.energy_per_question_uj == pytest.approx(DYNAMIC_POWER_W * 8 * 2e-3 * 1e6)
    assert energy.clock_needed_hz == pytest.approx(energy.cycles_per_tick * 1.2 / 2e-3)
    assert energy.fits_main_clock
    with pytest.raises(ValueError, match="record=True"):
        estimate_energy(spec, counts, simulate(spec, counts, record=False))

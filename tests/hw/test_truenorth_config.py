"""Exported core configurations: round trip, and every out-of-range field refused by name."""

import copy
import json

import numpy as np
import pytest

from rnn2snn.errors import ConfigFileError, HardwareLimitError
from rnn2snn.targets.truenorth.config_io import config_from_dict, config_to_dict, load_config, save_config
from rnn2snn.targets.truenorth.placement import place


@pytest.fixture(scope="module")
def exported(small_run):
    return config_to_dict(place(small_run.snn))


def test_round_trip(small_run, tmp_path, exported):
    cfg = place(small_run.snn)
    back = load_config(save_config(cfg, tmp_path / "tn.json"))
    assert config_to_dict(back) == exported
    core = back.cores[0]
    assert core.n_axons <= 256 and core.n_neurons <= 256
    assert np.array_equal(core.crossbar, cfg.cores[0].crossbar)


def test_placement_matches_resource_count(small_run, exported):
    r = small_run.resources
    assert len(exported["cores"]) == r.cores
    assert sum(len(c["axons"]) for c in exported["cores"]) == r.axons
    assert sum(len(c["neurons"]) for c in exported["cores"]) == r.neurons
    assert exported["version"] == 2 and exported["format"] == "rnn2snn-truenorth"


def _with(exported, edit):
    data = copy.deepcopy(exported)
    edit(data)
    return data


def _first_target(data):
    return next(n["target"] for n in data["cores"][0]["neurons"] if n["target"])


@pytest.mark.parametrize("edit,error,match", [
    (lambda d: d["cores"][0]["neurons"][0]["weights"].__setitem__(1, 256), HardwareLimitError,
     r"cores\[0\]\.neurons\[0\]\.weights\[1\]=256 .*-255…255"),
    (lambda d: _first_target(d).__setitem__("delay", 0), HardwareLimitError,
     r"target\.delay=0 .*1…15"),
    (lambda d: _first_target(d).__setitem__("delay", 16), HardwareLimitError,
     r"target\.delay=16 .*1…15"),
    (lambda d: _first_target(d).__setitem__("core", 3), ConfigFileError,
     r"target\.core: core 3 does not exist"),
    (lambda d: d["cores"][0]["neurons"][2].__setitem__("threshold", 2**18), HardwareLimitError,
     r"cores\[0\]\.neurons\[2\]\.threshold=262144 .*1…262143"),
    (lambda d: d["cores"][0]["axons"].append({"type": 0}), HardwareLimitError, r"257 axons"),
    (lambda d: d["cores"][0]["axons"].__setitem__(0, {"type": 4}), HardwareLimitError,
     r"axons\[0\]\.type=4"),
    (lambda d: d["cores"][0]["crossbar"].__setitem__(0, "01"), ConfigFileError,
     r"crossbar\[0\]"),
    (lambda d: d["cores"][0]["neurons"][0].pop("leak"), ConfigFileError,
     r"neurons\[0\]\.leak: missing"),
    (lambda d: d.__setitem__("version", 7), ConfigFileError, r"version"),
])
def test_out_of_range_fields_are_refused(exported, edit, error, match):
    with pytest.raises(error, match=match):
        config_from_dict(_with(exported, edit), "tn.json")


def test_257th_axon_with_a_full_crossbar_row(exported):
    def add_axon(d):
        core = d["cores"][0]
        while len(core["axons"]) <= 256:
            core["axons"].append({"type": 1})
            core["crossbar"].append("0" * len(core["neurons"]))
    with pytest.raises(HardwareLimitError, match="257 axons, over the limit of 256"):
        config_from_dict(_with(exported, add_axon), "tn.json")


def test_257th_neuron_refused(exported):
    def add_neurons(d):
        core = d["cores"][0]
        while len(core["neurons"]) <= 256:
            core["neurons"].append(copy.deepcopy(core["neurons"][0]))
        core["crossbar"] = [row + "0" * (257 - len(row)) for row in core["crossbar"]]
    with pytest.raises(HardwareLimitError, match="257 neurons, over the limit of 256"):
        config_from_dict(_with(exported, add_neurons), "tn.json")


def test_truncated_and_non_json_files(tmp_path, exported):
    f = tmp_path / "tn.json"
    text = json.dumps(exported)
    f.write_text(text[: len(text) // 2])
    with pytest.raises(ConfigFileError, match="tn.json: not valid JSON"):
        load_config(f)
    f.write_text("hello")
    with pytest.raises(ConfigFileError, match="not valid JSON"):
        load_config(f)
    f.write_text("[1, 2]")
    with pytest.raises(ConfigFileError, match="format"):
        load_config(f)

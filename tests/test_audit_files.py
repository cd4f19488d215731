"""Issue 16, fault audit: files, export, predict, verify, NIR, crosscheck and sweep end clear.

Each case is an early error naming the problem and its place, or correct behaviour. Cases that
need an ordinary user's permissions run in a subprocess as root without the capabilities that
override file permissions (``setpriv``), since the tests run as root here.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from extras import need, needs

from rnn2snn import rundir
from rnn2snn._atomic import remove_stale, temp_name, write_atomic, write_text_atomic
from rnn2snn.cli import main
from rnn2snn.errors import ModelFileError, OutputFileError, Rnn2SnnError
from rnn2snn.program import save_program
from rnn2snn.program.io import ARRAYS_FILE, JSON_FILE
from rnn2snn.program.network import SpikingConfig
from rnn2snn.program.spec import FeatureEncoder, Readout, RecurrentLayer, SpikingProgram, TokenEncoder
from rnn2snn.rundir import lock_folder, write_folder_atomic

ROOT = Path(__file__).resolve().parents[1]
VOCAB = ("<pad>", "<unk>", "who", "what", "is", "good", "bad")


def tiny_program(classes=("neg", "pos"), features=False, seed=0, h=6, p=5) -> SpikingProgram:
    """A small random program (no training): enough for the file and command-line paths."""
    rng = np.random.default_rng(seed)
    if features:
        encoder = FeatureEncoder(rng.normal(size=(p, 3)).astype(np.float32) * 4, np.zeros(p, np.float32))
    else:
        table = rng.integers(0, 16, size=(len(VOCAB), p))
        table[0] = 0
        encoder = TokenEncoder(table, VOCAB)
    layer = RecurrentLayer(rng.integers(-8, 8, size=(h, p)), rng.integers(-8, 8, size=(h, h)), 20)
    readout = Readout("mean", rng.normal(size=(len(classes), h)), np.zeros(len(classes)))
    return SpikingProgram(encoder, (layer,), SpikingConfig(), readout, classes)


@pytest.fixture
def model(tmp_path) -> Path:
    return save_program(tiny_program(), tmp_path / "model")


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _as_user(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python under ordinary file permissions: as root, without the
    capabilities that override them (an unprivileged user runs it as it is)."""
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to drop root's permission override")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    return subprocess.run([*prefix, sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


# --- a. modes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)])
def test_program_files_follow_the_umask(tmp_path, mask, file_mode, dir_mode):
    old = os.umask(mask)
    try:
        out = save_program(tiny_program(), tmp_path / "model")
        single = write_text_atomic(tmp_path / "t.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == dir_mode
    for f in (out / ARRAYS_FILE, out / JSON_FILE, single):
        assert stat.S_IMODE(f.stat().st_mode) == file_mode, f


def test_an_unreadable_program_file_is_a_clear_error(model):
    os.chmod(model / ARRAYS_FILE, 0o600)
    os.chown(model / ARRAYS_FILE, 65534, 65534)  # another user's, readable by its owner only
    os.chmod(model.parent, 0o755)
    r = _as_user(f"from rnn2snn.cli import main; raise SystemExit(main(['predict', '--model', "
                 f"{str(model)!r}, 'who is good']))", model.parent)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == f"rnn2snn: error: {model / ARRAYS_FILE}: cannot read: Permission denied"


# --- b. devices and write errors ----------------------------------------------------------------
def _special_files(tmp_path) -> list[Path]:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    out = [fifo]
    try:  # a copy of /dev/full's node, so no test can ever touch the real one
        os.mknod(tmp_path / "full", 0o666 | stat.S_IFCHR, os.stat("/dev/full").st_rdev)
        out.append(tmp_path / "full")
    except (PermissionError, FileNotFoundError):
        pass
    return out


@pytest.mark.parametrize("fmt", ["truenorth", "nir"])
def test_export_never_replaces_a_device_or_a_pipe(model, tmp_path, capsys, fmt):
    for node in _special_files(tmp_path):
        before = os.stat(node)
        assert main(["export", "--model", str(model), "--format", fmt, "--out", str(node), "--force"]) == 2
        kind = "named pipe" if node.name == "pipe" else "character device"
        assert capsys.readouterr().err.strip() == (
            f"rnn2snn: error: --out {node}: is a {kind}, not a regular file; rnn2snn writes only "
            "regular files (name a new file)")
        after = os.stat(node)
        assert (after.st_mode, after.st_rdev, after.st_ino) == (before.st_mode, before.st_rdev, before.st_ino)
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("code, reason", [(errno.ENOSPC, "No space left on device"),
                                          (errno.EACCES, "Permission denied"),
                                          (errno.EROFS, "Read-only file system")])
def test_write_errors_name_the_path_and_leave_nothing(tmp_path, code, reason):
    def fail(_):
        raise OSError(code, os.strerror(code))

    with pytest.raises(OutputFileError) as caught:
        write_atomic(tmp_path / "out.json", fail)
    assert str(caught.value) == f"{tmp_path / 'out.json'}: cannot write it: {reason}"
    with pytest.raises(OutputFileError, match=f"{tmp_path / 'run'}: cannot write it: {reason}"):
        write_folder_atomic(tmp_path / "run", fail)
    assert list(tmp_path.iterdir()) == []


def test_export_to_a_read_only_folder_names_it(model, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    os.chmod(tmp_path, 0o755)
    r = _as_user(f"from rnn2snn.cli import main; raise SystemExit(main(['export', '--model', "
                 f"{str(model)!r}, '--out', {str(ro / 'tn.json')!r}]))", tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == f"rnn2snn: error: {ro / 'tn.json'}: cannot write it: Permission denied"
    assert list(ro.iterdir()) == []


# --- c. overwriting ------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt, kind", [("truenorth", "TrueNorth configuration"),
                                       pytest.param("nir", "NIR graph", marks=needs("nir"))])
def test_export_replaces_only_an_earlier_export_unless_forced(model, tmp_path, capsys, fmt, kind):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    assert main(["export", "--model", str(model), "--format", fmt, "--out", str(notes)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"rnn2snn: error: --out {notes}: exists and is not a {kind} written by rnn2snn export; not "
        "overwriting it (name another file, or pass --force)")
    assert notes.read_text() == "my notes\n"
    out = tmp_path / "export.out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["export", "--model", str(model), "--format", fmt, "--out", str(out)]) == 0
        assert main(["export", "--model", str(model), "--format", fmt, "--out", str(out)]) == 0  # again
        assert main(["export", "--model", str(model), "--format", fmt, "--out", str(notes), "--force"]) == 0
    assert notes.read_bytes() == out.read_bytes()
    other = "nir" if fmt == "truenorth" else "truenorth"  # an export of the other format is not ours
    assert main(["export", "--model", str(model), "--format", other, "--out", str(out)]) == 2


def test_export_help_states_the_overwrite_rule(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "an earlier export of the same format, which is replaced; any other file is refused" in text
    assert "--force" in text


# --- d. read-only folder --------------------------------------------------------------------------
def test_save_program_onto_a_read_only_folder_is_refused_before_writing(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    os.chmod(tmp_path, 0o755)
    code = ("import sys; sys.path.insert(0, {!r}); from test_audit_files import tiny_program\n"
            "from rnn2snn.program import save_program\n"
            "from rnn2snn.errors import OutputFileError\n"
            "try:\n    save_program(tiny_program(), {!r})\n"
            "except OutputFileError as exc:\n    print(exc)\n").format(str(ROOT / "tests"), str(ro / "model"))
    r = _as_user(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{ro / 'model'}: cannot write it: Permission denied"
    assert list(ro.iterdir()) == []


# --- e. what killed or interrupted writes leave ------------------------------------------------
_SLOW_WRITE = """
import sys, time
from pathlib import Path
from rnn2snn.rundir import write_folder_atomic
from rnn2snn._atomic import write_atomic
target, kind = Path(sys.argv[1]), sys.argv[2]
def slow(p):
    (p / "results.json" if kind == "folder" else p).write_text("new")
    print("writing", flush=True)
    time.sleep(30)
(write_folder_atomic if kind == "folder" else write_atomic)(target, slow)
"""


def _start_slow_write(target: Path, kind: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITE, str(target), kind],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    return proc


def _previous_version(target, kind):
    """``target`` holding an earlier version ("old"): a run folder or a file."""
    if kind == "folder":
        write_folder_atomic(target, lambda d: (d / "results.json").write_text("old"))
    else:
        target.write_text("old")
    return target


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_a_killed_write_is_cleaned_by_the_next_one(tmp_path, kind):
    target = _previous_version(tmp_path / "run", kind)
    proc = _start_slow_write(target, kind)
    proc.kill()
    proc.wait()
    assert len(_hidden(tmp_path)) == 1  # what SIGKILL leaves
    live = temp_name(target, "tmp")  # a write by this (live) process: left alone
    live.mkdir()
    if kind == "folder":
        write_folder_atomic(target, lambda d: (d / "results.json").write_text("next"))
        assert (target / "results.json").read_text() == "next"
    else:
        write_text_atomic(target, "next")
        assert target.read_text() == "next"
    assert _hidden(tmp_path) == [live.name]


def test_a_write_killed_mid_swap_gets_its_previous_run_back(tmp_path):
    target = tmp_path / "run"
    write_folder_atomic(target, lambda d: (d / "results.json").write_text("old"))
    pid = _dead_pid()
    old = tmp_path / f".run.{pid}.0123456789ab.old"
    new = tmp_path / f".run.{pid}.ba9876543210.tmp"
    os.rename(target, old)  # the state SIGKILL leaves between the two renames
    new.mkdir()
    (new / "results.json").write_text("new")
    assert sorted(p.name for p in remove_stale(target)) == sorted([old.name, new.name])
    assert (target / "results.json").read_text() == "old" and _hidden(tmp_path) == []


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_sigint_during_a_write_leaves_the_previous_and_nothing_else(tmp_path, kind):
    target = _previous_version(tmp_path / "run", kind)
    proc = _start_slow_write(target, kind)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    assert (target / "results.json" if kind == "folder" else target).read_text() == "old"
    assert _hidden(tmp_path) == []


def test_sigint_during_the_swap_is_acted_on_once_the_swap_is_done(tmp_path, monkeypatch):
    target = tmp_path / "run"
    write_folder_atomic(target, lambda d: (d / "results.json").write_text("old"))
    real = shutil.rmtree

    def interrupted_rmtree(path, *args, **kwargs):  # Ctrl-C while the old run is being removed
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(rundir.shutil, "rmtree", interrupted_rmtree)
    with pytest.raises(KeyboardInterrupt):
        write_folder_atomic(target, lambda d: (d / "results.json").write_text("new"))
    monkeypatch.undo()
    assert (target / "results.json").read_text() == "new" and _hidden(tmp_path) == []


# --- f. two runs on one folder -------------------------------------------------------------------
def test_a_second_run_on_one_out_is_refused_naming_the_folder(tmp_path):
    out = tmp_path / "runs" / "a"
    with lock_folder(out):
        with pytest.raises(OutputFileError) as caught:
            lock_folder(out)
        assert str(caught.value) == (f"--out {out}: another rnn2snn run (process {os.getpid()}) is "
                                     "writing this folder; wait for it to finish or choose another --out")
        with lock_folder(tmp_path / "runs" / "b"):  # another folder beside it: free
            pass
    with lock_folder(out):  # released: free again
        pass
    assert not (tmp_path / "runs").exists()  # the lock made its parent and removed it


def test_reproduce_and_sweep_take_the_lock_before_training(tmp_path, capsys, monkeypatch):
    import rnn2snn.pipeline

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(rnn2snn.pipeline, "run_pipeline", no_training)
    out = tmp_path / "run"
    code = ("import sys, time; from rnn2snn.rundir import lock_folder\n"
            f"lock = lock_folder({str(out)!r}); print('locked', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["reproduce", "--preset", "tiny", "--quiet", "--out", str(out)]) == 2
        assert capsys.readouterr().err.strip() == (
            f"rnn2snn: error: --out {out}: another rnn2snn run (process {holder.pid}) is writing this "
            "folder; wait for it to finish or choose another --out")
        assert main(["sweep", "--grid", "hidden_dim=16", "--quiet", "--out", str(out)]) == 2
        assert f"--out {out}: another rnn2snn run (process {holder.pid})" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert not out.exists()


# --- g, h, i. predict's input -------------------------------------------------------------------
def _predict(model: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnn2snn.cli", "predict", "--model", str(model), *args],
                          input=stdin, capture_output=True, timeout=60)


def test_a_megabyte_question_is_refused_at_once_with_its_line(model, tmp_path, capsys):
    big = "what is good " * 80_000
    (tmp_path / "q.txt").write_text("who is good\n" + big + "\n")
    start = time.perf_counter()
    assert main(["predict", "--model", str(model), "--file", str(tmp_path / "q.txt")]) == 2
    assert time.perf_counter() - start < 2
    err = capsys.readouterr().err
    assert err.startswith(f"rnn2snn: error: {tmp_path / 'q.txt'}:2: 'what is good what is good") and (
        "(1,040,000 characters) is longer than a question may be (10,000 characters: 50 per word of "
        "--max-words 200); split it, or raise --max-words") in err
    assert main(["predict", "--model", str(model), " ".join(["good"] * 201)]) == 2
    assert capsys.readouterr().err.strip() == (
        "rnn2snn: error: argument 1: 201 words, more than --max-words 200; split it, or raise --max-words")
    assert main(["predict", "--model", str(model), "--max-words", "201", " ".join(["good"] * 201)]) == 0


def test_standard_input_is_read_like_a_file(model):
    junk = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    r = _predict(model, stdin=junk)
    assert r.returncode == 2 and r.stdout == b""
    assert re.fullmatch(r"rnn2snn: error: standard input:\d+: (NUL byte \(0x00\): a binary file, or text in "
                        r"UTF-16/32\? \(name the encoding, e\.g\. encoding='utf-16' \(--encoding\)\)|"
                        r"cannot decode byte 0x[0-9a-f]{2} as utf-8; .*)\n", r.stderr.decode()), r.stderr
    r = _predict(model, "--json", stdin=b"\xef\xbb\xbfwho is good\r\n\r\nwhat is bad\r")  # BOM, CRLF, CR
    assert r.returncode == 0, r.stderr
    assert [p["text"] for p in json.loads(r.stdout)] == ["who is good", "what is bad"]
    r = _predict(model, stdin="w\u00e9 is good\n".encode("latin-1"))
    assert r.returncode == 2 and r.stderr.decode().strip() == (
        "rnn2snn: error: standard input:1: cannot decode byte 0xe9 as utf-8; if the file is in another "
        "encoding, name it (e.g. encoding='iso-8859-1' (--encoding) or 'cp1252')")
    r = _predict(model, "--encoding", "latin-1", "--json", stdin="w\u00e9 is good\n".encode("latin-1"))
    assert r.returncode == 0 and json.loads(r.stdout)[0]["text"] == "w\u00e9 is good"


def test_undecodable_arguments_are_refused_so_json_stays_valid(model):
    r = _predict(model, "--json", "who is good", os.fsdecode(b"\xff ok"))
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr.decode().strip() == (
        "rnn2snn: error: argument 2: not valid utf-8 text (byte 0xff); pass the question in that "
        "encoding, or put it in a file and name the file's encoding (--file FILE --encoding ENC)")
    r = _predict(model, "--json", "wh\u00e9 is good")
    assert r.returncode == 0 and json.loads(r.stdout.decode("utf-8"))[0]["text"] == "wh\u00e9 is good"


# --- j, k, l. verify, NIR, crosscheck -------------------------------------------------------------
def test_verify_on_a_program_not_made_on_trec_asks_for_its_data(model, tmp_path, capsys):
    assert main(["verify", "--model", str(model)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"rnn2snn: error: --model {model}: its classes (neg, pos) are not TREC's, so verify cannot fall "
        "back to TREC; give the data the program was made from with --train FILE --test FILE (its test "
        "questions are run)")
    tr, te = tmp_path / "tr.txt", tmp_path / "te.txt"
    tr.write_text("pos who is good\nneg what is bad\n")
    te.write_text("pos who is good\nneg what is bad\n")
    assert main(["verify", "--model", str(model), "--train", str(tr), "--test", str(te)]) == 0
    assert "spike counts and predictions equal: yes" in capsys.readouterr().out
    features = save_program(tiny_program(features=True), tmp_path / "features")
    assert main(["verify", "--model", str(features)]) == 2
    assert "reads real-valued features" in capsys.readouterr().err


def test_a_truncated_nir_file_is_a_clear_error(model, tmp_path):
    need("nir")
    from rnn2snn.targets.nir.export import read_nir, write_nir

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = write_nir(tiny_program().spiking_network(), tmp_path / "g.nir")
    read_nir(path)
    cut = tmp_path / "cut.nir"
    cut.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ModelFileError, match=rf"^{cut}: not a readable NIR \(HDF5\) file: truncated: 2,000 "
                       rf"bytes of the {path.stat().st_size:,} it was written with; export it again "
                       r"\(rnn2snn export --format nir\)$"):
        read_nir(cut)
    with pytest.raises(ModelFileError, match=r"not a readable NIR \(HDF5\) file: file signature not found"):
        read_nir(model / JSON_FILE)
    with pytest.raises(ModelFileError, match=r"no such NIR file"):
        read_nir(tmp_path / "none.nir")


def _crosscheck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "crosscheck.py"), *args],
                          capture_output=True, text=True, timeout=60)


def test_crosscheck_refuses_bad_limits_and_programs_it_cannot_run(model, tmp_path):
    out = str(tmp_path / "o.json")
    for limit in ("-3", "0"):
        r = _crosscheck("--model", str(model), "--json", out, f"--limit={limit}")
        assert r.returncode == 2 and r.stderr.strip().endswith(
            f"crosscheck.py: error: argument --limit: must be ≥ 1, got {limit} (leave --limit out for all)")
    features = save_program(tiny_program(features=True), tmp_path / "features")
    r = _crosscheck("--model", str(features), "--json", out)
    assert r.returncode == 2 and r.stderr.strip().endswith(
        f"crosscheck.py: error: --model {features}: this program reads real-valued features, not TREC "
        "questions; cross-check it from Python with norse_crosscheck(snn, x, lengths, readout_fn) on your "
        "feature arrays")
    r = _crosscheck("--model", str(model), "--json", out)
    assert r.returncode == 2 and r.stderr.strip().endswith(
        f"crosscheck.py: error: --model {model}: its classes (neg, pos) are not TREC's; this benchmark runs "
        "TREC's test questions")
    assert not Path(out).exists()


# --- m, n, o. sweep -----------------------------------------------------------------------------
def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


def test_an_unreachable_ray_address_is_refused_at_once(tmp_path, capsys):
    port = _closed_port()
    start = time.perf_counter()
    assert main(["sweep", "--grid", "hidden_dim=16", "--backend", "ray", "--ray-address",
                 f"127.0.0.1:{port}", "--quiet", "--out", str(tmp_path / "sw")]) == 2
    assert time.perf_counter() - start < 5
    assert capsys.readouterr().err.strip() == (
        f"rnn2snn: error: ray_address='127.0.0.1:{port}' (--ray-address): nothing answers at "
        f"127.0.0.1:{port} (Connection refused); start the cluster there (ray start --head --port {port}) or "
        "leave ray_address out to start a local one")
    assert main(["sweep", "--grid", "hidden_dim=16", "--ray-address", f"127.0.0.1:{port}",
                 "--out", str(tmp_path / "sw")]) == 2
    assert "--ray-address names a Ray cluster; it goes with --backend ray" in capsys.readouterr().err
    from rnn2snn.sweep import check_ray_address

    with pytest.raises(Rnn2SnnError, match=r"expected HOST:PORT or ray://HOST:PORT"):
        check_ray_address("nonsense")
    assert list(tmp_path.iterdir()) == []


_POOL = """
import time
from rnn2snn.sweep import local_pool
pool = local_pool(2)
for f in [pool.submit(time.sleep, 0.2) for _ in range(4)]:
    f.result()
print(" ".join(str(p) for p in pool._processes), flush=True)
time.sleep(60)
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux's")
def test_local_workers_end_when_the_sweep_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", _POOL], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert len(workers) == 2 and all(_running(p) for p in workers)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while any(_running(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in workers if _running(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert left == []


_RAY_PARENT = """
import os, time, ray
from rnn2snn.sweep import _start_ray_watchdog
ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
_start_ray_watchdog(ray)
roots = {p.process.pid for ps in ray._private.worker._global_node.all_processes.values() for p in ps}
time.sleep(3)  # the raylet's agents start
kids = [int(d) for d in os.listdir("/proc") if d.isdigit() and os.path.exists(f"/proc/{d}/stat")
        and int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1]) in roots]
print(" ".join(str(p) for p in sorted(roots | set(kids))), flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_local_ray_cluster_ends_when_the_sweep_is_killed():
    """Audit #38: after SIGKILL of the parent, Ray's own clean-up left its dashboard and
    runtime-env agents running (~90 MB each); the sweep's watchdog ends them."""
    need("ray")
    parent = subprocess.Popen([sys.executable, "-c", _RAY_PARENT], stdout=subprocess.PIPE, text=True)
    ray_pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(ray_pids) >= 5 and all(_running(p) for p in ray_pids)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30
    while any(_running(p) for p in ray_pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in ray_pids if _running(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert left == []


def test_a_duplicated_grid_value_is_refused(capsys, tmp_path):
    from rnn2snn.presets import get_preset
    from rnn2snn.sweep import check_points

    assert main(["sweep", "--grid", "hidden_dim=16,24,16", "--out", str(tmp_path / "sw")]) == 2
    assert capsys.readouterr().err.strip() == (
        "rnn2snn: error: --grid 'hidden_dim=16,24,16': hidden_dim value 16 is given twice; each value "
        "runs once, so list it once")
    assert main(["sweep", "--grid", "lr=0.5,0.50", "--out", str(tmp_path / "sw")]) == 2
    assert "lr value 0.5 is given twice" in capsys.readouterr().err
    with pytest.raises(Rnn2SnnError, match=r"^grid: seed value 1 is given twice"):
        check_points({"seed": [1, 2, 1]}, get_preset("tiny"))


def test_a_ray_address_that_is_not_a_ray_cluster_is_refused_before_any_run():
    """A port that answers but is no Ray GCS (audit #37): ``ray.init`` would hang on it."""
    need("ray")
    import socket

    from rnn2snn.sweep import check_ray_address

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        start = time.perf_counter()
        with pytest.raises(Rnn2SnnError, match=rf"ray_address='127.0.0.1:{port}': something answers at "
                           rf"127.0.0.1:{port}, but not a running Ray cluster \(no Ray answer within 3 s\); "
                           rf"start the cluster there \(ray start --head --port {port}\)"):
            check_ray_address(f"127.0.0.1:{port}", health_timeout=3)
        assert time.perf_counter() - start < 10


def test_a_running_ray_cluster_passes_the_address_check():
    """The check's other side: a real cluster's GCS address is accepted."""
    need("ray")
    import ray

    from rnn2snn.sweep import check_ray_address

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        check_ray_address(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()

"""Run folders written as a whole: a reader sees the previous run or the new one, never a mix.

A run writes several files (results, report, plots, the model) that only make sense
together. They go into a hidden temporary folder beside the target, which is then
renamed into place; a previous run in the target is moved aside first and deleted
after. An interrupt or an error at any point leaves the previous run (or nothing)
where the target is, and no temporary folder behind; a process killed outright leaves
one, which the next write to the same target removes. Two runs on one folder are kept
apart by :func:`lock_folder`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from rnn2snn._atomic import cannot_write, deferred_interrupt, remove_stale, temp_name
from rnn2snn.errors import OutputFileError, Rnn2SnnError

#: The file that marks a folder as a finished run of each kind (written in the same rename).
RUN_MARKERS = {"run": "results.json", "sweep": "sweep.json"}


def is_run_folder(path: str | os.PathLike, kind: str = "run") -> bool:
    """Whether ``path`` is a folder holding a finished run of ``kind`` (its marker file)."""
    return (Path(path) / RUN_MARKERS[kind]).is_file()


def write_folder_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_folder)``, then rename the folder onto ``path``, replacing it whole.

    ``path`` must be absent or a folder (the caller decides whether an existing one may
    be replaced: :func:`rnn2snn.checks.check_output_dir`). What killed writes left beside
    it is cleaned first (:func:`rnn2snn._atomic.remove_stale`); a folder that cannot be
    created there (read-only, no permission) is refused before ``write`` runs.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(parent, exc, "create") from None
    remove_stale(path)
    tmp, old = temp_name(path, "tmp"), temp_name(path, "old")
    try:
        os.mkdir(tmp)  # the umask applies: the usual mode
    except OSError as exc:
        raise cannot_write(path, exc) from None
    moved = False
    try:
        write(tmp)
        with deferred_interrupt():
            if path.exists():
                os.rename(path, old)
                moved = True
            os.rename(tmp, path)
            if moved:
                shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        with deferred_interrupt():
            if moved and not path.exists():
                os.rename(old, path)  # put the previous run back
            elif moved:
                shutil.rmtree(old, ignore_errors=True)  # interrupted just after the swap
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, Rnn2SnnError):
            raise cannot_write(path, exc) from None
        raise
    return path


class FolderLock:
    """An exclusive ``fcntl.flock`` on ``.{name}.lock`` beside a folder, held until :meth:`release`
    (or until the object is collected, or the process ends: the kernel drops the lock)."""

    def __init__(self, fd: int, lock_path: Path, made: list[Path]) -> None:
        self.fd, self.path, self.made = fd, lock_path, made

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # while still held: a waiting opener sees a new file (see lock_folder)
        os.close(self.fd)
        self.fd = None
        for folder in self.made:  # the parents made for the lock, if the run left them empty
            with contextlib.suppress(OSError):
                folder.rmdir()

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()


def lock_folder(path: str | os.PathLike, flag: str = "--out") -> FolderLock:
    """Take the lock of the output folder ``path`` or refuse, naming it, if another run holds it.

    Why: two runs writing one folder would each replace it whole, and one run would be
    lost without a word. Taken before any long work; never waits.
    """
    path = Path(path)
    lock_path = path.parent / f".{path.name}.lock"
    made = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(path.parent, exc, "create") from None
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise cannot_write(lock_path, exc, "create") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise OutputFileError(
                f"{flag} {path}: another rnn2snn run (process {holder}) is writing this folder; "
                f"wait for it to finish or choose another {flag}") from None
        try:  # the file may have been released (unlinked) between our open and our lock: retry
            same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return FolderLock(fd, lock_path, made)

"""Run folders written as a whole: a reader sees the previous run or the new one, never a mix.

A run writes several files (results, report, plots, the model) that only make sense
together. They go into a hidden temporary folder beside the target, which is then
renamed into place; a previous run in the target is moved aside first and deleted
after. An interrupt or an error at any point leaves the previous run (or nothing)
where the target is, and no temporary folder behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

#: The file that marks a folder as a finished run of each kind (written in the same rename).
RUN_MARKERS = {"run": "results.json", "sweep": "sweep.json"}


def is_run_folder(path: str | os.PathLike, kind: str = "run") -> bool:
    """Whether ``path`` is a folder holding a finished run of ``kind`` (its marker file)."""
    return (Path(path) / RUN_MARKERS[kind]).is_file()


def write_folder_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_folder)``, then rename the folder onto ``path``, replacing it whole.

    ``path`` must be absent or a folder (the caller decides whether an existing one may
    be replaced: :func:`rnn2snn.checks.check_output_dir`).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder")
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    old = parent / f".{path.name}.{uuid.uuid4().hex[:12]}.old"
    moved = False
    try:
        write(tmp)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; give the usual mode
        if path.exists():
            os.rename(path, old)
            moved = True
        os.rename(tmp, path)
    except BaseException:
        if moved and not path.exists():
            os.rename(old, path)  # put the previous run back
        elif moved:
            shutil.rmtree(old, ignore_errors=True)  # interrupted just after the swap
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if moved:
        shutil.rmtree(old, ignore_errors=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

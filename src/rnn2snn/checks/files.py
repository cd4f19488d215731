"""File-system probes before a run: an input file can be read, an output folder can be
written and replaced as a whole."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rnn2snn.checks.params import ParameterError, named
from rnn2snn.rundir import RUN_MARKERS, is_run_folder


def check_readable_file(parameter: str, path) -> Path:
    """An existing regular file that can be opened for reading."""
    p = Path(path)
    if not p.exists():
        raise ParameterError(parameter, f"{named(parameter, str(path))}: no such file")
    if not p.is_file():
        raise ParameterError(parameter, f"{named(parameter, str(path))} is not a file")
    try:
        with p.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise ParameterError(parameter, f"{named(parameter, str(path))} cannot be read "
                                        f"({exc.strerror or exc})") from None
    return p


def check_output_dir(path, kind: str = "run") -> Path:
    """The absolute folder a run of ``kind`` ("run" or "sweep") will be written to; creates nothing.

    Accepted: a path that does not exist yet, an empty folder, or the folder of a previous
    run of the same kind (it holds ``results.json`` / ``sweep.json``), which the new run
    replaces as a whole (:func:`rnn2snn.rundir.write_folder_atomic`). Refused, naming
    the path: an existing file or device (``/dev/null``), a folder holding anything else
    (it would be deleted), the current folder or one containing it, and a place where
    the folder cannot be created (a parent that is a file, read-only or not writable,
    probed by creating and removing an empty folder there).
    """
    given = str(path)
    if not given.strip():
        raise ParameterError("out", "--out is empty; name the folder to write")
    try:
        return _check_output_dir(given, kind)
    except OSError as exc:  # a name too long, a loop of links, an unreadable folder …
        raise ParameterError("out", f"--out {given}: cannot be used ({exc.strerror or exc})") from None


def _check_output_dir(given: str, kind: str) -> Path:
    p = Path(os.path.realpath(Path(given).expanduser()))
    marker = RUN_MARKERS[kind]
    if p.exists() or p.is_symlink():
        if not p.is_dir():
            raise ParameterError("out", f"--out {given} exists and is not a folder; name a new or "
                                        f"empty folder (or a previous run's, to replace it)")
        cwd = Path.cwd().resolve()
        if p == cwd or p in cwd.parents:
            raise ParameterError("out", f"--out {given} is the current folder or contains it; name "
                                        f"a folder inside it, e.g. --out runs/{kind}")
        if any(p.iterdir()) and not is_run_folder(p, kind):
            raise ParameterError(
                "out", f"--out {given} is a folder that holds other files and no {marker}, so it is "
                       f"not a previous {kind}; the {kind} replaces its folder as a whole, so name a "
                       f"new or empty folder")
    base = p.parent
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise ParameterError("out", f"--out {given}: {base} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".rnn2snn-probe-", dir=base))
    except OSError as exc:
        raise ParameterError("out", f"--out {given}: cannot create folders in {base} "
                                    f"({exc.strerror or exc})") from None
    return p

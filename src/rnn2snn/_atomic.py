"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Why the details: a temporary file lives beside its target (one file system, so the
rename is atomic on POSIX) and is named ``.{target}.{pid}.{random}.tmp``. A process
killed mid-write (SIGKILL, power loss) leaves one behind; the next write to the same
target removes those whose process is gone (:func:`remove_stale`), and only those. An
interrupt (SIGINT) during the final swap is held back until the swap is done
(:func:`deferred_interrupt`), so Ctrl-C leaves the old file or the new one and nothing
else. Only regular files are written or replaced: a device such as ``/dev/full`` is
refused, never turned into a file. A failing write (disk full, permission denied,
read-only file system) is an :class:`~rnn2snn.errors.OutputFileError` naming the path.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from rnn2snn.errors import OutputFileError, Rnn2SnnError

_KINDS = ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "named pipe"),
          (stat.S_ISSOCK, "socket"))


def cannot_write(path: str | os.PathLike, exc: OSError, doing: str = "write") -> OutputFileError:
    """The error for an operating-system refusal to write ``path`` (the reason in its words)."""
    return OutputFileError(f"{path}: cannot {doing} it: {exc.strerror or exc}")


def check_target_file(path: str | os.PathLike) -> Path:
    """``path`` (a symbolic link resolved to its target) if it is new or a regular file.

    Refused, naming it: a folder, a device, a pipe or a socket (``/dev/full``,
    ``/dev/null``): they are never replaced by a file.
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise cannot_write(path, exc, "use") from None
    if stat.S_ISDIR(mode):
        raise OutputFileError(f"{path}: is a folder; give a file name")
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "special file")
        raise OutputFileError(f"{path}: is a {kind}, not a regular file; rnn2snn writes only regular "
                              f"files (name a new file)")
    return path


def temp_name(target: Path, suffix: str) -> Path:
    """A hidden name beside ``target`` that carries this process's id (see :func:`remove_stale`)."""
    return target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}.{suffix}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale(target: Path) -> list[Path]:
    """Remove what writes to ``target`` by processes that are gone left beside it; return it.

    Only names made by :func:`temp_name` whose process no longer runs are touched. A
    folder moved aside (``.old``) while no folder is at ``target`` is the previous run of
    a write killed mid-swap: it is put back instead of removed.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[0-9a-f]{{12}}\.(tmp|old)")
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    removed = []
    for entry in sorted(entries, key=lambda e: e.name.endswith(".old")):  # .tmp first
        match = pattern.fullmatch(entry.name)
        if not match or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        stale = Path(entry.path)
        with contextlib.suppress(OSError):
            if match.group(2) == "old" and not os.path.lexists(target):
                os.rename(stale, target)
            elif entry.is_dir(follow_symlinks=False):
                shutil.rmtree(stale)
            else:
                stale.unlink()
            removed.append(stale)
    return removed


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold back SIGINT for the few calls that swap a new file or folder into place.

    A Ctrl-C in between is acted on (as it would have been) once the block is done. Only
    the main thread can set signal handlers; elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and previous is not signal.SIG_IGN:
            if callable(previous):
                previous(signal.SIGINT, None)  # Python's default raises KeyboardInterrupt here
            else:
                signal.raise_signal(signal.SIGINT)


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``; return the path.

    The file gets the usual mode (``0o666`` less the umask); a target that is not a
    regular file or a new path is refused first (:func:`check_target_file`).
    """
    path = check_target_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(path.parent, exc, "create") from None
    remove_stale(path)
    tmp = temp_name(path, "tmp")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the umask applies
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        write(tmp)
        os.chmod(tmp, file_mode())  # in case ``write`` made the file anew with its own mode
        with deferred_interrupt():
            os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, Rnn2SnnError):
            raise cannot_write(path, exc) from None
        raise
    return path


def file_mode() -> int:
    """The mode a new file gets (``0o666`` less the umask), for files a library writes with its own."""
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (no race with threads)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status", encoding="ascii") as status:
            return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    return write_atomic(path, lambda p: p.write_bytes(data))


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json_atomic(path: str | os.PathLike, obj: object) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")

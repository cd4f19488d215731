"""TREC question classification (Li & Roth 2002): the packaged copy, a folder, or a download.

Where the files come from, in order:

1. the ``data_dir`` argument (the CLI's ``--data-dir``), else the
   ``RNN2SNN_DATA_DIR`` environment variable: a folder holding both files;
2. otherwise the copy shipped inside this package (``trec_files/``, read through
   :mod:`importlib.resources` and checked against its sha256 digests), so a fresh
   install runs offline with no flags.

Downloading from the original distribution happens only when asked
(``allow_download=True``): into ``data_dir`` when it lacks the files, or into the
user cache (``$RNN2SNN_CACHE`` or ``~/.cache/rnn2snn/trec``) when the packaged copy
is missing or damaged. The files are ISO-8859-1; provenance in ``trec_files/README.md``.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections import Counter
from importlib import resources
from pathlib import Path

from rnn2snn._atomic import write_bytes_atomic
from rnn2snn.data.reading import decode_lines, read_file_bytes
from rnn2snn.data.text import Examples, parse_labeled_lines
from rnn2snn.errors import DataFormatError, DataUnavailableError

BASE_URL = "https://cogcomp.seas.upenn.edu/Data/QA/QC/"
TRAIN_FILE, TEST_FILE = "train_5500.label", "TREC_10.label"
ENCODING = "iso-8859-1"
COARSE_CLASSES = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
#: Known digests (sha256) of the files; two public copies of the training file exist.
KNOWN_SHA256 = {
    TRAIN_FILE: {
        "9e4c8bdcaffb96ed61041bd64b564183d52793a8e91d84fc3a8646885f466ec3",
        "b480600c6e1f3529dfa323df0f3a244e6349824de5f6ab0d93261ca854a54992",
    },
    TEST_FILE: {"033f22c028c2bbba9ca682f68ffe204dc1aa6e1cf35dd6207f2d4ca67f0d0e8e"},
}
#: The digests of the copies inside the package (the original distribution's files).
PACKAGED_SHA256 = {
    TRAIN_FILE: "9e4c8bdcaffb96ed61041bd64b564183d52793a8e91d84fc3a8646885f466ec3",
    TEST_FILE: "033f22c028c2bbba9ca682f68ffe204dc1aa6e1cf35dd6207f2d4ca67f0d0e8e",
}
PACKAGED_DIR = "trec_files"  # inside the package rnn2snn.data
EXPECTED_LINES = {TRAIN_FILE: 5452, TEST_FILE: 500}
ENV_DATA_DIR, ENV_CACHE = "RNN2SNN_DATA_DIR", "RNN2SNN_CACHE"


def _label_map(level: str):
    if level not in ("coarse", "fine"):
        raise DataFormatError(f"labels must be 'coarse' or 'fine' (--labels), got {level!r}")

    def convert(raw: str) -> str:
        coarse, sep, fine = raw.partition(":")
        if not sep or coarse not in COARSE_CLASSES or not fine:
            raise ValueError(f"label {raw[:40]!r} is not a TREC label COARSE:fine")
        return coarse if level == "coarse" else raw

    return convert


def trec_label_set(classes) -> str | None:
    """``"coarse"`` or ``"fine"`` if ``classes`` are (some of) that TREC label set, else None:
    whether a program was made on TREC, so that TREC may stand in for its test data."""
    if set(classes) <= set(COARSE_CLASSES):
        return "coarse"
    if all(c.partition(":")[0] in COARSE_CLASSES and c.partition(":")[2] for c in classes):
        return "fine"
    return None


def parse_trec(data: bytes, source: str, labels: str = "coarse") -> Examples:
    """Parse the bytes of a TREC file (ISO-8859-1) into examples."""
    label_map = _label_map(labels)
    return parse_labeled_lines(decode_lines(data, ENCODING, source), source, label_map)


def validate_trec(data: bytes, name: str) -> None:
    """Accept a known digest, or else a file whose structure is TREC's.

    Structure: the expected number of lines, every label ``COARSE:fine`` with one
    of the six coarse classes, and all six classes present.
    """
    if hashlib.sha256(data).hexdigest() in KNOWN_SHA256[name]:
        return
    examples = parse_trec(data, name)
    if len(examples) != EXPECTED_LINES[name]:
        raise DataFormatError(
            f"{name}: {len(examples)} questions, expected {EXPECTED_LINES[name]}"
        )
    missing = set(COARSE_CLASSES) - set(Counter(examples.labels))
    if missing:
        raise DataFormatError(f"{name}: classes {sorted(missing)} are missing")


# --- the packaged copy --------------------------------------------------------------------------
def _packaged(name: str):
    return resources.files(__package__).joinpath(PACKAGED_DIR).joinpath(name)


def read_packaged(name: str) -> bytes:
    """The bytes of one packaged TREC file, checked against its sha256 digest.

    Raises ``DataUnavailableError`` if the file is missing from the installation and
    ``DataFormatError`` if its digest differs (a damaged or altered copy).
    """
    if name not in PACKAGED_SHA256:
        raise DataFormatError(f"no packaged TREC file {name!r}; there are {sorted(PACKAGED_SHA256)}")
    try:
        data = _packaged(name).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise DataUnavailableError(
            f"the TREC copy inside the package is missing ({PACKAGED_DIR}/{name}); reinstall "
            f"rnn2snn, pass --data-dir DIR with {TRAIN_FILE} and {TEST_FILE}, or allow the "
            f"download from {BASE_URL}"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != PACKAGED_SHA256[name]:
        raise DataFormatError(
            f"the TREC copy inside the package is damaged: {PACKAGED_DIR}/{name} has sha256 "
            f"{digest[:16]}…, expected {PACKAGED_SHA256[name][:16]}… (reinstall rnn2snn, or pass "
            f"--data-dir DIR)"
        )
    return data


def packaged_trec_dir() -> Path:
    """The folder of the packaged TREC files on disk (for tools that want paths).

    The files are checked by digest first. When the package is not unpacked on a
    file system (a zip import), they are copied into the user cache and that folder
    is returned.
    """
    blobs = {name: read_packaged(name) for name in (TRAIN_FILE, TEST_FILE)}
    folder = _packaged(TRAIN_FILE)
    if isinstance(folder, Path):
        return folder.parent
    target = cache_dir()
    for name, data in blobs.items():
        if not (target / name).is_file() or (target / name).read_bytes() != data:
            write_bytes_atomic(target / name, data)
    return target


# --- folders and downloads ----------------------------------------------------------------------
def cache_dir() -> Path:
    return Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "rnn2snn") / "trec"


def download(name: str, target_dir: Path, timeout: float = 30.0) -> Path:
    """Download one file from the original distribution, validate it, store it atomically."""
    url = BASE_URL + name
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DataUnavailableError(
            f"TREC file {name} could not be downloaded from {url} ({exc}). Pass --data-dir DIR "
            f"(or set {ENV_DATA_DIR}) to a folder holding {TRAIN_FILE} and {TEST_FILE}, or "
            f"leave both unset to use the copy inside the package."
        ) from None
    validate_trec(data, name)
    return write_bytes_atomic(target_dir / name, data)


def _explicit_dir(data_dir) -> Path | None:
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(ENV_DATA_DIR)
    return Path(env) if env else None


def locate_trec(data_dir: str | os.PathLike | None = None, allow_download: bool = False) -> Path:
    """Return a folder holding both TREC files (see the module docstring for the order).

    With no ``data_dir`` and no ``RNN2SNN_DATA_DIR`` this is the packaged copy's
    folder; a download happens only with ``allow_download=True``.
    """
    folder = _explicit_dir(data_dir)
    if folder is None:
        try:
            return packaged_trec_dir()
        except (DataUnavailableError, DataFormatError):
            if not allow_download:
                raise
            folder = cache_dir()
    if folder.exists() and not folder.is_dir():
        raise DataFormatError(f"--data-dir {folder} is a file, not a folder")
    missing = [n for n in (TRAIN_FILE, TEST_FILE) if not (folder / n).is_file()]
    if missing and not allow_download:
        raise DataUnavailableError(
            f"--data-dir {folder}: missing {', '.join(missing)}. Point --data-dir (or "
            f"{ENV_DATA_DIR}) at a folder with {TRAIN_FILE} and {TEST_FILE}, leave both unset "
            f"to use the copy inside the package, or allow the download from {BASE_URL}."
        )
    for name in missing:
        download(name, folder)
    return folder


def load_trec(
    data_dir: str | os.PathLike | None = None, labels: str = "coarse", allow_download: bool = False
) -> tuple[Examples, Examples]:
    """Load (train, test) TREC examples with coarse (6) or fine (50) labels.

    ``data_dir`` (or ``$RNN2SNN_DATA_DIR``): read from that folder; otherwise the
    packaged copy, checked by digest. ``allow_download``: fetch what is missing from
    the original distribution instead of refusing.
    """
    _label_map(labels)  # refuse a bad label set before reading anything
    if _explicit_dir(data_dir) is None:
        try:
            blobs = {name: read_packaged(name) for name in (TRAIN_FILE, TEST_FILE)}
            train, test = (parse_trec(data, f"rnn2snn/data/{PACKAGED_DIR}/{name}", labels)
                           for name, data in blobs.items())
            return train, test
        except (DataUnavailableError, DataFormatError):
            if not allow_download:
                raise
    folder = locate_trec(data_dir, allow_download)
    train, test = (parse_trec(read_file_bytes(folder / name), str(folder / name), labels)
                   for name in (TRAIN_FILE, TEST_FILE))
    return train, test

"""TREC question classification (Li & Roth 2002): find, download, validate, parse.

Where the files come from, in order: the ``data_dir`` argument (the CLI's
``--data-dir``), the ``RNN2SNN_DATA_DIR`` environment variable, the user cache
(``$RNN2SNN_CACHE`` or ``~/.cache/rnn2snn/trec``), and finally a download from
the original distribution into that cache. The files are ISO-8859-1.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from rnn2snn._atomic import write_bytes_atomic
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
EXPECTED_LINES = {TRAIN_FILE: 5452, TEST_FILE: 500}
ENV_DATA_DIR, ENV_CACHE = "RNN2SNN_DATA_DIR", "RNN2SNN_CACHE"


def _label_map(level: str):
    if level not in ("coarse", "fine"):
        raise ValueError(f"labels must be 'coarse' or 'fine', got {level!r}")

    def convert(raw: str) -> str:
        coarse, sep, fine = raw.partition(":")
        if not sep or coarse not in COARSE_CLASSES or not fine:
            raise ValueError(f"label {raw!r} is not a TREC label COARSE:fine")
        return coarse if level == "coarse" else raw

    return convert


def parse_trec(data: bytes, source: str, labels: str = "coarse") -> Examples:
    """Parse the bytes of a TREC file (ISO-8859-1) into examples."""
    text = data.decode(ENCODING)  # every byte is valid ISO-8859-1
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return parse_labeled_lines(lines, source, _label_map(labels))


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


def cache_dir() -> Path:
    return Path(os.environ.get(ENV_CACHE, Path.home() / ".cache" / "rnn2snn")) / "trec"


def download(name: str, target_dir: Path, timeout: float = 30.0) -> Path:
    """Download one file from the original distribution, validate it, store it atomically."""
    url = BASE_URL + name
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DataUnavailableError(
            f"TREC file {name} was not found locally and could not be downloaded from "
            f"{url} ({exc}). Pass --data-dir DIR (or set {ENV_DATA_DIR}) to a folder "
            f"holding {TRAIN_FILE} and {TEST_FILE}."
        ) from None
    validate_trec(data, name)
    return write_bytes_atomic(target_dir / name, data)


def locate_trec(data_dir: str | os.PathLike | None = None, allow_download: bool = True) -> Path:
    """Return a folder holding both TREC files, downloading them if needed."""
    explicit = data_dir if data_dir is not None else os.environ.get(ENV_DATA_DIR)
    if explicit is not None:
        folder = Path(explicit)
        missing = [n for n in (TRAIN_FILE, TEST_FILE) if not (folder / n).is_file()]
        if not missing:
            return folder
        raise DataUnavailableError(
            f"--data-dir {folder}: missing {', '.join(missing)}. Point --data-dir (or "
            f"{ENV_DATA_DIR}) at a folder with {TRAIN_FILE} and {TEST_FILE}, or leave it "
            f"unset to download them from {BASE_URL}."
        )
    folder = cache_dir()
    for name in (TRAIN_FILE, TEST_FILE):
        if not (folder / name).is_file():
            if not allow_download:
                raise DataUnavailableError(
                    f"TREC is not in the cache {folder} and downloading is off. Pass "
                    f"--data-dir DIR with {TRAIN_FILE} and {TEST_FILE}, or allow the "
                    f"download from {BASE_URL}."
                )
            download(name, folder)
    return folder


def load_trec(
    data_dir: str | os.PathLike | None = None, labels: str = "coarse", allow_download: bool = True
) -> tuple[Examples, Examples]:
    """Load (train, test) TREC examples with coarse (6) or fine (50) labels."""
    folder = locate_trec(data_dir, allow_download)
    out = []
    for name in (TRAIN_FILE, TEST_FILE):
        path = folder / name
        out.append(parse_trec(path.read_bytes(), str(path), labels))
    return out[0], out[1]

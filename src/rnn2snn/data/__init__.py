"""Stage 1 — data: labelled text files, TREC (shipped inside the package), vocabularies and splits."""

from rnn2snn.data.reading import check_encoding, read_lines
from rnn2snn.data.text import (
    DEFAULT_MAX_WORDS,
    Encoded,
    Examples,
    Vocabulary,
    encode,
    parse_labeled_lines,
    read_labeled_file,
    stratified_split,
    tokenize,
)
from rnn2snn.data.trec import load_trec, locate_trec, packaged_trec_dir

__all__ = [
    "DEFAULT_MAX_WORDS",
    "Encoded",
    "Examples",
    "Vocabulary",
    "check_encoding",
    "encode",
    "load_trec",
    "locate_trec",
    "packaged_trec_dir",
    "parse_labeled_lines",
    "read_labeled_file",
    "read_lines",
    "stratified_split",
    "tokenize",
]

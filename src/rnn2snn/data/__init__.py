"""Stage 1 — data: labelled text files, TREC, vocabularies and splits."""

from rnn2snn.data.text import (
    Encoded,
    Examples,
    Vocabulary,
    encode,
    parse_labeled_lines,
    read_labeled_file,
    stratified_split,
    tokenize,
)
from rnn2snn.data.trec import load_trec, locate_trec

__all__ = [
    "Encoded",
    "Examples",
    "Vocabulary",
    "encode",
    "load_trec",
    "locate_trec",
    "parse_labeled_lines",
    "read_labeled_file",
    "stratified_split",
    "tokenize",
]

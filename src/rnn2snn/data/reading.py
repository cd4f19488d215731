"""Text files to lines, refusing bad input early and in a few words.

Why a module of its own: every text a user hands over (training and test files,
questions for ``predict``) goes through the same checks — the file is readable,
the encoding exists, the bytes decode, a byte-order mark is dropped, and CR, CRLF
and LF all end a line — so each error reads the same and names the place.
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path

from rnn2snn.errors import DataFormatError, DataUnavailableError

#: Longest piece of a file quoted in an error message, in characters.
QUOTE_LIMIT = 60
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WIDE_ENCODINGS = ("utf-16", "utf-32")  # encodings in which NUL bytes are normal


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``repr(text)``, cut to ``limit`` characters so one huge line cannot flood the terminal."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


def check_encoding(encoding: str) -> str:
    """Return the codec's canonical name, or refuse a name Python has no text codec for.

    Checked before any file is read, so ``--encoding klingon`` fails at once.
    """
    hint = "name a text encoding such as utf-8, iso-8859-1 or cp1252"
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise DataFormatError(f"encoding={str(encoding)!r} is unknown; {hint}") from None
    if not getattr(info, "_is_text_encoding", True):  # e.g. 'base64', 'zlib'
        raise DataFormatError(f"encoding={encoding!r} is not a text encoding; {hint}")
    return info.name


def read_file_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a file; a missing, unreadable or folder path is a one-line error."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataUnavailableError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataFormatError(f"{path} is a folder, not a file") from None
    except PermissionError:
        raise DataUnavailableError(f"{path}: permission denied (the file cannot be read)") from None
    except OSError as exc:
        raise DataUnavailableError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _line_of(raw: bytes, offset: int, encoding: str) -> int:
    """1-based line of byte ``offset``, counting CR, CRLF and LF as line ends."""
    prefix = raw[:offset].decode(encoding, errors="replace")
    return len(_LINE_BREAK.findall(prefix)) + 1


def decode_lines(raw: bytes, encoding: str, source: str) -> list[str]:
    """Decode ``raw`` and split it into lines.

    Rules: the encoding is checked first; a NUL byte (binary data, or UTF-16/32
    read as something else) and an undecodable byte are errors naming
    ``source:line``; a byte-order mark is dropped; ``\\r\\n``, ``\\r`` and ``\\n``
    each end a line; blank lines at the end are dropped (blank lines elsewhere
    are left for the caller to judge).
    """
    name = check_encoding(encoding)
    if not name.startswith(_WIDE_ENCODINGS):
        nul = raw.find(b"\x00")
        if nul >= 0:
            raise DataFormatError(
                f"{source}:{_line_of(raw, nul, name)}: NUL byte (0x00): a binary file, or text in "
                f"UTF-16/32? (name the encoding, e.g. encoding='utf-16')"
            )
        if raw.startswith(codecs.BOM_UTF8) and not name.startswith("utf-8"):
            raise DataFormatError(
                f"{source}: starts with a UTF-8 byte-order mark but the encoding is {encoding}; "
                f"use encoding='utf-8'"
            )
    try:
        text = raw.decode(name)
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        raise DataFormatError(
            f"{source}:{_line_of(raw, exc.start, name)}: cannot decode byte {byte:#04x} as {encoding}; "
            f"if the file is in another encoding, name it (e.g. encoding='iso-8859-1' or 'cp1252')"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = _LINE_BREAK.split(text)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def read_lines(path: str | os.PathLike, encoding: str = "utf-8") -> list[str]:
    """The lines of a text file under the rules of :func:`decode_lines` (encoding checked first)."""
    check_encoding(encoding)
    return decode_lines(read_file_bytes(path), encoding, str(path))

"""Typed reading of a JSON tree that names the field path in every error — the one reader
of the program file (``program.json``) and the TrueNorth configuration file.

Why: a hand-edited or truncated file must be refused naming the field and what it should
hold, not fail later with a ``KeyError`` deep inside the simulator.
"""

from __future__ import annotations

from rnn2snn.errors import HardwareLimitError, Rnn2SnnError

_KINDS = {int: "an integer", bool: "true or false", str: "a string", list: "a list", float: "a number"}


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class JsonReader:
    """Reads the tree of the file ``source``; every refusal raises ``error`` (a
    :class:`~rnn2snn.errors.Rnn2SnnError`) as ``"<source>: <path>: <what>"``."""

    def __init__(self, source: str, error: type[Rnn2SnnError]):
        self.source = source
        self.error = error

    def fail(self, path: str, msg: str):
        raise self.error(f"{self.source}: {path}: {msg}")

    def no_unknown(self, obj: dict, path: str, known: set[str]) -> None:
        """Refuse a field the format does not have (a typo would otherwise be ignored)."""
        extra = sorted(set(obj) - known)
        if extra:
            self.fail(_at(path, extra[0]), f"unknown field (known: {', '.join(sorted(known))})")

    def obj(self, value, path: str, known: set[str], optional: frozenset[str] = frozenset()) -> dict:
        """An object with exactly the fields ``known`` (those in ``optional`` may be absent)."""
        if not isinstance(value, dict):
            self.fail(path, "expected an object")
        self.no_unknown(value, path, known)
        missing = sorted(known - set(value) - optional)
        if missing:
            self.fail(_at(path, missing[0]), "missing")
        return value

    def typed(self, value, path: str, kind, nullable: bool = False):
        """``value`` if it is of ``kind`` (int, bool, str, list, float: an int is a number too;
        a bool is not an int), or None when ``nullable``."""
        if value is None and nullable:
            return None
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            self.fail(path, f"expected {_KINDS[kind]}, got {value!r}")
        return value

    def get(self, obj, key: str, path: str, kind):
        """The field ``key`` of the object ``obj`` at ``path``, of ``kind`` (int, list, str, or
        anything else unchecked)."""
        if not isinstance(obj, dict):
            self.fail(path, "expected an object")
        here = _at(path, key)
        if key not in obj:
            self.fail(here, "missing")
        value = obj[key]
        if kind is list and not isinstance(value, list):
            self.fail(here, "expected a list")
        if kind in (int, str):
            self.typed(value, here, kind)
        return value

    def value_in(self, value, path: str, lo: int, hi: int) -> int:
        """An integer in ``lo … hi``; outside is a :class:`~rnn2snn.errors.HardwareLimitError`."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"expected an integer, got {value!r}")
        if not lo <= value <= hi:
            raise HardwareLimitError(f"{self.source}: {path}={value} is outside the hardware range {lo}…{hi}")
        return value

    def int_in(self, obj, key: str, path: str, lo: int, hi: int) -> int:
        return self.value_in(self.get(obj, key, path, int), f"{path}.{key}", lo, hi)

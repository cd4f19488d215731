"""Refusing a setting by name: the errors that name the parameter, the typed value checks
every rule uses, and the command-line flag of each parameter (for the CLI's messages)."""

from __future__ import annotations

import math
import re

from rnn2snn.errors import HardwareLimitError, Rnn2SnnError

# The command-line flag of each parameter that has one, named in the messages.
_FLAGS = {name: "--" + name.replace("_", "-") for name in (
    "seed", "embed_dim", "proj_dim", "hidden_dim", "min_count", "max_fan_in", "cores", "readout",
    "vectors", "ticks_per_word", "delay", "max_cores", "ensemble", "backend", "ray_address", "encoding")}


class ParameterError(Rnn2SnnError, ValueError):
    """A setting outside what the method accepts; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class ParameterLimitError(ParameterError, HardwareLimitError):
    """A setting the TrueNorth core cannot hold (a :class:`HardwareLimitError` too)."""


def named(parameter: str, value) -> str:
    """``parameter=value`` as an API user wrote it; the CLI adds the flag (:func:`with_flags`)."""
    return f"{parameter}={value!r}"


# ``name=value`` of a parameter with a flag (not inside a quoted text), the value a repr: quoted,
# or up to a space or separator.
_NAMED = re.compile(r"(?<![\w.'\"])(" + "|".join(sorted(_FLAGS, key=len, reverse=True)) + r")="
                    r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s:,;()]+)")


def with_flags(message: str) -> str:
    """``message`` for a command-line user: the first ``name=value`` of a parameter that has a
    flag gets the flag (``hidden_dim=0 (--hidden-dim) must be ≥ 1``). The CLI prints errors
    and warnings through it; the API's messages name the parameter only."""
    match = _NAMED.search(message)
    if match is None or message[match.end():].startswith(" (--"):
        return message
    return f"{message[:match.end()]} ({_FLAGS[match.group(1)]}){message[match.end():]}"


def whole_number(parameter: str, value, lo: int | None = None, hi: int | None = None, why: str = "",
           error=ParameterError) -> int:
    """Refuse anything but an integer in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(parameter, f"{named(parameter, value)} must be a whole number, "
                                        f"got {type(value).__name__}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bound = (f"≥ {lo}" if hi is None else f"≤ {hi}" if lo is None else f"in {lo}…{hi}")
        raise error(parameter, f"{named(parameter, value)} must be {bound}" + (f": {why}" if why else ""))
    return value


def real_number(parameter: str, value, lo: float, hi: float, lo_open: bool, hi_open: bool,
          why: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(parameter, f"{named(parameter, value)} must be a finite number")
    if (value <= lo if lo_open else value < lo) or (value >= hi if hi_open else value > hi):
        span = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ParameterError(parameter, f"{named(parameter, value)} must lie in {span}"
                                        + (f": {why}" if why else ""))
    return float(value)


def one_of(parameter: str, value, allowed) -> None:
    if value not in allowed:
        raise ParameterError(parameter, f"{named(parameter, value)} is not one of "
                                        f"{', '.join(map(str, allowed))}")


def boolean(parameter: str, value) -> None:
    if not isinstance(value, bool):
        raise ParameterError(parameter, f"{named(parameter, value)} must be true or false")

"""Errors that name the problem and the place.

Every error the library raises on purpose derives from :class:`Rnn2SnnError`, so
the CLI can print its message and exit instead of showing a traceback.
"""

from __future__ import annotations


class Rnn2SnnError(Exception):
    """Base class: a user-facing error whose message says what and where."""


class DataFormatError(Rnn2SnnError, ValueError):
    """A data file does not follow its format (file and line are in the message)."""


class DataUnavailableError(Rnn2SnnError, FileNotFoundError):
    """The data set could be neither found locally nor downloaded."""


class HardwareLimitError(Rnn2SnnError, ValueError):
    """A parameter lies outside what the TrueNorth hardware can hold."""


class ModelFileError(Rnn2SnnError, ValueError):
    """A saved model or configuration file is missing, corrupt or inconsistent."""


class ConfigFileError(Rnn2SnnError, ValueError):
    """A hardware configuration file is not valid JSON of the expected format."""


class OutputFileError(Rnn2SnnError, OSError):
    """A file or folder cannot be written where asked (the path and the reason are in the message)."""

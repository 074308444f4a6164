"""One error hierarchy: every user-facing failure is a :class:`LadabenchError` with a one-line message.

The CLI prints ``str(error)`` and exits non-zero (2 for bad input); ``assert`` is reserved for
internal invariants.
"""
from __future__ import annotations


class LadabenchError(Exception):
    """Base class of every error a user can cause and fix."""

    exit_code = 1


class ConfigError(LadabenchError, ValueError):
    """Bad configuration: names the file (if any), the key path and what was expected."""

    exit_code = 2


class RegistryError(ConfigError, KeyError):
    """Unknown or duplicate registry name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class CapabilityError(ConfigError):
    """A variant cannot be built for the requested shape (e.g. Swin window not dividing the grid)."""


class DataError(LadabenchError):
    """Missing or malformed data (data sets, weights, run directories)."""

    exit_code = 2

"""One error hierarchy: every user-facing failure is a :class:`LadabenchError` with a one-line
message; configuration problems also carry where they are as data (:class:`Problem`).

The CLI prints ``str(error)`` and exits non-zero (2 for bad input); ``assert`` is reserved for
internal invariants.
"""
from __future__ import annotations

from dataclasses import dataclass, replace


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message ("" when it has none): one-line errors quote the
    libraries' (torch's and YAML's explanations run for many lines)."""
    return (str(error).strip().splitlines() or [""])[0]


@dataclass(frozen=True)
class Problem:
    """One configuration problem: the file or option it is in (``source``), the key path
    (``key``, e.g. ``train.batch_size`` or ``grid.model.g_attention``) and what was expected."""

    source: str
    key: str
    message: str

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.key, self.message) if part)

    def at(self, key: str) -> "Problem":
        """The same problem, reported at another key path (where the user wrote the value)."""
        return replace(self, key=key)


class LadabenchError(Exception):
    """Base class of every error a user can cause and fix."""

    exit_code = 1


class ConfigError(LadabenchError, ValueError):
    """Bad configuration: names the file (if any), the key path and what was expected."""

    exit_code = 2

    def __init__(self, message: str, key: str = "", source: str = "") -> None:
        self.problems = [Problem(source, key, message)]
        super().__init__(str(self.problems[0]))

    @property
    def problem(self) -> Problem:
        return self.problems[0]


class ConfigErrors(ConfigError):
    """Several configuration problems found in one pass, one line each."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        LadabenchError.__init__(self, "\n".join(str(p) for p in self.problems))


class RegistryError(ConfigError, KeyError):
    """Unknown or duplicate registry name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class CapabilityError(ConfigError):
    """A variant cannot be built for the requested shape (e.g. Swin window not dividing the grid)."""


class DataError(LadabenchError):
    """Missing or malformed data (data sets, weights, run directories)."""

    exit_code = 2

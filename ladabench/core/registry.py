"""A small generic registry (timm ``register_model`` style) used for attention variants, model
presets, data sets and metrics.

Names must match ``[a-z0-9_]+`` because they end up in file names and cache keys. A duplicate
name raises; an unknown name raises :class:`RegistryError` listing what is available and the
closest match.
"""
from __future__ import annotations

import difflib
import re
from typing import Callable, Generic, Iterator, TypeVar

from ladabench.core.errors import RegistryError

T = TypeVar("T")
_NAME = re.compile(r"^[a-z0-9_]+$")


class Registry(Generic[T]):
    """Maps names to objects (classes or functions) of one kind.

    Args:
        kind: what is registered, used in error messages ("attention", "preset", ...).
        check: optional callable validating an entry at registration time (raise TypeError).
    """

    def __init__(self, kind: str, check: Callable[[T], None] | None = None) -> None:
        self.kind = kind
        self._check = check
        self._entries: dict[str, T] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator registering an entry under ``name`` (default: the object's ``__name__``)."""

        def deco(obj: T) -> T:
            key = name or getattr(obj, "__name__")
            if not _NAME.match(key):
                raise RegistryError(f"{self.kind} name {key!r} must match [a-z0-9_]+")
            if key in self._entries:
                raise RegistryError(f"{self.kind} {key!r} is already registered")
            if self._check is not None:
                self._check(obj)
            self._entries[key] = obj
            return obj

        return deco

    def get(self, name: str) -> T:
        """Return the entry registered as ``name`` or raise a RegistryError listing the choices."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise RegistryError(self.unknown_message(name)) from None

    def unknown_message(self, name: object) -> str:
        close = difflib.get_close_matches(str(name), self._entries, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown {self.kind} {name!r}{hint}; available: {', '.join(self.names())}"

    def names(self) -> list[str]:
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(sorted(self._entries.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

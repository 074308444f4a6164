"""ladabench.core.errors: the first line of a library's error, quoted by one-line errors."""
from __future__ import annotations

from ladabench.core.errors import first_line


def test_first_line_of_a_multi_line_message_and_of_none():
    assert first_line(RuntimeError("\n  unexpected pos 704\nsee the docs\n")) == "unexpected pos 704"
    assert first_line(EOFError()) == ""  # str(e).splitlines()[0] raised IndexError here

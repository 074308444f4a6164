"""Progress bars with one switch for the work a run does deep inside (decoding a folder into
its cache happens wherever the data set is first read): ``engine.run(quiet=True)``, i.e.
``ladabench train --quiet`` and every launched job, turns them off for the run's duration."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from tqdm import tqdm

_quiet = [False]


@contextmanager
def quiet_bars(quiet: bool = True) -> Iterator[None]:
    """Within: every :func:`progress_bar` is off when ``quiet``; the previous setting after."""
    before = _quiet[0]
    _quiet[0] = quiet or before
    try:
        yield
    finally:
        _quiet[0] = before


def progress_bar(*, disable: bool = False, **kwargs: Any) -> tqdm:
    """``tqdm(**kwargs)``, off when ``disable`` or inside :func:`quiet_bars`."""
    return tqdm(disable=disable or _quiet[0], **kwargs)

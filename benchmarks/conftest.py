"""Throughput-gate benchmarks (pytest-benchmark); not part of the default ``tests/`` run.

Every compared time is normalised by an in-run reference: the stored (baseline) statistics are
rescaled by ``current reference min / stored reference min`` before pytest-benchmark's
``--benchmark-compare-fail`` checks run, so the check reads
``(t_now / ref_now) / (t_base / ref_base)``. A uniformly slower or busier machine then leaves the
ratio unchanged; a slower layer does not. ``--no-reference-normalize`` compares raw times.
"""
from __future__ import annotations

import platform

import pytest
import torch

#: the reference benchmark: the same fixed fp32 matmul that ``ladabench check`` times
REFERENCE = "test_reference_matmul"
#: time-valued statistics (seconds) that scale with the reference; ``ops`` scales inversely
_TIME_STATS = ("min", "max", "mean", "median", "stddev", "iqr", "q1", "q3", "ld15iqr", "hd15iqr",
               "total")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--no-reference-normalize", action="store_true",
                     help="compare raw times instead of times relative to the in-run reference")
    parser.addoption("--bench-threads", type=int, default=1,
                     help="torch CPU threads (default 1: on a shared machine a multi-threaded op "
                          "stalls whenever one core is busy, which made medians 20x the min)")


def pytest_configure(config: pytest.Config) -> None:
    torch.set_num_threads(config.getoption("--bench-threads"))


def pytest_benchmark_update_machine_info(config, machine_info: dict) -> None:
    machine_info["torch"] = torch.__version__
    machine_info["torch_threads"] = torch.get_num_threads()
    machine_info["device"] = (torch.cuda.get_device_name() if torch.cuda.is_available()
                              else f"cpu {platform.processor() or platform.machine()}")


def _rescale(stats: dict, factor: float) -> None:
    for key in _TIME_STATS:
        if stats.get(key) is not None:
            stats[key] *= factor
    if stats.get("ops"):
        stats["ops"] /= factor


@pytest.hookimpl(tryfirst=True)  # before pytest-benchmark's own sessionfinish runs the checks
def pytest_sessionfinish(session: pytest.Session) -> None:
    bs = getattr(session.config, "_benchmarksession", None)
    if bs is None or session.config.getoption("--no-reference-normalize"):
        return
    now = [b for b in bs.benchmarks if b and b.name == REFERENCE]
    for path, stored in getattr(bs, "compared_mapping", {}).items():
        ref = next((b for b in stored.values() if b["name"] == REFERENCE), None)
        if not now or ref is None:
            bs.logger.warning(f"no {REFERENCE} in both runs: comparing raw times ({path})")
            continue
        factor = now[0].stats.min / ref["stats"]["min"]
        for bench in stored.values():
            _rescale(bench["stats"], factor)
        bs.logger.info(f"Baseline times rescaled by the in-run reference: x{factor:.3f} ({path})")

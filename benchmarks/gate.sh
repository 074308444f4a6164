#!/usr/bin/env bash
# Throughput gate (pytest-benchmark): time benchmarks/ and save them, or compare them with the
# latest saved run in STORAGE and fail (exit 1, "Performance has regressed") when a benchmark's
# reference-normalised `min` is slower by more than BENCH_COMPARE_FAIL.
#
#   benchmarks/gate.sh save    [STORAGE] [pytest args...]   # record a baseline
#   benchmarks/gate.sh compare [STORAGE] [pytest args...]   # the gate
#
# STORAGE defaults to the committed baselines/regression/benchmarks (pytest-benchmark keys it by
# machine: <STORAGE>/Linux-CPython-3.11-64bit/). The threshold was measured on a shared 2-core
# machine (see baselines/regression/benchmarks/README.md).
set -euo pipefail
mode=${1:?usage: benchmarks/gate.sh save|compare [STORAGE] [pytest args...]}
storage=${2:-baselines/regression/benchmarks}
shift $(( $# >= 2 ? 2 : 1 ))
python=${PYTHON:-python}
threshold=${BENCH_COMPARE_FAIL:-min:NN%}
common=(benchmarks -p no:cacheprovider "--benchmark-storage=file://$storage"
        --benchmark-columns=min,median,stddev,rounds --benchmark-sort=name)
case "$mode" in
  save)    exec "$python" -m pytest "${common[@]}" --benchmark-save=ci "$@" ;;
  compare) exec "$python" -m pytest "${common[@]}" --benchmark-compare \
             "--benchmark-compare-fail=$threshold" "$@" ;;
  *) echo "benchmarks/gate.sh: unknown mode '$mode' (expected save or compare)" >&2; exit 2 ;;
esac

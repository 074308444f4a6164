#!/usr/bin/env bash
# The README's quickstart figures: times `make quickstart` in this checkout from nothing (no
# results, no report, an empty metrics cache, so the real-image statistics are computed as on a
# fresh machine; the install is not timed: it runs first), then prints per-variant FID at 0 and
# at the end, images reached, evaluations, training time, disk use, and checks the targets.
#
#   benchmarks/quickstart_time.sh          # on a fresh clone: git clone ... && cd ... && this
set -euo pipefail
cd "$(dirname "$0")/.."
make venv >/dev/null
rm -rf results/quickstart reports/quickstart.html reports/quickstart_files
LADABENCH_CACHE=$(mktemp -d)
export LADABENCH_CACHE
trap 'rm -rf "$LADABENCH_CACHE"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
start=$(date +%s)
make quickstart
end=$(date +%s)
echo "make quickstart: $((end - start)) s wall; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
.venv/bin/python benchmarks/quickstart_figures.py results/quickstart

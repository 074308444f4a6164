#!/usr/bin/env bash
# One prepared device check: `ladabench bench` for cifar10_32 and ffhq_128 in fp32, TF32, bf16
# and compiled, a short training with in-loop evaluation (embedded digits, digits-cnn FID/KID,
# offline), a training stopped by SIGTERM and resumed from its checkpoint on the device, the
# overhead of a world-size-1 distributed run (`ladabench bench --ddp-overhead`: NCCL on CUDA,
# gloo on a CPU), a 2-run suite through the local executor (benchmarks/device_check_suite.yaml)
# and the attention scaling sweep (suites/scaling.yaml); writes OUT/device_check.json and
# OUT/device_check.md
# (benchmarks/device_check_report.py).
#
#   benchmarks/device_check.sh [OUT]          # OUT defaults to results/device_check
#
# On a CUDA machine: paper batch sizes (128 at 32 px, 32 at 128 px), 10 timed steps, a training
# sized to last 1 minute at the measured cifar10_32 speed, a resumed run of 200 steps, suite runs of
# 20 steps, a sweep of one layer per variant up to 4,096 tokens, all within an 8-minute budget
# (a step that would start past it is recorded as skipped; DEVICE_CHECK_BUDGET_S overrides it).
# On a CPU-only machine: the same steps at tiny size (batch 1, one timed step, a 4-step training
# of batch 2), without a budget, so CI proves the script works; TF32 is recorded as not
# applicable there. Every step's status (ok, skipped, failed with its exit
# code, timeout) is in the JSON; exit 1 when a step failed or timed out, else 0.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results/device_check}
python=${PYTHON:-.venv/bin/python}
ladabench=("$python" -m ladabench.cli)
mkdir -p "$out/bench"
rm -f "$out"/bench/*

if "$python" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  device=cuda; steps=10; warmup=3; train_s=60; bench_limit=150; train_batch=128
  declare -A batch=([cifar10_32]=128 [ffhq_128]=32)
  gpus=1; resume_steps=200; suite_steps=20; sweep_tokens="[64,256,1024,4096]"; ddp_steps=40
  eval_n=1000; budget_s=${DEVICE_CHECK_BUDGET_S:-480}
else  # no time budget: CI must see every step run
  device=cpu; steps=1; warmup=1; train_s=0; bench_limit=1800; train_batch=2
  declare -A batch=([cifar10_32]=1 [ffhq_128]=1)
  gpus=0; resume_steps=6; suite_steps=2; sweep_tokens="[64,256]"; ddp_steps=1
  eval_n=100; budget_s=${DEVICE_CHECK_BUDGET_S:-86400}
fi

status() {  # status PRESET-MODE TEXT
  echo "$2" > "$out/bench/$1.status"
  echo "device_check: $1: $2"
}

bench() {  # bench PRESET MODE: one `ladabench bench` run, its JSON and its status
  local preset=$1 mode=$2 name=$1-$2 flags=() limit rc=0
  case $mode in
    tf32) flags=(--tf32) ;; bf16) flags=(--amp bf16) ;; compile) flags=(--compile) ;;
  esac
  if [ "$mode" = tf32 ] && [ "$device" = cpu ]; then
    status "$name" "skipped: TF32 is a CUDA option"; return
  fi
  limit=$(( budget_s - SECONDS < bench_limit ? budget_s - SECONDS : bench_limit ))
  if [ "$limit" -le 0 ]; then
    status "$name" "skipped: time budget of ${budget_s} s spent"; return
  fi
  timeout "$limit" "${ladabench[@]}" bench --preset "$preset" --device "$device" \
    --batch "${batch[$preset]}" --steps "$steps" --warmup "$warmup" "${flags[@]}" --json \
    > "$out/bench/$name.json" 2> "$out/bench/$name.err" || rc=$?
  case $rc in
    0) status "$name" ok ;;
    124) status "$name" "timeout: ${limit} s" ;;
    *) status "$name" "failed: exit $rc (see bench/$name.err)" ;;
  esac
}

train() {  # 2 minutes at the measured speed on a GPU, 4 steps on a CPU; two in-loop evaluations
  local images=$((4 * train_batch)) rc=0
  if [ "$train_s" -gt 0 ] && [ -s "$out/bench/cifar10_32-fp32.json" ]; then
    images=$("$python" -c "import json, sys; r = json.load(open(sys.argv[1])); \
print(max(2, int(r['train_img_per_s'] * $train_s) // $train_batch) * $train_batch)" \
      "$out/bench/cifar10_32-fp32.json")
  fi
  rm -rf "$out/train"
  if [ "$SECONDS" -ge "$budget_s" ]; then
    echo "skipped: time budget of ${budget_s} s spent" > "$out/train.status"
  else
    "${ladabench[@]}" train benchmarks/device_check_train.yaml --out "$out/train" \
      --device "$device" --quiet --set "train.batch_size=$train_batch" \
      --set "train.images=$images" --set "eval.every_images=$((images / 2))" \
      --set "eval.n_gen=$eval_n" --set "eval.n_real=$eval_n" \
      --set "eval.final_n_gen=$eval_n" --set "eval.final_n_real=$eval_n" \
      > "$out/train.log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then echo ok; else echo "failed: exit $rc (see train.log)"; fi \
      > "$out/train.status"
  fi
  echo "device_check: training: $(cat "$out/train.status")"
}

finish() {  # finish NAME RC: NAME.status from an exit code
  if [ "$2" -eq 0 ]; then echo ok; else echo "failed: exit $2 (see $1.log)"; fi > "$out/$1.status"
  echo "device_check: $1: $(cat "$out/$1.status")"
}

over_budget() {  # over_budget NAME: record NAME as skipped once the budget is spent
  [ "$SECONDS" -lt "$budget_s" ] && return 1
  echo "skipped: time budget of ${budget_s} s spent" > "$out/$1.status"
}

resume() {  # SIGTERM after the first logged step (checkpoint, exit 143), then resume to the end
  over_budget resume && return
  local rc=0 pid args=("${ladabench[@]}" train benchmarks/device_check_train.yaml --out "$out/resume"
    --device "$device" --quiet --set "train.batch_size=$train_batch"
    --set "train.images=$((resume_steps * train_batch))" --set "train.log_every_images=$train_batch"
    --set "eval.metrics=[]")
  rm -rf "$out/resume"
  "${args[@]}" > "$out/resume.log" 2>&1 & pid=$!
  until grep -qs '"kind": "train"' "$out/resume/metrics.jsonl" || ! kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || rc=$?
  if [ "$rc" -ne 143 ]; then
    echo "failed: first session exit $rc, expected 143 (see resume.log)" > "$out/resume.status"
  else
    rc=0; "${args[@]}" >> "$out/resume.log" 2>&1 || rc=$?
    finish resume "$rc"
  fi
}

ddp() {  # the train step plain and as the one rank of a world-size-1 process group, alternately
  over_budget ddp && return
  local rc=0
  timeout "$bench_limit" "${ladabench[@]}" bench --ddp-overhead --preset cifar10_32 \
    --device "$device" --batch "${batch[cifar10_32]}" --steps "$ddp_steps" --warmup "$warmup" \
    --json > "$out/ddp.json" 2> "$out/ddp.log" || rc=$?
  finish ddp "$rc"
}

suite() {  # two runs through the local executor, each given the GPU
  over_budget suite && return
  local rc=0
  rm -rf "$out/suite"
  "${ladabench[@]}" run benchmarks/device_check_suite.yaml --executor local --quiet \
    --results "$out/suite" --set "resources.gpus=$gpus" --set "train.device=$device" \
    --set "train.batch_size=$train_batch" --set "train.images=$((suite_steps * train_batch))" \
    > "$out/suite.log" 2>&1 || rc=$?
  finish suite "$rc"
}

sweep() {  # the attention scaling sweep, one layer per variant, through the local executor
  over_budget sweep && return
  local rc=0
  rm -rf "$out/sweep"
  "${ladabench[@]}" run suites/scaling.yaml --executor local --quiet --results "$out/sweep" \
    --set "resources.gpus=$gpus" --set "scaling.device=$device" \
    --set "scaling.tokens=$sweep_tokens" --set "scaling.scopes=[layer]" \
    --set scaling.repeats=3 --set scaling.warmup=1 > "$out/sweep.log" 2>&1 || rc=$?
  finish sweep "$rc"
}

# eager modes first, then the trainings, the suite and the sweep, then the compiled runs (the
# longest, first to be cut by the budget)
for preset in cifar10_32 ffhq_128; do
  for mode in fp32 tf32 bf16; do bench "$preset" "$mode"; done
done
train
resume
ddp
suite
sweep
for preset in cifar10_32 ffhq_128; do bench "$preset" compile; done

"$python" benchmarks/device_check_report.py "$out" --device "$device" --seconds "$SECONDS"

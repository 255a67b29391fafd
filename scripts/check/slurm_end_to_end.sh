#!/usr/bin/env bash
# `vpeft bench --emit slurm` against a real Slurm: a one-node cluster on localhost
# (slurm_cluster.sh) runs the emitted job array of a tiny suite (2 methods × 1 synthetic dataset
# × 1 seed, the tiny ViT of the test fixtures). Mid-way through its cell, one array task is
# requeued (`scontrol requeue`: SIGTERM, then SIGKILL after KillWait): the cell must write a
# checkpoint on SIGTERM and, when Slurm runs the task again, resume from it; `vpeft report` must
# then merge both records. Needs root (slurmd); elsewhere it says so and skips.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
VPEFT="${VPEFT:-$root/.build/release/vpeft}"
if [ "$(id -u)" != 0 ]; then
    echo "slurm end-to-end: SKIPPED (needs root to run slurmd; CI runs it as root)"
    exit 0
fi
[ -x "$VPEFT" ] || { echo "slurm end-to-end: no $VPEFT (build first)"; exit 1; }
started=$(date +%s)
work="$(mktemp -d /tmp/vpeft-slurm-e2e.XXXXXX)"
chmod 755 "$work"   # munged wants every folder above its socket open to all
export VPEFT_SLURM_DIR="$work/cluster"
export SLURM_CONF="$VPEFT_SLURM_DIR/slurm.conf"
finish() {
    local rc=$?
    if [ $rc != 0 ] && [ -d "$work/out/slurm" ]; then
        for log in "$work"/out/slurm/*.out; do echo "--- $log"; tail -20 "$log"; done
    fi
    bash "$root/scripts/check/slurm_cluster.sh" stop >/dev/null 2>&1 || true
    rm -rf "$work"
    if [ $rc = 0 ]; then echo "slurm end-to-end: OK ($(( $(date +%s) - started )) s)"; else echo "slurm end-to-end: FAILED"; fi
}
trap finish EXIT
fail() { echo "slurm end-to-end: $*" >&2; exit 1; }

bash "$root/scripts/check/slurm_cluster.sh" start

# Two shades of grey, 8×8, as the CSV that `vpeft data import` reads.
awk 'BEGIN { srand(7); for (i = 0; i < 440; i++) { c = i % 2; line = "";
             for (p = 0; p < 64; p++) { v = int((c ? 170 : 80) + 60 * (rand() - 0.5)); line = line v "," }
             print line c } }' >"$work/shades.csv"
"$VPEFT" data import "$work/shades.csv" --format csv --width 8 --height 8 --out "$work/data" --name shades \
    --train 320 --val 80 --test 40 >/dev/null
cat >"$work/suite.yaml" <<EOF
name: slurm-e2e
model: $root/Tests/ModelsTests/Fixtures/vit/cls_token
data_root: $work/data
protocol: honest
methods: [linear, lora]
datasets: [vtab1k:shades]
seeds: [1]
settings: {epochs: 40, warmup_epochs: 0, batch_size: 1, lr: 1.0e-3, normalization: inception, drop_path: 0.0, eval_every: 40}
method_settings: {lora: {method_options: {rank: 2}}}
EOF

# More threads per cell than the node has CPUs: Slurm, not the emitter, knows the nodes.
"$VPEFT" bench --suite "$work/suite.yaml" --out "$work/too-wide" --emit slurm --threads 3 --mem 1G --time 10:00 >/dev/null
if sbatch --test-only "$work/too-wide/bench.sbatch" 2>"$work/too-wide.err"; then fail "sbatch accepted 3 CPUs per task on a 2-CPU node"; fi
echo "sbatch --test-only, 3 threads on 2 CPUs: $(tail -1 "$work/too-wide.err")"

"$VPEFT" bench --suite "$work/suite.yaml" --out "$work/out" --emit slurm --threads 1 --mem 1G --time 10:00
job=$(sbatch --parsable "$work/out/bench.sbatch")
echo "submitted job array $job"
log="$work/out/slurm/${job}_1.out"

# Requeue task 1 (lora: some 5 s of training) once its first epoch is done.
for _ in $(seq 600); do grep -q "^epoch 1/40  train loss" "$log" 2>/dev/null && break; sleep 0.1; done
grep -q "^epoch 1/40  train loss" "$log" || fail "task 1 did not finish an epoch in 60 s"
squeue -j "$job" -o "%.10i %.9T %.10M %R"
scontrol requeue "${job}_1"
# A requeued job waits a while before it may start again (BeginTime); let it go now.
for _ in $(seq 20); do squeue -h -j "${job}_1" -o %T | grep -q PENDING && break; sleep 0.5; done
squeue -j "$job" -o "%.10i %.9T %.10M %R"
scontrol update jobid="${job}_1" StartTime=now

for _ in $(seq 240); do [ -z "$(squeue -h -j "$job")" ] && break; sleep 0.5; done
[ -z "$(squeue -h -j "$job")" ] || fail "job $job still queued after 120 s: $(squeue -j "$job")"
# No slurmdbd here: sacct reads the job-completion log (one line per run of a task, its jobs ids
# are per run; its complaints about array fields are noise of --completion).
sacct --completion -o JobID,JobName,State,ExitCode,End 2>/dev/null

grep -q "interrupted: checkpoint written" "$log" || fail "task 1 wrote no checkpoint on SIGTERM"
grep -q "DUE TO JOB REQUEUE" "$log" || fail "task 1 was not requeued"
grep -q "(resuming)" "$log" || fail "task 1 did not resume from its checkpoint"
echo "task 1: $(grep -h "interrupted: checkpoint written" "$log")"
echo "task 1: $(grep -h "(resuming)" "$log")"
echo "task 1: $(grep -h "^resuming at" "$log")"
for cell in linear lora; do
    [ -f "$work/out/cells/$cell/vtab1k_shades/seed-1/record.json" ] || fail "cell $cell has no record"
done
"$VPEFT" report "$work/out" --format csv | tee "$work/report.csv"
[ "$(grep -c -E "^(Linear probing|LoRA)," "$work/report.csv")" = 2 ] || fail "the report does not hold both cells"

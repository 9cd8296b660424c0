#!/usr/bin/env bash
# Side by side: `diagnose samples` (Swift, streaming, hand-written parser) against the same
# computation in Python (json module + numpy, bench/diagnose_reference.py) on N synthetic
# samples whose exact answers `diagnose table` computes. Prints wall time and peak memory of
# each, and the estimates of both next to the exact values.
#
#   bench/diagnose_compare.sh [N=10000000] [WORK_DIR=/tmp/diagnose-bench] [SCRATCH=.build]
#
# Needs python3 with numpy, and GNU time at /usr/bin/time for the memory column.
set -euo pipefail
N=${1:-10000000}
WORK=${2:-/tmp/diagnose-bench}
SCRATCH=${3:-.build}
BETA=0.5
cd "$(dirname "$0")/.."
swift build -c release --scratch-path "$SCRATCH" --product diagnose >/dev/null
BIN="$SCRATCH/release/diagnose"
if [ ! -s "$WORK/samples-$N.jsonl" ]; then
  echo "generating $N samples in $WORK (once)..."
  python3 bench/diagnose_make_samples.py "$WORK/gen-$N" --samples "$N" --reference $((N / 10)) --seed 3
  mv "$WORK/gen-$N/samples.jsonl" "$WORK/samples-$N.jsonl"
  mv "$WORK/gen-$N/reference.jsonl" "$WORK/reference-$N.jsonl"
  mv "$WORK/gen-$N/table.csv" "$WORK/table.csv"
  rmdir "$WORK/gen-$N"
fi
S="$WORK/samples-$N.jsonl"; R="$WORK/reference-$N.jsonl"
echo "input: $(du -h "$S" | cut -f1) of samples, $(du -h "$R" | cut -f1) of reference samples; $(nproc) cores"
"$BIN" table "$WORK/table.csv" --beta $BETA --json "$WORK/exact.json" >/dev/null
measure() {  # label, output file, command...
  local label=$1 out=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > "$out"
  read -r secs kb < "$WORK/time.txt"
  printf "%-26s %8.1f s %8.0f MB\n" "$label" "$secs" "$((kb / 1024))"
}
echo
printf "%-26s %10s %11s\n" "implementation" "wall" "peak RSS"
measure "diagnose (Swift)" "$WORK/swift.json" "$BIN" samples "$S" --reference "$R" --beta $BETA
measure "python json + numpy" "$WORK/python.json" python3 bench/diagnose_reference.py "$S" --reference "$R" --beta $BETA
echo
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
s, p, e = (json.load(open(f"{w}/{n}.json")) for n in ("swift", "python", "exact"))
exact = {"expected_reward": e["expected_reward"], "kl_policy_prior_k1": e["kl_policy_prior"], "kl_policy_prior_k3": e["kl_policy_prior"],
         "objective": e["objective"], "elbo": e["elbo"], "log_partition": e["log_partition"], "kl_policy_posterior": e["kl_policy_posterior"]}
print(f"{'quantity':22} {'exact':>12} {'Swift estimate [95% interval]':>42} {'Python estimate':>16} {'rel. diff':>9}")
worst = 0
for k in ["expected_reward", "kl_policy_prior_k1", "kl_policy_prior_k3", "objective", "elbo", "log_partition",
          "kl_policy_posterior", "effective_sample_size"]:
    a, b = s[k]["estimate"], p[k]["estimate"]
    d = abs(a - b) / max(abs(a), abs(b), 1e-300)
    worst = max(worst, d)
    ex = f"{exact[k]:12.6f}" if k in exact else " " * 12
    print(f"{k:22} {ex} {a:14.6f} [{s[k]['low']:.6f}, {s[k]['high']:.6f}] {b:16.6f} {d:9.1e}")
print(f"\nlargest relative difference Swift vs Python: {worst:.1e}")
sys.exit(0 if worst < 1e-9 else 1)
PY

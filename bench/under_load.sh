#!/usr/bin/env bash
# TinyLM's training speed with and without a competing busy loop (issue 19 item 5).
#
#   bench/under_load.sh [ROUNDS] [CONFIG]      (defaults: 3 rounds, config base)
#
# Each round runs `tinylm bench --config CONFIG --parts train --json` once on its own and once
# while a shell loop keeps one core busy (started just before, killed just after), and prints
# both training figures and their ratio; the last line gives the median ratio over the rounds.
# Quiet and loaded runs alternate, so a drift of the machine's speed touches both alike. The
# threads are TinyLM's default (every core) unless TINYLM_THREADS says otherwise. Not a test:
# on a shared machine "quiet" means whatever else is running; check `uptime` first.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
config=${2:-base}
budget=${BUDGET:-6}
bin=${TINYLM:-$(swift build -c release --show-bin-path)/tinylm}
[ -x "$bin" ] || { echo "under_load: no $bin (swift build -c release --product tinylm)" >&2; exit 2; }

train() { "$bin" bench --config "$config" --parts train --budget "$budget" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["train_tokens_per_s"])'; }

busy=""
stop_busy() { if [ -n "$busy" ]; then kill "$busy" 2>/dev/null || true; wait "$busy" 2>/dev/null || true; busy=""; fi; }
trap stop_busy EXIT

echo "under_load: $bin, config $config, $(nproc) cores, TINYLM_THREADS=${TINYLM_THREADS:-unset}; $(uptime)"
ratios=()
for r in $(seq 1 "$rounds"); do
  quiet=$(train)
  sh -c 'while :; do :; done' &
  busy=$!
  sleep 0.5
  loaded=$(train)
  stop_busy
  ratio=$(python3 -c "print(f'{$loaded / $quiet:.3f}')")
  ratios+=("$ratio")
  printf 'round %d: quiet %.0f tokens/s, with a busy loop %.0f tokens/s, ratio %s\n' "$r" "$quiet" "$loaded" "$ratio"
done
python3 -c "import statistics,sys; print('median ratio (loaded / quiet):', statistics.median(map(float, sys.argv[1:])))" "${ratios[@]}"

#!/usr/bin/env python3
"""What share of a TinyLM run works outside the batch shards, and what share of its wall time
only one core works.

Runs COMMAND under `perf record -g -e task-clock` (a sample every 0.25 ms of CPU time of each of
its threads, with its time stamp, thread and call chain) and leaves out the first --skip seconds
(start-up: the corpus, the tokenizer) and the last second (the final evaluation and checkpoint).
Then it prints

* the share of the CPU samples outside the passes' batch shards: a sample is in a shard when its
  call chain holds `forwardRows` or `backwardRows` (a shard's pass), or its function is one of
  OpenBLAS's sgemm pieces or one of TinyLM's `Kernels` (in training only the shards call them;
  OpenBLAS has no frame pointers and kernels are often inlined, so call chains stop short). Run with TINYLM_THREADS=1 this is the share of a
  step's work that the shards do not split, whatever else runs on the machine; the functions
  that take it are listed;
* the busy cores of each 5 ms window (its samples x 0.25 ms / 5 ms), their mean, and the share of
  windows with fewer than 1.5 cores busy: with several threads on a quiet machine, the share of
  the wall time during which one core works while the others idle.

    TINYLM_THREADS=1 python3 bench/serial_share.py -- .build/release/tinylm pretrain --steps 100 \\
        --checkpoint-every 1000 --checkpoint /tmp/x.st

Needs `perf` (kernel.perf_event_paranoid <= 2). Not a test: the figures depend on the machine.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

PERIOD_NS = 250_000
WINDOW_NS = 5_000_000
IN_SHARD = re.compile(r"forwardRows|backwardRows")
BLAS = re.compile(r"^sgemm_|^cblas_sgemm|^\$s6TinyLM7KernelsO")


def samples_of(script_text):
    """(time ns, tid, leaf symbol, in a shard) for each sample of `perf script` output."""
    out = []
    head = None
    frames = []

    def flush():
        if head is None:
            return
        t, tid = head
        leaf = frames[0] if frames else "?"
        inside = bool(BLAS.search(leaf)) or any(IN_SHARD.search(f) for f in frames)
        out.append((t, tid, leaf, inside))

    for line in script_text.splitlines():
        if not line.strip():
            continue
        if not line.startswith((" ", "\t")):
            flush()
            parts = line.split()
            try:
                head = (int(round(float(parts[1].rstrip(":")) * 1e9)), int(parts[0]))
            except (ValueError, IndexError):
                head = None
            frames = []
        else:
            parts = line.split(None, 1)
            sym = parts[1] if len(parts) > 1 else "?"
            frames.append(re.sub(r"\s+\(.*\)$", "", sym).split("+0x")[0])
    flush()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip", type=float, default=3.0, help="seconds of start-up left out")
    ap.add_argument("--top", type=int, default=10, help="functions listed")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("give the command to profile after --")
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        rec = subprocess.run(["perf", "record", "-q", "-g", "-e", "task-clock", "-c", str(PERIOD_NS), "-o", data, "--"] + cmd,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if rec.returncode != 0:
            sys.exit(f"serial_share: the command or perf failed ({rec.returncode}): {rec.stderr.strip()[-400:]}")
        text = subprocess.run(["perf", "script", "-i", data, "-F", "tid,time,ip,sym", "--ns"],
                              capture_output=True, text=True, check=True).stdout
    samples = samples_of(text)
    if not samples:
        sys.exit("serial_share: no samples")
    t0 = samples[0][0] + int(a.skip * 1e9)
    t1 = samples[-1][0] - 1_000_000_000
    if t1 - t0 < 20 * WINDOW_NS:
        sys.exit("serial_share: the run is too short after --skip")
    kept = [s for s in samples if t0 <= s[0] < t1]
    outside = [s for s in kept if not s[3]]
    print(f"{(t1 - t0) / 1e9:.1f} s after {a.skip:g} s of start-up; {len(kept) * PERIOD_NS / 1e9:.2f} CPU seconds")
    print(f"outside the batch shards: {len(outside) / len(kept):.2%} of the CPU samples; the functions:")
    for sym, c in collections.Counter(s[2] for s in outside).most_common(a.top):
        print(f"  {c / len(kept):7.2%}  {sym[:150]}")
    windows = collections.Counter((s[0] - t0) // WINDOW_NS for s in kept)
    n = (t1 - t0) // WINDOW_NS
    busy = [windows.get(i, 0) * PERIOD_NS / WINDOW_NS for i in range(n)]
    one = sum(1 for b in busy if b < 1.5)
    threads = collections.Counter(s[1] for s in kept)
    print(f"mean busy cores {sum(busy) / n:.2f}; windows with fewer than 1.5 cores busy: {one / n:.1%}")
    print("CPU seconds by thread: " + ", ".join(f"{tid}: {c * PERIOD_NS / 1e9:.2f}" for tid, c in threads.most_common(6)))


if __name__ == "__main__":
    main()

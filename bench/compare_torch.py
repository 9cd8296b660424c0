"""Side by side in one run: `tinylm bench --json` and shared/bench/tinygpt_torch.py (eager),
config by config, then the ratios ours / PyTorch. The machine is shared and noisy, so each
config runs ours, PyTorch, ours again, and takes the mean of our two runs.

  python bench/compare_torch.py [--configs base] [--threads 2] [--budget 6]
      [--tinylm .build/release/tinylm] [--torch-script ../shared/bench/tinygpt_torch.py]
      [--peak-gflops G]

--peak-gflops is this machine's fp32 FMA peak on --threads cores, measured (for instance by
shared/bench/peak_fma.c on a CPU with AVX-512, or any register-only FMA loop); with it the
script also prints our training MFU. Without it no MFU is printed: a peak from another
machine would make the figure meaningless.

Needs the PyTorch environment of shared/bench/README.md and a release build of tinylm.
"""
import argparse
import json
import os
import subprocess
import sys

def ours(binary, config, threads, budget):
    env = dict(os.environ, TINYLM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([binary, "bench", "--config", config, "--json", "--budget", str(budget)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def torch_figures(script, config, threads, budget):
    out = subprocess.run([sys.executable, script, "--configs", config, "--threads", str(threads),
                          "--budget", str(budget)], check=True, capture_output=True, text=True).stdout
    row = next(l for l in out.splitlines() if l.startswith(config + " "))
    f = [x.replace(",", "").rstrip("%") for x in row.split()]
    # config params train_tok_s GFLOP/s MFU naive_tok_s kv_tok_s rl_steps_s ...
    return {"train_tokens_per_s": float(f[2]), "sample_tokens_per_s": float(f[6]), "rl_steps_per_s": float(f[7])}


def flops_per_token(config):
    L, C = {"small": (2, 64), "base": (4, 128), "large": (6, 256)}[config]
    V, T = 64, 64
    n = V * C + L * (12 * C * C + 13 * C) + 2 * C  # non-embedding parameters, tied head
    return 6 * n + 12 * L * C * T


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="small,base,large")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget", type=float, default=6)
    ap.add_argument("--tinylm", default=os.path.join(here, "..", ".build", "release", "tinylm"))
    ap.add_argument("--peak-gflops", type=float, default=None,
                    help="this machine's measured fp32 peak on --threads cores, for the MFU line")
    ap.add_argument("--torch-script", default=os.path.join(here, "..", "..", "shared", "bench", "tinygpt_torch.py"))
    a = ap.parse_args()
    keys = ["train_tokens_per_s", "sample_tokens_per_s", "rl_steps_per_s"]
    print(f"# {a.threads} threads, budget {a.budget}s a measurement; ratio = ours / PyTorch eager")
    print(f"{'config':7s} {'figure':20s} {'ours':>12s} {'PyTorch':>12s} {'ratio':>7s}")
    for c in a.configs.split(","):
        o1 = ours(a.tinylm, c, a.threads, a.budget)
        t = torch_figures(a.torch_script, c, a.threads, a.budget)
        o2 = ours(a.tinylm, c, a.threads, a.budget)
        for k in keys:
            o = (o1[k] + o2[k]) / 2
            print(f"{c:7s} {k:20s} {o:12.1f} {t[k]:12.1f} {o / t[k]:7.2f}")
        if a.peak_gflops:
            mfu = (o1[keys[0]] + o2[keys[0]]) / 2 * flops_per_token(c) / (a.peak_gflops * 1e9)
            print(f"{c:7s} {'train MFU (ours)':20s} {mfu * 100:11.1f}%  of the given {a.peak_gflops:g} GFLOP/s")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

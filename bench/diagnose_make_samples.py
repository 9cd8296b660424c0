#!/usr/bin/env python3
"""Synthetic inputs for `diagnose` whose exact answers are known.

A finite space of K outcomes stands in for the space of sequences: a prior pi0 drawn from a
Dirichlet, rewards uniform on [0, 1], and a policy that is the posterior at another
temperature beta_policy (a fine-tune that stopped early or late). The script writes

  table.csv        the exact table (log_prior, reward, log_policy, label) for `diagnose table`,
  samples.jsonl    N outcomes drawn from the policy, one JSON object a line, with the
                   sequence-level fields a trainer logs: logp_ref, logp_policy, reward,
  reference.jsonl  (with --reference M) M outcomes drawn from the prior.

`diagnose table table.csv --beta B` gives the exact values that `diagnose samples` estimates.

Usage: diagnose_make_samples.py OUT_DIR --samples N [--outcomes K] [--beta-policy BP]
       [--reference M] [--seed S]
"""
import argparse
import json
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--samples", type=int, required=True)
    ap.add_argument("--outcomes", type=int, default=1000)
    ap.add_argument("--beta-policy", type=float, default=0.3)
    ap.add_argument("--reference", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=1_000_000)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    k = a.outcomes
    log_prior = np.log(rng.dirichlet(np.ones(k)))
    reward = rng.uniform(0, 1, k)
    joint = log_prior + reward / a.beta_policy
    log_policy = joint - np.logaddexp.reduce(joint)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "table.csv"), "w") as f:
        f.write("log_prior,reward,log_policy,label\n")
        for x in range(k):
            f.write(f"{float(log_prior[x])!r},{float(reward[x])!r},{float(log_policy[x])!r},outcome {x}\n")

    def write(path, logp, n):
        p = np.exp(logp - np.logaddexp.reduce(logp))
        with open(path, "w") as f:
            left = n
            while left > 0:
                m = min(left, a.chunk)
                xs = rng.choice(k, size=m, p=p / p.sum())
                # json.dumps of each dict, as a trainer's logger would write it.
                f.write("".join(json.dumps({"logp_ref": float(log_prior[x]), "logp_policy": float(log_policy[x]),
                                            "reward": float(reward[x])}) + "\n" for x in xs))
                left -= m

    write(os.path.join(a.out, "samples.jsonl"), log_policy, a.samples)
    if a.reference > 0:
        write(os.path.join(a.out, "reference.jsonl"), log_prior, a.reference)


if __name__ == "__main__":
    main()

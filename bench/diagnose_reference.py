#!/usr/bin/env python3
"""The sample-mode computation of `diagnose samples`, written the obvious way in Python:
the json module for each line, numpy for the arithmetic. It is the speed baseline of
bench/diagnose_compare.sh and a second implementation to compare the estimates with.

For samples x_i ~ pi with l_i = logp_ref - logp_policy and log-weights lw_i = r_i/beta + l_i:
  expected_reward     mean r
  kl_policy_prior_k1  mean(-l)
  kl_policy_prior_k3  mean(exp(l) - 1 - l)
  objective           mean r - beta k1
  elbo                mean lw
  log_partition       logsumexp(lw) - log n      (or logsumexp(r_ref/beta) - log m with --reference)
  kl_policy_posterior log_partition - elbo
  effective_sample_size (sum w)^2 / sum w^2
Intervals: the same grouped bootstrap as the Swift tool (1024 groups; the first 1024 samples
one a group, the rest to random groups; groups resampled with replacement), with numpy's
generator, so intervals agree in distribution, not digit for digit.

Usage: diagnose_reference.py SAMPLES.jsonl --beta B [--reference REF.jsonl] [--bootstrap N] [--seed S]
"""
import argparse
import json
import sys
from array import array

import numpy as np

GROUPS = 1024


def read(path, keys):
    cols = [array("d") for _ in keys]
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                for c, k in zip(cols, keys):
                    v = obj[k]
                    if isinstance(v, bool) or not isinstance(v, (int, float)):
                        raise ValueError(f"field '{k}' is not a number")
                    c.append(v)
            except (ValueError, KeyError, TypeError) as e:
                sys.exit(f"{path}:{number}: {e}")
    return [np.frombuffer(c, dtype=np.float64) for c in cols]


def groups(n, rng):
    g = np.empty(n, dtype=np.int64)
    first = min(n, GROUPS)
    g[:first] = np.arange(first)
    g[first:] = rng.integers(0, GROUPS, n - first)
    return g, first


def lse_by_group(v, g, m):
    """log sum exp of v within each group: shift by the global max (fine for a baseline)."""
    top = v.max()
    return np.log(np.bincount(g, weights=np.exp(v - top), minlength=m)) + top


def estimates(sums, ref_sums, beta):
    n, sr, sk1, sk3, se, lw, lw2 = sums
    out = {"expected_reward": sr / n, "kl_policy_prior_k1": sk1 / n, "kl_policy_prior_k3": sk3 / n,
           "objective": sr / n - beta * sk1 / n, "elbo": se / n}
    log_z_policy = lw - np.log(n)
    log_z = log_z_policy
    if ref_sums is not None:
        m, rlw, rlw2 = ref_sums
        log_z = rlw - np.log(m)
    out.update({"log_partition": log_z, "kl_policy_posterior": log_z - se / n,
                "effective_sample_size": np.exp(2 * lw - lw2), "log_partition_policy": log_z_policy})
    if ref_sums is not None:
        out.update({"log_partition_reference": log_z, "effective_sample_size_reference": np.exp(2 * rlw - rlw2)})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    ap.add_argument("--beta", type=float, required=True)
    ap.add_argument("--reference")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    lp0, lpi, r = read(a.samples, ["logp_ref", "logp_policy", "reward"])
    l = lp0 - lpi
    lw = r / a.beta + l
    g, m = groups(len(r), rng)
    per_group = [np.bincount(g, minlength=m).astype(float), np.bincount(g, r, m), np.bincount(g, -l, m),
                 np.bincount(g, np.expm1(l) - l, m), np.bincount(g, lw, m), lse_by_group(lw, g, m), lse_by_group(2 * lw, g, m)]
    ref_groups = None
    if a.reference:
        (rr,) = read(a.reference, ["reward"])
        gr, mr = groups(len(rr), rng)
        ref_groups = [np.bincount(gr, minlength=mr).astype(float), lse_by_group(rr / a.beta, gr, mr), lse_by_group(2 * rr / a.beta, gr, mr)]

    def total(per, weights):
        return [weights @ per[0]] + [weights @ p for p in per[1:-2]] + \
               [np.log(weights @ np.exp(per[-2] - per[-2].max())) + per[-2].max(),
                np.log(weights @ np.exp(per[-1] - per[-1].max())) + per[-1].max()]

    def ref_total(per, weights):
        return [weights @ per[0]] + [np.log(weights @ np.exp(p - p.max())) + p.max() for p in per[1:]]

    point = estimates(total(per_group, np.ones(m)), ref_total(ref_groups, np.ones(len(ref_groups[0]))) if ref_groups else None, a.beta)
    draws = {k: [] for k in point}
    for _ in range(a.bootstrap):
        wp = np.bincount(rng.integers(0, m, m), minlength=m).astype(float)
        wr = None
        if ref_groups:
            mr = len(ref_groups[0])
            wr = np.bincount(rng.integers(0, mr, mr), minlength=mr).astype(float)
        e = estimates(total(per_group, wp), ref_total(ref_groups, wr) if ref_groups else None, a.beta)
        for k in e:
            draws[k].append(e[k])
    result = {"samples": len(r), "beta": a.beta}
    for k, v in point.items():
        lo, hi = np.percentile(draws[k], [2.5, 97.5])
        result[k] = {"estimate": float(v), "low": float(lo), "high": float(hi)}
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()

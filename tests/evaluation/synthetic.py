"""Synthetic evaluations: groups (targets named ``dataset:task``) x candidates, with a known truth structure."""

import numpy as np
import pandas as pd


def evaluation_table(*, datasets: int = 6, tasks: int = 5, candidates: int = 12, shared: float = 0.0,
                     metric_noise: float = 0.3, seeds: int = 3, seed_noise: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """One row per (target, encoder): ``truth`` (mean of ``truth_s0..``), each seed's truth, ``metric`` (the
    target-specific truth plus noise) and ``params`` (a candidate attribute unrelated to the truth). ``shared``
    scales a per-candidate effect common to every target (what a target-agnostic prior can learn)."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(candidates)
    params = rng.permutation(candidates).astype(float) * 1e6
    rows = []
    for d in range(datasets):
        for t in range(tasks):
            specific = rng.standard_normal(candidates)
            latent = shared * common + specific
            per_seed = latent[:, None] + seed_noise * rng.standard_normal((candidates, seeds))
            metric = specific + metric_noise * rng.standard_normal(candidates)
            for c in range(candidates):
                row = {"target": f"d{d}:{t}", "encoder": f"enc{c:02d}", "truth": per_seed[c].mean(),
                       "metric": metric[c], "params": params[c]}
                row.update({f"truth_s{s}": per_seed[c, s] for s in range(seeds)})
                rows.append(row)
    return pd.DataFrame(rows)

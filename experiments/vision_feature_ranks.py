"""Numerical rank of each study encoder's target features next to n and d.

``python experiments/vision_feature_ranks.py pair-target-selection --preset small`` embeds (or
reads from the cache) every target of the study's spec and prints, per encoder, d, the range of n
and of the rank of the centred training features. The plain H-score inverts a covariance of that
rank; when the rank reaches n the features separate any labelling of the training part and the
H-score stops telling targets apart, which is where shrinkage should matter.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def feature_rank(features) -> int:
    """Rank of the centred features (numpy's SVD tolerance)."""
    import numpy as np

    x = np.asarray(features, dtype=np.float64)
    return int(np.linalg.matrix_rank(x - x.mean(axis=0)))


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from gtransfer.studies.designs.vision import STUDIES
    from gtransfer.vision.embeddings import target_embeddings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=sorted(STUDIES))
    parser.add_argument("--preset", choices=("small", "full"), default="small")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    spec = STUDIES[args.study](args.preset, zoo=str(root / "results" / "vision" / f"zoo-{args.preset}"),
                               cache=str(root / ".cache" / "vision" / "embeddings"))
    print("| encoder | d | targets | n (min-max) | rank (min-median-max) | targets with rank >= n - 1 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for encoder in spec["encoders"]:
        ns, ranks, d = [], [], 0
        for target in spec["targets"]:
            features = np.load(
                target_embeddings(encoder, target, spec["params"]["zoo"], spec["params"]["cache"])["features"]
            )
            d = features.shape[1]
            ns.append(features.shape[0])
            ranks.append(feature_rank(features))
        full = sum(r >= n - 1 for r, n in zip(ranks, ns))
        print(
            f"| {encoder} | {d} | {len(ns)} | {min(ns)}-{max(ns)} | {min(ranks)}-{int(np.median(ranks))}-{max(ranks)} "
            f"| {full} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

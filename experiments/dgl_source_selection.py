"""Source selection with DGL encoders among PyG ones (run it in the DGL environment: make dgl-env).

Trains the ``dgl.nn`` GIN example (:mod:`gtransfer.models.dgl.examples`) on BBBP, a source task
(supervised, scaffold train split, early stopping on the validation split), saves it as a DGL
checkpoint, and runs the graph demo's study on BACE with it as a candidate next to the same DGL GIN
untrained, three published Hu et al. 2020 encoders and an untrained PyG GIN. Every metric scores each
encoder on BACE's training split, fine-tuning on BACE gives the truth, and the report says how well
each metric's ranking matches it. Resumable: the source encoder is trained once, the study is a sweep.

    .venv-dgl/bin/python experiments/dgl_source_selection.py --out results/dgl-source-selection
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

PUBLISHED = ["published:gcn_supervised", "published:graphsage_supervised", "published:gcn_contextpred"]
ARCHITECTURE = {"num_layers": 3, "hidden_dim": 128, "node_features": "hu2020"}


def train_source_encoder(path: Path, data_root: str | None, epochs: int, seed: int = 0) -> Path:
    """The DGL GIN trained on BBBP, saved at ``path`` (left as it is when the file exists)."""
    from torch_geometric.loader import DataLoader

    from gtransfer.data import load_dataset
    from gtransfer.models.dgl import build_dgl_encoder, save_dgl_encoder
    from gtransfer.training.finetune import TaskSpec, finetune

    if path.is_file():
        print(f"source encoder: {path} exists, reused")
        return path
    dataset = load_dataset("ogbg-molbbbp", root=data_root, featurizer="hu2020")
    split = dataset.get_idx_split()
    generator = torch.Generator().manual_seed(seed)
    loaders = {
        name: DataLoader(
            dataset[torch.as_tensor(split[name])],
            batch_size=64,
            shuffle=name == "train",
            generator=generator if name == "train" else None,
        )
        for name in ("train", "valid", "test")
    }
    torch.manual_seed(seed)
    encoder = build_dgl_encoder("gin", **ARCHITECTURE)
    result = finetune(encoder, loaders["train"], loaders["valid"], loaders["test"], task=TaskSpec("multilabel", 1),
                      epochs=epochs, patience=epochs, seed=seed, device="cpu", return_model=True, progress=True)
    print(
        f"source encoder: BBBP scaffold test ROC-AUC {result.test_metric:.3f} (best epoch {result.best_epoch} of "
        f"{result.epochs_run})"
    )
    return save_dgl_encoder(result.model.encoder, path, metadata={"source_task": "ogbg-molbbbp",
                                                                   "source_test_rocauc": result.test_metric})


def main() -> None:
    from gtransfer.demos.graph import run_demo

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/dgl-source-selection")
    parser.add_argument("--data-root", help="data root (default: GTRANSFER_DATA, ../shared/data, then datasets/)")
    parser.add_argument("--source-epochs", type=int, default=10, help="BBBP training epochs of the DGL GIN")
    parser.add_argument("--max-samples", type=int, default=600, help="BACE molecules")
    parser.add_argument("--epochs", type=int, default=4, help="BACE fine-tuning epochs (the truth)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from gtransfer.models.dgl import build_dgl_encoder, save_dgl_encoder  # needs DGL; --help does not

    out = Path(args.out)
    trained = train_source_encoder(out / "encoders" / "dgl_gin_bbbp.pt", args.data_root, args.source_epochs)
    untrained = out / "encoders" / "dgl_gin_untrained.pt"
    if not untrained.is_file():
        torch.manual_seed(0)
        save_dgl_encoder(build_dgl_encoder("gin", **ARCHITECTURE), untrained)
    encoders = [str(trained.resolve()), str(untrained.resolve()), *PUBLISHED, "random:gin:layers=3,dim=128"]
    run_demo(data_root=args.data_root, out_dir=out / "study", workers=args.workers, encoders=encoders,
             max_samples=args.max_samples, epochs=args.epochs)


if __name__ == "__main__":
    main()

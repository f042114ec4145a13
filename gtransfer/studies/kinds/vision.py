"""Vision trial kinds of the sweep engine (built in, like the graph kinds; old specs that name
``import: vision.trials`` still run).

- ``vision_score``: every transferability metric of a zoo encoder's frozen embeddings of a target's
  training part; it embeds (cached) and hands the files to the shared ``score`` kind.
- ``vision_finetune``: fine-tuning (``mode: full``) or linear probing (``mode: linear``) of a zoo
  encoder on a target through ``gtransfer.training.finetune``; the ground truth of a study.

Common params: ``encoder`` (a name in the zoo), ``target`` (see :mod:`gtransfer.vision.targets`), ``seed``,
``zoo`` (folder, relative to the spec), ``cache`` (embedding cache folder, default
``.cache/vision/embeddings``), ``data_root`` (optional shared data root).

torch and the vision branch are imported inside the trials: registering the built-in kinds (which
every sweep driver and worker process does first) stays cheap, so a worker starts in well under a
second instead of importing torch for a sweep that may never run an image trial.
"""

from __future__ import annotations

from gtransfer.evaluation import majority_accuracy
from gtransfer.studies.registry import register_trial_kind

__all__ = ["vision_score_trial", "vision_finetune_trial", "check_vision_trial"]


def _required(params: dict, *names: str) -> None:
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"vision trial params lack {missing} (have {sorted(params)})")


#: the folder of a root's vision/ that each image dataset is read from
_IMAGE_FOLDERS = {"mnist": "mnist", "cifar10": "cifar10_jpeg"}


def check_vision_trial(params: dict) -> None:
    """Before any trial runs (the spec check, from the spec's folder): the target parses, its image data is in a
    data root, and the encoder is in the zoo -- so a partial zoo is one list of the missing encoders up front,
    not one failed trial after another. Reads no weights and no images.

    Raises:
        ValueError: a bad target name; both a bad target (or missing data) and a missing encoder (as
            :class:`gtransfer.selection.scoring.EncoderTargetProblems`).
        FileNotFoundError: the encoder is not in the zoo, or the target's image data is not in any data root.
    """
    from gtransfer.selection.scoring import EncoderTargetProblems
    from gtransfer.vision.data.roots import vision_data_root
    from gtransfer.vision.embeddings import encoder_path
    from gtransfer.vision.targets import parse_target

    _required(params, "encoder", "target", "zoo")
    problems: list[Exception] = []
    try:
        dataset = parse_target(params["target"]).dataset.lower()
        if dataset in _IMAGE_FOLDERS:
            folder = vision_data_root(params.get("data_root")) / _IMAGE_FOLDERS[dataset]
            if not folder.is_dir():
                raise FileNotFoundError(f"target {params['target']!r}: no {folder} (the data root's {dataset} files)")
    except (ValueError, FileNotFoundError) as exc:
        problems.append(exc)
    try:
        encoder_path(params["encoder"], params["zoo"])
    except FileNotFoundError as exc:
        problems.append(exc)
    if len(problems) > 1:
        raise EncoderTargetProblems([str(p) for p in problems])
    if problems:
        raise problems[0]


@register_trial_kind(
    "vision_score",
    check=check_vision_trial,
    params=("encoder", "target", "seed", "zoo", "cache", "data_root", "metrics", "use_source_probs", "train_samples",
            "sample_seed"),
)
def vision_score_trial(params: dict) -> dict:
    """Metric scores of ``encoder`` on ``target``'s training part (``metrics``: optional list of names;
    ``train_samples``/``sample_seed``: score from that many training images only, as the shared ``score`` kind cuts
    them, while the truth fine-tunes on the whole part).

    Returns the shared ``score`` kind's result (metric name -> value, ``n``, ``d``, ``num_classes``,
    ``label_entropy``) and, with NCE/LEEP, ``nce_leep_source``: the zoo encoder's source head.
    """
    from gtransfer.studies.kinds.arrays import score_trial
    from gtransfer.vision.embeddings import target_embeddings

    _required(params, "encoder", "target", "zoo")
    paths = target_embeddings(params["encoder"], params["target"], params["zoo"],
                              params.get("cache", ".cache/vision/embeddings"), root=params.get("data_root"))
    shared = {"features": str(paths["features"]), "labels": str(paths["labels"]),
              "source_probs": str(paths["source_probs"]) if params.get("use_source_probs", True) else None,
              "metrics": params.get("metrics"), "train_samples": params.get("train_samples"),
              "sample_seed": params.get("sample_seed")}
    result = score_trial({k: v for k, v in shared.items() if v is not None})
    if "source_probs" in shared and shared["source_probs"] is not None:
        result["nce_leep_source"] = (
            f"source head: vision zoo encoder {params['encoder']} (softmax over its source classes)"
        )
    return result


@register_trial_kind("vision_finetune", check=check_vision_trial,
                     params=("encoder", "target", "seed", "zoo", "cache", "data_root", "mode", "epochs", "lr",
                             "patience", "batch_size", "device"))
def vision_finetune_trial(params: dict) -> dict:
    """Fine-tune (``mode``: ``full``, default) or linearly probe (``linear``) ``encoder`` on ``target``.

    Params: ``epochs`` (5), ``lr`` (1e-3), ``patience`` (epochs), ``batch_size`` (64), ``device`` ("cpu").

    Returns ``test_accuracy``, ``valid_accuracy``, ``majority_accuracy`` (the training part's majority
    class on the test part; the shared report derives relative accuracy from it), ``n_train``,
    ``num_classes``, ``epochs_run``.
    """
    import torch

    from gtransfer.training.finetune import TaskSpec, finetune
    from gtransfer.vision.data import image_batch_to, make_loader
    from gtransfer.vision.embeddings import encoder_path
    from gtransfer.vision.targets import load_target
    from gtransfer.vision.zoo import load_zoo_encoder

    _required(params, "encoder", "target", "zoo")
    seed = int(params.get("seed", 0))
    mode = params.get("mode", "full")
    if mode not in ("full", "linear"):
        raise ValueError(f"mode must be 'full' or 'linear', got {mode!r}")
    torch.manual_seed(seed)
    encoder, _, metadata = load_zoo_encoder(encoder_path(params["encoder"], params["zoo"]))
    task = load_target(params["target"], root=params.get("data_root"))
    shape = tuple(metadata["input_shape"])
    epochs = int(params.get("epochs", 5))
    result = finetune(
        encoder,
        make_loader(
            task.train, input_shape=shape, batch_size=int(params.get("batch_size", 64)), shuffle=True, seed=seed
        ),
        make_loader(task.valid, input_shape=shape, batch_size=256),
        make_loader(task.test, input_shape=shape, batch_size=256),
        task=TaskSpec(kind="multiclass", num_outputs=task.num_classes),
        mode=mode,
        epochs=epochs,
        lr=float(params.get("lr", 1e-3)),
        patience=int(params.get("patience", epochs)),
        seed=seed,
        device=params.get("device", "cpu"),
        batch_to=image_batch_to,
    )
    return {
        "test_accuracy": float(result.test_metric),
        "valid_accuracy": float(result.valid_metric),
        "majority_accuracy": majority_accuracy(task.test.labels, train_labels=task.train.labels),
        "n_train": len(task.train),
        "num_classes": task.num_classes,
        "epochs_run": len(getattr(result, "history", []) or []),
    }

"""The fine-tuning truth of source selection: one multi-task fine-tune per dataset, scored per task; class weights."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gtransfer.selection.finetuning import FinetuneMember, FinetuneSetup, finetune_pack

ENCODER = "random:gin:layers=2,dim=16,seed=0"


def test_a_whole_multitask_dataset_trains_one_head_and_reports_each_task(shared_data):  # Tox21: not shipped
    """ogbg-moltox21 with no task: a 12-output head with a masked BCE; each task's test ROC-AUC (None where the
    test split lacks a class), its test positives, and their mean is the trial's test_roc_auc."""
    from gtransfer.data.targets import load_target, subsample_target

    setup = FinetuneSetup(target="ogbg-moltox21", epochs=1, batch_size=64, max_samples=400, dtype="float64")
    (result,) = finetune_pack(setup, [FinetuneMember(ENCODER, seed=0)])
    assert isinstance(result, dict), result
    assert len(result["test_roc_auc_tasks"]) == 12 and len(result["tasks"]) == 12 and result["tasks"][0] == "NR-AR"
    target = subsample_target(load_target("ogbg-moltox21", root=None), 400, seed=0)
    test = target.labels[target.splits["test"]]
    assert result["test_positives_tasks"] == [int(v) for v in np.nansum(test, axis=0)]
    both = [bool(np.nanmax(test[:, t]) == 1 and np.nanmin(test[:, t]) == 0) for t in range(12)]
    assert [v is not None for v in result["test_roc_auc_tasks"]] == both
    scored = [v for v in result["test_roc_auc_tasks"] if v is not None]
    assert np.mean(scored) == pytest.approx(result["test_roc_auc"], abs=1e-9)


def test_class_weight_changes_the_loss_and_a_softmax_head_reports_balanced_accuracy():
    from gtransfer.studies.kinds.graph_finetune import graph_finetune_trial

    base = {"encoder": ENCODER, "target": "MUTAG", "seed": 0, "epochs": 1, "batch_size": 32, "head": "softmax",
            "dtype": "float64"}
    plain = graph_finetune_trial(base)
    weighted = graph_finetune_trial({**base, "class_weight": "balanced"})
    assert 0.0 <= plain["test_balanced_accuracy"] <= 1.0 and "test_accuracy" in plain
    assert not math.isclose(plain["train_loss"][0], weighted["train_loss"][0], rel_tol=1e-6)
    with pytest.raises(ValueError, match="class_weight must be one of"):
        graph_finetune_trial({**base, "class_weight": "inverse"})


def test_class_weight_is_a_new_param_that_leaves_existing_keys_alone():
    from gtransfer.studies.keys import trial_key
    from gtransfer.studies.spec import expand_trials, parse_spec

    spec = parse_spec({"name": "k", "encoders": [ENCODER], "targets": ["MUTAG"],
                       "stages": [{"kind": "graph_finetune", "seeds": [0], "params": {"epochs": 2}}]})
    (trial,) = expand_trials(spec)
    assert "class_weight" not in trial.params
    assert trial.key == trial_key("graph_finetune", {"encoder": ENCODER, "target": "MUTAG", "seed": 0, "epochs": 2})

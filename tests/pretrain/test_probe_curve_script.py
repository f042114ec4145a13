"""experiments/pretrain_strategies_probe.py --probe-each-epoch (gtransfer/studies/designs/pretrain_strategies.py):
one probe per epoch, each of a kept copy of
the checkpoint, and the pretraining itself the same as an uninterrupted run's."""

from __future__ import annotations

import json

import torch

from gtransfer.io.checkpoints import read_checkpoint
from gtransfer.studies.designs.pretrain_strategies import probe_strategies
from tests.pretrain.helpers import TINY, pretrain_tiny


def test_a_probe_curve_probes_every_epoch_of_one_uninterrupted_run(shared_data, tmp_path):
    out = tmp_path / "curve.json"
    probe_strategies(strategies=["contextpred"], datasets=["ogbg-molbbbp"], corpus=TINY["corpus"], limit=TINY["limit"],
                     epochs=2, layers=TINY["num_layers"], dim=TINY["hidden_dim"], batch_size=TINY["batch_size"],
                     random_seeds=[0], data_root=str(shared_data), workdir=tmp_path / "work", out=out,
                     probe_each_epoch=True, settings={"run": "test"})

    record = json.loads(out.read_text())
    assert record["settings"] == {"run": "test"}
    rows = [(r["weights"], r.get("epoch")) for r in record["results"]]
    assert rows == [("random_seed0", None), ("contextpred", 1), ("contextpred", 2)]
    aucs = [r["test_rocauc"] for r in record["results"]]
    assert all(0.0 < auc < 1.0 for auc in aucs) and len(set(aucs)) == 3  # three different encoders probed
    assert record["summary"]["ogbg-molbbbp"]["contextpred"] == aucs[-1]  # the summary is the last epoch
    assert (tmp_path / "curve.png").read_bytes().startswith(b"\x89PNG")

    kept = sorted(p.name for p in (tmp_path / "work").glob("*_epoch*.pt"))
    assert kept == [
        "gin_l2_d16_contextpred_zinc250k-jtnn-valid_40_e2_epoch1.pt",
        "gin_l2_d16_contextpred_zinc250k-jtnn-valid_40_e2_epoch2.pt",
    ]
    first = read_checkpoint(tmp_path / "work" / kept[0])
    last = read_checkpoint(tmp_path / "work" / kept[1])
    assert first["metadata"]["epochs_done"] == 1 and last["metadata"]["epochs_done"] == 2
    assert len(last["metadata"]["history"]) == 2

    # the curve's epoch-2 weights are those of one 2-epoch run on the corpus featurised by pretrain_encoder
    reference = tmp_path / "reference.pt"
    pretrain_tiny(reference, shared_data, epochs=2)
    expected = read_checkpoint(reference)["state_dict"]
    assert expected.keys() == last["state_dict"].keys()
    for name, tensor in expected.items():
        torch.testing.assert_close(last["state_dict"][name], tensor, rtol=0, atol=0, msg=name)
    assert not all(torch.equal(first["state_dict"][k], v) for k, v in expected.items())  # epoch 1 is another point

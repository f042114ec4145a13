"""The graph source zoo on shipped data: members keep their heads, NCE/LEEP read them, everything names its source."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gtransfer.embeddings.targets import target_embeddings
from gtransfer.metrics import leep, nce
from gtransfer.models.specs import resolve_encoder
from gtransfer.pretrain.source_zoo import GraphSourceSpec, build_graph_source_zoo, train_graph_source

MUTAG_SOURCE = GraphSourceSpec("mutag-gin", "MUTAG", layers=2, dim=16, epochs=3, patience=3, max_graphs=None)
CLINTOX_SOURCE = GraphSourceSpec(
    "clintox-gin", "ogbg-molclintox", layers=2, dim=16, epochs=1, patience=1, max_graphs=None
)


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zoo")
    torch.set_num_threads(1)
    paths = build_graph_source_zoo(folder, (MUTAG_SOURCE, CLINTOX_SOURCE), progress=False)
    return folder, dict(zip(("mutag", "clintox"), paths))


def test_a_member_is_an_encoder_file_with_its_trained_head(zoo, tmp_path):
    from gtransfer.io.checkpoints import load_checkpoint

    folder, paths = zoo
    spec = resolve_encoder(str(paths["mutag"]))
    head = spec.source_head
    assert head.kind == "multiclass" and head.labels == ("class 0", "class 1") and head.task == "MUTAG"
    assert head.input == {"kind": "float", "dataset": "MUTAG", "node_features": 7}
    _, metadata = load_checkpoint(paths["mutag"])
    assert metadata["source_zoo"]["graphs"] == {"train": 150, "valid": 18, "test": 20}  # the stratified split of 188
    # the stored head, on the stored encoder's embeddings, is the trained model: its test accuracy comes back
    target = target_embeddings(spec, "MUTAG")
    encoder = spec.load(node_features=7)
    assert encoder.embedding_dim == head.weight.shape[1] == 16
    x_test, y_test = target.part("test")
    accuracy = float(np.mean(head.probabilities(x_test).argmax(1) == y_test))
    assert accuracy == pytest.approx(metadata["source_zoo"]["test_metric"], abs=1e-12)
    # a rebuild keeps the file (the zoo is its own cache); another spec under the name retrains it
    stamp = paths["mutag"].stat().st_mtime_ns
    assert train_graph_source(MUTAG_SOURCE, folder) == paths["mutag"] and paths["mutag"].stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="names must be unique"):
        build_graph_source_zoo(tmp_path, (MUTAG_SOURCE, MUTAG_SOURCE), progress=False)


def test_a_molecule_member_has_one_sigmoid_per_task(zoo):
    _, paths = zoo
    head = resolve_encoder(str(paths["clintox"])).source_head
    assert head.kind == "multilabel" and head.labels == ("FDA_APPROVED", "CT_TOX") and head.num_source_labels == 3
    assert head.input == {"kind": "molecule", "featurizer": "hu2020"}


def test_graph_score_reads_nce_and_leep_from_the_source_head(zoo):
    from gtransfer.studies.kinds.graph import graph_score_trial

    _, paths = zoo
    encoder = str(paths["clintox"])
    params = {
        "encoder": encoder,
        "target": "ogbg-molclintox:1",
        "seed": 0,
        "metrics": ["nce", "leep", "logme"],
        "max_samples": 300,
    }
    result = graph_score_trial(params)
    embeddings = target_embeddings(encoder, "ogbg-molclintox:1", max_samples=300)
    x, y = embeddings.part("train")
    theta = resolve_encoder(encoder).source_head.probabilities(x)
    assert theta.shape[1] == 3
    assert result["nce"] == pytest.approx(nce(theta.argmax(1), y), rel=1e-12)
    assert result["leep"] == pytest.approx(leep(theta, y), rel=1e-12)
    assert result["nce_leep_source"].startswith(
        "source head: clintox-gin.pt (trained on ogbg-molclintox; multilabel, Z=3"
    )
    stand_in = graph_score_trial({**params, "source": "kmeans-stand-in", "source_clusters": 8})
    assert stand_in["nce_leep_source"].startswith("kmeans-stand-in") and stand_in["nce"] != result["nce"]
    assert stand_in["logme"] == result["logme"]


def test_an_encoder_without_a_head_gets_nan_and_says_why():
    from gtransfer.studies.kinds.graph import graph_score_trial

    result = graph_score_trial(
        {"encoder": "random:gin:layers=2,dim=16", "target": "MUTAG", "seed": 0, "metrics": ["nce", "leep", "logme"]}
    )
    assert np.isnan(result["nce"]) and np.isnan(result["leep"]) and np.isfinite(result["logme"])
    assert result["nce_leep_source"] == "none: the encoder has no source head"
    everything = graph_score_trial({"encoder": "random:gin:layers=2,dim=16", "target": "MUTAG", "seed": 0})
    assert all(np.isnan(everything[m]) for m in ("nce", "leep", "nce_normalized", "leep_normalized"))
    with pytest.raises(ValueError, match="unknown NCE/LEEP source 'kmeans'; choose one of head, kmeans-stand-in"):
        graph_score_trial({"encoder": "random:gin:layers=2,dim=16", "target": "MUTAG", "seed": 0, "source": "kmeans"})


def test_rank_names_the_source_of_leep(zoo, capsys):
    from gtransfer.cli import main

    _, paths = zoo
    code = main(
        [
            "rank", "--target", "MUTAG", "--encoders",
            str(paths["mutag"]),
            "random:gin:layers=2,dim=16", "--metric", "leep", "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "leep source per encoder (--source head):" in out
    assert "mutag-gin.pt: source head: mutag-gin.pt (trained on MUTAG; multiclass, Z=2, softmax)" in out
    assert "random:gin:layers=2,dim=16: none: the encoder has no source head" in out
    lines = out.splitlines()
    assert lines[1].split()[:2] == ["1", "mutag-gin.pt"] and lines[2].split()[-3] == "NaN"  # no head: ranked last

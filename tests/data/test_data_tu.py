"""TU datasets: published statistics of every TU dataset in the data root, features, bad raw files."""

from __future__ import annotations

import shutil
import warnings
import zipfile
from pathlib import Path

import pytest
import torch

from gtransfer.data import load_dataset
from gtransfer.data.molecules import CorruptCacheWarning
from gtransfer.data.roots import MissingDataError
from gtransfer.data.tu import check_tu_files

# TU Dortmund's published table (https://chrsmrrs.github.io/datasets/docs/datasets/): graphs, classes,
# average nodes, average (undirected) edges, node label values, node attribute dimension.
TU_STATS = {
    "MUTAG": (188, 2, 17.93, 19.79, 7, 0),
    "PTC_MR": (344, 2, 14.29, 14.69, 18, 0),
    "PTC_FM": (349, 2, 14.11, 14.48, 18, 0),
    "PTC_FR": (351, 2, 14.56, 15.00, 19, 0),
    "PTC_MM": (336, 2, 13.97, 14.32, 20, 0),
    "PROTEINS": (1113, 2, 39.06, 72.82, 3, 1),
    "PROTEINS_full": (1113, 2, 39.06, 72.82, 3, 29),
    "NCI1": (4110, 2, 29.87, 32.30, 37, 0),
    "NCI109": (4127, 2, 29.68, 32.13, 38, 0),
    "ENZYMES": (600, 6, 32.63, 62.14, 3, 18),
    "IMDB-BINARY": (1000, 2, 19.77, 96.53, 0, 0),
    "IMDB-MULTI": (1500, 3, 13.00, 65.94, 0, 0),
    "AIDS": (2000, 2, 15.69, 16.20, 38, 4),
    "Mutagenicity": (4337, 2, 30.32, 30.77, 14, 0),
    "DD": (1178, 2, 284.32, 715.66, 89, 0),
    "REDDIT-BINARY": (2000, 2, 429.63, 497.75, 0, 0),
}


def _total_nodes(dataset) -> int:
    data = dataset._data
    return int(data.x.shape[0]) if data.x is not None else int(sum(data._num_nodes))


def test_every_tu_dataset_in_the_root_has_published_stats(data_root):
    on_disk = {p.name for p in (data_root / "tu").iterdir() if p.is_dir()}
    on_disk |= {p.stem for p in (data_root / "tu_zips").glob("*.zip")}
    assert on_disk <= set(TU_STATS), f"add published statistics for {sorted(on_disk - set(TU_STATS))}"


@pytest.mark.parametrize("name", sorted(TU_STATS))
def test_tu_published_statistics(name, data_root, data_cache):
    graphs, classes, avg_nodes, avg_edges, node_labels, node_attrs = TU_STATS[name]
    dataset = load_dataset(name, root=data_root, cache=data_cache)
    assert len(dataset) == graphs
    assert dataset.num_classes == classes
    assert torch.equal(torch.unique(dataset._data.y), torch.arange(classes))
    assert abs(_total_nodes(dataset) / graphs - avg_nodes) < 0.005
    # PyG stores each undirected edge in both directions
    assert abs(dataset._data.edge_index.shape[1] / 2 / graphs - avg_edges) < 0.005
    assert dataset.num_node_labels == node_labels
    assert dataset.num_node_attributes == node_attrs
    first = dataset[0]
    if node_labels or node_attrs:
        # node labels one-hot after the attributes: every row has exactly one label bit set
        assert dataset.node_feature_mode == "raw"
        assert first.x.shape[1] == node_labels + node_attrs
        if node_labels:
            assert torch.all(first.x[:, node_attrs:].sum(1) == 1)
    else:
        assert dataset.node_feature_mode == "degree"


@pytest.mark.parametrize("name", ["IMDB-BINARY", "IMDB-MULTI"])
def test_degree_one_hot_encodes_each_node_degree(name, data_root, data_cache):
    dataset = load_dataset(name, root=data_root, cache=data_cache)
    values = torch.as_tensor(dataset.degree_values)
    assert dataset.num_features == values.numel()
    for index in (0, len(dataset) // 2, len(dataset) - 1):
        graph = dataset[index]
        degree = torch.bincount(graph.edge_index[1], minlength=graph.num_nodes)
        assert torch.all(graph.x.sum(1) == 1)
        assert torch.equal(values[graph.x.argmax(1)], degree)


def test_constant_features_option(data_root, data_cache):
    dataset = load_dataset("REDDIT-BINARY", root=data_root, cache=data_cache, node_features="constant")
    graph = dataset[3]
    assert graph.x.shape == (graph.num_nodes, 1) and torch.all(graph.x == 1)


def test_tu_name_matching_is_case_insensitive(data_root, data_cache):
    assert len(load_dataset("mutagenicity", root=data_root, cache=data_cache)) == 4337


# -- bad input ---------------------------------------------------------------------------------
@pytest.fixture
def mutag_copy(tmp_path, data_root) -> Path:
    """A writable copy of MUTAG in a root of its own."""
    target = tmp_path / "root" / "tu" / "MUTAG" / "raw"
    shutil.copytree(data_root / "tu" / "MUTAG" / "raw", target)
    return tmp_path / "root"


def test_tu_files_that_disagree_in_line_counts_are_refused(mutag_copy, tmp_path):
    labels = mutag_copy / "tu" / "MUTAG" / "raw" / "MUTAG_node_labels.txt"
    lines = labels.read_text().splitlines()
    labels.write_text("\n".join(lines[:-5]) + "\n")
    with pytest.raises(ValueError, match=r"MUTAG_node_labels.txt has 3366 lines but graph_indicator implies 3371"):
        load_dataset("MUTAG", root=mutag_copy, cache=tmp_path / "cache")


def test_tu_edge_ids_beyond_the_nodes_are_refused(mutag_copy, tmp_path):
    adjacency = mutag_copy / "tu" / "MUTAG" / "raw" / "MUTAG_A.txt"
    adjacency.write_text(adjacency.read_text() + "3372, 1\n")
    with pytest.raises(ValueError, match="node ids in"):
        check_tu_files(adjacency.parent, "MUTAG")


def test_damaged_tu_files_give_one_line_errors_naming_the_file(mutag_copy, tmp_path):
    from gtransfer.data.rawfiles import DamagedFileError

    raw = mutag_copy / "tu" / "MUTAG" / "raw"
    adjacency = raw / "MUTAG_A.txt"
    text = adjacency.read_text()
    adjacency.write_text(text[: text.index("\n", len(text) // 2) + 4])  # cut inside a line: "12," with no second id
    with pytest.raises(DamagedFileError, match=r"MUTAG_A.txt: line \d+ is incomplete or not integers .*restore it from https://"):
        load_dataset("MUTAG", root=mutag_copy, cache=tmp_path / "cache")
    adjacency.unlink()
    adjacency.mkdir()
    with pytest.raises(DamagedFileError, match=r"MUTAG_A.txt is a folder, not a data file"):
        check_tu_files(raw, "MUTAG")


def test_a_truncated_tu_zip_is_one_line_naming_the_zip(data_root, tmp_path):
    from gtransfer.data.rawfiles import DamagedFileError

    zips = tmp_path / "root" / "tu_zips"
    zips.mkdir(parents=True)
    data = (data_root / "tu_zips" / "PROTEINS_full.zip").read_bytes()
    (zips / "PROTEINS_full.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(
        DamagedFileError, match=r"PROTEINS_full.zip is not a whole zip archive \(BadZipFile: .*\); restore it from"
    ):
        load_dataset("PROTEINS_full", root=tmp_path / "root", cache=tmp_path / "cache")
    damaged = bytearray(data)
    with zipfile.ZipFile(data_root / "tu_zips" / "PROTEINS_full.zip") as archive:  # a byte flipped inside a member
        info = archive.infolist()[0]
        damaged[info.header_offset + 30 + len(info.filename) + 1000] ^= 0xFF  # past any extra field, inside the data
    (zips / "PROTEINS_full.zip").write_bytes(bytes(damaged))
    with pytest.raises(DamagedFileError, match=r"PROTEINS_full.zip: member .* fails its CRC check"):
        load_dataset("PROTEINS_full", root=tmp_path / "root", cache=tmp_path / "cache2")
    assert not list((tmp_path / "cache").rglob("*.txt")) and not list((tmp_path / "cache2").rglob("*.txt"))


def test_tu_missing_graph_indicator(mutag_copy, tmp_path):
    (mutag_copy / "tu" / "MUTAG" / "raw" / "MUTAG_graph_indicator.txt").unlink()
    with pytest.raises(FileNotFoundError, match="MUTAG_graph_indicator.txt is missing"):
        check_tu_files(mutag_copy / "tu" / "MUTAG" / "raw", "MUTAG")


def test_missing_tu_dataset_names_path_and_source(tmp_path):
    with pytest.raises(MissingDataError) as error:
        load_dataset("COLLAB", root=tmp_path, cache=tmp_path / "cache")
    message = str(error.value)
    assert str(tmp_path / "tu" / "COLLAB" / "raw" / "COLLAB_A.txt") in message
    assert str(tmp_path / "tu_zips" / "COLLAB.zip") in message
    assert "chrsmrrs.com/graphkerneldatasets/COLLAB.zip" in message


def test_download_is_tried_only_when_allowed(tmp_path):
    # the network is blocked: an allowed download fails loudly, naming the URL
    with pytest.raises(OSError, match="download of https://www.chrsmrrs.com/graphkerneldatasets/COLLAB.zip"):
        load_dataset("COLLAB", root=tmp_path, cache=tmp_path / "cache", allow_download=True)


def test_corrupted_tu_cache_is_rebuilt_with_a_warning(mutag_copy, tmp_path):
    cache = tmp_path / "cache"
    first = load_dataset("MUTAG", root=mutag_copy, cache=cache)
    (processed,) = list(cache.rglob("data.pt"))
    processed.write_bytes(b"not a torch file")
    with pytest.warns(CorruptCacheWarning, match="unreadable"):
        again = load_dataset("MUTAG", root=mutag_copy, cache=cache)
    assert torch.equal(again._data.x, first._data.x)
    assert torch.equal(again._data.edge_index, first._data.edge_index)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_dataset("MUTAG", root=mutag_copy, cache=cache)  # the rebuilt cache reads back silently


def test_zip_is_extracted_into_the_cache_not_the_root(data_root, data_cache):
    dataset = load_dataset("PROTEINS_full", root=data_root, cache=data_cache)
    assert Path(dataset.raw_dir).is_relative_to(data_cache)
    with zipfile.ZipFile(data_root / "tu_zips" / "PROTEINS_full.zip") as archive:
        members = sorted(Path(m).name for m in archive.namelist() if m.endswith(".txt") and "PROTEINS_full_" in m)
    assert sorted(p.name for p in Path(dataset.raw_dir).iterdir()) == members


def test_available_datasets_lists_the_root_then_the_embedded_sets(data_root, tmp_path):
    from gtransfer.data import available_datasets

    shared = available_datasets(data_root)
    assert set(TU_STATS) <= set(shared) and {"Cora", "CiteSeer", "ogbg-moltox21", "ogbg-molmuv"} <= set(shared)
    assert "ogbg-molfreesolv" not in shared and shared["DD"] == data_root / "tu_zips" / "DD.zip"
    embedded_only = available_datasets(tmp_path)
    assert set(embedded_only) == {"MUTAG", "PTC_MR", "ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox"}

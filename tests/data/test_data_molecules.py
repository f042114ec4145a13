"""Molecules as OGB datasets: published statistics, labels against the CSVs, the official loader, bad input."""

from __future__ import annotations

import gzip
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gtransfer.data import load_dataset
from gtransfer.data.molecules import (
    MOLECULE_SPECS,
    CorruptCacheWarning,
    SkippedMoleculesWarning,
    WrongSizeError,
    molecule_spec,
    read_molecule_csv,
)
from gtransfer.data.rawfiles import DamagedFileError
from gtransfer.data.roots import MissingDataError

# MoleculeNet CSV rows as published in ../shared/data (PROVENANCE.md), OGB's graph count, tasks, metric.
MOLECULE_STATS = {
    "ogbg-molbbbp": (2039, 2039, 1, "rocauc"),
    "ogbg-molbace": (1513, 1513, 1, "rocauc"),
    "ogbg-molclintox": (1484, 1477, 2, "rocauc"),
    "ogbg-moltox21": (7831, 7831, 12, "rocauc"),
    "ogbg-moltoxcast": (8576, 8576, 617, "rocauc"),
    "ogbg-molsider": (1427, 1427, 27, "rocauc"),
    "ogbg-molhiv": (41127, 41127, 1, "rocauc"),
    "ogbg-molmuv": (93087, 93087, 17, "ap"),
    "ogbg-molesol": (1128, 1128, 1, "rmse"),
}
# HIV (41k) and MUV (93k) take minutes to featurise on two cores: checked at the raw-file level.
FEATURISED = [name for name in MOLECULE_STATS if name not in ("ogbg-molhiv", "ogbg-molmuv")]


def _csv_path(data_root: Path, name: str) -> Path:
    spec = molecule_spec(name)
    return next(data_root / "moleculenet" / spec.folder / "raw" / f for f in spec.files
                if (data_root / "moleculenet" / spec.folder / "raw" / f).exists())


def _rdkit_parses(smiles: str) -> bool:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    return bool(smiles) and Chem.MolFromSmiles(smiles) is not None


def _load(name, data_root, data_cache, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedMoleculesWarning)
        return load_dataset(name, root=data_root, cache=data_cache, progress=False, **options)


def test_every_moleculenet_folder_in_the_root_is_covered(data_root):
    folders = {p.name for p in (data_root / "moleculenet").iterdir() if p.is_dir()}
    covered = {molecule_spec(name).folder for name in MOLECULE_STATS}
    assert folders <= covered, f"no test for {sorted(folders - covered)}"


def test_specs_agree_with_ogb_master_table():
    master = pd.read_csv(Path(__import__("ogb.graphproppred", fromlist=["x"]).__file__).parent / "master.csv",
                         index_col=0, keep_default_na=False)
    for name, spec in MOLECULE_SPECS.items():
        assert int(master[name]["num tasks"]) == spec.num_tasks
        assert master[name]["eval metric"] == spec.eval_metric
        assert master[name]["task type"] == spec.task_type


@pytest.mark.parametrize("name", sorted(MOLECULE_STATS))
def test_raw_csv_published_statistics(name, data_root):
    rows, ogb_graphs, tasks, _ = MOLECULE_STATS[name]
    smiles, labels, task_names = read_molecule_csv(_csv_path(data_root, name), molecule_spec(name))
    assert len(smiles) == rows and labels.shape == (rows, tasks) and len(task_names) == tasks
    assert rows >= ogb_graphs
    if molecule_spec(name).is_classification:
        present = labels[~np.isnan(labels)]
        assert set(np.unique(present)) == {0.0, 1.0}
    if name == "ogbg-molhiv":
        assert int(np.nansum(labels)) == 1443  # MoleculeNet's 1,443 confirmed (in)active compounds
    if name == "ogbg-molmuv":
        # MUV: at most 30 actives per target, most entries missing (one-label-per-target design)
        assert np.all(np.nansum(labels, axis=0) <= 30) and np.isnan(labels).mean() > 0.8


@pytest.mark.parametrize("name", FEATURISED)
def test_featurised_molecules_match_the_csv(name, data_root, data_cache):
    rows, ogb_graphs, tasks, metric = MOLECULE_STATS[name]
    smiles, labels, task_names = read_molecule_csv(_csv_path(data_root, name), molecule_spec(name))
    parses = np.array([_rdkit_parses(s) for s in smiles])
    dataset = _load(name, data_root, data_cache)
    # exactly the SMILES RDKit cannot parse are left out, and counted
    assert len(dataset) == parses.sum() and dataset.num_skipped == rows - parses.sum()
    assert dataset.num_skipped <= 0.01 * rows
    assert dataset.smiles == [s for s, ok in zip(smiles, parses) if ok]
    assert dataset.num_tasks == tasks and dataset.task_names == task_names and dataset.eval_metric == metric
    y = dataset._data.y.numpy()
    assert y.shape == (len(dataset), tasks) and dataset._data.y.dtype == torch.float32
    np.testing.assert_array_equal(np.isnan(y), np.isnan(labels[parses]))
    np.testing.assert_allclose(y, labels[parses].astype(np.float32))
    from ogb.utils.features import get_atom_feature_dims, get_bond_feature_dims

    x, edge_attr = dataset._data.x, dataset._data.edge_attr
    assert x.dtype == torch.long and x.shape[1] == 9 and edge_attr.dtype == torch.long and edge_attr.shape[1] == 3
    assert torch.all(x.max(0).values < torch.tensor(get_atom_feature_dims()))
    assert torch.all(edge_attr.max(0).values < torch.tensor(get_bond_feature_dims()))


def test_skipped_molecules_are_reported_in_one_warning(data_root, data_cache):
    with pytest.warns(SkippedMoleculesWarning, match=r"ogbg-moltox21: skipped 8 of 7831 .* 7823 kept") as caught:
        load_dataset("ogbg-moltox21", root=data_root, cache=data_cache, progress=False)
    assert len([w for w in caught if issubclass(w.category, SkippedMoleculesWarning)]) == 1


@pytest.mark.parametrize("name", ["ogbg-molbbbp", "ogbg-moltox21", "ogbg-molsider", "ogbg-molesol"])
def test_ogb_evaluator_accepts_the_results(name, data_root, data_cache):
    from ogb.graphproppred import Evaluator

    dataset = _load(name, data_root, data_cache)
    evaluator = Evaluator(name)
    assert evaluator.num_tasks == dataset.num_tasks and evaluator.eval_metric == dataset.eval_metric
    test = dataset.get_idx_split()["test"]
    y_true = dataset._data.y[test]
    perfect = evaluator.eval({"y_true": y_true, "y_pred": torch.nan_to_num(y_true, 0.0)})[dataset.eval_metric]
    assert perfect == pytest.approx(0.0 if dataset.eval_metric == "rmse" else 1.0)
    noisy = torch.nan_to_num(y_true, 0.0) + torch.randn(y_true.shape, generator=torch.Generator().manual_seed(0))
    score = evaluator.eval({"y_true": y_true, "y_pred": noisy})[dataset.eval_metric]
    assert 0.0 < score < 1.0 if dataset.eval_metric != "rmse" else score > 0.5


def test_hu2020_featuriser_is_selectable_and_consistent_with_ogb(data_root, data_cache):
    ogb = _load("ogbg-molbbbp", data_root, data_cache)
    hu = _load("ogbg-molbbbp", data_root, data_cache, featurizer="hu2020")
    assert hu.featurizer == "hu2020" and ogb.featurizer == "ogb"
    assert hu._data.x.shape == (ogb._data.x.shape[0], 2) and hu._data.edge_attr.shape == (
        ogb._data.edge_attr.shape[0],
        2,
    )
    # both store atomic number - 1 first, and the same molecules, labels and split
    assert torch.equal(hu._data.x[:, 0], ogb._data.x[:, 0])
    assert hu.smiles == ogb.smiles and torch.equal(hu._data.y, ogb._data.y)
    for part in ("train", "valid", "test"):
        assert torch.equal(hu.get_idx_split()[part], ogb.get_idx_split()[part])


# -- the official OGB folder ---------------------------------------------------------------------
def _write_csv_gz(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as handle:
        pd.DataFrame(rows).to_csv(handle, header=False, index=False)


def _export_official_folder(dataset, count: int, root: Path) -> Path:
    """Write the first ``count`` graphs in OGB's published raw layout (each bond stored once)."""
    folder = root / "ogbg_molbbbp"
    graphs = [dataset[i] for i in range(count)]
    edges, edge_feats = [], []
    for graph in graphs:
        edges.append(graph.edge_index[:, ::2].T.numpy())  # smiles2graph stores (i, j) then (j, i)
        edge_feats.append(graph.edge_attr[::2].numpy())
    _write_csv_gz(folder / "raw" / "edge.csv.gz", np.concatenate(edges))
    _write_csv_gz(folder / "raw" / "edge-feat.csv.gz", np.concatenate(edge_feats))
    _write_csv_gz(folder / "raw" / "node-feat.csv.gz", np.concatenate([g.x.numpy() for g in graphs]))
    _write_csv_gz(folder / "raw" / "num-node-list.csv.gz", [g.num_nodes for g in graphs])
    _write_csv_gz(folder / "raw" / "num-edge-list.csv.gz", [e.shape[0] for e in edges])
    _write_csv_gz(folder / "raw" / "graph-label.csv.gz", np.concatenate([g.y.numpy() for g in graphs]).astype(int))
    for part, indices in {
        "train": range(0, count - 10),
        "valid": range(count - 10, count - 5),
        "test": range(count - 5, count),
    }.items():
        _write_csv_gz(folder / "split" / "scaffold" / f"{part}.csv.gz", list(indices))
    (folder / "mapping").mkdir()
    pd.DataFrame({"p_np": [int(g.y.item()) for g in graphs], "smiles": dataset.smiles[:count]}).to_csv(
        folder / "mapping" / "mol.csv.gz", index=False, compression="gzip")
    (folder / "RELEASE_v1.txt").write_text("exported for a test\n")
    return folder


def test_official_ogb_folder_is_read_with_the_official_loader(data_root, data_cache, tmp_path):
    ours = _load("ogbg-molbbbp", data_root, data_cache)
    root = tmp_path / "root"
    folder = _export_official_folder(ours, 40, root)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    official = load_dataset("ogbg-molbbbp", root=root, cache=tmp_path / "cache", verify_size=False)
    assert type(official).__name__ == "OfficialOGBDataset"
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # nothing written into the root
    assert len(official) == 40 and official.smiles == ours.smiles[:40] and official.task_names == ["p_np"]
    for i in range(40):
        a, b = official[i], ours[i]
        assert torch.equal(a.x, b.x) and torch.equal(a.y.float(), b.y)
        edges_a = sorted(zip(a.edge_index.T.tolist(), a.edge_attr.tolist()))
        edges_b = sorted(zip(b.edge_index.T.tolist(), b.edge_attr.tolist()))
        assert edges_a == edges_b
    assert official.get_idx_split()["test"].tolist() == [35, 36, 37, 38, 39]
    again = load_dataset(
        "ogbg-molbbbp", root=root, cache=tmp_path / "cache", verify_size=False
    )  # cached, torch>=2.6 load fix
    assert torch.equal(again._data.x, official._data.x)


class _Payload:
    """Unpickling this runs ``open(marker, "w")``: the shape of a hostile pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def official_folder(data_root, data_cache, tmp_path) -> Path:
    return _export_official_folder(_load("ogbg-molbbbp", data_root, data_cache), 40, tmp_path / "root")


def test_official_split_dict_is_never_unpickled(official_folder, tmp_path):
    split = official_folder / "split" / "scaffold"
    for name in ("train", "valid", "test"):
        (split / f"{name}.csv.gz").unlink()
    marker = tmp_path / "payload_ran"
    torch.save({"train": _Payload(marker), "valid": torch.arange(3), "test": torch.arange(3)}, split / "split_dict.pt")
    dataset = load_dataset("ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache", verify_size=False)
    with pytest.raises(ValueError, match=r"split_dict.pt cannot be read as plain tensors .*never unpickles"):
        dataset.get_idx_split()
    assert not marker.exists()
    torch.save(
        {"train": torch.arange(30), "valid": torch.arange(30, 35), "test": torch.arange(35, 40)},
        split / "split_dict.pt",
    )
    assert dataset.get_idx_split()["test"].tolist() == [35, 36, 37, 38, 39]  # plain tensors are read


@pytest.mark.parametrize(
    "missing", ["RELEASE_v1.txt", "raw/edge.csv.gz", "mapping/mol.csv.gz", "split/scaffold/valid.csv.gz"]
)
def test_incomplete_official_folder_is_an_error_before_ogb_downloads_or_asks(
    official_folder, tmp_path, monkeypatch, missing
):
    asked = []
    monkeypatch.setattr("builtins.input", lambda *args: asked.append(args) or "n")
    monkeypatch.setattr("sys.stdin", None)
    (official_folder / missing).unlink()
    with pytest.raises(
        MissingDataError, match=r"official OGB folder .* is incomplete; missing \[.*" + missing.split("/")[-1]
    ):
        load_dataset("ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache", verify_size=False)
    assert asked == []


def test_official_folder_with_the_wrong_graph_count_is_refused(official_folder, tmp_path):
    with pytest.raises(WrongSizeError, match=r"mol.csv.gz: ogbg-molbbbp has 2,039 graphs .* this file has 40"):
        load_dataset("ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache")


def test_truncated_csv_is_refused_with_the_published_row_count(data_root, tmp_path):
    lines = (data_root / "moleculenet" / "bbbp" / "raw" / "BBBP.csv").read_text().splitlines(keepends=True)
    path = tmp_path / "root" / "moleculenet" / "bbbp" / "raw" / "BBBP.csv"
    path.parent.mkdir(parents=True)
    path.write_text("".join(lines[:1000]))  # header + 999 rows, cut at a line boundary
    with pytest.raises(
        WrongSizeError, match=r"BBBP.csv: ogbg-molbbbp has 2,039 or 2,050 data rows as published, this file has 999"
    ):
        load_dataset("ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").rglob("meta.json"))
    # (the shipped files pass the check: test_raw_csv_published_statistics reads each with it on)


def test_damaged_csv_files_give_one_line_errors(data_root, tmp_path):
    spec = molecule_spec("ogbg-molmuv")
    data = (data_root / "moleculenet" / "muv" / "raw" / "muv.csv.gz").read_bytes()
    cut = tmp_path / "muv.csv.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DamagedFileError, match=r"muv.csv.gz is damaged or truncated \(.*\); restore it from https://"):
        read_molecule_csv(cut, spec)
    folder = tmp_path / "BBBP.csv"
    folder.mkdir()
    with pytest.raises(DamagedFileError, match=r"BBBP.csv is a folder, not a data file"):
        read_molecule_csv(folder, molecule_spec("bbbp"))


# -- bad input ------------------------------------------------------------------------------------
def _write_bbbp(root: Path, frame: pd.DataFrame) -> Path:
    path = root / "moleculenet" / "bbbp" / "raw" / "BBBP.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def small_bbbp(data_root) -> pd.DataFrame:
    return pd.read_csv(data_root / "moleculenet" / "bbbp" / "raw" / "BBBP.csv").head(30).copy()


def test_unparsable_smiles_are_skipped_and_counted(small_bbbp, tmp_path):
    small_bbbp.loc[4, "smiles"] = "C1CC(((not a molecule"
    small_bbbp.loc[9, "smiles"] = "c1cccc1N(=O)(=O)(=O)=O"
    _write_bbbp(tmp_path / "root", small_bbbp)
    with pytest.warns(SkippedMoleculesWarning, match=r"skipped 2 of 30 .*row 5.*row 10.*28 kept"):
        dataset = load_dataset(
            "ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache", progress=False, verify_size=False
        )
    assert len(dataset) == 28 and dataset.num_skipped == 2
    assert dataset.smiles == [s for i, s in enumerate(small_bbbp["smiles"]) if i not in (4, 9)]
    with pytest.warns(SkippedMoleculesWarning, match="skipped 2 of 30"):  # still reported from the cache
        load_dataset(
            "ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache", progress=False, verify_size=False
        )


def test_missing_label_column_is_an_error(small_bbbp, tmp_path):
    _write_bbbp(tmp_path / "root", small_bbbp.drop(columns=["p_np"]))
    with pytest.raises(ValueError, match=r"label column\(s\) \['p_np'\] missing"):
        load_dataset(
            "ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache", progress=False, verify_size=False
        )


def test_non_numeric_label_is_an_error(small_bbbp, tmp_path):
    small_bbbp["p_np"] = small_bbbp["p_np"].astype(str)
    small_bbbp.loc[7, "p_np"] = "yes"
    _write_bbbp(tmp_path / "root", small_bbbp)
    with pytest.raises(ValueError, match=r"column 'p_np' has 1 non-numeric label\(s\), first at data row 8: 'yes'"):
        load_dataset(
            "ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache", progress=False, verify_size=False
        )


def test_missing_csv_names_the_path_and_the_source(tmp_path):
    with pytest.raises(MissingDataError) as error:
        load_dataset("ogbg-molfreesolv", root=tmp_path, cache=tmp_path / "cache")
    assert str(tmp_path / "moleculenet" / "freesolv" / "raw" / "SAMPL.csv") in str(error.value)
    assert "deepchemdata.s3-us-west-1.amazonaws.com/datasets/SAMPL.csv" in str(error.value)
    with pytest.raises(OSError, match="download of https://deepchemdata"):  # network is blocked in tests
        load_dataset("ogbg-molfreesolv", root=tmp_path, cache=tmp_path / "cache", allow_download=True)


def test_corrupted_molecule_cache_is_rebuilt_with_a_warning(small_bbbp, tmp_path):
    _write_bbbp(tmp_path / "root", small_bbbp)
    kwargs = dict(root=tmp_path / "root", cache=tmp_path / "cache", progress=False, verify_size=False)
    first = load_dataset("ogbg-molbbbp", **kwargs)
    (data_file,) = list((tmp_path / "cache").rglob("data.pt"))
    data_file.write_bytes(data_file.read_bytes()[:100])
    with pytest.warns(CorruptCacheWarning, match="unreadable"):
        again = load_dataset("ogbg-molbbbp", **kwargs)
    assert torch.equal(again._data.x, first._data.x) and again.smiles == first.smiles
    (meta_file,) = list((tmp_path / "cache").rglob("meta.json"))
    meta_file.write_text("{")
    with pytest.warns(CorruptCacheWarning):
        third = load_dataset("ogbg-molbbbp", **kwargs)
    assert torch.equal(third._data.y, first._data.y)


def test_featurisers_and_raw_edits_get_separate_caches(small_bbbp, tmp_path):
    path = _write_bbbp(tmp_path / "root", small_bbbp)
    kwargs = dict(root=tmp_path / "root", cache=tmp_path / "cache", progress=False, verify_size=False)
    ogb = load_dataset("ogbg-molbbbp", **kwargs)
    hu = load_dataset("ogbg-molbbbp", featurizer="hu2020", **kwargs)
    assert ogb._data.x.shape[1] == 9 and hu._data.x.shape[1] == 2
    small_bbbp.head(20).to_csv(path, index=False)
    assert len(load_dataset("ogbg-molbbbp", **kwargs)) == 20  # an edited raw file is never served stale
    assert len(list((tmp_path / "cache").rglob("meta.json"))) == 3


def test_unknown_names_and_options_are_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown OGB molecule dataset"):
        load_dataset("ogbg-molpcba", root=tmp_path)
    with pytest.raises(ValueError, match="not a molecule dataset"):
        load_dataset("ogbg-ppa", root=tmp_path)
    with pytest.raises(ValueError, match="unknown featurizer"):
        load_dataset("ogbg-molbbbp", featurizer="morgan")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['node_features'\]"):
        load_dataset("ogbg-molbbbp", node_features="degree")


def test_parallel_featurisation_gives_the_same_dataset(small_bbbp, tmp_path):
    _write_bbbp(tmp_path / "root", pd.concat([small_bbbp] * 4, ignore_index=True))
    serial = load_dataset(
        "ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "c1", progress=False, verify_size=False
    )
    parallel = load_dataset(
        "ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "c2", progress=False, num_workers=2, verify_size=False
    )
    for key in ("x", "edge_index", "edge_attr", "y"):
        assert torch.equal(getattr(serial._data, key), getattr(parallel._data, key))
    shutil.rmtree(tmp_path / "c2")


def test_hu2020_skips_molecules_outside_its_vocabulary_with_the_reason(data_root, data_cache):
    # two ClinTox cobalamins carry dative bonds, which Hu et al.'s 4 bond types cannot encode, and
    # ClinTox's first row has a '*' dummy atom (atomic number 0), once written as atom index -1
    with pytest.warns(SkippedMoleculesWarning, match=r"skipped 7 of 1484 molecules \(4 RDKit cannot parse the SMILES; "
                                                     r"2 bond type DATIVE is outside the hu2020 vocabulary; "
                                                     r"1 atom #0 is a '\*' dummy \(wildcard\) atom"):
        hu = load_dataset("ogbg-molclintox", root=data_root, cache=data_cache, featurizer="hu2020", progress=False)
    assert len(hu) == 1477 and not any("[Co" in s or "*" in s for s in hu.smiles)
    assert int(hu._data.x.min()) >= 0 and int(hu._data.edge_attr.min()) >= 0


def test_hu2020_featuriser_refuses_dummy_atoms_naming_them():
    from gtransfer.data.featurizers import hu2020_smiles2graph

    with pytest.raises(ValueError, match=r"'\*C\(=O\)O': atom #0 is a '\*' dummy \(wildcard\) atom, atomic number 0"):
        hu2020_smiles2graph("*C(=O)O")
    assert hu2020_smiles2graph("OC(=O)C")["node_feat"][:, 0].tolist() == [7, 5, 7, 5]  # O, C, O, C: atomic number - 1


@pytest.mark.parametrize("name,folder,file,columns", [
    ("ogbg-molfreesolv", "freesolv", "SAMPL.csv", {"iupac": "x", "smiles": None, "expt": 1.0, "calc": 0.5}),
    ("ogbg-mollipo", "lipophilicity", "Lipophilicity.csv", {"CMPD_CHEMBLID": "x", "exp": 1.0, "smiles": None}),
])
def test_regression_datasets_absent_from_the_root_load_in_their_published_layout(
    name, folder, file, columns, data_root, tmp_path
):
    # FreeSolv and Lipophilicity are not in ../shared/data: their published column layout, filled with
    # ESOL molecules and values, must load as OGB regression datasets
    esol = pd.read_csv(data_root / "moleculenet" / "esol" / "raw" / "delaney-processed.csv").head(40)
    values = esol["measured log solubility in mols per litre"].to_numpy()
    frame = pd.DataFrame({c: (esol["smiles"] if v is None else values * v if isinstance(v, float) else v)
                          for c, v in columns.items()})
    path = tmp_path / "root" / "moleculenet" / folder / "raw" / file
    path.parent.mkdir(parents=True)
    frame.to_csv(path, index=False)
    dataset = load_dataset(name, root=tmp_path / "root", cache=tmp_path / "cache", progress=False, verify_size=False)
    from ogb.graphproppred import Evaluator

    assert (len(dataset), dataset.num_tasks, dataset.eval_metric, dataset.task_type) == (40, 1, "rmse", "regression")
    np.testing.assert_allclose(dataset._data.y.numpy()[:, 0], values.astype(np.float32))
    y = dataset._data.y
    assert Evaluator(name).eval({"y_true": y, "y_pred": y + 1.0})["rmse"] == pytest.approx(1.0)


def _load_concurrently(root: str, cache: str, log: str, barrier) -> None:
    from gtransfer.data.molecules import MoleculeDataset

    build = MoleculeDataset._build

    def slow_build(self, num_workers, progress):
        with open(log, "a") as handle:
            handle.write("built\n")
        time.sleep(0.5)  # the other process looks for the cache while this one builds it
        build(self, num_workers, progress)

    MoleculeDataset._build = slow_build
    barrier.wait()
    dataset = load_dataset("ogbg-molbbbp", root=root, cache=cache, progress=False, verify_size=False)
    assert len(dataset) == 30


def test_two_processes_building_one_cache_build_it_once_and_both_read_it(small_bbbp, tmp_path):
    """The `make demo` race: two workers found no cache and both built it (the second's replace pulled the
    first's finished folder away: "freshly built cache cannot be read back"). Now one builds, one waits."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs the fork start method")
    _write_bbbp(tmp_path / "root", small_bbbp)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    log = tmp_path / "builds.txt"
    workers = [
        context.Process(
            target=_load_concurrently, args=(str(tmp_path / "root"), str(tmp_path / "cache"), str(log), barrier)
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert log.read_text().splitlines() == ["built"]  # without the lock: two builds (checked by hand)


@pytest.mark.parametrize("index, problem", [(-1, r"1 index\(es\) outside 0..39 \(e.g. -1\)"),
                                            (999999, r"1 index\(es\) outside 0..39 \(e.g. 999999\)")])
def test_official_split_index_outside_the_dataset_is_refused_naming_the_file(official_folder, tmp_path, index, problem):
    test_file = official_folder / "split" / "scaffold" / "test.csv.gz"
    _write_csv_gz(test_file, [35, 36, index])
    dataset = load_dataset("ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache", verify_size=False)
    with pytest.raises(ValueError, match=rf"test.csv.gz: the test split holds {problem}; the dataset has 40 graphs; "
                                         r".*unzip the official download"):
        dataset.get_idx_split()
    _write_csv_gz(test_file, [35, 36, 39])
    assert dataset.get_idx_split()["test"].tolist() == [35, 36, 39]


def test_truncated_official_raw_file_is_named_not_blamed_on_the_cache(official_folder, tmp_path):
    edges = official_folder / "raw" / "edge.csv.gz"
    edges.write_bytes(edges.read_bytes()[:-20])
    with warnings.catch_warnings():
        warnings.simplefilter("error", CorruptCacheWarning)  # no "rebuilding cache": no cache was there
        with pytest.raises(
            DamagedFileError, match=r"edge.csv.gz is truncated or damaged \(EOFError.*unzip the official"
        ):
            load_dataset("ogbg-molbbbp", root=tmp_path / "root", cache=tmp_path / "cache", verify_size=False)

"""TU graph-classification datasets (Morris et al. 2020, https://chrsmrrs.github.io/datasets/), offline.

Any dataset in the TU raw text format is loaded by name: from ``<root>/tu/<NAME>/raw/<NAME>_*.txt``
or from a zip ``<root>/tu_zips/<NAME>.zip`` (extracted into the cache, never into the root). The
files are checked before PyG reads them: each per-node file has as many lines as
``graph_indicator``, each per-edge file as many as ``A``, the graph label file one line per graph,
and every node id in ``A`` exists.

Node features (``node_features="auto"``): the node labels one-hot and the node attributes where the
dataset has them (PyG's ``TUDataset(use_node_attr=True)``), else the one-hot encoding of the node
degree over the degree values present in the dataset, as in the GIN paper (Xu et al. 2019) for
the IMDB datasets. ``"degree"`` forces the degree encoding, ``"constant"`` gives every node the
feature 1 (what GIN used for REDDIT).

STATS (published by TU Dortmund)

=============  ======  =======  =========  =========  ============
Name           graphs  classes  avg nodes  avg edges  node labels
=============  ======  =======  =========  =========  ============
MUTAG             188        2      17.93      19.79            7
PTC_MR            344        2      14.29      14.69           18
ENZYMES           600        6      32.63      62.14            3
PROTEINS        1,113        2      39.06      72.82            3
NCI1            4,110        2      29.87      32.30           37
IMDB-BINARY     1,000        2      19.77      96.53            -
IMDB-MULTI      1,500        3      13.00      65.94            -
DD              1,178        2     284.32     715.66           89
REDDIT-BINARY   2,000        2     429.63     497.75            -
=============  ======  =======  =========  =========  ============
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data
from torch_geometric.datasets import TUDataset
from torch_geometric.transforms import BaseTransform, Compose

from gtransfer.io.atomic import atomic_folder

from .caches import load_or_rebuild, read_or_build, strict_cache_loads
from .rawfiles import DamagedFileError, check_is_file, open_zip, read_table
from .roots import ExplicitFolders, MissingDataError, download_file, find_data_path, processed_dir

__all__ = ["ConstantFeature", "DegreeOneHot", "TUGraphDataset", "check_tu_files", "load_tu_dataset", "tu_raw_files"]

TU_URL = "https://www.chrsmrrs.com/graphkerneldatasets"
NODE_FILES = ("node_labels", "node_attributes")
EDGE_FILES = ("edge_labels", "edge_attributes")
GRAPH_FILES = ("graph_labels", "graph_attributes")
NODE_FEATURE_MODES = ("auto", "degree", "constant")


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def _integer_table(path: Path, source: str) -> np.ndarray:
    """A TU text file of comma-separated integers; a torn or non-numeric line is a one-line error naming it."""
    frame = read_table(path, source=source, header=None, skipinitialspace=True)
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna().any(axis=1).to_numpy()
    if bad.any():
        line = int(np.flatnonzero(bad)[0]) + 1
        raise DamagedFileError(
            f"{path}: line {line} is incomplete or not integers "
            f"({', '.join(map(str, frame.iloc[line - 1].tolist()))}); "
            f"the file is truncated or damaged: restore it from {source}"
        )
    return numeric.to_numpy(dtype=np.int64)


def check_tu_files(folder: str | os.PathLike, name: str) -> None:
    """Check that a TU raw folder's files agree with each other; raise ``ValueError`` if not.

    Checks: ``A`` and ``graph_indicator`` exist; per-node files have one line per node
    (``graph_indicator``), per-edge files one line per row of ``A``, graph label/attribute files one
    line per graph (the largest graph id); graph ids run 1..G; node ids in ``A`` lie in 1..N.
    """
    folder = Path(folder)
    source = f"{TU_URL}/{name}.zip"
    path = {
        kind: folder / f"{name}_{kind}.txt" for kind in ("A", "graph_indicator", *NODE_FILES, *EDGE_FILES, *GRAPH_FILES)
    }
    for file in path.values():
        check_is_file(file, source=source)  # a folder in a file's place is named as such
    for required in ("A", "graph_indicator"):
        if not path[required].is_file():
            raise FileNotFoundError(f"TU dataset {name}: {path[required]} is missing")
    if not (path["graph_labels"].is_file() or path["graph_attributes"].is_file()):
        raise FileNotFoundError(
            f"TU dataset {name}: neither {path['graph_labels']} nor {path['graph_attributes']} exists"
        )
    indicator = _integer_table(path["graph_indicator"], source)[:, 0]
    num_nodes, num_graphs = indicator.size, int(indicator.max())
    if indicator.min() != 1 or np.unique(indicator).size != num_graphs:
        raise ValueError(f"TU dataset {name}: graph ids in {path['graph_indicator'].name} must run 1..G without gaps")
    edges = _integer_table(path["A"], source)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise ValueError(f"TU dataset {name}: {path['A'].name} must have two columns 'i, j'")
    if edges.size and (edges.min() < 1 or edges.max() > num_nodes):
        raise ValueError(
            f"TU dataset {name}: {path['A'].name} uses node ids in [{edges.min()}, {edges.max()}] but "
            f"{path['graph_indicator'].name} lists {num_nodes} nodes"
        )
    expected = {**{k: num_nodes for k in NODE_FILES}, **{k: edges.shape[0] for k in EDGE_FILES},
                **{k: num_graphs for k in GRAPH_FILES}}
    reference = {**{k: "graph_indicator" for k in NODE_FILES}, **{k: "A" for k in EDGE_FILES},
                 **{k: "graph_indicator (number of graphs)" for k in GRAPH_FILES}}
    for kind, count in expected.items():
        if path[kind].is_file():
            lines = _count_lines(path[kind])
            if lines != count:
                raise ValueError(
                    f"TU dataset {name}: {path[kind].name} has {lines} lines but {reference[kind]} implies {count}; "
                    "the files disagree (truncated or mixed-up download?)"
                )


class DegreeOneHot(BaseTransform):
    """One-hot node degree over a fixed list of degree values (GIN's ``degree_as_tag``).

    A degree absent from ``degree_values`` (possible only for graphs from another dataset) raises.
    """

    def __init__(self, degree_values: Sequence[int]) -> None:
        self.degree_values = torch.as_tensor(sorted(int(d) for d in degree_values), dtype=torch.long)

    def forward(self, data: Data) -> Data:
        degree = torch.bincount(data.edge_index[1], minlength=data.num_nodes)
        position = torch.searchsorted(self.degree_values, degree)
        position = position.clamp(max=self.degree_values.numel() - 1)
        if not torch.equal(self.degree_values[position], degree):
            raise ValueError("DegreeOneHot: a node degree is not among the encoded degree values")
        data.x = torch.nn.functional.one_hot(position, self.degree_values.numel()).to(torch.float32)
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.degree_values.numel()} degree values)"


class ConstantFeature(BaseTransform):
    """Every node gets the single feature 1.0 (uninformative features, GIN's choice for REDDIT)."""

    def forward(self, data: Data) -> Data:
        data.x = torch.ones((data.num_nodes, 1), dtype=torch.float32)
        return data


class TUGraphDataset(ExplicitFolders, TUDataset):
    """PyG's :class:`~torch_geometric.datasets.TUDataset` reading a given (possibly read-only) raw
    folder and keeping its processed file in a separate cache folder.

    Extra attributes: ``node_feature_mode`` and, for degree features, ``degree_values``.
    """

    def __init__(
        self,
        name: str,
        raw_folder: str | os.PathLike,
        processed_folder: str | os.PathLike,
        *,
        node_features: str = "auto",
        transform: Callable | None = None,
        use_node_attr: bool = True,
        use_edge_attr: bool = True,
        rebuild: bool = True,
    ) -> None:
        if node_features not in NODE_FEATURE_MODES:
            raise ValueError(
                f"TUGraphDataset: node_features must be one of {NODE_FEATURE_MODES}, got {node_features!r}"
            )
        self._raw_folder = str(raw_folder)
        self._processed_folder = str(processed_folder)
        kwargs = dict(root=str(processed_folder), name=name, use_node_attr=use_node_attr, use_edge_attr=use_edge_attr)

        def construct() -> None:
            with strict_cache_loads():
                super(TUGraphDataset, self).__init__(**kwargs)

        if rebuild:
            load_or_rebuild(construct, cache=processed_folder, what=f"TU dataset {name}",
                            cached=Path(processed_folder, "data.pt").exists())
        else:  # a read only (no lock held): a failure is the caller's to handle
            construct()
        self.node_feature_mode = self._feature_mode(node_features)
        feature_transform = None
        if self.node_feature_mode == "degree":
            self.degree_values = self._degree_values()
            feature_transform = DegreeOneHot(self.degree_values)
        elif self.node_feature_mode == "constant":
            feature_transform = ConstantFeature()
        transforms = [t for t in (feature_transform, transform) if t is not None]
        self.transform = Compose(transforms) if len(transforms) > 1 else (transforms[0] if transforms else None)
        self._user_transform = transform

    @property
    def num_classes(self) -> int:
        # PyG iterates over every transformed graph when a transform is set; the feature transforms
        # added here never touch y, so the stored labels answer directly.
        if self._user_transform is None:
            return self._infer_num_classes(self._data.y)
        return super().num_classes

    def _feature_mode(self, requested: str) -> str:
        if requested != "auto":
            return requested
        return "raw" if self._data.x is not None else "degree"

    def _degree_values(self) -> list[int]:
        """Distinct node degrees over the whole dataset (one vectorised pass over the edge store)."""
        edge_index = self._data.edge_index
        edge_slices = self.slices["edge_index"]
        if "x" in self.slices:
            node_counts = self.slices["x"].diff()
        else:
            node_counts = torch.as_tensor(self._data._num_nodes, dtype=torch.long)
        node_offsets = torch.cat([torch.zeros(1, dtype=torch.long), node_counts.cumsum(0)[:-1]])
        graph_of_edge = torch.repeat_interleave(torch.arange(edge_slices.numel() - 1), edge_slices.diff())
        target = edge_index[1] + node_offsets[graph_of_edge]
        degree = torch.bincount(target, minlength=int(node_counts.sum()))
        return torch.unique(degree).tolist()


    def process(self) -> None:
        check_tu_files(self.raw_dir, self.name)
        super().process()


def tu_raw_files(folder: str | os.PathLike, name: str) -> list[Path]:
    """The raw text files of TU dataset ``name`` in its raw ``folder`` (``<NAME>_*.txt``, sorted): what the loader reads
    and what its processed cache's key digests."""
    return sorted(Path(folder).glob(f"{name}_*.txt"))


def _extract_zip(zip_path: Path, name: str, destination: Path) -> None:
    """Extract ``<NAME>_*.txt`` files (at any depth in the zip) flat into ``destination``, atomically."""
    with open_zip(zip_path, source=f"{TU_URL}/{name}.zip") as archive, atomic_folder(destination) as staging:
        members = [m for m in archive.namelist() if Path(m).name.startswith(f"{name}_") and m.endswith(".txt")]
        if not members:
            raise ValueError(f"{zip_path} holds no {name}_*.txt files")
        for member in members:
            with archive.open(member) as source, open(staging / Path(member).name, "wb") as target:
                shutil.copyfileobj(source, target)


def _match_name(name: str, roots: Sequence[Path]) -> str:
    """The TU name as spelled on disk, matched case-insensitively (``mutagenicity`` -> ``Mutagenicity``)."""
    for root in roots:
        for folder, pattern in ((root / "tu", "*"), (root / "tu_zips", "*.zip")):
            if folder.is_dir():
                for entry in folder.glob(pattern):
                    stem = entry.name[:-4] if entry.suffix == ".zip" else entry.name
                    if stem.lower() == name.lower():
                        return stem
    return name


def load_tu_dataset(
    name: str,
    roots: Sequence[Path],
    *,
    allow_download: bool = False,
    cache: str | os.PathLike | None = None,
    node_features: str = "auto",
    transform: Callable | None = None,
    use_node_attr: bool = True,
    use_edge_attr: bool = True,
) -> TUGraphDataset:
    """Find a TU dataset's raw files (folder or zip) in ``roots`` and load it (:class:`TUGraphDataset`)."""
    roots = list(roots)
    name = _match_name(name, roots)
    source = f"{TU_URL}/{name}.zip (TU Dortmund graph kernel datasets)"
    try:
        found = find_data_path(
            [f"tu/{name}/raw/{name}_A.txt", f"tu_zips/{name}.zip"], roots, what=f"TU dataset {name}", source=source
        )
    except MissingDataError:
        if not allow_download:
            raise
        found = download_file(f"{TU_URL}/{name}.zip", roots[0] / "tu_zips" / f"{name}.zip")
    options = {"use_node_attr": use_node_attr, "use_edge_attr": use_edge_attr}
    if found.suffix == ".zip":
        base = processed_dir("tu", name, options, [found], cache=cache)
        raw_folder = base / "raw"
    else:
        raw_folder = found.parent
        base = processed_dir("tu", name, options, tu_raw_files(raw_folder, name), cache=cache)
    processed = base / "processed"

    def open_dataset(rebuild: bool) -> TUGraphDataset:
        return TUGraphDataset(name, raw_folder, processed, node_features=node_features, transform=transform,
                              use_node_attr=use_node_attr, use_edge_attr=use_edge_attr, rebuild=rebuild)

    def build() -> TUGraphDataset:
        if found.suffix == ".zip" and not (raw_folder / f"{name}_A.txt").is_file():
            _extract_zip(found, name, raw_folder)
        return open_dataset(rebuild=True)

    # a complete cache is read without the lock (read-only shared caches); else one process builds, one reads
    complete = (processed / "data.pt").is_file() and (raw_folder / f"{name}_A.txt").is_file()
    return read_or_build(base, complete=complete, read=lambda: open_dataset(rebuild=False), build=build)

"""MoleculeNet CSVs as OGB molecule datasets (``ogbg-molbbbp``, ``ogbg-moltox21``, ...), offline.

Built the way OGB built them (Hu et al. 2020; OGB, Hu et al. 2020 NeurIPS): every SMILES RDKit can
parse becomes a graph with ``ogb.utils.smiles2graph`` features (9 atom, 3 bond integers) -- or with
the ``hu2020`` featuriser of the published pretrained encoders -- labels are ``float`` of shape
(1, num_tasks) with NaN where a label is missing, and the split is the deterministic Bemis-Murcko
scaffold split 80/10/10 (:func:`gtransfer.data.splits.scaffold_split`). Results are accepted as they
are by ``ogb.graphproppred.Evaluator``.

When an official OGB folder (``<root>/ogbg_molhiv/`` with ``raw/``, ``split/``, ``mapping/``) exists,
the official ``PygGraphPropPredDataset`` reads it instead (processing into the cache, not the root).

STATS (raw CSV rows as shipped in ../shared/data; OGB's graph counts)

=================  ==========  ======  =====  ======================
OGB name           CSV file    rows    tasks  metric
=================  ==========  ======  =====  ======================
ogbg-molbbbp       BBBP.csv     2,039      1  rocauc
ogbg-molbace       bace.csv     1,513      1  rocauc
ogbg-molclintox    clintox.csv  1,484      2  rocauc
ogbg-moltox21      tox21.csv    7,831     12  rocauc
ogbg-moltoxcast    toxcast      8,576    617  rocauc
ogbg-molsider      sider.csv    1,427     27  rocauc
ogbg-molhiv        HIV.csv     41,127      1  rocauc
ogbg-molmuv        muv         93,087     17  ap
ogbg-molesol       delaney      1,128      1  rmse
ogbg-molfreesolv   SAMPL.csv      642      1  rmse
ogbg-mollipo       Lipo.csv     4,200      1  rmse
=================  ==========  ======  =====  ======================
"""

from __future__ import annotations

import gzip
import json
import os
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data, InMemoryDataset

from gtransfer.io.atomic import atomic_folder, write_text

from .caches import load_cache_file, load_or_rebuild, read_or_build, strict_cache_loads
from .errors import CorruptCacheWarning, SkippedMoleculesWarning
from .featurizers import FEATURIZER_VERSIONS, get_featurizer
from .parallel import UNPARSABLE, featurize_smiles
from .rawfiles import DamagedFileError, read_table
from .roots import MissingDataError, download_file, find_data_path, processed_dir
from .splits import scaffold_split

if TYPE_CHECKING:
    from ogb.graphproppred import PygGraphPropPredDataset

__all__ = [
    "MOLECULE_SPECS",
    "CorruptCacheWarning",
    "MoleculeDataset",
    "MoleculeSpec",
    "SkippedMoleculesWarning",
    "WrongSizeError",
    "check_row_count",
    "load_molecule_dataset",
    "molecule_spec",
    "read_molecule_csv",
]

DEEPCHEM = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets"


@dataclass(frozen=True)
class MoleculeSpec:
    """How one OGB molecule dataset is read from its MoleculeNet CSV.

    ``tasks=None`` means every column except the SMILES column and ``exclude``.
    """

    ogb_name: str
    folder: str
    files: tuple[str, ...]
    smiles_column: str
    tasks: tuple[str, ...] | None
    eval_metric: str
    task_type: str
    url: str
    exclude: tuple[str, ...] = ()
    num_tasks: int = 1
    #: data rows of the published CSV (every known copy; a file with another count is refused)
    csv_rows: tuple[int, ...] = ()
    #: graphs in OGB's official folder (``mapping/mol.csv.gz`` rows)
    ogb_graphs: int = 0

    @property
    def is_classification(self) -> bool:
        return self.task_type == "binary classification"


TOX21_TASKS = (
    "NR-AR", "NR-AR-LBD", "NR-AhR", "NR-Aromatase", "NR-ER", "NR-ER-LBD", "NR-PPAR-gamma",
    "SR-ARE", "SR-ATAD5", "SR-HSE", "SR-MMP", "SR-p53",
)
MUV_TASKS = tuple(
    f"MUV-{i}" for i in (466, 548, 600, 644, 652, 689, 692, 712, 713, 733, 737, 810, 832, 846, 852, 858, 859)
)


def _spec(
    ogb_suffix: str,
    folder: str,
    files: Iterable[str],
    smiles: str,
    tasks: tuple[str, ...] | None,
    metric: str,
    url: str,
    exclude: Iterable[str] = (),
    num_tasks: int | None = None,
    rows: Iterable[int] = (),
    graphs: int = 0,
) -> MoleculeSpec:
    task_type = "regression" if metric == "rmse" else "binary classification"
    count = num_tasks if num_tasks is not None else len(tasks)
    return MoleculeSpec(f"ogbg-mol{ogb_suffix}", folder, tuple(files), smiles, tasks, metric, task_type, url,
                        tuple(exclude), count, tuple(rows), graphs)


# ``rows``: data rows of the CSVs in ../shared/data (counted 2026-12-02) and of the published copies
# the spec's ``url`` serves (BBBP: 2,050 at DeepChem, 2,039 in the shared copy without the 11 SMILES
# RDKit cannot parse); ``graphs``: OGB's graph counts (ogb.graphproppred, Hu et al. 2020 NeurIPS).
MOLECULE_SPECS: dict[str, MoleculeSpec] = {
    s.ogb_name: s
    for s in (
        _spec("bbbp", "bbbp", ["BBBP.csv", "BBBP.csv.gz"], "smiles", ("p_np",), "rocauc", f"{DEEPCHEM}/BBBP.csv",
              rows=(2039, 2050), graphs=2039),
        _spec("bace", "bace", ["bace.csv", "bace.csv.gz"], "mol", ("Class",), "rocauc", f"{DEEPCHEM}/bace.csv",
              rows=(1513,), graphs=1513),
        _spec("clintox", "clintox", ["clintox.csv", "clintox.csv.gz"], "smiles", ("FDA_APPROVED", "CT_TOX"), "rocauc",
              f"{DEEPCHEM}/clintox.csv.gz", rows=(1484,), graphs=1477),
        _spec("tox21", "tox21", ["tox21.csv", "tox21.csv.gz"], "smiles", TOX21_TASKS, "rocauc",
              f"{DEEPCHEM}/tox21.csv.gz", rows=(7831,), graphs=7831),
        _spec("toxcast", "toxcast", ["toxcast_data.csv", "toxcast_data.csv.gz", "toxcast.csv", "toxcast.csv.gz"],
              "smiles", None, "rocauc", f"{DEEPCHEM}/toxcast_data.csv.gz", num_tasks=617, rows=(8576,), graphs=8576),
        _spec("sider", "sider", ["sider.csv", "sider.csv.gz"], "smiles", None, "rocauc", f"{DEEPCHEM}/sider.csv.gz",
              num_tasks=27, rows=(1427,), graphs=1427),
        _spec("hiv", "hiv", ["HIV.csv", "HIV.csv.gz"], "smiles", ("HIV_active",), "rocauc", f"{DEEPCHEM}/HIV.csv",
              exclude=("activity",), rows=(41127,), graphs=41127),
        _spec("muv", "muv", ["muv.csv", "muv.csv.gz"], "smiles", MUV_TASKS, "ap", f"{DEEPCHEM}/muv.csv.gz",
              rows=(93087,), graphs=93087),
        _spec("esol", "esol", ["delaney-processed.csv", "delaney-processed.csv.gz"], "smiles",
              ("measured log solubility in mols per litre",), "rmse", f"{DEEPCHEM}/delaney-processed.csv",
              rows=(1128,), graphs=1128),
        _spec("freesolv", "freesolv", ["SAMPL.csv", "SAMPL.csv.gz"], "smiles", ("expt",), "rmse",
              f"{DEEPCHEM}/SAMPL.csv", rows=(642,), graphs=642),
        _spec("lipo", "lipophilicity", ["Lipophilicity.csv", "Lipophilicity.csv.gz"], "smiles", ("exp",), "rmse",
              f"{DEEPCHEM}/Lipophilicity.csv", rows=(4200,), graphs=4200),
    )
}
_ALIASES = {spec.folder: name for name, spec in MOLECULE_SPECS.items()}
_ALIASES.update({name.removeprefix("ogbg-mol"): name for name in MOLECULE_SPECS})
_ALIASES["lipophilicity"] = "ogbg-mollipo"


def molecule_spec(name: str) -> MoleculeSpec:
    """Spec for an OGB name (``ogbg-moltox21``) or a MoleculeNet folder name (``tox21``), any case."""
    key = name.lower()
    if key in MOLECULE_SPECS:
        return MOLECULE_SPECS[key]
    if key in _ALIASES:
        return MOLECULE_SPECS[_ALIASES[key]]
    raise ValueError(f"unknown molecule dataset {name!r}; known: {sorted(MOLECULE_SPECS)}")


def _parse_labels(frame: pd.DataFrame, columns: Sequence[str], path: Path, binary: bool) -> np.ndarray:
    """Label matrix (n, T) float64 with NaN for empty cells; any other non-number is an error."""
    labels = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        raw = frame[column]
        numeric = pd.to_numeric(raw, errors="coerce")
        blank = raw.isna() | (raw.astype(str).str.strip() == "")
        bad = numeric.isna() & ~blank
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{path}: column {column!r} has {int(bad.sum())} non-numeric label(s), "
                f"first at data row {row + 1}: {raw.iloc[row]!r}"
            )
        values = numeric.to_numpy(dtype=np.float64)
        if binary:
            present = values[~np.isnan(values)]
            odd = present[(present != 0) & (present != 1)]
            if odd.size:
                raise ValueError(f"{path}: column {column!r} of a binary task has labels other than 0/1, e.g. {odd[0]}")
        labels[:, j] = values
    return labels


class WrongSizeError(ValueError):
    """A file of a known dataset has another number of rows (or graphs) than every published copy."""


def check_row_count(spec: MoleculeSpec, path: str | os.PathLike, count: int, *, official: bool = False) -> None:
    """Raise :class:`WrongSizeError` when ``count`` is not a published size of ``spec``'s file at ``path``.

    A file cut at a line boundary parses without a word, and its scaffold split changes; this is the
    check that catches it. Pass ``verify_size=False`` to the loader for a deliberately edited copy.
    """
    expected = (spec.ogb_graphs,) if official else spec.csv_rows
    if not expected or not expected[0] or count in expected:
        return
    what = "graphs (rows of mapping/mol.csv.gz)" if official else "data rows"
    published = " or ".join(f"{n:,}" for n in expected)
    raise WrongSizeError(
        f"{path}: {spec.ogb_name} has {published} {what} as published, this file has {count:,}; "
        f"the file is truncated or edited: restore it from {spec.url if not official else 'the official OGB download'} "
        "(or pass verify_size=False to load a deliberately edited copy)"
    )


def read_molecule_csv(
    path: str | os.PathLike, spec: MoleculeSpec, *, verify_size: bool = True
) -> tuple[list[str], np.ndarray, list[str]]:
    """Read a MoleculeNet CSV (or .csv.gz): SMILES (stripped), labels (n, T) with NaN, task names.

    Raises ``ValueError`` naming the file and the column when the SMILES column or a label column
    is missing, when the task count differs from the spec, or when a label cell is not a number;
    :class:`WrongSizeError` when ``verify_size`` and the row count is not a published one; a
    one-line ``ValueError`` (:func:`gtransfer.data.roots.read_table`) for a damaged or unreadable file.
    """
    path = Path(path)
    frame = read_table(path, source=spec.url, dtype=str, keep_default_na=True)
    if verify_size:
        check_row_count(spec, path, len(frame))
    if spec.smiles_column not in frame.columns:
        raise ValueError(
            f"{path}: SMILES column {spec.smiles_column!r} missing; columns are {list(frame.columns)[:12]}"
        )
    if spec.tasks is not None:
        missing = [task for task in spec.tasks if task not in frame.columns]
        if missing:
            raise ValueError(
                f"{path}: label column(s) {missing} missing for {spec.ogb_name}; columns are {list(frame.columns)[:12]}"
            )
        tasks = list(spec.tasks)
    else:
        skip = {spec.smiles_column, *spec.exclude, "mol_id"}
        tasks = [column for column in frame.columns if column not in skip]
    if len(tasks) != spec.num_tasks:
        raise ValueError(f"{path}: {spec.ogb_name} has {spec.num_tasks} tasks, the file has {len(tasks)} label columns")
    smiles = [s.strip() if isinstance(s, str) else "" for s in frame[spec.smiles_column]]
    labels = _parse_labels(frame, tasks, path, binary=spec.is_classification)
    return smiles, labels, tasks


def _graph_to_data(graph: dict, y: np.ndarray) -> Data:
    return Data(
        x=torch.from_numpy(np.asarray(graph["node_feat"], dtype=np.int64)),
        edge_index=torch.from_numpy(np.asarray(graph["edge_index"], dtype=np.int64)),
        edge_attr=torch.from_numpy(np.asarray(graph["edge_feat"], dtype=np.int64)),
        y=torch.from_numpy(y.astype(np.float32).reshape(1, -1)),
        num_nodes=int(graph["num_nodes"]),
    )


def _skip_message(name: str, skipped: list[tuple], total: int) -> str:
    """One line counting the skipped molecules by reason, with the first few rows as examples."""
    reasons = Counter(str(item[2]) if len(item) > 2 else UNPARSABLE for item in skipped)
    by_reason = "; ".join(f"{count} {reason}" for reason, count in reasons.most_common())
    examples = ", ".join(f"row {item[0] + 1}: {item[1]!r}" for item in skipped[:3])
    return (
        f"{name}: skipped {len(skipped)} of {total} molecules ({by_reason}; {examples}"
        f"{', ...' if len(skipped) > 3 else ''}); {total - len(skipped)} kept"
    )


class MoleculeDataset(InMemoryDataset):
    r"""An OGB-format molecule dataset built from a MoleculeNet CSV.

    Each graph has ``x`` (N, 9) long (``featurizer="ogb"``) or (N, 2) (``"hu2020"``), ``edge_index``
    (2, E), ``edge_attr`` (E, 3) or (E, 2) long, ``y`` (1, num_tasks) float with NaN for missing
    labels. Attributes: ``smiles`` (kept molecules, in order), ``task_names``, ``num_tasks``,
    ``eval_metric``, ``task_type``, ``featurizer``, ``num_skipped``; :meth:`get_idx_split` gives the
    scaffold split.

    Args:
        spec: which dataset (see :data:`MOLECULE_SPECS`).
        csv_path: the raw CSV (read-only is fine).
        featurizer: ``"ogb"`` or ``"hu2020"``.
        cache: writable cache directory (see :func:`gtransfer.data.roots.cache_dir`).
        num_workers: worker processes for the first (cold) featurisation.
        transform: a PyG transform applied on access.
        progress: show a progress bar while featurising.
        verify_size: refuse a CSV whose row count is not a published one (:func:`check_row_count`).
    """

    def __init__(
        self,
        spec: MoleculeSpec,
        csv_path: str | os.PathLike,
        *,
        featurizer: str = "ogb",
        cache: str | os.PathLike | None = None,
        num_workers: int = 1,
        transform: Callable | None = None,
        progress: bool = True,
        verify_size: bool = True,
    ) -> None:
        get_featurizer(featurizer)
        self.spec = spec
        self.verify_size = verify_size
        self.csv_path = Path(csv_path)
        self.featurizer = featurizer
        self.name = spec.ogb_name
        self.eval_metric = spec.eval_metric
        self.task_type = spec.task_type
        options: dict = {"featurizer": featurizer}
        if FEATURIZER_VERSIONS[featurizer] > 1:  # version 1 caches keep their keys (nothing to rebuild)
            options["featurizer_version"] = FEATURIZER_VERSIONS[featurizer]
        self.cache_path = processed_dir("molecules", spec.ogb_name, options, [self.csv_path], cache=cache)
        super().__init__(None, transform)
        # a complete cache is read without the lock (a read-only shared cache cannot hold a lock file);
        # otherwise check and build under one lock: two processes (the demo's two workers) that both find
        # no cache would both build it, and the second's replace would pull the first's finished folder
        # away while it is being read; the second one now waits and reads it
        read_or_build(self.cache_path, complete=all((self.cache_path / f).is_file() for f in ("data.pt", "meta.json")),
                      read=self._load_cache,
                      build=lambda: load_or_rebuild(lambda: self._load_or_build(num_workers, progress),
                                                    cache=self.cache_path, what=self.name, stacklevel=6))
        if verify_size:  # also for a cache built before the check existed
            check_row_count(spec, self.csv_path, self._num_rows)
        if self.num_skipped:
            warnings.warn(
                _skip_message(self.name, self._skipped, self._num_rows), SkippedMoleculesWarning, stacklevel=3
            )

    # -- cache -------------------------------------------------------------------------------
    def _load_or_build(self, num_workers: int, progress: bool) -> None:
        if not self.cache_path.exists():
            self._build(num_workers, progress)
        self._load_cache()

    def _load_cache(self) -> None:
        """Read ``data.pt`` (no pickled objects: :func:`~gtransfer.data.caches.load_cache_file`) and ``meta.json``."""
        with strict_cache_loads():
            self.load(str(self.cache_path / "data.pt"))
        meta = json.loads((self.cache_path / "meta.json").read_text())
        self.smiles = list(meta["smiles"])
        self.task_names = list(meta["task_names"])
        self._split = {k: np.asarray(v, dtype=np.int64) for k, v in meta["split"].items()}
        self._skipped = [tuple(item) for item in meta["skipped"]]
        self._num_rows = int(meta["num_rows"])
        if len(self.smiles) != len(self) or self._data.y.shape[1] != len(self.task_names):
            raise ValueError("cache metadata disagrees with the stored graphs")

    def _build(self, num_workers: int, progress: bool) -> None:
        smiles, labels, tasks = read_molecule_csv(self.csv_path, self.spec, verify_size=self.verify_size)
        graphs = featurize_smiles(smiles, featurizer=self.featurizer, num_workers=num_workers, progress=progress,
                                  desc=f"{self.name} ({self.featurizer})")
        kept = [i for i, graph in enumerate(graphs) if isinstance(graph, dict)]
        if not kept:
            raise ValueError(
                f"{self.csv_path}: no molecule could be featurised ({graphs[0] if graphs else 'empty file'})"
            )
        skipped = [(i, smiles[i], graph) for i, graph in enumerate(graphs) if not isinstance(graph, dict)]
        data_list = [_graph_to_data(graphs[i], labels[i]) for i in kept]
        kept_smiles = [smiles[i] for i in kept]
        split = scaffold_split(kept_smiles)
        meta = {
            "name": self.name,
            "featurizer": self.featurizer,
            "source_file": str(self.csv_path),
            "num_rows": len(smiles),
            "smiles": kept_smiles,
            "task_names": tasks,
            "skipped": skipped,
            "split": {k: v.tolist() for k, v in split.items()},
        }
        with atomic_folder(self.cache_path) as staging:
            self.save(data_list, str(staging / "data.pt"))
            write_text(staging / "meta.json", json.dumps(meta))

    # -- OGB interface -----------------------------------------------------------------------
    @property
    def num_tasks(self) -> int:
        return len(self.task_names)

    @property
    def num_skipped(self) -> int:
        return len(self._skipped)

    def get_idx_split(self) -> dict[str, torch.Tensor]:
        """Scaffold split (80/10/10) as OGB gives it: ``{"train", "valid", "test"}`` -> LongTensor."""
        return {name: torch.from_numpy(indices.copy()) for name, indices in self._split.items()}

    def __repr__(self) -> str:
        return f"{self.name}({len(self)}, featurizer={self.featurizer!r})"


# -- the official OGB folders ------------------------------------------------------------------
#: every file OGB 1.3.6 reads from an official molecule folder (version 1 of each, master.csv);
#: a missing one would make OGB download the dataset or ask on stdin
OFFICIAL_FILES = (
    "RELEASE_v1.txt",
    "raw/edge.csv.gz", "raw/edge-feat.csv.gz", "raw/node-feat.csv.gz", "raw/graph-label.csv.gz",
    "raw/num-node-list.csv.gz", "raw/num-edge-list.csv.gz",
    "mapping/mol.csv.gz",
)
SPLIT_FILES = ("train.csv.gz", "valid.csv.gz", "test.csv.gz")


def check_official_folder(spec: MoleculeSpec, folder: Path) -> None:
    """Raise :class:`MissingDataError` naming every file of an official OGB folder that is missing.

    Called before OGB's loader, which would otherwise download the dataset (raw files missing) or
    ask "Will you update the dataset now? (y/N)" on stdin (release file missing).
    """
    split = folder / "split" / "scaffold"
    missing = [str(folder / name) for name in OFFICIAL_FILES if not (folder / name).is_file()]
    if not (split / "split_dict.pt").is_file():
        missing += [str(split / name) for name in SPLIT_FILES if not (split / name).is_file()]
    if missing:
        raise MissingDataError(
            f"{spec.ogb_name}: the official OGB folder {folder} is incomplete; missing {missing}. Unzip the whole "
            f"official download into it again, or remove the folder to build the dataset from the MoleculeNet CSV "
            "(gtransfer never lets OGB download or ask on stdin)"
        )


def _refuse_stdin(*args: object, **kwargs: object) -> str:
    raise RuntimeError("OGB asked a question on stdin; gtransfer never reads stdin (check the official folder's files)")


def _refuse_download(*args: object, **kwargs: object) -> str:
    raise RuntimeError("OGB tried to download; gtransfer never downloads an official OGB folder (check its files)")


@contextmanager
def _guarded_ogb() -> Iterator[None]:
    """Run OGB 1.3.6's loader offline, without stdin, and without unpickling any object.

    OGB's bare ``torch.load`` reads its processed ``Data`` from the cache; every ``torch.load`` in the
    block is :func:`~gtransfer.data.caches.load_cache_file` (``weights_only=True`` with the allow-list of
    PyG's data classes), so neither the cache (which may be shared) nor a data root's file can run code.
    ``input`` and OGB's download raise instead of blocking or reaching the network.
    """
    import builtins

    from ogb.graphproppred import dataset_pyg

    original_load, original_input, original_download = torch.load, builtins.input, dataset_pyg.download_url
    torch.load, builtins.input, dataset_pyg.download_url = load_cache_file, _refuse_stdin, _refuse_download
    try:
        yield
    finally:
        torch.load, builtins.input, dataset_pyg.download_url = original_load, original_input, original_download


def _check_split_indices(indices: np.ndarray, size: int, path: Path, part: str) -> torch.Tensor:
    """The indices of one split part as a LongTensor, refused unless they are integers in ``[0, size)``."""
    fix = "the split does not belong to this folder or is damaged: unzip the official download into it again"
    if indices.dtype.kind not in "iu":
        raise ValueError(f"{path}: the {part} split holds non-integer indices (dtype {indices.dtype}); {fix}")
    outside = indices[(indices < 0) | (indices >= size)]
    if outside.size:
        raise ValueError(f"{path}: the {part} split holds {outside.size} index(es) outside 0..{size - 1} (e.g. "
                         f"{int(outside[0])}); the dataset has {size} graphs; {fix}")
    return torch.as_tensor(indices, dtype=torch.long)


def _read_official_split(spec: MoleculeSpec, split_dir: Path, size: int) -> dict[str, torch.Tensor]:
    """The official split: OGB's CSV index files, else ``split_dict.pt`` read with ``weights_only=True``.

    Every index is checked to lie in ``[0, size)`` (a ``-1`` would silently pick the last graph).
    """
    if all((split_dir / name).is_file() for name in SPLIT_FILES):
        return {
            name.split(".")[0]: _check_split_indices(
                read_table(split_dir / name, header=None).to_numpy()[:, 0], size, split_dir / name, name.split(".")[0]
            )
            for name in SPLIT_FILES
        }
    path = split_dir / "split_dict.pt"
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - a pickle with code in it lands here too
        raise ValueError(f"{path} cannot be read as plain tensors ({type(error).__name__}); gtransfer never unpickles "
                         f"files of a data root: put the split as {', '.join(SPLIT_FILES)} beside it") from None
    if not isinstance(loaded, dict) or not all(k in loaded for k in ("train", "valid", "test")):
        raise ValueError(f"{path} is not a split (a dict with train, valid and test index tensors)")
    return {k: _check_split_indices(np.asarray(torch.as_tensor(loaded[k])).reshape(-1), size, path, k)
            for k in ("train", "valid", "test")}


def _check_raw_gzip(files: Sequence[Path]) -> None:
    """Decompress every ``.csv.gz`` to its end; a truncated or damaged one is a :class:`DamagedFileError` naming it."""
    for path in files:
        if path.suffix != ".gz":
            continue
        try:
            with gzip.open(path, "rb") as handle:
                while handle.read(1 << 20):
                    pass
        except (EOFError, OSError, zlib.error) as error:
            raise DamagedFileError(f"{path} is truncated or damaged ({type(error).__name__}: {error}); unzip the "
                                   "official OGB download into its folder again") from None


def _official_dataset_class() -> type[PygGraphPropPredDataset]:
    from ogb.graphproppred import PygGraphPropPredDataset

    class OfficialOGBDataset(PygGraphPropPredDataset):
        """``PygGraphPropPredDataset`` over a read-only official folder, with the same extras as ours."""

        featurizer = "ogb"

        def __init__(self, name: str, root: str, transform: Callable | None = None, verify_size: bool = True) -> None:
            spec = molecule_spec(name)
            with _guarded_ogb():
                super().__init__(name=name, root=root, transform=transform)
            mapping = Path(self.root, "mapping", "mol.csv.gz")
            frame = read_table(mapping)
            if verify_size:
                check_row_count(spec, mapping, len(frame), official=True)
            if len(frame) != len(self):
                raise ValueError(
                    f"{mapping} has {len(frame)} molecules but the official raw files hold {len(self)} graphs"
                )
            self.smiles = frame["smiles"].astype(str).tolist()
            self.task_names = [c for c in frame.columns if c not in ("smiles", "mol_id")]

        def get_idx_split(self, split_type: str | None = None) -> dict[str, torch.Tensor]:
            return _read_official_split(
                molecule_spec(self.name), Path(self.root, "split", split_type or self.meta_info["split"]), len(self)
            )

    return OfficialOGBDataset


def _load_official(
    spec: MoleculeSpec,
    folder: Path,
    cache: str | os.PathLike | None,
    transform: Callable | None,
    verify_size: bool = True,
) -> PygGraphPropPredDataset:
    """Mirror the official folder into the cache with symlinks, so processing never writes the root."""
    check_official_folder(spec, folder)
    dir_name = spec.ogb_name.replace("-", "_")
    files = sorted(p for p in (folder / "raw").glob("*") if p.is_file())
    mirror_parent = processed_dir("ogb_official", spec.ogb_name, {"source": str(folder.resolve())}, files, cache=cache)
    mirror = mirror_parent / dir_name
    mirror.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.name == "processed":
            continue
        link = mirror / entry.name
        if not link.exists():
            link.symlink_to(entry.resolve())
    processed = mirror / "processed"
    cached = (processed / "geometric_data_processed.pt").is_file()
    if not cached:  # OGB reads the raw files only to build; a truncated one would end in a bare EOFError
        _check_raw_gzip(sorted(p for p in (folder / "raw").glob("*.gz") if p.is_file()))
    return load_or_rebuild(lambda: _official_dataset_class()(spec.ogb_name, str(mirror_parent), transform, verify_size),
                           cache=processed, what=spec.ogb_name, cached=cached,
                           keep=(MissingDataError, WrongSizeError, DamagedFileError), stacklevel=4)


def load_molecule_dataset(
    name: str,
    roots: Sequence[Path],
    *,
    featurizer: str = "ogb",
    allow_download: bool = False,
    cache: str | os.PathLike | None = None,
    num_workers: int = 1,
    transform: Callable | None = None,
    progress: bool = True,
    prefer_official: bool = True,
    verify_size: bool = True,
) -> MoleculeDataset | PygGraphPropPredDataset:
    """Find a molecule dataset's files in ``roots`` and load it (see :class:`MoleculeDataset`).

    Order: an official OGB folder ``<root>/<ogbg_molxxx>/`` (only for ``featurizer="ogb"`` and
    ``prefer_official``), else the MoleculeNet CSV ``<root>/moleculenet/<folder>/raw/<file>``,
    else, only if ``allow_download``, the CSV downloaded from the MoleculeNet host into the
    first root.

    ``verify_size`` (default on) refuses a file of a known dataset whose row (or graph) count is not
    a published one (:class:`WrongSizeError`): a CSV cut at a line boundary would otherwise load
    without a word and change the scaffold split.
    """
    spec = molecule_spec(name)
    roots = list(roots)
    if featurizer == "ogb" and prefer_official:
        dir_name = spec.ogb_name.replace("-", "_")
        for root in roots:
            folder = root / dir_name
            if (folder / "raw").is_dir() and (folder / "split").is_dir() and (folder / "mapping").is_dir():
                return _load_official(spec, folder, cache, transform, verify_size)
    candidates = [f"moleculenet/{spec.folder}/raw/{file}" for file in spec.files]
    try:
        csv_path = find_data_path(candidates, roots, what=spec.ogb_name, source=spec.url)
    except MissingDataError:
        if not allow_download:
            raise
        target = roots[0] / "moleculenet" / spec.folder / "raw" / spec.url.rsplit("/", 1)[-1]
        csv_path = download_file(spec.url, target)
    return MoleculeDataset(spec, csv_path, featurizer=featurizer, cache=cache, num_workers=num_workers,
                           transform=transform, progress=progress, verify_size=verify_size)

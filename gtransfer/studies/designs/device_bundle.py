"""The full truth's device bundle (issue 25, item 4): what a truth preset reads that a GPU machine lacks, in one
ignored folder that travels beside the repository, and the one command that runs the preset there.

The device tool copies the repository's working tree (tracked files and the untracked ones git does not ignore) and
up to eight ignored paths it is told to carry, :data:`TRANSFER_BUDGET` (64 MiB) in all, and runs one shell command of
at most :data:`COMMAND_LIMIT` seconds on a machine with torch and PyG but without RDKit and OGB, and without a network.
So :func:`build_bundle` (``python experiments/device_bundle.py build``) writes ``.devbundle/`` at the repository root
(ignored by git):

* ``payload.tar.xz``, unpacked on the device into ``/tmp`` (:func:`unpack_bundle`), holding

  - ``data/``: a data root laid out as every other one, with the raw files the preset reads that the repository's
    ``datasets/`` lacks (for ``full``: the SIDER, Tox21 and ToxCast CSVs and the five TU datasets' text files),
    copied from the data root here; the device searches ``datasets/`` after it, as every loader does;
  - ``cache/``: the processed cache of every dataset the preset reads, built here by
    :func:`gtransfer.data.load_dataset` on that data root with the featurisers the pool's encoders expect
    (:func:`preset_inputs`). A processed cache is keyed by the loader options and the raw files' contents
    (:func:`gtransfer.data.roots.processed_dir`), so it is found on the device, where the same files are: RDKit
    runs here, never there;
  - ``site/``: the pure-Python files of :data:`FALLBACK_PACKAGES` (PyYAML, which the truths' specs are written
    with), put on ``PYTHONPATH`` there only when the machine's own import fails;

  xz makes the 90 MB of processed molecules about 1.3 MB (ToxCast's 617 label columns are 0, 1 or NaN);
* ``manifest.json``: what the payload holds and from which files, its SHA-256 (checked before unpacking), and the
  number of graphs each load gave here (checked by :func:`check_unpacked`);
* ``run.sh`` (:func:`run_script`): unpack, ``python -m gtransfer.bench gpu-check`` under ``timeout``, then
  ``experiments/truths.py --preset <preset>`` under ``timeout`` (SIGINT, then SIGKILL), and
  :func:`collect_results`: the trial store (its WAL checkpointed), the truths' CSVs and the trained source heads
  copied into ``$OUT``; a store and heads put in the bundle's ``resume/`` are restored first, so the next call
  resumes where the last one stopped.

:func:`check_unpacked` loads every dataset of the bundle in a fresh interpreter where :data:`BLOCKED_MODULES` cannot
be imported, with ``GTRANSFER_DATA`` and ``GTRANSFER_CACHE`` pointing at the unpacked bundle, and fails when a load
needs them or builds a cache the bundle does not hold. :func:`budget_lines` measures what would travel against the
64 MiB.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from gtransfer.data.roots import EMBEDDED_DIR

if TYPE_CHECKING:
    import argparse

__all__ = ["BUNDLE_DIR", "TRANSFER_BUDGET", "COMMAND_LIMIT", "OUT_FILE_LIMIT", "BLOCKED_MODULES", "FALLBACK_PACKAGES",
           "DEVICE_WORK", "BundleInputs", "BundleCheckError", "preset_inputs", "build_bundle", "run_script",
           "unpack_bundle", "check_unpacked", "check_bundle", "collect_results", "transfer_sizes", "budget_lines",
           "device_call", "run_device_bundle", "graph_counts"]

#: the repository root (the folder of ``datasets/``), where the bundle goes and the device command runs
REPO_ROOT = EMBEDDED_DIR.parent
#: the bundle's folder at the repository root (ignored by git; the device tool's ``carry`` names it)
BUNDLE_DIR = ".devbundle"
#: what the device tool carries in all: the working tree and the carried paths
TRANSFER_BUDGET = 64 * 2**20
#: seconds one device command may run
COMMAND_LIMIT = 600
#: the largest file the device tool brings back from ``$OUT`` (at most 8 files come back)
OUT_FILE_LIMIT = 16 * 2**20
#: what the device machine lacks: no load from the bundle may import them
BLOCKED_MODULES = ("rdkit", "ogb")
#: pure-Python packages the run imports that the device may lack, carried in the payload's ``site/``
FALLBACK_PACKAGES = ("yaml",)
#: where ``run.sh`` unpacks the payload on the device
DEVICE_WORK = "/tmp/gtransfer-device"
PAYLOAD = "payload.tar.xz"
MANIFEST = "manifest.json"
RUN_SCRIPT = "run.sh"
RESUME = "resume"
STORE = "truths.db"
ZOO_ARCHIVE = "zoo.tar"
#: the repository's top-level folders the device run reads (gpu-check runs the CUDA tests of tests/metrics)
RUN_READS = ("gtransfer", "experiments", "datasets", "tests")


class BundleCheckError(RuntimeError):
    """A bundle that would not run on the device: a load needed a blocked module, or built a cache it lacks."""


@dataclass(frozen=True)
class BundleInputs:
    """What a preset reads: the featurisers of each molecule dataset (those its encoders expect) and the TU
    datasets (its targets and its source heads' tasks)."""

    molecules: dict[str, tuple[str, ...]]
    tu: tuple[str, ...]

    @property
    def datasets(self) -> tuple[str, ...]:
        """Every dataset, molecules first, each once."""
        return (*self.molecules, *self.tu)


def _encoder_featurizer(encoder: str) -> str:
    """The molecule featuriser an encoder of a truth spec expects; ``zoo/`` names a shipped checkpoint."""
    from gtransfer.models.specs import resolve_encoder

    from .truths import SHIPPED_CHECKPOINTS, shipped_checkpoint

    if encoder.startswith("zoo/"):
        name = encoder.removeprefix("zoo/")
        if name not in SHIPPED_CHECKPOINTS:
            raise ValueError(f"{encoder}: a zoo encoder on a molecule target that is not shipped "
                             f"({list(SHIPPED_CHECKPOINTS)}); it is trained on the device and its featuriser is "
                             "unknown here")
        encoder = str(shipped_checkpoint(name))
    return resolve_encoder(encoder).featurizer


def preset_inputs(preset: str, *, datasets: Sequence[str] | None = None) -> BundleInputs:
    """The datasets a truth preset reads (:func:`~gtransfer.studies.designs.truths.truth_specs` and
    :func:`~gtransfer.studies.designs.truths.source_zoo_specs`), read from its specs: every stage's targets, with the
    featurisers of the stage's encoders for a molecule dataset; ``datasets`` keeps some of them.

    Raises:
        ValueError: a name in ``datasets`` the preset does not read.
    """
    from gtransfer.data.loading import dataset_kind
    from gtransfer.data.targets import parse_target

    from .truths import source_zoo_specs, truth_specs

    molecules: dict[str, set[str]] = {}
    tu: dict[str, None] = {}
    featurizers: dict[str, str] = {}
    for spec in truth_specs(preset):
        for stage in spec["stages"]:
            for target in stage["targets"]:
                name = parse_target(target)[0]
                if dataset_kind(name) != "molecule":
                    tu.setdefault(name)
                    continue
                for encoder in stage.get("encoders", spec.get("encoders", [])):
                    if encoder not in featurizers:
                        featurizers[encoder] = _encoder_featurizer(encoder)
                    molecules.setdefault(name, set()).add(featurizers[encoder])
    for source in source_zoo_specs(preset):
        name = parse_target(source.task)[0]
        if dataset_kind(name) == "molecule":
            molecules.setdefault(name, set()).add(source.featurizer)
        else:
            tu.setdefault(name)
    if datasets is not None:
        unknown = [d for d in datasets if d not in molecules and d not in tu]
        if unknown:
            raise ValueError(f"device bundle: the {preset} preset does not read {unknown}; it reads "
                             f"{[*molecules, *tu]}")
        molecules = {k: v for k, v in molecules.items() if k in datasets}
        tu = {k: None for k in tu if k in datasets}
    return BundleInputs({k: tuple(sorted(v)) for k, v in molecules.items()}, tuple(tu))


def _raw_files(name: str, source_root: Path) -> list[tuple[Path, str]]:
    """``(file, path under a data root)`` of every raw file of ``name`` the embedded ``datasets/`` lacks, found in
    ``source_root`` by the loaders' one listing (:func:`gtransfer.data.loading.available_datasets`)."""
    from gtransfer.data.loading import available_datasets
    from gtransfer.data.roots import MissingDataError
    from gtransfer.data.tu import tu_raw_files

    if name in available_datasets(EMBEDDED_DIR):
        return []
    found = available_datasets(source_root).get(name)
    if found is None:
        raise MissingDataError(f"device bundle: {name} is neither in {EMBEDDED_DIR} nor in the data root "
                               f"{source_root}; pass the data root that has it (--data-root DIR, GTRANSFER_DATA)")
    files = tu_raw_files(found, name) if found.is_dir() else [found]
    return [(file, file.relative_to(source_root).as_posix()) for file in files]


def _pack(base: Path, members: Iterable[str], target: Path, *, compress: bool = True) -> None:
    """The files ``base/<member>`` and every file under the folders among them (names starting with a dot, such as
    build locks, left out) as one tar, xz-compressed with ``compress``, written atomically; owners and times zeroed,
    members sorted."""
    from gtransfer.io.atomic import atomic_write

    found = [path for member in members
             for path in ([base / member] if (base / member).is_file() else (base / member).rglob("*"))]
    files = sorted(path for path in found
                   if path.is_file() and not any(part.startswith(".") for part in path.relative_to(base).parts))

    def plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    def write(handle: IO[bytes]) -> None:
        with tarfile.open(fileobj=handle, mode="w:xz" if compress else "w") as archive:
            for path in files:
                archive.add(path, arcname=path.relative_to(base).as_posix(), recursive=False, filter=plain)

    atomic_write(target, write)


def _unpack(archive: Path, destination: Path) -> None:
    """Extract a tar written by :func:`_pack` (any compression) into ``destination``, refusing links, absolute paths
    and paths outside it (``tarfile``'s ``data`` filter)."""
    if not hasattr(tarfile, "data_filter"):
        raise RuntimeError(f"unpacking {archive} needs tarfile's data filter (Python 3.10.12, 3.11.4, 3.12 or later)")
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as handle:
        handle.extractall(destination, filter="data")


def _copy_fallbacks(site: Path) -> list[str]:
    """The ``.py`` files of :data:`FALLBACK_PACKAGES` as installed here, copied under ``site``; the names copied."""
    import importlib.util

    from gtransfer.io.atomic import copy_file

    copied = []
    for package in FALLBACK_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(folder.rglob("*.py")):
            copy_file(path, site / package / path.relative_to(folder))
        copied.append(package)
    return copied


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def build_bundle(*, preset: str = "full", out: str | os.PathLike | None = None,
                 source_root: str | os.PathLike | None = None, datasets: Sequence[str] | None = None,
                 seconds: int = COMMAND_LIMIT - 30, gpu_check_seconds: int = 180, progress: bool = True) -> dict:
    """Write the device bundle of ``preset`` into ``out`` (default ``<repository>/.devbundle``) atomically: the raw
    files and processed caches of every dataset it reads (``datasets``: some of them) packed as ``payload.tar.xz``,
    ``manifest.json`` and ``run.sh`` (:func:`run_script` with ``seconds`` and ``gpu_check_seconds``). A ``resume/``
    folder of the bundle it replaces is kept.

    Args:
        source_root: the data root the raw files the repository's ``datasets/`` lacks are copied from (default:
            ``GTRANSFER_DATA``, else the user data directory).

    Returns:
        the manifest.

    Raises:
        gtransfer.data.roots.MissingDataError: a dataset's raw files are in neither root.
        ValueError: an unknown preset or dataset.
    """
    from gtransfer.data.loading import dataset_kind
    from gtransfer.data.roots import data_roots
    from gtransfer.io.atomic import atomic_folder, copy_file, write_json, write_text
    from gtransfer.io.digests import file_digest
    from gtransfer.io.provenance import code_version

    inputs = preset_inputs(preset, datasets=datasets)
    source = data_roots(source_root)[0]
    out = Path(out) if out is not None else REPO_ROOT / BUNDLE_DIR
    started = time.perf_counter()
    entries: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="gtransfer-bundle-") as scratch_name, atomic_folder(out) as staging:
        scratch = Path(scratch_name)
        data, cache = scratch / "data", scratch / "cache"
        data.mkdir()
        for name in inputs.datasets:
            raw = _raw_files(name, source)
            for file, relative in raw:
                copy_file(file, data / relative)
            graphs = graph_counts({name: inputs.molecules.get(name, ())}, root=data, cache=cache)[name]
            embedded = [] if raw else [_embedded_path(name)]
            entries[name] = {
                "kind": dataset_kind(name), "graphs": graphs,
                "raw": [{"path": relative, "bytes": file.stat().st_size, "sha256": file_digest(file)}
                        for file, relative in raw],
                "embedded": embedded,
            }
            if progress:
                where = f"{len(raw)} raw file(s) copied" if raw else f"raw file in {embedded[0]}"
                print(f"{name}: {where}; cached {graphs}", flush=True)
        fallbacks = _copy_fallbacks(scratch / "site")
        _pack(scratch, ("data", "cache", "site"), staging / PAYLOAD)
        previous = out / RESUME
        if previous.is_dir():
            shutil.copytree(previous, staging / RESUME)
        manifest = {
            "preset": preset,
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "code_version": code_version(),
            "source_root": str(source),
            "datasets": entries,
            "fallback_packages": fallbacks,
            "blocked_modules": list(BLOCKED_MODULES),
            "unpacked_bytes": {"data": _folder_bytes(data), "cache": _folder_bytes(cache),
                               "site": _folder_bytes(scratch / "site")},
            "payload": {"file": PAYLOAD, "bytes": (staging / PAYLOAD).stat().st_size,
                        "sha256": file_digest(staging / PAYLOAD)},
            "run": {"seconds": seconds, "gpu_check_seconds": gpu_check_seconds},
            "build_seconds": round(time.perf_counter() - started, 1),
        }
        write_json(staging / MANIFEST, manifest)
        write_text(staging / RUN_SCRIPT, run_script(preset, seconds=seconds, gpu_check_seconds=gpu_check_seconds))
        (staging / RUN_SCRIPT).chmod(0o755)
    return manifest


def graph_counts(datasets: dict[str, Sequence[str]], *, root: str | os.PathLike | None = None,
                 cache: str | os.PathLike | None = None) -> dict[str, dict[str, int]]:
    """Load every dataset with each of its featurisers (none: the dataset's own features, counted under ``"-"``)
    through :func:`gtransfer.data.load_dataset` (``root`` and ``cache``: the loaders' defaults where None), building
    its processed cache where missing; the graphs each load gave. The build and :func:`check_unpacked` both count
    with it, so the device check compares like with like."""
    import warnings

    from gtransfer.data import load_dataset

    graphs: dict[str, dict[str, int]] = {}
    for name, featurizers in datasets.items():
        graphs[name] = {}
        for featurizer in featurizers or (None,):
            options: dict[str, Any] = {"featurizer": featurizer, "progress": False} if featurizer else {}
            with warnings.catch_warnings(record=True):  # skipped molecules: the loaders' own warning, every run
                warnings.simplefilter("always")
                graphs[name][featurizer or "-"] = len(load_dataset(name, root=root, cache=cache, **options))
    return graphs


def _embedded_path(name: str) -> str:
    from gtransfer.data.loading import available_datasets

    return available_datasets(EMBEDDED_DIR)[name].relative_to(REPO_ROOT).as_posix()


def run_script(preset: str, *, seconds: int = COMMAND_LIMIT - 30, gpu_check_seconds: int = 180) -> str:
    """``run.sh``: run from the repository root on the device, ``bash .devbundle/run.sh [SECONDS]``. It unpacks the
    payload into :data:`DEVICE_WORK`, runs ``gpu-check`` for at most ``gpu_check_seconds`` (0: not at all; each of
    its subprocess checks a third of that), then the truth preset until ``SECONDS`` (default ``seconds``) less 45 s
    have passed, and collects the results into ``$OUT``; logs go to ``$OUT/gpu-check.log`` and ``$OUT/truths.log``,
    their tails to the output."""
    return f"""#!/usr/bin/env bash
# The {preset} truth on one GPU machine, from the device bundle (gtransfer/studies/designs/device_bundle.py).
# Run from the repository root: bash {BUNDLE_DIR}/run.sh [SECONDS]   (default {seconds}; the device tool allows
# {COMMAND_LIMIT} s a command). Results: $OUT/{STORE}, $OUT/*.csv, $OUT/{ZOO_ARCHIVE}, $OUT/gpu-check.log,
# $OUT/truths.log. Put {STORE} and {ZOO_ARCHIVE} into {BUNDLE_DIR}/{RESUME}/ to resume on the next call.
set -u
LIMIT=${{1:-{seconds}}}
CHECK=${{GPU_CHECK_SECONDS:-{gpu_check_seconds}}}
B=$(dirname "$0")
W=${{GTRANSFER_DEVICE_WORK:-{DEVICE_WORK}}}
OUT=${{OUT:-$W/out}}
[ -f experiments/truths.py ] || {{ echo "run.sh: run it from the repository root"; exit 2; }}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${{PYTHONPATH:+:$PYTHONPATH}}
PY=
for candidate in python python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import torch, torch_geometric' 2>/dev/null; then
    PY=$candidate; break
  fi
done
[ -n "$PY" ] || {{ echo "run.sh: no python that imports torch and torch_geometric"; exit 2; }}
"$PY" -c 'import sys, torch; print(sys.version.split()[0], torch.__version__, "cuda:", torch.cuda.is_available())'
"$PY" experiments/device_bundle.py unpack --bundle "$B" --to "$W" || exit 2
export GTRANSFER_DATA=$W/data GTRANSFER_CACHE=$W/cache
"$PY" -c 'import yaml' 2>/dev/null || export PYTHONPATH=$PYTHONPATH:$W/site
echo "unpacked at $SECONDS s"
if [ "$CHECK" -gt 0 ]; then
  timeout -k 10 "$CHECK" "$PY" -m gtransfer.bench gpu-check --repeat 1 --timeout $((CHECK / 3)) \\
    > "$OUT/gpu-check.log" 2>&1
  echo "gpu-check: exit $? at $SECONDS s"; tr '\\r' '\\n' < "$OUT/gpu-check.log" | grep . | tail -n 30
fi
"$PY" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' || {{ echo "run.sh: no CUDA device"; exit 3; }}
LEFT=$((LIMIT - SECONDS - 45))
if [ "$LEFT" -lt 60 ]; then
  echo "run.sh: $LEFT s left for the truth, not started"
else
  timeout -s INT -k 25 "$LEFT" "$PY" experiments/truths.py --preset {preset} --out "$W/truths-{preset}" \\
    > "$OUT/truths.log" 2>&1
  echo "truths: exit $? at $SECONDS s (124: stopped by its timeout; rerun to resume)"
  tr '\\r' '\\n' < "$OUT/truths.log" | grep . | tail -n 40  # progress bars end their updates with CR
fi
"$PY" experiments/device_bundle.py collect --work "$W/truths-{preset}" --out "$OUT"
echo "done at $SECONDS s"
"""


def unpack_bundle(bundle: str | os.PathLike, *, to: str | os.PathLike) -> dict:
    """Unpack the bundle's payload into ``to`` (``data/``, ``cache/``, ``site/``) after checking its SHA-256, and
    restore the bundle's ``resume/`` (:func:`collect_results`' store and source heads) into ``to/truths-<preset>``
    when that folder has no store yet.

    Returns:
        the manifest.

    Raises:
        ValueError: the payload is not the one the manifest names.
    """
    from gtransfer.io.atomic import copy_file
    from gtransfer.io.digests import file_digest

    bundle, to = Path(bundle), Path(to)
    manifest = json.loads((bundle / MANIFEST).read_text())
    payload = bundle / manifest["payload"]["file"]
    digest = file_digest(payload)
    if digest != manifest["payload"]["sha256"]:
        raise ValueError(f"{payload}: SHA-256 {digest}, the manifest says {manifest['payload']['sha256']}: the "
                         "payload is damaged or from another build; build the bundle again")
    _unpack(payload, to)
    for folder in ("data", "cache"):  # the variables name them even where the bundle holds no raw file
        (to / folder).mkdir(exist_ok=True)
    work = to / f"truths-{manifest['preset']}"
    resume = bundle / RESUME
    if (resume / STORE).is_file() and not (work / STORE).exists():  # a fresh machine: what the last call left
        copy_file(resume / STORE, work / STORE)
        if (resume / ZOO_ARCHIVE).is_file():
            _unpack(resume / ZOO_ARCHIVE, work / "zoo")
        print(f"resuming from {resume}: {', '.join(sorted(p.name for p in resume.iterdir()))}")
    return manifest


_CHECK_SCRIPT = """
import json, sys
request = json.loads(sys.argv[1])
for module in request["blocked"]:
    sys.modules[module] = None  # an import of it now fails, as on a machine without it
from gtransfer.studies.designs.device_bundle import graph_counts
print(json.dumps(graph_counts(request["datasets"])))
"""


def _cache_entries(cache: Path) -> set[str]:
    """The processed datasets in a cache (``processed/<kind>/<name>/<key>``)."""
    return {p.relative_to(cache).as_posix() for p in cache.glob("processed/*/*/*") if not p.name.startswith(".")}


def check_unpacked(work: str | os.PathLike, manifest: dict, *,
                   blocked: Sequence[str] = BLOCKED_MODULES, timeout: float = 600.0) -> list[str]:
    """Load every dataset of an unpacked bundle as the device will: a fresh interpreter in which ``blocked`` cannot
    be imported, ``GTRANSFER_DATA`` and ``GTRANSFER_CACHE`` pointing into ``work``, the repository's ``datasets/``
    searched after it.

    Returns:
        one line per dataset: its graphs per featuriser.

    Raises:
        BundleCheckError: a load failed (the message ends with the interpreter's last lines), built a processed
            dataset the bundle lacks (its cache key differs from the one built here), or gave another number of graphs
            than the build.
    """
    work = Path(work)
    request = {"blocked": list(blocked),
               "datasets": {name: [f for f in entry["graphs"] if f != "-"] for name, entry in
                            manifest["datasets"].items()}}
    before = _cache_entries(work / "cache")
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "GTRANSFER_DATA": str(work / "data"), "GTRANSFER_CACHE": str(work / "cache"),
           "PYTHONPATH": str(REPO_ROOT) + (os.pathsep + path if path else "")}
    done = subprocess.run([sys.executable, "-c", _CHECK_SCRIPT, json.dumps(request)], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=REPO_ROOT)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-6:])
        raise BundleCheckError(f"loading the bundle in {work} with {', '.join(blocked)} blocked failed:\n{tail}")
    built = sorted(_cache_entries(work / "cache") - before)
    if built:
        raise BundleCheckError(f"loading the bundle in {work} built {built}: the bundle's cache lacks them (their raw "
                               "files or loader options differ from the build's)")
    graphs = json.loads(done.stdout.strip().splitlines()[-1])
    expected = {name: entry["graphs"] for name, entry in manifest["datasets"].items()}
    if graphs != expected:
        raise BundleCheckError(f"loading the bundle in {work} gave {graphs} graphs, the build {expected}")
    return [f"{name}: {counts} graphs from the bundle's cache, {', '.join(blocked)} blocked"
            for name, counts in graphs.items()]


def check_bundle(bundle: str | os.PathLike, *, work: str | os.PathLike) -> list[str]:
    """:func:`unpack_bundle` into ``work``, then :func:`check_unpacked` (see there)."""
    return check_unpacked(work, unpack_bundle(bundle, to=work))


def collect_results(work: str | os.PathLike, *, out: str | os.PathLike) -> list[Path]:
    """Copy a truth run's results from ``work`` into ``out``: the trial store (its WAL checkpointed into the file
    first, so a run stopped by a signal leaves a whole ``.db``), the CSVs, and the trained source heads of ``zoo/``
    as one ``zoo.tar`` (the shipped checkpoints left out); what :func:`unpack_bundle` restores from ``resume/``.

    Returns:
        the files written; a line is printed for any above :data:`OUT_FILE_LIMIT` (the device tool leaves it).
    """
    from gtransfer.io.atomic import copy_file
    from gtransfer.studies.store import TrialStore

    from .truths import SHIPPED_CHECKPOINTS

    work, out = Path(work), Path(out)
    written = []
    if (work / STORE).is_file():
        TrialStore(work / STORE, create=False).close()  # close() checkpoints the WAL into the .db
        written.append(copy_file(work / STORE, out / STORE))
    written += [copy_file(csv, out / csv.name) for csv in sorted(work.glob("*.csv"))]
    heads = [p.name for p in sorted((work / "zoo").glob("*.pt")) if p.name not in SHIPPED_CHECKPOINTS]
    if heads:
        _pack(work / "zoo", heads, out / ZOO_ARCHIVE, compress=False)
        written.append(out / ZOO_ARCHIVE)
    for path in written:
        size = path.stat().st_size
        print(f"{path}: {size / 2**20:.2f} MiB" + (" (above the 16 MiB the device tool brings back)"
                                                  if size > OUT_FILE_LIMIT else ""))
    if not written:
        print(f"{work}: no results yet")
    return written


def transfer_sizes(repo: str | os.PathLike, *, carried: Sequence[str] = ()) -> dict[str, int]:
    """Bytes the device tool would copy: ``tree`` (the files ``git ls-files --cached --others --exclude-standard``
    lists: tracked, and untracked but not ignored), each top-level folder of it (``tree:<folder>``), and each
    carried path (relative to ``repo``)."""
    repo = Path(repo)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                            capture_output=True, check=True).stdout.decode().split("\0")
    sizes: dict[str, int] = {"tree": 0}
    for name in filter(None, dict.fromkeys(listed)):
        path = repo / name
        if not path.is_symlink() and not path.is_file():
            continue  # deleted in the working tree, or a submodule
        size = path.lstat().st_size
        sizes["tree"] += size
        top = f"tree:{name.split('/', 1)[0] if '/' in name else '.'}"
        sizes[top] = sizes.get(top, 0) + size
    for path in carried:
        sizes[path] = _folder_bytes(repo / path) if (repo / path).is_dir() else (repo / path).stat().st_size
    return sizes


def budget_lines(repo: str | os.PathLike, *, bundle: str = BUNDLE_DIR) -> list[str]:
    """The sizes of ``bundle`` (relative to the repository ``repo``) and of ``repo``'s working tree against
    :data:`TRANSFER_BUDGET`, measured; over it, the largest top-level folders the run does not read
    (:data:`RUN_READS`), to set aside for the call."""
    sizes = transfer_sizes(repo, carried=[bundle])
    total = sizes["tree"] + sizes[bundle]

    def mib(value: int) -> str:
        return f"{value / 2**20:.1f} MiB"

    lines = [f"bundle {bundle}: {mib(sizes[bundle])} ({sizes[bundle]:,} bytes)",
             f"working tree that travels (tracked, and untracked not ignored): {mib(sizes['tree'])} "
             f"({sizes['tree']:,} bytes)",
             f"together {mib(total)} of the device tool's {mib(TRANSFER_BUDGET)}: "
             + (f"fits, {mib(TRANSFER_BUDGET - total)} to spare" if total <= TRANSFER_BUDGET
                else f"OVER by {mib(total - TRANSFER_BUDGET)}")]
    if total > TRANSFER_BUDGET:
        unread = sorted(((size, key.removeprefix("tree:")) for key, size in sizes.items()
                         if key.startswith("tree:") and key.removeprefix("tree:") not in (*RUN_READS, ".")),
                        reverse=True)
        lines.append("the run does not read these top-level folders; set the largest aside for the call (delete them "
                     "in the working tree, `git restore` them after): "
                     + ", ".join(f"{name} {mib(size)}" for size, name in unread[:5]))
    return lines


def device_call(*, bundle: str = BUNDLE_DIR, seconds: int = COMMAND_LIMIT - 30) -> str:
    """The device tool's call that runs the bundle: its command, the bundle carried, the command's limit."""
    return f'run(command="bash {bundle}/{RUN_SCRIPT} {seconds}", carry=["{bundle}"], timeout_s={COMMAND_LIMIT})'


def run_device_bundle(args: argparse.Namespace) -> int:
    """``experiments/device_bundle.py``'s subcommands (:func:`gtransfer.cli.experiments.device_bundle_parser`)."""
    if args.command == "build":
        manifest = build_bundle(preset=args.preset, out=args.out, source_root=args.data_root, datasets=args.datasets,
                                seconds=args.seconds, gpu_check_seconds=args.gpu_check_seconds)
        bundle = Path(args.out) if args.out else REPO_ROOT / BUNDLE_DIR
        payload = manifest["payload"]["bytes"]
        unpacked = sum(manifest["unpacked_bytes"].values())
        print(f"{bundle}: payload {payload / 2**20:.2f} MiB ({unpacked / 2**20:.1f} MiB unpacked), built in "
              f"{manifest['build_seconds']:.0f} s")
        if args.check:
            with tempfile.TemporaryDirectory(prefix="gtransfer-bundle-check-") as work:
                print("\n".join(check_bundle(bundle, work=work)))
        _print_budget(bundle)
        return 0
    if args.command == "check":
        bundle = Path(args.bundle) if args.bundle else REPO_ROOT / BUNDLE_DIR
        if args.work:
            print("\n".join(check_bundle(bundle, work=args.work)))
        else:
            with tempfile.TemporaryDirectory(prefix="gtransfer-bundle-check-") as work:
                print("\n".join(check_bundle(bundle, work=work)))
        return 0
    if args.command == "size":
        _print_budget(REPO_ROOT / args.bundle)
        return 0
    if args.command == "unpack":
        manifest = unpack_bundle(args.bundle, to=args.to)
        print(f"{args.bundle}: {manifest['preset']} bundle of {manifest['built']} ({manifest['code_version']}) "
              f"unpacked into {args.to}")
        return 0
    collect_results(args.work, out=args.out)
    return 0


def _print_budget(bundle: Path) -> None:
    """The budget lines of a bundle at the repository root and the device call, or why there is none."""
    try:
        relative = bundle.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        print(f"{bundle} is outside the repository {REPO_ROOT}: the device tool carries only paths inside it")
        return
    print("\n".join(budget_lines(REPO_ROOT, bundle=relative)))
    print(f"device call: {device_call(bundle=relative)}")

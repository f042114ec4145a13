"""``TrialStore``: finished trials in an embedded SQLite database that survives being killed.

Design (why it is safe to SIGKILL a sweep at any moment):

* The database runs in WAL mode with ``synchronous=FULL``; every finished trial is written in its own
  ``BEGIN IMMEDIATE ... COMMIT`` transaction, so a kill loses at most the trials still in flight and
  never leaves a half-written row.
* A trial's primary key is its stable key (:func:`gtransfer.studies.keys.trial_key`), so a trial can be
  in the store at most once. Recording a trial that is already stored as ``ok`` changes nothing;
  a ``failed`` row is replaced when the trial is retried and counts the attempts.
* Only the process that drives a sweep writes (workers return results to it), so there is a single
  writer; readers (reports) may run at the same time.

Tables: ``trials`` (key, kind, params, status, result, error, attempts, duration_s, worker,
finished_at), ``studies`` (name, spec) and ``study_trials`` (study, key): which trials a study
expanded to, so that a report can select one study from a store shared by several.

Schema versions: 1 is the first; 2 spells image targets in the one target grammar
(``cifar10-test:k=3,ratio=4,max=100,seed=0`` instead of ``cifar10-test/k3/r4/n100/s0``). Opening a
version-1 store migrates it in one transaction: each trial whose params name an old-style target gets
the new spelling and the key that spelling gives (:func:`migrate_image_targets`), so a sweep of the
regenerated spec finds every finished trial.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from gtransfer.io.canonical import canonical_json, canonicalize

__all__ = ["TrialRecord", "TrialStore", "SCHEMA_VERSION", "migrate_image_targets"]

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    result TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    duration_s REAL,
    worker TEXT,
    finished_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS trials_kind ON trials (kind, status);
CREATE TABLE IF NOT EXISTS studies (name TEXT PRIMARY KEY, spec TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS study_trials (
    study TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (study, key)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class TrialRecord:
    """One stored trial. ``result`` is ``None`` for a failed trial, whose ``error`` says why."""

    key: str
    kind: str
    params: dict
    status: str
    result: dict | None
    error: str | None
    attempts: int
    duration_s: float | None
    worker: str | None
    finished_at: float


class TrialStore:
    """Finished trials of one or more sweeps, in the SQLite file ``path``.

    Args:
        path: the database file; created (with its folder) unless ``create`` is False.
        create: if False, a missing file raises ``FileNotFoundError`` (what a report wants).

    Raises:
        FileNotFoundError: ``create=False`` and ``path`` does not exist.
        ValueError: ``path`` exists but is not a gtransfer trial store (or has a newer schema).
    """

    def __init__(self, path: str | os.PathLike, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise FileNotFoundError(f"trial store {self.path} does not exist")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif self.path.is_dir():
            raise ValueError(f"trial store {self.path} is a directory, not an SQLite file")
        try:
            self._conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=60000")
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path} is not a gtransfer trial store: {exc}") from None

    # -- set-up --------------------------------------------------------------------------------
    def _init_schema(self) -> None:
        with self._transaction():
            # executescript() would COMMIT on its own; run the statements inside this transaction
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self._conn.execute(statement)
            row = self._conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if row is None:
                self._conn.execute(
                    "INSERT INTO meta (name, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise ValueError(
                    f"{self.path} has store schema {row[0]}, newer than this gtransfer ({SCHEMA_VERSION})"
                )
            elif int(row[0]) < SCHEMA_VERSION:
                migrate_image_targets(self._conn)
                self._conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION),))

    def _transaction(self):
        return _Transaction(self._conn)

    def close(self) -> None:
        """Close the connection (the data is already committed)."""
        self._conn.close()

    def __enter__(self) -> TrialStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------
    def register_study(self, name: str, spec: dict, keys: Iterable[str]) -> None:
        """Record a study's spec and the keys of its trials, replacing an earlier version, in one transaction.

        Trials the study no longer expands to stay in the store (another study may share them) but
        leave the study's membership.
        """
        spec_text = canonical_json(spec)
        with self._transaction():
            self._conn.execute(
                "INSERT INTO studies (name, spec, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
                (name, spec_text, time.time()),
            )
            self._conn.execute("DELETE FROM study_trials WHERE study = ?", (name,))
            self._conn.executemany(
                "INSERT OR IGNORE INTO study_trials (study, key) VALUES (?, ?)", ((name, k) for k in keys)
            )

    def record(
        self,
        key: str,
        kind: str,
        params: dict,
        result: dict | None = None,
        error: str | None = None,
        duration_s: float | None = None,
        worker: str | None = None,
    ) -> bool:
        """Store one finished trial in its own transaction; returns True if the store changed.

        Exactly one of ``result`` (a JSON-serialisable dict: success) and ``error`` (failure) is
        given. A trial already stored as ``ok`` is never overwritten (returns False).
        """
        if (result is None) == (error is None):
            raise ValueError("record() needs exactly one of result (success) and error (failure)")
        if result is not None and not isinstance(result, dict):
            raise ValueError(f"trial kind {kind!r} returned {type(result).__name__}; it must return a dict")
        status = "ok" if result is not None else "failed"
        result_text = (
            json.dumps(canonicalize(result, "result", allow_nonfinite=True), sort_keys=True)
            if result is not None
            else None
        )
        with self._transaction():
            cursor = self._conn.execute(
                "INSERT INTO trials (key, kind, params, status, result, error, attempts, duration_s,"
                " worker, finished_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET status = excluded.status, result = excluded.result,"
                " error = excluded.error, attempts = trials.attempts + 1, duration_s = excluded.duration_s,"
                " worker = excluded.worker, finished_at = excluded.finished_at"
                " WHERE trials.status != 'ok'",
                (key, kind, canonical_json(params), status, result_text, error, duration_s, worker, time.time()),
            )
            return cursor.rowcount > 0

    # -- reading -------------------------------------------------------------------------------
    def finished_keys(self) -> set[str]:
        """Keys of the trials stored as ``ok`` (the ones a resumed sweep skips)."""
        return {row[0] for row in self._conn.execute("SELECT key FROM trials WHERE status = 'ok'")}

    def get(self, key: str) -> TrialRecord | None:
        """The stored trial with this key, or None."""
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM trials t WHERE t.key = ?", (key,)).fetchone()
        return None if row is None else _to_record(row)

    def records(self, kind: str | None = None, study: str | None = None, status: str | None = "ok") -> list[TrialRecord]:
        """Stored trials, optionally only one kind, one study's, one status (None: any), in key order.

        Raises:
            ValueError: ``study`` is not in the store, or a row is corrupt (names its key).
        """
        sql = f"SELECT {_COLUMNS} FROM trials t"
        args: list[Any] = []
        clauses = []
        if study is not None:
            if study not in self.studies():
                raise ValueError(f"study {study!r} is not in {self.path}; it holds {sorted(self.studies())}")
            sql += " JOIN study_trials s ON s.key = t.key AND s.study = ?"
            args.append(study)
        if kind is not None:
            clauses.append("t.kind = ?")
            args.append(kind)
        if status is not None:
            clauses.append("t.status = ?")
            args.append(status)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY t.key"
        return [_to_record(row) for row in self._conn.execute(sql, args)]

    def studies(self) -> dict[str, dict]:
        """Study name -> the spec it was registered with."""
        return {name: json.loads(spec) for name, spec in self._conn.execute("SELECT name, spec FROM studies")}

    def study_keys(self, study: str) -> set[str]:
        """Keys of the trials a study expanded to (finished or not)."""
        return {r[0] for r in self._conn.execute("SELECT key FROM study_trials WHERE study = ?", (study,))}

    def counts(self) -> dict[str, int]:
        """Number of stored trials per status."""
        return dict(self._conn.execute("SELECT status, COUNT(*) FROM trials GROUP BY status").fetchall())

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0])


def _renamed_targets(value: Any) -> Any:
    """``value`` with every string in the image branch's old target grammar replaced by its new spelling."""
    from gtransfer.data.targets import legacy_image_target

    if isinstance(value, str):
        return legacy_image_target(value) or value
    if isinstance(value, list):
        return [_renamed_targets(item) for item in value]
    if isinstance(value, dict):
        return {key: _renamed_targets(item) for key, item in value.items()}
    return value


def migrate_image_targets(conn: sqlite3.Connection) -> int:
    """Schema 1 -> 2 inside the caller's transaction: old-style image target names get the one grammar.

    A trial's params and key change together (its key is the hash of its params); study membership and
    study specs follow. When both spellings of a trial are stored, the ``ok`` row is kept.

    Returns:
        the number of trials renamed.
    """
    from gtransfer.studies.keys import trial_key

    renamed = 0
    for key, kind, params_text, status in conn.execute("SELECT key, kind, params, status FROM trials").fetchall():
        params = json.loads(params_text)
        new_params = _renamed_targets(params)
        if new_params == params:
            continue
        new_key = trial_key(kind, new_params)
        existing = conn.execute("SELECT status FROM trials WHERE key = ?", (new_key,)).fetchone()
        if existing is not None and (existing[0] == "ok" or status != "ok"):
            conn.execute("DELETE FROM trials WHERE key = ?", (key,))
        else:
            conn.execute("DELETE FROM trials WHERE key = ?", (new_key,))
            conn.execute("UPDATE trials SET key = ?, params = ? WHERE key = ?", (new_key, canonical_json(new_params), key))
        conn.execute("UPDATE OR IGNORE study_trials SET key = ? WHERE key = ?", (new_key, key))
        conn.execute("DELETE FROM study_trials WHERE key = ?", (key,))
        renamed += 1
    for name, spec_text in conn.execute("SELECT name, spec FROM studies").fetchall():
        spec = json.loads(spec_text)
        new_spec = _renamed_targets(spec)
        if new_spec != spec:
            conn.execute("UPDATE studies SET spec = ? WHERE name = ?", (canonical_json(new_spec), name))
    return renamed


_COLUMNS = "t.key, t.kind, t.params, t.status, t.result, t.error, t.attempts, t.duration_s, t.worker, t.finished_at"


def _to_record(row: tuple) -> TrialRecord:
    key, kind, params, status, result, error, attempts, duration_s, worker, finished_at = row
    try:
        params_value = json.loads(params)
        result_value = json.loads(result) if result is not None else None
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"corrupt row for trial {key} in the trial store: {exc}") from None
    if status == "ok" and not isinstance(result_value, dict):
        raise ValueError(f"corrupt row for trial {key} in the trial store: status ok without a result dict")
    return TrialRecord(key, kind, params_value, status, result_value, error, attempts, duration_s, worker, finished_at)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")

"""Durable state for --data-dir: every record changed by a command is written in one sqlite transaction."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from localzeebe.state import to_dict

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Store:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(data_dir / "localzeebe.sqlite3", isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.executescript(_SCHEMA)

    def save(self, changes: dict[tuple[str, int], Any], last_key: int) -> None:
        rows = [(kind, key, json.dumps(to_dict(record))) for (kind, key), record in changes.items() if record]
        gone = [(kind, key) for (kind, key), record in changes.items() if record is None]
        with self.connection:
            self.connection.execute("BEGIN")
            self.connection.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", rows)
            self.connection.executemany("DELETE FROM records WHERE kind = ? AND key = ?", gone)
            self.connection.execute("INSERT OR REPLACE INTO meta VALUES ('last_key', ?)", (last_key,))

    def load(self) -> tuple[dict[str, list[dict[str, Any]]], int]:
        records: dict[str, list[dict[str, Any]]] = {}
        for kind, body in self.connection.execute("SELECT kind, body FROM records ORDER BY key"):
            records.setdefault(kind, []).append(json.loads(body))
        row = self.connection.execute("SELECT value FROM meta WHERE name = 'last_key'").fetchone()
        return records, int(row[0]) if row else 0

    def close(self) -> None:
        self.connection.close()

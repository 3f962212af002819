"""Sessions that survive restarts: one SQLite file (WAL mode), one row per speech being drafted.

A row holds the whole session state as JSON (chat, document, versions, blank
ledger, outline).  Writes are single transactions, so a crash leaves either
the old or the new state, never half of one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id      TEXT PRIMARY KEY,
    owner   TEXT NOT NULL DEFAULT '',
    title   TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    state   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_owner ON sessions(owner, updated);
"""


class SessionStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def save(self, session_id: str, state: dict, *, title: str = "", owner: str = "") -> None:
        now = time.time()
        payload = json.dumps(state, ensure_ascii=False)
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO sessions(id, owner, title, created, updated, state) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET title=excluded.title, updated=excluded.updated, state=excluded.state "
                "WHERE sessions.owner = excluded.owner",
                (session_id, owner, title, now, now, payload),
            )

    def load(self, session_id: str, *, owner: str = "") -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT state FROM sessions WHERE id=? AND owner=?", (session_id, owner)).fetchone()
        return json.loads(row[0]) if row else None

    def list(self, *, owner: str = "", limit: int = 200) -> list[dict]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, title, created, updated FROM sessions WHERE owner=? ORDER BY updated DESC LIMIT ?",
                (owner, limit),
            ).fetchall()
        return [{"id": r[0], "title": r[1], "created": r[2], "updated": r[3]} for r in rows]

    def rename(self, session_id: str, title: str, *, owner: str = "") -> bool:
        title = title.strip()[:80]
        if not title:
            return False
        with self._lock, self._connect() as db:
            cur = db.execute("UPDATE sessions SET title=? WHERE id=? AND owner=?", (title, session_id, owner))
            return cur.rowcount > 0

    def delete(self, session_id: str, *, owner: str = "") -> bool:
        with self._lock, self._connect() as db:
            cur = db.execute("DELETE FROM sessions WHERE id=? AND owner=?", (session_id, owner))
            return cur.rowcount > 0

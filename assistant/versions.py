"""Version history of one :class:`~assistant.document.Document`.

Every change the user or the model makes is committed as a :class:`Version`
(a snapshot of the whole document plus a label such as 「起草第二部分」 or
「润色：更简洁」).  The history behaves like an editor's undo stack *and* keeps
a complete timeline:

* ``undo()`` / ``redo()`` walk the undo path;
* a commit after an undo drops the redo branch **from the undo path only** -
  the dropped versions stay in the timeline (``list()``) and can be brought
  back with ``restore()``;
* ``restore(version_id)`` puts an old version on top as a new version, it
  never rewrites or removes anything;
* the only versions ever deleted are the oldest ones, once there are more
  than ``max_versions``.

Committing a document identical to the current version is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .document import Document, section_label
from .structure import count_chars


@dataclass
class Version:
    id: int
    label: str
    section: str | None
    created: datetime
    snapshot: dict
    meta: dict = field(default_factory=dict)

    def document(self) -> Document:
        return Document.from_snapshot(self.snapshot)

    @property
    def chars(self) -> int:
        """Characters of the sections (title excluded), white space not counted."""
        return sum(count_chars(t) for t in self.snapshot.get("sections", {}).values())

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "label": self.label,
            "section": self.section,
            "created": self.created.isoformat(),
            "snapshot": {"title": self.snapshot.get("title", ""), "sections": dict(self.snapshot.get("sections", {}))},
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Version":
        return cls(
            id=int(d["id"]),
            label=str(d.get("label", "")),
            section=d.get("section"),
            created=datetime.fromisoformat(d["created"]) if d.get("created") else datetime.now(),
            snapshot={"title": d.get("snapshot", {}).get("title", ""), "sections": dict(d.get("snapshot", {}).get("sections", {}))},
            meta=dict(d.get("meta") or {}),
        )


def _snap(doc: Document) -> dict:
    return {"title": doc.title, "sections": dict(doc.sections)}


class History:
    """Versions of one document, with an undo path through them."""

    def __init__(self, max_versions: int = 200):
        if max_versions < 1:
            raise ValueError("max_versions must be at least 1")
        self.max_versions = max_versions
        self._versions: list[Version] = []  # timeline, oldest first
        self._path: list[int] = []  # undo path: version ids
        self._pos: int = -1  # index of the current version in _path
        self._next_id = 1

    # --- queries ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._versions)

    @property
    def versions(self) -> list[Version]:
        """All kept versions, oldest first (a copy of the list)."""
        return list(self._versions)

    @property
    def current(self) -> Version | None:
        if self._pos < 0:
            return None
        return self.get(self._path[self._pos])

    def get(self, version_id: int) -> Version:
        for v in self._versions:
            if v.id == version_id:
                return v
        raise KeyError(f"no version {version_id}")

    def document(self) -> Document | None:
        """The current document (a fresh copy), or None when nothing is committed."""
        cur = self.current
        return cur.document() if cur else None

    @property
    def can_undo(self) -> bool:
        return self._pos > 0

    @property
    def can_redo(self) -> bool:
        return 0 <= self._pos < len(self._path) - 1

    # --- changes ---------------------------------------------------------------
    def commit(self, doc: Document, label: str, section: str | None = None, meta: dict | None = None) -> Version:
        snap = _snap(doc)
        cur = self.current
        if cur is not None and cur.snapshot == snap:
            return cur
        v = Version(self._next_id, label, section, datetime.now(), snap, dict(meta or {}))
        self._next_id += 1
        self._versions.append(v)
        del self._path[self._pos + 1 :]  # the redo branch leaves the undo path, not the timeline
        self._path.append(v.id)
        self._pos = len(self._path) - 1
        self._trim()
        return v

    def undo(self) -> Document | None:
        if not self.can_undo:
            return None
        self._pos -= 1
        return self.document()

    def redo(self) -> Document | None:
        if not self.can_redo:
            return None
        self._pos += 1
        return self.document()

    def restore(self, version_id: int) -> Document:
        """Make version ``version_id`` current again as a new version on top."""
        old = self.get(version_id)
        doc = old.document()
        self.commit(doc, f"恢复到版本 {old.id}：{old.label}", old.section, {"restored_from": old.id})
        return doc

    def _trim(self) -> None:
        excess = len(self._versions) - self.max_versions
        if excess <= 0:
            return
        gone = {v.id for v in self._versions[:excess]}
        del self._versions[:excess]
        cur_id = self._path[self._pos]
        self._path = [i for i in self._path if i not in gone]
        self._pos = self._path.index(cur_id)

    # --- UI --------------------------------------------------------------------
    def list(self, newest_first: bool = True) -> list[dict]:
        """Rows for a UI table: id, time, label, section, chars (+ created, current)."""
        cur = self.current
        rows = [
            {
                "id": v.id,
                "time": v.created.strftime("%H:%M:%S"),
                "created": v.created.isoformat(timespec="seconds"),
                "label": v.label,
                "section": section_label(v.section) if v.section else "",
                "chars": v.chars,
                "current": cur is not None and v.id == cur.id,
            }
            for v in self._versions
        ]
        return rows[::-1] if newest_first else rows

    # --- persistence -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "max_versions": self.max_versions,
            "next_id": self._next_id,
            "versions": [v.to_dict() for v in self._versions],
            "path": list(self._path),
            "pos": self._pos,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        h = cls(max_versions=int(d.get("max_versions", 200)))
        h._versions = [Version.from_dict(v) for v in d.get("versions", [])]
        ids = {v.id for v in h._versions}
        h._next_id = max([int(d.get("next_id", 1))] + [i + 1 for i in ids])
        path = [int(i) for i in d.get("path", []) if int(i) in ids]
        pos = int(d.get("pos", len(path) - 1))
        if not path and h._versions:  # older or hand-made data: the newest version is current
            path, pos = [h._versions[-1].id], 0
        h._path = path
        h._pos = min(max(pos, -1 if not path else 0), len(path) - 1)
        h._trim()
        return h

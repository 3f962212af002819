"""Sessions that survive restarts and are shared by app replicas: one row per speech being drafted.

The database is any SQLAlchemy URL (``SPEECH_SESSIONS_URL``): by default one SQLite file in the
data folder (WAL mode); for several app replicas, one PostgreSQL database that they all use.

A row holds the whole session state as JSON (chat, document, versions, blank ledger, outline)
and a revision number.  Writes are single transactions, so a crash leaves either the old or the
new state.  A write names the revision it started from; if the row has moved on meanwhile
(the same speech saved from another window or another replica) the write is refused with
``StaleSession`` instead of overwriting the newer state, and ``persist`` keeps this window's
version as a copy: nothing is lost either way.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

metadata = sa.MetaData()
sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False, server_default=""),
    sa.Column("title", sa.String(200), nullable=False, server_default=""),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Column("rev", sa.Integer, nullable=False, server_default="0"),
    sa.Column("state", sa.Text, nullable=False),
    sa.Index("sessions_owner", "owner", "updated"),
)


class StoreError(RuntimeError):
    """The session database cannot be used; the message says which one (without its password) and why."""


class StaleSession(RuntimeError):
    """The stored session is newer than the revision this write started from."""

    def __init__(self, session_id: str, stored_rev: int):
        super().__init__(f"session {session_id} is at revision {stored_rev}")
        self.stored_rev = stored_rev


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def display_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def describe_store(url: str) -> str:
    """A short label for the page header: "SQLite（sessions.sqlite3）" or "postgresql @ db:5432/speech"."""
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        return f"SQLite（{Path(u.database or ':memory:').name}）"
    where = f"{u.host or ''}{':' + str(u.port) if u.port else ''}/{u.database or ''}"
    return f"{u.get_backend_name()} @ {where}"


class SessionStore:
    def __init__(self, url: str | Path):
        if isinstance(url, Path) or "://" not in str(url):
            Path(url).parent.mkdir(parents=True, exist_ok=True)
            url = sqlite_url(Path(url))
        self.url = str(url)
        parsed = sa.engine.make_url(self.url)
        sqlite = parsed.get_backend_name() == "sqlite"
        if sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(
            self.url,
            connect_args={"timeout": 10} if sqlite else {"connect_timeout": 10},
            pool_pre_ping=not sqlite,  # a database restarted under a replica: reconnect instead of failing a turn
        )
        if sqlite:
            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn, _record):
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

        try:
            metadata.create_all(self.engine)
            self._migrate()
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(
                f"讲稿存储 {display_url(self.url)} 无法使用（{type(exc.orig or exc).__name__}: "
                f"{str(exc.orig or exc).strip().splitlines()[0][:200]}）。请确认数据库已启动、地址和账号正确"
                "（设置项 SPEECH_SESSIONS_URL；不设置时使用数据目录里的 SQLite 文件）。"
            ) from exc

    def _migrate(self) -> None:
        """Databases written before revisions existed get the column (every row at revision 0)."""
        cols = {c["name"] for c in sa.inspect(self.engine).get_columns("sessions")}
        if "rev" not in cols:
            with self.engine.begin() as db:
                db.execute(sa.text("ALTER TABLE sessions ADD COLUMN rev INTEGER NOT NULL DEFAULT 0"))

    def save(self, session_id: str, state: dict, *, title: str = "", owner: str = "",
             base_rev: int | None = None) -> int:
        """Store ``state``; returns the new revision.

        With ``base_rev`` (the revision the caller loaded or last saved; 0 for a new session) the
        write happens only if the row is still at that revision, else ``StaleSession``.  Without it
        the write is unconditional.  A row of another owner is never touched (``StaleSession``)."""
        now = time.time()
        payload = json.dumps(state, ensure_ascii=False)
        t = sessions.c
        with self.engine.begin() as db:
            cond = (t.id == session_id) & (t.owner == owner)
            if base_rev is not None:
                cond &= t.rev == base_rev
            row = db.execute(
                sa.update(sessions).where(cond).values(title=title, updated=now, state=payload, rev=t.rev + 1)
                .returning(t.rev)
            ).first()
            if row is not None:
                return int(row[0])
        stored = self._rev(session_id)
        if stored is not None:
            raise StaleSession(session_id, stored)
        try:
            with self.engine.begin() as db:
                db.execute(sa.insert(sessions).values(id=session_id, owner=owner, title=title, created=now,
                                                      updated=now, state=payload, rev=1))
        except IntegrityError as exc:  # created meanwhile by another writer
            raise StaleSession(session_id, self._rev(session_id) or 0) from exc
        return 1

    def _rev(self, session_id: str) -> int | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(sessions.c.rev).where(sessions.c.id == session_id)).first()
        return None if row is None else int(row[0])

    def load_entry(self, session_id: str, *, owner: str = "") -> tuple[dict, int] | None:
        """The stored state and its revision, or None."""
        t = sessions.c
        with self.engine.connect() as db:
            row = db.execute(sa.select(t.state, t.rev).where((t.id == session_id) & (t.owner == owner))).first()
        return (json.loads(row[0]), int(row[1])) if row else None

    def load(self, session_id: str, *, owner: str = "") -> dict | None:
        entry = self.load_entry(session_id, owner=owner)
        return entry[0] if entry else None

    def list(self, *, owner: str = "", limit: int = 200) -> list[dict]:
        t = sessions.c
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(t.id, t.title, t.created, t.updated).where(t.owner == owner)
                .order_by(t.updated.desc()).limit(limit)
            ).all()
        return [{"id": r[0], "title": r[1], "created": r[2], "updated": r[3]} for r in rows]

    def rename(self, session_id: str, title: str, *, owner: str = "") -> bool:
        title = title.strip()[:80]
        if not title:
            return False
        t = sessions.c
        with self.engine.begin() as db:
            cur = db.execute(sa.update(sessions).where((t.id == session_id) & (t.owner == owner)).values(title=title))
            return cur.rowcount > 0

    def delete(self, session_id: str, *, owner: str = "") -> bool:
        t = sessions.c
        with self.engine.begin() as db:
            cur = db.execute(sa.delete(sessions).where((t.id == session_id) & (t.owner == owner)))
            return cur.rowcount > 0

    def close(self) -> None:
        self.engine.dispose()


def unreachable(exc: Exception) -> str:
    """The note for a user when the session database cannot be reached: what happened and that nothing is lost."""
    name = type(getattr(exc, "orig", None) or exc).__name__
    return (f"讲稿库暂时连不上（{name}），这次操作没有完成；本窗口里的内容都还在。"
            "请稍后再试；若要马上留底，可先在「导出」里下载。")


def try_store(call, fallback=None):
    """Run a session-store call: (its result, None), or (``fallback``, a note) when the database cannot be reached."""
    try:
        return call(), None
    except SQLAlchemyError as exc:
        return fallback, unreachable(exc)


# one lock per session object (striped): a turn's last save and the next turn's first one, from two threads of the
# same window, go one after the other; else the second would find the first's revision and save a needless copy
_SAVE_LOCKS = [threading.Lock() for _ in range(64)]


def persist(store: SessionStore, session, owner: str = "") -> str | None:
    """Save a session at the revision it was loaded or last saved at (``session.rev``).

    If the stored one is newer — the same speech saved from another window or replica — this
    window's version is saved as a copy under a new id and a note for the user is returned.
    If the database cannot be reached the session stays as it is in this window (and is saved
    by the next turn that reaches the database); the note says so."""
    with _SAVE_LOCKS[(id(session) >> 4) % len(_SAVE_LOCKS)]:  # ids are 16-byte aligned
        return _persist(store, session, owner)


def _persist(store: SessionStore, session, owner: str) -> str | None:
    try:
        session.rev = store.save(session.id, session.to_dict(), title=session.display_title(), owner=owner,
                                 base_rev=session.rev)
        return None
    except SQLAlchemyError as exc:
        return (f"提醒：讲稿这次没能保存到数据库（{type(exc.orig or exc).__name__}），本窗口里的内容都还在；"
                "数据库恢复后，下一次操作会自动保存。若要马上留底，可先在「导出」里下载。")
    except StaleSession:
        title = f"{session.display_title()}（副本）"[:80]
        session.id, session.title, session.rev = uuid.uuid4().hex[:12], title, 0
        session.rev = store.save(session.id, session.to_dict(), title=title, owner=owner, base_rev=0)
        return (f"这篇讲稿刚在另一个窗口（或另一台服务器）上保存过更新的内容。为了不覆盖那边的修改，"
                f"本窗口的版本已另存为「{title}」；两份都在「我的讲稿」里，可以打开对照。")

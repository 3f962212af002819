"""Session storage shared by app replicas: the same store on SQLite (one machine) and on a real PostgreSQL
(several replicas), revisions that refuse to overwrite a newer save, and two running app processes that
share one database the way replicas behind a proxy do."""

from __future__ import annotations

import sqlite3
import time
import uuid
from types import SimpleNamespace

import pytest

from assistant.store import SessionStore, StaleSession, StoreError, display_url, persist, sessions


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SessionStore(tmp_path / "sessions.sqlite3")
    else:
        s = SessionStore(request.getfixturevalue("postgres_url"))
        with s.engine.begin() as db:  # one server for the whole run: start each test from an empty table
            db.execute(sessions.delete())
    yield s
    s.close()


def sid() -> str:
    return uuid.uuid4().hex[:12]


def test_save_load_list_rename_delete(store):
    a, b = sid(), sid()
    assert store.save(a, {"doc": "一"}, title="甲", owner="alice") == 1
    time.sleep(0.01)
    assert store.save(b, {"doc": "二"}, title="乙", owner="alice") == 1
    assert store.save(a, {"doc": "一改"}, title="甲", owner="alice") == 2  # unconditional write
    assert store.load_entry(a, owner="alice") == ({"doc": "一改"}, 2)
    assert [r["id"] for r in store.list(owner="alice")][:2] == [a, b], "most recently updated first"
    assert store.load(a, owner="bob") is None and store.list(owner="bob") == [], "owners never see each other"
    assert store.rename(a, "  新名字 ", owner="alice") and store.list(owner="alice")[0]["title"] == "新名字"
    assert not store.rename(a, "x", owner="bob") and not store.delete(a, owner="bob")
    assert store.delete(a, owner="alice") and store.load(a, owner="alice") is None


def test_a_write_from_an_older_revision_is_refused(store):
    a = sid()
    r1 = store.save(a, {"doc": "初稿"}, owner="", base_rev=0)
    r2 = store.save(a, {"doc": "第二稿"}, owner="", base_rev=r1)  # the window that saved it goes on
    with pytest.raises(StaleSession) as err:
        store.save(a, {"doc": "另一窗口的旧稿"}, owner="", base_rev=r1)  # a window still at r1
    assert err.value.stored_rev == r2
    assert store.load(a) == {"doc": "第二稿"}, "the newer save is not overwritten"
    with pytest.raises(StaleSession):
        store.save(a, {"doc": "冒名"}, owner="mallory", base_rev=0)  # another owner's id is never touched
    assert store.load(a) == {"doc": "第二稿"}


def fake_session(text: str):
    s = SimpleNamespace(id=sid(), rev=0, title="妇代会讲话", doc=text)
    s.to_dict = lambda: {"id": s.id, "doc": s.doc}
    s.display_title = lambda: s.title
    return s


def test_persist_keeps_a_stale_window_as_a_copy(store):
    win1 = fake_session("初稿")
    assert persist(store, win1) is None and win1.rev == 1
    win2 = SimpleNamespace(**vars(win1))  # the same speech opened in a second window (or on another replica)
    win2.to_dict = lambda: {"id": win2.id, "doc": win2.doc}
    win2.display_title = lambda: win2.title
    win1.doc = "窗口一改过"
    assert persist(store, win1) is None and win1.rev == 2
    win2.doc = "窗口二改过"
    note = persist(store, win2)
    assert note and "另存为「妇代会讲话（副本）」" in note
    assert win2.id != win1.id and win2.rev == 1
    assert store.load(win1.id) == {"id": win1.id, "doc": "窗口一改过"}
    assert store.load(win2.id)["doc"] == "窗口二改过"
    titles = {r["id"]: r["title"] for r in store.list()}
    assert titles == {win1.id: "妇代会讲话", win2.id: "妇代会讲话（副本）"}
    assert persist(store, win2) is None and win2.rev == 2, "the copy goes on saving normally"


def test_two_saves_of_one_window_at_once_make_no_copy(store, monkeypatch):
    """A turn's last save and the next turn's first (two threads, one window) must not find each other stale."""
    import threading
    import time

    win = fake_session("初稿")
    assert persist(store, win) is None
    save = store.save

    def slow_save(*args, **kwargs):
        time.sleep(0.05)  # the database is slow: both saves are in flight together
        return save(*args, **kwargs)

    monkeypatch.setattr(store, "save", slow_save)
    notes: list = []
    threads = [threading.Thread(target=lambda: notes.append(persist(store, win))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert notes == [None] * 4, notes
    assert [r["id"] for r in store.list()] == [win.id], "no copy of the speech was made"


def test_a_database_from_before_revisions_is_upgraded(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE sessions (id TEXT PRIMARY KEY, owner TEXT NOT NULL DEFAULT '', title TEXT NOT NULL DEFAULT '',
                               created REAL NOT NULL, updated REAL NOT NULL, state TEXT NOT NULL);
        INSERT INTO sessions VALUES ('abc', '', '旧讲稿', 1.0, 1.0, '{"doc": "旧"}');
    """)
    db.commit()
    db.close()
    s = SessionStore(path)
    assert s.load_entry("abc") == ({"doc": "旧"}, 0)
    assert s.save("abc", {"doc": "新"}, title="旧讲稿", base_rev=0) == 1
    assert s.list()[0]["title"] == "旧讲稿"


def test_the_database_password_is_never_shown():
    url = "postgresql+psycopg://speech:s3cret-pw@db.example:5432/speech"
    assert "s3cret-pw" not in display_url(url) and "db.example" in display_url(url)
    from assistant.providers import describe
    from assistant.settings import Settings

    s = Settings(sessions_url=url)
    for text in (describe(s), repr(s), str(s.model_dump())):
        assert "s3cret-pw" not in text
    assert "postgresql @ db.example:5432/speech" in describe(s)


def test_an_unreachable_database_gives_one_clear_message():
    with pytest.raises(StoreError) as err:
        SessionStore("postgresql+psycopg://speech:pw-123@127.0.0.1:1/none")
    msg = str(err.value)
    assert "127.0.0.1:1" in msg and "SPEECH_SESSIONS_URL" in msg and "pw-123" not in msg


def test_a_database_that_goes_away_mid_session_loses_nothing(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    win = fake_session("初稿")
    assert persist(store, win) is None
    store.engine.dispose()
    store.engine = __import__("sqlalchemy").create_engine("postgresql+psycopg://speech@127.0.0.1:1/none",
                                                          connect_args={"connect_timeout": 2})
    win.doc = "改过的稿子"
    note = persist(store, win)
    assert note and "没能保存" in note and "都还在" in note
    assert win.doc == "改过的稿子" and win.rev == 1, "the window keeps its state and its revision"


# ================================================================ two app replicas on one PostgreSQL database


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, postgres_url):
    """Two real app processes (own data folders, own OpenAI stubs) sharing one session database, as two
    replicas behind a proxy do."""
    from tests.test_persistence_and_kb_ui import App

    with SessionStore(postgres_url).engine.begin() as db:
        db.execute(sessions.delete())
    env = {"SPEECH_SESSIONS_URL": postgres_url}
    a = App(tmp_path_factory.mktemp("replica-a"), extra_env=env).start()
    try:
        b = App(tmp_path_factory.mktemp("replica-b"), extra_env=env).start()
        try:
            yield SimpleNamespace(a=a, b=b, url=postgres_url)
        finally:
            b.stop()
    finally:
        a.stop()


def test_replicas_share_sessions_and_never_overwrite_each_other(replicas):
    from gradio_client import Client

    from tests.test_persistence_and_kb_ui import PART2_HEAD, chat, chat_doc, last_reply, listed

    tab_a = Client(replicas.a.url, verbose=False)
    out = chat(tab_a, "为区妇联第四次代表大会写开场白")
    opening = chat_doc(out)
    assert "已起草开场白" in last_reply(out)
    (sid, title), = listed(tab_a).items()

    # replica B lists and opens the same speech (the proxy sent this user elsewhere, or replica A died)
    tab_b = Client(replicas.b.url, verbose=False)
    assert listed(tab_b) == {sid: title}
    opened = tab_b.predict(sid, api_name="/session_open")
    assert opened[2] == opening
    out_b = chat(tab_b, "写第二部分", opened[0])
    on_b = chat_doc(out_b)
    assert PART2_HEAD in on_b
    # ... and replica A sees B's work in a fresh tab
    fresh_a = Client(replicas.a.url, verbose=False)
    assert fresh_a.predict(sid, api_name="/session_open")[2] == on_b

    # the first tab on A still holds the speech as it was before B's turn: its next save must not overwrite B's
    out_a = chat(tab_a, "写第三部分", out[1])
    reply = last_reply(out_a)
    assert "另存为" in reply and "副本" in reply, reply
    both = listed(tab_a)
    assert len(both) == 2 and both[sid] == title
    copy_id = next(i for i in both if i != sid)
    assert both[copy_id].endswith("（副本）")
    assert fresh_a.predict(sid, api_name="/session_open")[2] == on_b, "B's version is intact"
    copy_doc = fresh_a.predict(copy_id, api_name="/session_open")[2]
    assert copy_doc == chat_doc(out_a) and "三、" in copy_doc and PART2_HEAD not in copy_doc


def test_listing_opening_renaming_deleting_when_the_database_is_gone(tmp_path):
    """我的讲稿 actions while the database is unreachable: one clear note each, the fallback value, nothing lost."""
    from assistant.store import try_store

    store = SessionStore(tmp_path / "s.sqlite3")
    win = fake_session("初稿")
    persist(store, win)
    assert try_store(lambda: [r["id"] for r in store.list()], []) == ([win.id], None)
    store.engine.dispose()
    store.engine = __import__("sqlalchemy").create_engine("postgresql+psycopg://speech@127.0.0.1:1/none",
                                                          connect_args={"connect_timeout": 2})
    for call, fallback in ((store.list, []), (lambda: store.load_entry(win.id), None),
                           (lambda: store.rename(win.id, "新名"), False), (lambda: store.delete(win.id), False)):
        got, note = try_store(call, fallback)
        assert got == fallback and "讲稿库暂时连不上" in note and "都还在" in note and "speech@" not in note
    assert (tmp_path / "s.sqlite3").exists() and win.doc == "初稿"
    back = SessionStore(tmp_path / "s.sqlite3")  # the database back: the session is still there, under its name
    assert [r["id"] for r in back.list()] == [win.id]

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # until the project is installed

import json

import pytest

from assistant.document import Document
from assistant.versions import History, Version

SEED = Path("/work/shared/seed/000_cee338bc757c0ce3.txt")


def doc(**sections) -> Document:
    return Document(title="测试讲话", sections=dict(sections))


def three_versions() -> tuple[History, list[Version]]:
    h = History()
    v1 = h.commit(doc(opening="开场白第一稿。"), "起草开场白", "opening")
    v2 = h.commit(doc(opening="开场白第一稿。", part1="一、认识\n意义重大。"), "起草第一部分", "part1")
    v3 = h.commit(doc(opening="开场白第二稿，更简洁。", part1="一、认识\n意义重大。"), "润色：更简洁", "opening")
    return h, [v1, v2, v3]


def test_commit_assigns_increasing_ids_and_keeps_labels():
    h, (v1, v2, v3) = three_versions()
    assert [v1.id, v2.id, v3.id] == [1, 2, 3]
    assert h.current is v3
    assert v2.label == "起草第一部分" and v2.section == "part1"
    assert v3.document().get("opening") == "开场白第二稿，更简洁。"
    assert len(h) == 3


def test_undo_twice_then_redo():
    h, (v1, v2, v3) = three_versions()
    assert h.can_undo and not h.can_redo
    d = h.undo()
    assert d.get("opening") == "开场白第一稿。" and d.get("part1") == "一、认识\n意义重大。"
    d = h.undo()
    assert d.sections == {"opening": "开场白第一稿。"}
    assert not h.can_undo and h.can_redo
    assert h.undo() is None  # nothing further back
    d = h.redo()
    assert d.get("part1") == "一、认识\n意义重大。" and d.get("opening") == "开场白第一稿。"
    assert h.current.id == v2.id
    d = h.redo()
    assert d.get("opening") == "开场白第二稿，更简洁。"
    assert h.redo() is None


def test_undo_returns_a_copy_not_the_stored_snapshot():
    h, _ = three_versions()
    d = h.undo()
    d.set("opening", "被界面改掉了")
    assert h.current.document().get("opening") == "开场白第一稿。"


def test_commit_after_undo_drops_redo_branch_but_keeps_versions():
    h, (v1, v2, v3) = three_versions()
    h.undo()
    h.undo()
    v4 = h.commit(doc(opening="另起炉灶的开场白。"), "手动编辑", "opening")
    assert v4.id == 4
    assert not h.can_redo  # like an editor
    assert h.undo().sections == {"opening": "开场白第一稿。"}  # undo goes back along the new branch
    ids = [row["id"] for row in h.list(newest_first=False)]
    assert ids == [1, 2, 3, 4]  # nothing deleted
    # the dropped branch can still be restored
    h.redo()
    d = h.restore(v3.id)
    assert d.get("opening") == "开场白第二稿，更简洁。"
    assert h.current.id == 5 and h.current.meta["restored_from"] == 3


def test_restore_makes_new_version_and_keeps_history():
    h, (v1, v2, v3) = three_versions()
    d = h.restore(v1.id)
    assert d.sections == {"opening": "开场白第一稿。"}
    assert h.current.id == 4
    assert "恢复" in h.current.label and "起草开场白" in h.current.label
    assert [r["id"] for r in h.list()] == [4, 3, 2, 1]
    # undo after a restore goes back to what was there before it
    assert h.undo().get("opening") == "开场白第二稿，更简洁。"
    with pytest.raises(KeyError):
        h.restore(99)


def test_unchanged_commit_is_noop():
    h, (v1, v2, v3) = three_versions()
    same = h.commit(v3.document(), "手动编辑")
    assert same is v3 and len(h) == 3
    # after undo, committing the undone state again keeps the redo branch
    h.undo()
    assert h.commit(v2.document(), "手动编辑") is v2
    assert h.can_redo


def test_meta_and_list_rows():
    h = History()
    h.commit(doc(part2="二、任务\n一是……"), "起草第二部分", "part2", meta={"incomplete": True})
    h.commit(doc(part2="二、任务\n一是抓项目。二是抓改革。"), "填空：“_”规划=十四五", "part2")
    rows = h.list()
    assert rows[0]["label"] == "填空：“_”规划=十四五" and rows[0]["current"] is True
    assert rows[1]["section"] == "第二部分"
    assert rows[0]["chars"] == len("二、任务一是抓项目。二是抓改革。")
    assert set(rows[0]) >= {"id", "time", "label", "section", "chars"}
    assert h.get(1).meta == {"incomplete": True}
    assert len(rows[0]["time"]) == 8  # HH:MM:SS


def test_max_versions_trims_oldest_only():
    h = History(max_versions=5)
    for i in range(8):
        h.commit(doc(opening=f"第{i}稿"), f"v{i}")
    assert [r["id"] for r in h.list(newest_first=False)] == [4, 5, 6, 7, 8]
    undone = 0
    while h.undo() is not None:
        undone += 1
    assert undone == 4 and h.current.id == 4
    with pytest.raises(KeyError):
        h.get(1)


def test_persistence_round_trip():
    h, (v1, v2, v3) = three_versions()
    h.undo()
    data = json.loads(json.dumps(h.to_dict(), ensure_ascii=False))
    h2 = History.from_dict(data)
    assert h2.current.id == v2.id
    assert h2.can_redo and h2.can_undo
    assert h2.redo().get("opening") == "开场白第二稿，更简洁。"
    assert h2.get(1).created == v1.created
    assert h2.commit(doc(opening="新"), "手动编辑").id == 4


def test_seed_document_round_trip():
    seed = Document.from_text(SEED.read_text(encoding="utf-8"))
    h = History()
    h.commit(seed, "导入范文")
    edited = seed.copy()
    edited.set("closing", "同志们，让我们携手奋进！")
    h.commit(edited, "改写结尾", "closing")
    assert h.undo().text() == seed.text()
    assert h.list()[0]["chars"] < h.list()[1]["chars"]


def test_empty_history():
    h = History()
    assert h.current is None and h.document() is None
    assert not h.can_undo and not h.can_redo
    assert h.undo() is None and h.redo() is None
    assert h.list() == []
    assert History.from_dict(h.to_dict()).current is None

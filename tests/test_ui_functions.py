"""Plain functions behind the Gradio handlers: panels and export (no browser)."""

from __future__ import annotations

import docx

from assistant.ui import export_document, panels, reply_text
from tests.test_session import make_session, run


def test_panels_reflect_the_session():
    s = make_session()
    run(s, "为区妇联第四次代表大会写开场白")
    doc, sources, checks, ledger, versions, diff, status = panels(s)
    assert "祝贺" in doc
    assert any("规划" in row[1] for row in ledger)
    assert versions and versions[0][2].startswith("起草开场白")
    assert "空白" in checks


def test_export_warns_until_confirmed_then_writes_a_docx(tmp_path):
    s = make_session()
    run(s, "为区妇联第四次代表大会写开场白")
    first = export_document(s, "docx", tmp_path, confirmed=False)
    assert first["path"] is None and "空白" in first["message"]
    second = export_document(s, "docx", tmp_path, confirmed=True)
    assert second["path"] and docx.Document(second["path"]).paragraphs


def test_export_of_an_empty_document_is_refused(tmp_path):
    s = make_session()
    assert export_document(s, "md", tmp_path, confirmed=True)["path"] is None
    assert list(tmp_path.iterdir()) == []

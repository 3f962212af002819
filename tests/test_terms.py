import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # until the project is installed

from datetime import date

import pytest

from assistant.terms import (
    Term,
    TermsFileError,
    check_terms,
    date_of_speech,
    default_terms_paths,
    load_terms,
)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "knowledge" / "speeches" / "000_seed_gonghui_daibiao_dahui.txt"
PROJECT_TERMS = ROOT / "knowledge" / "terms.yaml"


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def terms():
    loaded = load_terms([PROJECT_TERMS])
    assert loaded.warnings == []
    return loaded


def found(text, day, terms) -> list[str]:
    return [w.term for w in check_terms(text, day, terms)]


def test_project_file_is_complete(terms):
    assert len(terms) >= 15
    for t in terms:
        assert t.note and t.suggestion and t.valid_from and t.valid_until, t.term


def test_seed_as_if_given_in_2026(seed, terms):
    warnings = check_terms(seed, date(2026, 6, 1), terms)
    names = [w.term.strip("“”") for w in warnings]
    assert "三个北京" in names
    assert "中国特色世界城市" in names
    assert names.count("科学发展观") == 4
    assert "又好又快" in names
    # document order, offsets point at the text
    offsets = [w.offset for w in warnings]
    assert offsets == sorted(offsets)
    for w in warnings:
        assert seed[w.offset : w.offset + len(w.term)] == w.term
    by_name = {w.term.strip("“”"): w for w in warnings}
    assert by_name["科学发展观"].suggestion == "习近平新时代中国特色社会主义思想"
    assert by_name["又好又快"].suggestion == "高质量发展"
    assert "四个中心" in by_name["三个北京"].suggestion
    d = by_name["三个北京"].to_dict()
    assert set(d) >= {"term", "offset", "suggestion", "note"}
    assert d["note"]


def test_seed_in_its_own_year_has_no_warnings(seed, terms):
    assert check_terms(seed, date(2011, 6, 1), terms) == []
    assert date_of_speech(seed) == date(2011, 6, 1)


def test_blanks_are_not_flagged(terms):
    text = "在“_”目标胜利完成、“_”规划即将全面实施的关键时期，我们召开这次会议。"
    assert check_terms(text, date(2030, 1, 1), terms) == []
    # a pattern that would match any quoted plan does not take a blank for one
    loose = [Term.from_dict({"term": "“[^”]{1,4}”规划", "regex": True, "valid_until": 2020})]
    text = "“_”规划即将实施，“十三五”规划即将实施。"
    assert found(text, date(2026, 1, 1), loose) == ["“十三五”规划"]


def test_current_plan_only_when_named_as_current(terms):
    day = date(2026, 3, 1)
    assert found("今年是“十四五”开局之年。", day, terms) == ["“十四五”"]
    assert found("“十四五”规划即将全面实施。", day, terms) == ["“十四五”"]
    assert found("“十四五”时期，全区经济总量迈上新台阶。", day, terms) == []
    assert found("今年是“十四五”开局之年。", date(2021, 3, 1), terms) == []
    w = check_terms("开好“十三五”第一年。", day, terms)[0]
    assert w.suggestion == "“十五五”规划"  # the plan current on the speech date
    in_2022 = check_terms("开好“十三五”第一年。", date(2022, 3, 1), terms)
    assert in_2022[0].suggestion == "“十四五”规划"


def test_achieved_goals_and_latest_congress(terms):
    day = date(2026, 6, 1)
    assert found("确保如期全面建成小康社会。", day, terms) == ["全面建成小康社会"]
    assert found("我们已经全面建成小康社会。", day, terms) == []
    assert found("为决胜全面建成小康社会而奋斗。", day, terms) == ["决胜全面建成小康社会"]
    assert found("坚决打赢脱贫攻坚战。", day, terms) == ["脱贫攻坚战"]
    assert found("巩固拓展脱贫攻坚成果。", day, terms) == []
    assert found("深入学习贯彻党的十九大精神。", day, terms) == ["党的十九大精神"]
    assert found("深入学习贯彻党的二十大精神。", day, terms) == []
    w = check_terms("深入学习贯彻党的二十大精神。", date(2028, 1, 1), terms)
    assert [x.suggestion for x in w] == ["党的二十一大精神"]
    assert "预计" in w[0].note


def test_user_file_extends_and_overrides(tmp_path, seed):
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "terms.yaml").write_text(PROJECT_TERMS.read_text(encoding="utf-8"), encoding="utf-8")
    assert default_terms_paths(tmp_path) == [tmp_path / "knowledge" / "terms.yaml"]
    (tmp_path / "knowledge" / "terms.local.yaml").write_text(
        """terms:
  - term: 京北创新中心
    valid_from: 2010
    valid_until: 2020
    suggestion: 区里的新定位
    note: 用户自定义条目
  - term: 又好又快
    enabled: false
  - term: 中国特色世界城市
    valid_until: 2017
    suggestion: 用户的建议
    note: 用户覆盖
""",
        encoding="utf-8",
    )
    paths = default_terms_paths(tmp_path)
    assert paths[-1].name == "terms.local.yaml"
    terms = load_terms(paths)
    assert terms.warnings == []
    warnings = check_terms(seed, date(2026, 6, 1), terms)
    names = [w.term.strip("“”") for w in warnings]
    assert "京北创新中心" in names
    assert "又好又快" not in names
    user = next(w for w in warnings if w.term == "中国特色世界城市")
    assert user.suggestion == "用户的建议" and user.source == "terms.local.yaml"


def test_bad_entries_are_skipped_with_a_warning(tmp_path):
    f = tmp_path / "terms.local.yaml"
    f.write_text(
        """terms:
  - term: 好条目
    valid_until: 2015
    note: 好
  - note: 没有 term
    valid_until: 2015
  - term: 坏日期
    valid_until: 二〇一五年
  - term: "([未闭合"
    regex: true
    valid_until: 2015
  - 只是一行字
  - term: 拼错字段
    valid_until: 2015
    sugestion: 错
""",
        encoding="utf-8",
    )
    terms = load_terms([f])
    assert [t.term for t in terms] == ["好条目"]
    assert len(terms.warnings) == 5
    assert terms.warnings[0].startswith("terms.local.yaml 第 5 行")
    assert "正则" in terms.warnings[2]
    assert "sugestion" in terms.warnings[4]


def test_malformed_file_gives_one_clear_error(tmp_path):
    f = tmp_path / "terms.local.yaml"
    f.write_text("terms:\n  - term: 好\n    valid_until: 2015\n  - term: [坏\n    note: x\n", encoding="utf-8")
    with pytest.raises(TermsFileError) as err:
        load_terms([PROJECT_TERMS, f])
    msg = str(err.value)
    assert str(f) in msg
    assert "第 5 行" in msg
    with pytest.raises(TermsFileError, match="不存在"):
        load_terms([tmp_path / "missing.yaml"])
    (tmp_path / "scalar.yaml").write_text("just text\n", encoding="utf-8")
    with pytest.raises(TermsFileError, match="列表"):
        load_terms([tmp_path / "scalar.yaml"])

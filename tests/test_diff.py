import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # until the project is installed

import random

from assistant.diff import char_diff, diff_for_gradio, diff_html, diff_summary

SEED = Path("/work/shared/seed/000_cee338bc757c0ce3.txt")


def rebuild(ops):
    old = "".join(t for op, t in ops if op != "insert")
    new = "".join(t for op, t in ops if op != "delete")
    return old, new


def test_small_chinese_edit():
    old = "我们要加快推进全区工会工作，努力实现新发展。"
    new = "我们要全面推动全区工会工作高质量发展，努力实现新突破。"
    assert char_diff(old, new) == [
        ("equal", "我们要"),
        ("delete", "加快推进"),  # the shared 推 is folded in: a phrase, not confetti
        ("insert", "全面推动"),
        ("equal", "全区工会工作"),
        ("insert", "高质量发展"),
        ("equal", "，努力实现新"),
        ("delete", "发展"),
        ("insert", "突破"),
        ("equal", "。"),
    ]


def test_pure_insert_and_delete():
    # 党 and 的 (one character each between insertions) are folded into one change
    assert char_diff("坚持党的领导", "坚持和加强党对工作的全面领导") == [
        ("equal", "坚持"),
        ("delete", "党的"),
        ("insert", "和加强党对工作的全面"),
        ("equal", "领导"),
    ]
    assert char_diff("坚持党的领导", "坚持和加强党的领导") == [
        ("equal", "坚持"),
        ("insert", "和加强"),
        ("equal", "党的领导"),
    ]
    assert char_diff("要进一步加强工会工作", "要加强工会工作") == [
        ("equal", "要"),
        ("delete", "进一步"),
        ("equal", "加强工会工作"),
    ]


def test_tiny_equal_runs_are_merged_but_longer_ones_kept():
    # 2 equal characters between changes -> merged
    ops = char_diff("甲乙中间丙丁", "子丑中间寅卯")
    assert ops == [("delete", "甲乙中间丙丁"), ("insert", "子丑中间寅卯")]
    # 3 equal characters between changes -> kept
    ops = char_diff("甲乙中间了丙丁", "子丑中间了寅卯")
    assert ("equal", "中间了") in ops
    # a short equal run at the start or end is not a run *between* changes
    assert char_diff("同志们好", "同志们早") == [("equal", "同志们"), ("delete", "好"), ("insert", "早")]
    assert char_diff("好的", "对的")[-1] == ("equal", "的")


def test_identical_and_empty():
    assert char_diff("", "") == []
    assert char_diff("不变", "不变") == [("equal", "不变")]
    assert char_diff("", "新增") == [("insert", "新增")]
    assert char_diff("删掉", "") == [("delete", "删掉")]
    assert diff_summary("不变", "不变") == "无改动"


def test_rebuilds_both_texts_on_the_seed():
    seed = SEED.read_text(encoding="utf-8")
    edited = seed.replace("进一步", "更加").replace("科学发展", "高质量发展").replace("同志们", "各位代表")
    ops = char_diff(seed, edited)
    assert rebuild(ops) == (seed, edited)
    assert all(op in ("equal", "insert", "delete") for op, _ in ops)
    # no two neighbours with the same op, no empty runs
    assert all(t for _, t in ops)
    assert all(a[0] != b[0] for a, b in zip(ops, ops[1:]))


def test_rebuilds_random_edits():
    rng = random.Random(7)
    base = "区委、区政府高度重视工会事业发展，对新一届委员会寄予厚望。在新的历史起点上，全区各级工会组织要团结动员广大职工群众。"
    pool = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
    for _ in range(30):
        s = list(base)
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(len(s))
            kind = rng.choice("idr")
            if kind == "i":
                s.insert(i, "".join(rng.choice(pool) for _ in range(rng.randint(1, 5))))
            elif kind == "d":
                del s[i : i + rng.randint(1, 4)]
            else:
                s[i] = rng.choice(pool)
        new = "".join(s)
        assert rebuild(char_diff(base, new)) == (base, new)


def test_diff_html_escapes_and_breaks_lines():
    html = diff_html("一、<认识>\n意义极其重大而深远", "一、<认识>\n意义十分重大而深远&长远")
    assert "&lt;认识&gt;" in html and "<认识>" not in html
    assert "<br>" in html and "\n" not in html
    assert "<del>极其</del><ins>十分</ins>" in html
    assert html.endswith("重大而深远<ins>&amp;长远</ins>")
    assert diff_html("删去这句。", "") == "<del>删去这句。</del>"


def test_diff_summary_counts():
    old = "我们要加快推进全区工会工作，努力实现新发展。"
    new = "我们要全面推动全区工会工作高质量发展，努力实现新突破。"
    assert diff_summary(old, new) == "删去 6 字，新增 11 字，改动 3 处"
    assert diff_summary("要进一步加强", "要加强") == "删去 3 字，改动 1 处"
    assert diff_summary("加强", "切实加强") == "新增 2 字，改动 1 处"


def test_diff_for_gradio():
    out = diff_for_gradio("要进一步加强工会工作", "要切实加强工会工作")
    assert out == [("要", None), ("进一步", "-"), ("切实", "+"), ("加强工会工作", None)]
    assert all(isinstance(t, str) for t, _ in out)

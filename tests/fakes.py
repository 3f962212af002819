"""Fakes for the chat model in unit tests.

* :func:`prompt_name` tells which prompt file (``prompts/<name>.md``) a rendered prompt came from: the name the
  drafter gives the call (``config["metadata"]["prompt"]``) while :class:`ScriptedChat` answers it, else by the
  fixed text of the files themselves — so rewording a prompt does not break the fakes;
* :class:`ScriptedChat` answers ``script(prompt_text) -> reply`` and streams it; it records every call
  (``calls``: prompt texts, ``names``: prompt names, ``prompts_named(name)``);
* :func:`speech_script` is a well-behaved model: it answers what each prompt asks for.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"


@lru_cache(maxsize=1)
def _signatures() -> dict[str, list[str]]:
    out = {}
    for p in sorted(PROMPTS.glob("*.md")):
        if p.stem in ("system", "facts"):  # parts of other prompts, never a prompt of their own
            continue
        text = re.sub(r"\{[^{}\n]*\}", "\n", p.read_text(encoding="utf-8"))
        pieces = [s.strip() for s in re.split(r"[\n“”：:（）]", text) if len(s.strip()) >= 4]
        out[p.stem] = pieces
    return out


_ANSWERING = threading.local()  # the prompt name of the call a ScriptedChat is answering in this thread


def prompt_name(prompt: str) -> str:
    """The prompt file a rendered prompt came from: the name of the call being answered, else the file whose fixed
    pieces the text holds most of."""
    asked = getattr(_ANSWERING, "name", "")
    if asked and getattr(_ANSWERING, "prompt", None) == prompt:
        return asked
    best, score = "", 0.0
    for name, pieces in _signatures().items():
        if not pieces:
            continue
        hit = sum(1 for s in pieces if s in prompt) / len(pieces)
        if hit > score:
            best, score = name, hit
    return best if score >= 0.6 else ""


class ScriptedChat(BaseChatModel):
    """``script(prompt_text) -> reply``; streams the reply in pieces of ``chunk`` characters."""

    script: Callable[[str], str]
    chunk: int = 7
    calls: list = []
    names: list = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _reply(self, messages: list[BaseMessage]) -> str:
        prompt = "\n".join(str(m.content) for m in messages)
        _ANSWERING.prompt = prompt
        try:
            name = prompt_name(prompt)
            self.calls.append(prompt)
            self.names.append(name)
            return self.script(prompt)
        finally:
            _ANSWERING.name = _ANSWERING.prompt = None

    # the drafter names every call (config metadata "prompt"): the fake answers by that name, not by the wording
    def stream(self, input, config=None, **kwargs):
        _ANSWERING.name = ((config or {}).get("metadata") or {}).get("prompt", "")
        yield from super().stream(input, config, **kwargs)

    def invoke(self, input, config=None, **kwargs):
        _ANSWERING.name = ((config or {}).get("metadata") or {}).get("prompt", "")
        return super().invoke(input, config, **kwargs)

    def prompts_named(self, name: str) -> list[str]:
        return [c for c, n in zip(self.calls, self.names) if n == name]

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._reply(messages)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        text = self._reply(messages)
        for i in range(0, len(text), self.chunk):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text[i : i + self.chunk]))
        # like the OpenAI protocol: the last chunk says why the model stopped
        yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata={"finish_reason": "stop"}))


def scripted(script: Callable[[str], str], chunk: int = 7) -> ScriptedChat:
    return ScriptedChat(script=script, chunk=chunk, calls=[], names=[])


def by_prompt(replies: dict[str, str | Callable[[str], str]], default: Callable[[str], str] | None = None) -> Callable[[str], str]:
    """A script answering per prompt name; other prompts go to ``default`` (the well-behaved model)."""
    default = default or speech_script

    def script(prompt: str) -> str:
        r = replies.get(prompt_name(prompt))
        if r is None:
            return default(prompt)
        return r(prompt) if callable(r) else r

    return script


HEADINGS = {"一": "深刻认识新时代妇女工作的重要意义", "二": "围绕中心、服务大局，团结引领广大妇女建功新时代",
            "三": "切实加强党对妇女工作的领导", "四": "强化工作保障，推动妇女工作落地见效"}
ITEMS = ["聚焦中心大局，组织妇女建功立业", "加强家庭家教家风建设", "维护妇女儿童合法权益"]
# a second tasks part (a four-part plan whose part 三 lists items too) gets items of its own, as a real model would
ITEMS_MORE = ["健全妇女权益保障机制", "办好妇女群众身边的实事", "加强新领域妇联组织建设"]
# each item's own sentences, as a real model writes them (the product drops a clause said twice in one part)
ITEM_BODIES = {
    ITEMS[0]: "要深化巾帼建功活动，组织妇女投身创新创业。要搭建岗位建功平台，推动形成比学赶超的氛围。",
    ITEMS[1]: "要开展最美家庭评选，弘扬社会主义核心价值观。要办好家长学校，推动形成文明风尚。",
    ITEMS[2]: "要健全维权服务机制，畅通妇女诉求表达渠道。要办好民生实事，把工作做到群众心坎上。",
}
ITEM_BODY = ITEM_BODIES[ITEMS[0]]


# for other items, the k-th item's sentences (a real model does not answer three items with one frame)
ITEM_FRAMES = [
    "要把{item}摆在突出位置，拿出管用举措。要细化{head}的责任分工，一抓到底。",
    "要围绕{item}健全工作机制，畅通服务渠道。要加强{head}督促检查，确保取得实效。",
    "要聚焦{item}补短板、强弱项，办好群众关心的实事。要总结推广{head}好经验，形成长效机制。",
]


def item_body(item: str) -> str:
    """What the well-behaved model writes for the item ``item`` (``一是…`` / ``（二）…`` / ``其次，…``, or the
    headline alone)."""
    m = re.match(r"^(?:([一二三四五六七八九十])是|[（(]([一二三四五六七八九十])[）)]|(首先|其次|再次|最后)[，,])", item)
    if m and m.group(3):
        k = {"首先": 0, "其次": 1, "再次": 2, "最后": 2}[m.group(3)]
    else:
        k = "一二三四五六七八九十".find(m.group(1) or m.group(2)) if m else 0
    item = item[len(m.group(0)):].rstrip("。") if m else item.rstrip("。")
    return ITEM_BODIES.get(item) or ITEM_FRAMES[k % len(ITEM_FRAMES)].format(item=item, head=item[:4])
PARAGRAPH = "妇女是推动经济社会发展的重要力量，要团结引领广大妇女在各自岗位上建功立业。"


def paragraph_body(point: str) -> str:
    """The well-behaved model's continuation of a paragraph: PARAGRAPH, then a sentence on the paragraph's own
    point (a real model does not write the same paragraph twice; the product drops what a section repeats)."""
    core = re.sub(r"[^\u4e00-\u9fff]", "", point)[:12] or "这项工作"
    return PARAGRAPH + f"{core}关系全局、影响长远，必须抓紧抓实、久久为功。"
OPENING = "在全区上下奋力推进“_”规划的关键时期，XX区妇联第四次代表大会隆重开幕了。这是全区妇女政治生活中的一件大事。"
CALL = "让我们紧密团结起来，为全区高质量发展作出新的更大贡献！"
# texts a user pastes or types (not model replies)
PART2 = (
    "二、围绕中心、服务大局，团结引领广大妇女建功新时代\n"
    "新的一届区妇联要把握新形势，切实担负起团结引领广大妇女的政治责任。\n"
    "一是要聚焦中心大局，组织妇女在经济建设中建功立业。要深化巾帼建功活动。\n"
    "二是要加强家庭家教家风建设，弘扬社会主义核心价值观。要推动形成文明风尚。\n"
    "三是要维护妇女儿童合法权益，办好民生实事。要健全维权服务机制。"
)
CLOSING = "同志们，使命呼唤担当。让我们紧密团结起来，为全区高质量发展作出新的更大贡献！"


def speech_script(prompt: str) -> str:
    """A well-behaved model: answers what each prompt asks for."""
    name = prompt_name(prompt)
    if name == "heading":
        m = re.search(r"第([一二三四五六七八九十])部分", prompt)
        n = m.group(1) if m else "一"
        return f"{n}、{HEADINGS.get(n, '扎实做好各项工作')}"
    if name == "items":
        m = re.search(r"列出这一部分的([一二三四五六七八九十])条", prompt)
        count = "一二三四五六七八九十".find(m.group(1)) + 1 if m else 3
        given = re.search(r"分别讲：([^。\n]+)", prompt)
        heading = re.search(r"本部分标题：([^\n]+)", prompt)
        topics = given.group(1).split("；") if given else (
            ITEMS_MORE if heading and heading.group(1).strip() == HEADINGS["三"] else ITEMS)
        return "\n".join(f"{'一二三四五六七八九十'[i]}是{t}" for i, t in enumerate((topics * 3)[:count]))
    if name == "item":
        m = re.search(r"这一条：([^\n]+)", prompt)
        return item_body(m.group(1) if m else "")
    if name == "paragraph":
        m = re.search(r"这一段的第一句：([^\n]+)", prompt)
        return paragraph_body(m.group(1) if m else "")
    if name == "opening":
        return OPENING
    if name == "call":
        return CALL
    if name == "rewrite":
        return prompt.rstrip().split("\n")[-1].replace("要", "需要", 1)
    if name == "refine":
        original = prompt.split("原文：", 1)[1].strip()
        return original.replace("要深化", "要进一步深化").replace("隆重开幕了", "胜利开幕")
    return "chat"


# --------------------------------------------------------------------------- a knowledge base of whole speeches

TEMPLATES = Path(__file__).resolve().parent / "data" / "templates"
SPEECHES = Path(__file__).resolve().parents[1] / "knowledge" / "speeches"


class FakeKnowledgeBase:
    """The two reading methods a session's template lookup uses (``sources``, ``source_text``), over files."""

    def __init__(self, *paths: Path):
        from assistant.structure import parse

        self.paths = {p.name: p for p in paths}
        self._sources = {}
        for p in paths:
            sp = parse(p.read_text(encoding="utf-8"))
            self._sources[p.name] = {"title": sp.title or p.stem, "occasion": str(sp.meta.get("occasion", "")),
                                     "parts": [x.heading for x in sp.parts], "path": str(p)}

    def sources(self) -> dict[str, dict]:
        return self._sources

    def source_text(self, name: str) -> str:
        if name not in self.paths:
            raise KeyError(name)
        return self.paths[name].read_text(encoding="utf-8")


class KnowledgeSearcher:
    """A searcher with a knowledge base behind it (``.kb``), finding no passages: the session reads templates
    from ``kb`` and the composer gets no examples, so every heading is the model's."""

    def __init__(self, kb: FakeKnowledgeBase, *passages):
        self.kb = kb
        self.passages = list(passages)

    def search(self, query, k=4, roles=None, mode="hybrid"):
        return list(self.passages)

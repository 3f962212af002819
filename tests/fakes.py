"""A scripted chat model for unit tests: replies are chosen by a function of the prompt and streamed."""

from __future__ import annotations

from typing import Any, Callable, Iterator

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


class ScriptedChat(BaseChatModel):
    """``script(prompt_text) -> reply``; streams the reply in pieces of ``chunk`` characters."""

    script: Callable[[str], str]
    chunk: int = 7
    calls: list = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _reply(self, messages: list[BaseMessage]) -> str:
        prompt = "\n".join(str(m.content) for m in messages)
        self.calls.append(prompt)
        return self.script(prompt)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._reply(messages)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        text = self._reply(messages)
        for i in range(0, len(text), self.chunk):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text[i : i + self.chunk]))
        # like the OpenAI protocol: the last chunk says why the model stopped
        yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata={"finish_reason": "stop"}))


def scripted(script: Callable[[str], str], chunk: int = 7) -> ScriptedChat:
    return ScriptedChat(script=script, chunk=chunk, calls=[])


PART2 = (
    "二、围绕中心、服务大局，团结引领广大妇女建功新时代\n"
    "新的一届区妇联要把握新形势，切实担负起团结引领广大妇女的政治责任。\n"
    "一是要聚焦中心大局，组织妇女在经济建设中建功立业。要深化巾帼建功活动。\n"
    "二是要加强家庭家教家风建设，弘扬社会主义核心价值观。要推动形成文明风尚。\n"
    "三是要维护妇女儿童合法权益，办好民生实事。要健全维权服务机制。"
)
OPENING = (
    "在全区上下奋力推进“_”规划的关键时期，XX区妇联第四次代表大会隆重开幕了。"
    "在此，我代表区委、区政府，向大会的召开表示热烈的祝贺！向全区广大妇女同胞致以诚挚的问候！"
    "向关心支持妇女事业的各界人士表示衷心的感谢！"
)
TRANSITION = "刚才，XX同志代表区妇联作了工作报告，我完全同意。下面，我讲三点意见。"
CLOSING = "同志们，使命呼唤担当。让我们紧密团结起来，为全区高质量发展作出新的更大贡献！"
PART1 = "一、深刻认识新时代妇女工作的重要意义\n妇女是推动经济社会发展的重要力量。做好妇女工作意义重大。"
PART3 = "三、切实加强党对妇女工作的领导\n各级党委要把妇女工作摆上重要议程，为妇联履职创造良好条件。"


def speech_script(prompt: str) -> str:
    """A well-behaved model: answers the section the prompt asks for."""
    if "拟一个三部分的提纲" in prompt:
        return "一、深刻认识妇女工作的重要意义\n二、聚焦中心大局建功新时代\n一是巾帼建功\n二是家风建设\n三是维权服务\n三、加强党对妇女工作的领导"
    if "按要求修改下面这段讲话稿" in prompt:
        original = prompt.split("原文：", 1)[1].strip()
        return original.replace("要深化", "要进一步深化").replace("隆重开幕了", "胜利开幕")
    if "写讲话稿的第一部分" in prompt:
        return PART1
    if "写讲话稿的第二部分" in prompt:
        return PART2
    if "写讲话稿的第三部分" in prompt:
        return PART3
    if "写讲话稿的开场白" in prompt:
        return OPENING
    if "写讲话稿的过渡语" in prompt:
        return TRANSITION
    if "写讲话稿的结尾" in prompt:
        return CLOSING
    return "chat"

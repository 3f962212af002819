"""Model calls: retrieval helpers and the LCEL chain ``prompt | chat model``, streamed, through the model gate.

:meth:`Drafter.generate` renders one prompt file (``prompts/<name>.md`` after the stable system prompt),
waits its turn at the :class:`~assistant.model_gate.ModelGate`, streams the reply and stops reading as
soon as ``cut`` says the reply is complete (one paragraph, one line), which also stops the server from
generating more.  It records time to first token and why the model stopped.  What to ask for and how
replies become sections is :mod:`assistant.composer`'s business.
"""

from __future__ import annotations

import re
import time
from typing import Callable, Iterator

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from .model_gate import Cancelled, ModelGate, Slot, Waiting
from .prompts import PromptLibrary
from .retrieval import HybridSearcher, Passage
from .settings import Settings

TOKENS_PER_CHAR = 0.7  # Qwen's tokenizer: about 2 Chinese characters a token; the limit leaves room for a longer reply


class IncompleteReply(RuntimeError):
    """The model's stream ended without saying it had finished (connection dropped)."""


def limited(llm: BaseChatModel, max_tokens: int, temperature: float | None = None):
    """The model with a per-call output limit.  llama-cpp-python's server reads ``max_tokens`` from the body
    (langchain-openai sends ``max_completion_tokens``), so a model built with such an ``extra_body`` gets both."""
    kw: dict = {"max_tokens": max_tokens}
    if temperature is not None:
        kw["temperature"] = temperature
    extra = getattr(llm, "extra_body", None)
    if isinstance(extra, dict) and "max_tokens" in extra:
        kw["extra_body"] = {**extra, "max_tokens": max_tokens}
    return llm.bind(**kw)


class Drafter:
    def __init__(
        self,
        settings: Settings,
        searcher: HybridSearcher | None,
        llm_factory: Callable[[], BaseChatModel],
        prompts: PromptLibrary | None = None,
        gate: ModelGate | None = None,
    ):
        self.settings = settings
        self.searcher = searcher
        self.llm_factory = llm_factory
        self.prompts = prompts or PromptLibrary(settings.prompts_dir)
        self.gate = gate or ModelGate(1 if settings.resolved_chat_provider == "local" else settings.concurrency)
        self._llm: BaseChatModel | None = None

    @property
    def llm(self) -> BaseChatModel:
        if self._llm is None:
            self._llm = self.llm_factory()
        return self._llm

    def use_model(self, llm: BaseChatModel) -> None:
        """Swap the chat model (tests, or a changed endpoint); the next call uses it."""
        self._llm = llm

    # --- retrieval ---------------------------------------------------------
    def retrieve(self, query: str, roles: set[str] | None = None, k: int | None = None) -> list[Passage]:
        if self.searcher is None or not query.strip():
            return []
        k = k or self.settings.top_k
        hits = self.searcher.search(query, k=k, roles=roles)
        if not hits and roles:  # an empty role (a corpus without closings) falls back to all passages
            hits = self.searcher.search(query, k=k)
        return hits

    def similar_outlines(self, query: str, k: int = 3) -> list[tuple[str, list[str]]]:
        """(occasion, part headings) of the past speeches most like ``query``, best first."""
        if self.searcher is None:
            return []
        kb = getattr(self.searcher, "kb", None)
        sources = kb.sources() if kb is not None else {}
        out, seen = [], set()
        for p in self.retrieve(query, None, k=10):
            if p.source in seen or p.source not in sources:
                continue
            seen.add(p.source)
            meta = sources[p.source]
            if meta.get("parts"):
                out.append((meta.get("occasion") or p.occasion or p.title, list(meta["parts"])))
            if len(out) >= k:
                break
        return out

    # --- model calls ----------------------------------------------------------
    def generate(
        self,
        name: str,
        variables: dict,
        *,
        chars: int,
        timing: dict | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        cut: Callable[[str], int | None] | None = None,
        temperature: float | None = None,
    ) -> Iterator[str | Waiting]:
        """Stream the reply to prompt ``name`` (pieces of text), after :class:`Waiting` items while queued.

        ``chars`` sizes the output limit; ``cut(text)`` returns where a complete reply ends (then the stream is
        closed) or None.  A stream that ends without a finish reason and was not cut raises IncompleteReply."""
        timing = timing if timing is not None else {}
        slot = Slot(self.gate)
        yield from slot.acquire(cancelled)
        max_tokens = int(chars * TOKENS_PER_CHAR) + 40
        chain = self.prompts.chat(name) | limited(self.llm, max_tokens, temperature)
        t0 = time.perf_counter()
        text, finish, first = "", None, None
        stream = chain.stream(variables, config={"metadata": {"prompt": name}, "tags": [f"prompt:{name}"]})
        try:
            for chunk in stream:
                if cancelled():
                    raise Cancelled()
                reason = (getattr(chunk, "response_metadata", None) or {}).get("finish_reason")
                finish = reason or finish
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if not piece:
                    continue
                if first is None:
                    first = time.perf_counter() - t0
                    timing.setdefault("ttft_calls", []).append(round(first, 3))
                end = cut(text + piece) if cut else None
                if end is not None:
                    piece = (text + piece)[len(text) : max(end, len(text))]
                    text += piece
                    if piece:
                        yield piece
                    finish = "cut"
                    break
                text += piece
                yield piece
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
            slot.release()
            timing["calls"] = timing.get("calls", 0) + 1
            timing["model_s"] = round(timing.get("model_s", 0.0) + time.perf_counter() - t0, 3)
            timing.setdefault("prompts", []).append(name)
        timing["finish_reason"] = finish
        if text and finish is None:
            raise IncompleteReply("模型的回复中途中断了")

    def complete(self, name: str, variables: dict, *, chars: int, timing: dict | None = None,
                 cancelled: Callable[[], bool] = lambda: False, cut=None,
                 temperature: float | None = None) -> Iterator[str | Waiting]:
        """Like :meth:`generate`, but returns (StopIteration value) the whole reply; yields only Waiting items."""
        text = ""
        for piece in self.generate(name, variables, chars=chars, timing=timing, cancelled=cancelled, cut=cut,
                                   temperature=temperature):
            if isinstance(piece, Waiting):
                yield piece
            else:
                text += piece
        return text

    def classify(self, message: str) -> str:
        chain = self.prompts.plain("classify") | limited(self.llm, 8) | StrOutputParser()
        slot = Slot(self.gate)
        for _ in slot.acquire(lambda: False):
            pass
        try:
            reply = chain.invoke({"message": message[:300]}, config={"metadata": {"prompt": "classify"}}).strip().lower()
        finally:
            slot.release()
        for word in ("draft", "outline", "refine", "fill", "undo", "check", "chat"):
            if word in reply:
                return word
        return "chat"


# --------------------------------------------------------------------------- cutting a streamed reply

_SENTENCE = re.compile(r"[^。！？!?；;]*[。！？!?；;]")


def first_paragraph(skip: Callable[[str], bool], min_chars: int = 15, max_chars: int | None = None):
    """A ``cut`` for :meth:`Drafter.generate`: the reply is complete when a content line (not ``skip``ped, e.g.
    a heading or a salutation) of ``min_chars``+ is followed by a line break, when a sentence repeats (a
    loop), or when it passes ``max_chars`` at a sentence end."""

    def cut(text: str) -> int | None:
        pos = 0
        for line in text.split("\n")[:-1]:  # complete lines only
            end = pos + len(line)
            stripped = line.strip()
            if stripped and not skip(stripped) and len(stripped) >= min_chars:
                return end
            pos = end + 1
        seen = set()
        for m in _SENTENCE.finditer(text):
            s = m.group(0).strip()
            if len(s) >= 8:
                if s in seen:
                    return m.start()
                seen.add(s)
            if max_chars and m.end() >= max_chars:
                return m.end()
        return None

    return cut


_CHATTER_LINE = re.compile(r"^(?:好的|当然|以下是|下面是|这是|根据您?的要求)|[：:]$")


def first_lines(n: int):
    """A ``cut``: complete after ``n`` non-empty lines (a lead-in such as 「好的，以下是小标题：」 does not count)."""

    def cut(text: str) -> int | None:
        count, pos = 0, 0
        for line in text.split("\n")[:-1]:
            pos += len(line) + 1
            if line.strip() and not _CHATTER_LINE.search(line.strip()):
                count += 1
                if count >= n:
                    return pos - 1
        return None

    return cut

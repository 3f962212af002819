"""Tone presets as data: ``prompts/tones.yaml`` (id, button label, the words that ask for it, the instruction).

One file is read by the buttons (:mod:`assistant.ui`: one button per preset with a label, which sends the
preset as an intent, not a sentence to parse again), the router (:mod:`assistant.intent`: 「更生动一些」 is the
``vivid`` preset because its words say so) and the prompts (:mod:`assistant.session`: the instruction the
refine and draft prompts get).  Adding a preset is one entry in the file.  The file is read on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import yaml

from .settings import ROOT

TONES = ROOT / "prompts" / "tones.yaml"


@dataclass(frozen=True)
class Tone:
    id: str
    instruction: str
    label: str = ""  # the button; "" for a preset without one (shorten)
    words: str = ""  # a regular expression: how a chat message asks for it
    fault: bool = False  # 太啰嗦 asks for concise: the words name a fault, 太/有点 before them still ask for the preset
    drafts: bool = False  # also a tone for drafting (写一段有气势的结尾)


@lru_cache(maxsize=4)
def load(path: Path = TONES) -> tuple[Tone, ...]:
    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    out = []
    for r in rows:
        if not r.get("id") or not r.get("instruction"):
            raise ValueError(f"{path}：每个语气预设都要有 id 和 instruction（{r}）")
        out.append(Tone(str(r["id"]), str(r["instruction"]), str(r.get("label") or ""), str(r.get("words") or ""),
                        bool(r.get("fault")), bool(r.get("drafts"))))
    return tuple(out)


def tone(tone_id: str | None) -> Tone | None:
    return next((t for t in load() if t.id == tone_id), None)


def instruction(tone_id: str | None) -> str:
    t = tone(tone_id)
    return t.instruction if t else ""


def buttons() -> list[Tone]:
    return [t for t in load() if t.label]


class _Table(Mapping):
    """A read-only dict built from the file on first use (importing a module reads no file)."""

    def __init__(self, build: Callable[[], dict]):
        self._build = build

    def _data(self) -> dict:
        return self._build()

    def __getitem__(self, key):
        return self._data()[key]

    def __iter__(self) -> Iterator:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


INSTRUCTIONS: Mapping[str, str] = _Table(lambda: {t.id: t.instruction for t in load()})  # id → instruction
BUTTON_LABELS: Mapping[str, str] = _Table(lambda: {t.label: t.id for t in load() if t.label})  # label → id

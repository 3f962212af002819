"""Local model speed: the app's path (llama-cpp-python server + langchain streaming) against llama_cpp.Llama in-process.

Prompt: the real drafting prompt for part two (``Drafter.retrieve`` over the sample index, then
``Drafter.variables`` into ``PromptLibrary.chat("draft_part")``), about a thousand tokens.
Both sides: the same GGUF, n_ctx 4096, 2 threads, MAX_TOKENS new tokens, greedy decoding
(temperature 0) with the server's sampler defaults (top_k 40, top_p 0.95, min_p 0.05,
repeat_penalty 1.1) so both produce the same text, and the end-of-turn tokens suppressed
(``logit_bias`` −100, on both sides) so both generate exactly MAX_TOKENS tokens (greedy
decoding stopped after 13 tokens in a trial run).  llama-cpp-python applies a
logit bias in a Python callback per token, on both sides alike.

1. App path: ``make_chat_model(Settings(chat_provider="local"))`` starts the server; ``.stream()``
   the prompt twice (cold, then identical again: llama.cpp's prefix cache), then the opening's
   prompt, which shares only the system prompt with it (a new turn of a real session).
2. The server is stopped; ``Llama(...)`` is loaded in this process and does the same.
3. A cold prompt eval in-process with ``logits_all=True`` (what llama-cpp-python's server uses by
   default, and the app does not turn off), to show what that setting costs.

Tokens are counted with the model's own tokenizer on the output text (the server's stream sends
no usage figures); rates come from wall-clock times seen by the caller on both sides:
generation = (tokens − 1) / (last piece − first piece), prompt eval = prompt tokens / time to
first token.  In-process, llama.cpp's own perf counters are shown as well.

    .venv/bin/python bench/bench_local_tokens.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import _common as C

MAX_TOKENS = 128
SAMPLING = dict(top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.1)  # llama-cpp-python server defaults


def build_prompts():
    """(part-two messages, opening messages) as the drafter builds them, as OpenAI-style dicts."""
    from assistant.drafting import DraftSpec
    from assistant.runtime import build_services

    with C.tmpdir("tokens") as tmp:
        settings = C.settings_for(C.copy_index(Path(tmp) / "data"), chat_provider="openai")
        drafter = build_services(settings, llm_factory=lambda: None).drafter
        out = []
        for spec in [
            DraftSpec(section="part2", request="写第二部分：围绕中心、服务大局", occasion="区妇联第四次代表大会",
                      heading="围绕中心、服务大局，团结引领广大妇女建功新时代",
                      items=["聚焦中心大局建功立业", "加强家庭家教家风建设", "维护妇女儿童合法权益"]),
            DraftSpec(section="opening", request="为区妇联第四次代表大会写开场白", occasion="区妇联第四次代表大会"),
        ]:
            passages = drafter.retrieve(spec)
            msgs = drafter.prompts.chat(drafter.prompt_name(spec)).format_messages(**drafter.variables(spec, passages))
            out.append([{"role": {"system": "system", "human": "user"}[m.type], "content": m.content} for m in msgs])
    return out


class Tokenizer:
    def __init__(self, gguf: Path):
        from llama_cpp import Llama, llama_chat_format

        self.llm = Llama(model_path=str(gguf), vocab_only=True, verbose=False)
        get = self.llm._model.token_get_text
        self.fmt = llama_chat_format.Jinja2ChatFormatter(
            template=self.llm.metadata["tokenizer.chat_template"], eos_token=get(self.llm.token_eos()),
            bos_token=get(self.llm.token_bos()))

    def count(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prompt_tokens(self, messages) -> int:
        r = self.fmt(messages=messages)
        return len(self.llm.tokenize(r.prompt.encode("utf-8"), add_bos=not r.added_special, special=True))


def no_stop_bias(tok: "Tokenizer") -> dict[int, int]:
    ids = {tok.llm.token_eos()}
    for s in ("<|im_end|>", "<|endoftext|>"):
        t = tok.llm.tokenize(s.encode(), add_bos=False, special=True)
        if len(t) == 1:
            ids.add(t[0])
    return {i: -100 for i in ids if i >= 0}


def timed_stream(pieces) -> dict:
    """Consume (text piece) iterator; times are relative to the call."""
    t0 = time.perf_counter()
    text, first, last, n = "", None, None, 0
    for piece in pieces:
        if piece:
            now = time.perf_counter() - t0
            first = now if first is None else first
            last = now
            text += piece
            n += 1
    return {"text": text, "ttft": first, "last": last, "total": time.perf_counter() - t0, "pieces": n}


def rates(r: dict, tok: Tokenizer, prompt_tokens: int) -> dict:
    r["tokens"] = tok.count(r["text"])
    span = (r["last"] or 0) - (r["ttft"] or 0)
    r["gen_tps"] = (r["tokens"] - 1) / span if span > 0 else float("nan")
    r["prompt_tps"] = prompt_tokens / r["ttft"] if r["ttft"] else float("nan")
    return r


def app_path(msgs_a, msgs_b, tok: Tokenizer, bias: dict) -> tuple[dict, float]:
    from langchain_core.messages import HumanMessage, SystemMessage

    from assistant.providers import make_chat_model, stop_local_server

    def lc(msgs):
        return [SystemMessage(m["content"]) if m["role"] == "system" else HumanMessage(m["content"]) for m in msgs]

    settings = C.settings_for(C.ROOT / "data", chat_provider="local", max_tokens=MAX_TOKENS, temperature=0.0)
    t0 = time.perf_counter()
    llm = make_chat_model(settings, logit_bias=bias)  # starts the server
    start_s = time.perf_counter() - t0
    print(f"app path: server started in {start_s:.1f} s")
    out = {}
    try:
        for name, msgs, n in [("cold", msgs_a, MAX_TOKENS), ("warm (identical)", msgs_a, MAX_TOKENS),
                              ("shared system prompt only", msgs_b, 8)]:
            model = llm if n == MAX_TOKENS else make_chat_model(settings, max_tokens=n, logit_bias=bias)
            r = timed_stream(c.content for c in model.stream(lc(msgs)))
            out[name] = rates(r, tok, tok.prompt_tokens(msgs))
            print(f"  {name}: ttft {r['ttft']:.2f} s, {r['tokens']} tokens, gen {r['gen_tps']:.2f} tok/s")
    finally:
        stop_local_server()
    return out, start_s


def in_process(gguf: Path, msgs_a, msgs_b, tok: Tokenizer, bias: dict) -> tuple[dict, float]:
    import llama_cpp
    from llama_cpp import Llama

    t0 = time.perf_counter()
    llm = Llama(model_path=str(gguf), n_ctx=4096, n_threads=2, n_threads_batch=2, verbose=False)
    load_s = time.perf_counter() - t0
    print(f"in-process: Llama loaded in {load_s:.1f} s")
    out = {}
    try:
        for name, msgs, n in [("cold", msgs_a, MAX_TOKENS), ("warm (identical)", msgs_a, MAX_TOKENS),
                              ("shared system prompt only", msgs_b, 8)]:
            llama_cpp.llama_perf_context_reset(llm.ctx)
            stream = llm.create_chat_completion(messages=msgs, max_tokens=n, temperature=0.0, stream=True,
                                                logit_bias=bias, **SAMPLING)
            r = timed_stream(c["choices"][0]["delta"].get("content") for c in stream)
            perf = llama_cpp.llama_perf_context(llm.ctx)
            r["perf"] = {"n_p_eval": perf.n_p_eval, "t_p_eval_ms": perf.t_p_eval_ms, "n_eval": perf.n_eval,
                         "t_eval_ms": perf.t_eval_ms}
            out[name] = rates(r, tok, tok.prompt_tokens(msgs))
            print(f"  {name}: ttft {r['ttft']:.2f} s, {r['tokens']} tokens, gen {r['gen_tps']:.2f} tok/s "
                  f"(llama.cpp: prompt {perf.n_p_eval} tok in {perf.t_p_eval_ms:.0f} ms, "
                  f"gen {perf.n_eval} tok in {perf.t_eval_ms:.0f} ms)")
    finally:
        llm.close()
    return out, load_s


def logits_all_cost(gguf: Path, msgs_a) -> dict:
    """Cold prompt eval (1 new token) in-process with logits_all True (the server's default) and False.

    Wall time only: with logits_all, llama.cpp's perf counters book the prompt batch differently."""
    from llama_cpp import Llama

    out = {}
    for flag in (True, False):
        llm = Llama(model_path=str(gguf), n_ctx=4096, n_threads=2, n_threads_batch=2, logits_all=flag, verbose=False)
        try:
            t0 = time.perf_counter()
            llm.create_chat_completion(messages=msgs_a, max_tokens=1, temperature=0.0, **SAMPLING)
            out[flag] = {"wall_s": time.perf_counter() - t0}
        finally:
            llm.close()
        print(f"  logits_all={flag}: cold prompt eval + 1 token {out[flag]['wall_s']:.2f} s")
    return out


def main() -> int:
    from assistant.model_files import ensure_default_gguf

    print(f"== local model tokens/s, {MAX_TOKENS} new tokens, 2 threads ({C.load_note()})")
    gguf = ensure_default_gguf(C.settings_for(C.ROOT / "data", chat_provider="local"))
    msgs_a, msgs_b = build_prompts()
    tok = Tokenizer(gguf)
    pa, pb = tok.prompt_tokens(msgs_a), tok.prompt_tokens(msgs_b)
    shared = 0
    ta = tok.llm.tokenize(tok.fmt(messages=msgs_a).prompt.encode(), add_bos=False, special=True)
    tb = tok.llm.tokenize(tok.fmt(messages=msgs_b).prompt.encode(), add_bos=False, special=True)
    while shared < min(len(ta), len(tb)) and ta[shared] == tb[shared]:
        shared += 1
    print(f"prompt: part two {pa} tokens ({sum(len(m['content']) for m in msgs_a)} characters); "
          f"opening {pb} tokens, of which {shared} shared with part two's prompt")

    bias = no_stop_bias(tok)
    busy = os.getloadavg()[0] > (os.cpu_count() or 2)
    if busy:
        print("NOTE: other processes keep the cores busy; absolute figures will be low and the ratio noisy")
    app, server_start_s = app_path(msgs_a, msgs_b, tok, bias)
    print(f"({C.load_note()})")
    inproc, load_s = in_process(gguf, msgs_a, msgs_b, tok, bias)
    print(f"({C.load_note()})")
    print("what logits_all costs the prompt eval:")
    la = logits_all_cost(gguf, msgs_a)

    same_text = app["cold"]["text"] == inproc["cold"]["text"]
    print(f"\nsame output text on both sides: {'yes' if same_text else 'no'}; app output begins: "
          f"{app['cold']['text'][:50].replace(chr(10), ' / ')!r}")
    print()
    rows = []
    for name in ["cold", "warm (identical)", "shared system prompt only"]:
        a, b = app[name], inproc[name]
        rows.append([name, a["ttft"], b["ttft"], a["tokens"], b["tokens"], a["gen_tps"] if name != "shared system prompt only" else float("nan"),
                     b["gen_tps"] if name != "shared system prompt only" else float("nan")])
    C.table(["request", "app TTFT s", "in-proc TTFT s", "app tokens", "in-proc tokens", "app gen tok/s",
             "in-proc gen tok/s"], rows)
    gen_app = C.mean([app["cold"]["gen_tps"], app["warm (identical)"]["gen_tps"]])
    gen_in = C.mean([inproc["cold"]["gen_tps"], inproc["warm (identical)"]["gen_tps"]])
    perf_gen = C.mean([r["perf"]["n_eval"] / r["perf"]["t_eval_ms"] * 1000 for r in
                       (inproc["cold"], inproc["warm (identical)"])])
    perf_prompt = inproc["cold"]["perf"]["n_p_eval"] / inproc["cold"]["perf"]["t_p_eval_ms"] * 1000
    ratio = gen_app / gen_in
    print()
    C.table(["figure", "app path", "in-process"], [
        ["generation tok/s (mean of cold+warm)", gen_app, gen_in],
        ["prompt eval tok/s (prompt / cold TTFT)", app["cold"]["prompt_tps"], inproc["cold"]["prompt_tps"]],
        ["TTFT cold s", app["cold"]["ttft"], inproc["cold"]["ttft"]],
        ["TTFT warm, identical prompt s", app["warm (identical)"]["ttft"], inproc["warm (identical)"]["ttft"]],
        ["TTFT new turn, shared system prompt s", app["shared system prompt only"]["ttft"],
         inproc["shared system prompt only"]["ttft"]],
        ["model start / load s", server_start_s, load_s],
    ])
    print(f"\ngeneration ratio app/in-process: {ratio:.3f}x (target >= 0.95x)")
    print(f"llama.cpp's own counters in-process: prompt eval {perf_prompt:.1f} tok/s, generation {perf_gen:.2f} tok/s")
    la_ratio = la[True]["wall_s"] / la[False]["wall_s"]
    print(f"logits_all=True (the server's default) makes the cold prompt eval {la_ratio:.2f}x as long "
          f"({la[True]['wall_s']:.2f} s vs {la[False]['wall_s']:.2f} s)")
    print(f"\n({C.load_note()} at the end)")

    def pick(r):
        return {k: r[k] for k in ("ttft", "tokens", "gen_tps", "prompt_tps", "total")}

    C.emit("local_tokens", {
        "max_tokens": MAX_TOKENS, "prompt_tokens": pa, "opening_prompt_tokens": pb, "shared_prefix_tokens": shared,
        "gen_tps_app": gen_app, "gen_tps_inprocess": gen_in, "ratio_app_over_inprocess": ratio,
        "prompt_tps_app": app["cold"]["prompt_tps"], "prompt_tps_inprocess": inproc["cold"]["prompt_tps"],
        "prompt_tps_inprocess_llama_counters": perf_prompt, "gen_tps_inprocess_llama_counters": perf_gen,
        "ttft_cold_app_s": app["cold"]["ttft"], "ttft_warm_app_s": app["warm (identical)"]["ttft"],
        "ttft_shared_system_app_s": app["shared system prompt only"]["ttft"],
        "ttft_cold_inprocess_s": inproc["cold"]["ttft"], "ttft_warm_inprocess_s": inproc["warm (identical)"]["ttft"],
        "ttft_shared_system_inprocess_s": inproc["shared system prompt only"]["ttft"],
        "busy_machine": busy, "server_start_s": server_start_s, "inprocess_load_s": load_s, "same_text": same_text,
        "logits_all_prompt_eval_ratio": la_ratio,
        "logits_all": {str(k): v for k, v in la.items()},
        "app": {k: pick(v) for k, v in app.items()}, "inprocess": {k: pick(v) for k, v in inproc.items()},
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

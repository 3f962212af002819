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
3. The app path once more (cold + warm), so the in-process run is bracketed by two app runs.
4. Prompt eval of the prompt's first 384 tokens in-process with ``logits_all`` True/False,
   alternated three times (True is llama-cpp-python's server default, which the app keeps).

On a shared 2-core machine a burst of work elsewhere (another llama.cpp or OpenMP process
spin-waiting on the same cores) can slow one request several-fold, so the headline rates are
the best of the requests on each side (the run least disturbed); means are shown as well.

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


def app_path(label: str, msgs_a, msgs_b, tok: Tokenizer, bias: dict, shared: bool = True) -> dict:
    from langchain_core.messages import HumanMessage, SystemMessage

    from assistant.providers import make_chat_model, stop_local_server

    def lc(msgs):
        return [SystemMessage(m["content"]) if m["role"] == "system" else HumanMessage(m["content"]) for m in msgs]

    settings = C.settings_for(C.ROOT / "data", chat_provider="local", max_tokens=MAX_TOKENS, temperature=0.0)
    t0 = time.perf_counter()
    llm = make_chat_model(settings, logit_bias=bias)  # starts the server
    out = {"start_s": time.perf_counter() - t0}
    print(f"{label}: server started in {out['start_s']:.1f} s  ({C.load_note()})")
    plan = [("cold", msgs_a, MAX_TOKENS), ("warm", msgs_a, MAX_TOKENS)] + ([("shared", msgs_b, 8)] if shared else [])
    try:
        for name, msgs, n in plan:
            model = llm if n == MAX_TOKENS else make_chat_model(settings, max_tokens=n, logit_bias=bias)
            r = timed_stream(c.content for c in model.stream(lc(msgs)))
            out[name] = rates(r, tok, tok.prompt_tokens(msgs))
            print(f"  {name}: ttft {r['ttft']:.2f} s, {r['tokens']} tokens, gen {r['gen_tps']:.2f} tok/s")
    finally:
        stop_local_server()
    return out


def in_process(gguf: Path, msgs_a, msgs_b, tok: Tokenizer, bias: dict) -> dict:
    import llama_cpp
    from llama_cpp import Llama

    t0 = time.perf_counter()
    llm = Llama(model_path=str(gguf), n_ctx=4096, n_threads=2, n_threads_batch=2, verbose=False)
    out = {"start_s": time.perf_counter() - t0}
    print(f"in-process: Llama loaded in {out['start_s']:.1f} s  ({C.load_note()})")
    try:
        for name, msgs, n in [("cold", msgs_a, MAX_TOKENS), ("warm", msgs_a, MAX_TOKENS), ("shared", msgs_b, 8)]:
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
    return out


LOGITS_TOKENS = 384


def logits_all_cost(gguf: Path, tokens: list[int]) -> dict:
    """``Llama.eval`` of the prompt's first LOGITS_TOKENS tokens, logits_all True/False alternated 3 times.

    Wall time only: with logits_all, llama.cpp's perf counters book the prompt batch differently."""
    from llama_cpp import Llama

    out: dict[bool, list[float]] = {True: [], False: []}
    for flag in (True, False) * 3:
        llm = Llama(model_path=str(gguf), n_ctx=4096, n_threads=2, n_threads_batch=2, logits_all=flag, verbose=False)
        try:
            t0 = time.perf_counter()
            llm.eval(tokens[:LOGITS_TOKENS])
            out[flag].append(time.perf_counter() - t0)
        finally:
            llm.close()
    print("  " + ", ".join(f"logits_all={f}: " + " / ".join(f"{t:.2f}" for t in v) + " s" for f, v in out.items()))
    return out


def main() -> int:
    from assistant.model_files import ensure_default_gguf

    t_start = time.perf_counter()
    print(f"== local model tokens/s, {MAX_TOKENS} new tokens, 2 threads ({C.load_note()})")
    gguf = ensure_default_gguf(C.settings_for(C.ROOT / "data", chat_provider="local"))
    msgs_a, msgs_b = build_prompts()
    tok = Tokenizer(gguf)
    pa, pb = tok.prompt_tokens(msgs_a), tok.prompt_tokens(msgs_b)
    ta = tok.llm.tokenize(tok.fmt(messages=msgs_a).prompt.encode(), add_bos=False, special=True)
    tb = tok.llm.tokenize(tok.fmt(messages=msgs_b).prompt.encode(), add_bos=False, special=True)
    shared = 0
    while shared < min(len(ta), len(tb)) and ta[shared] == tb[shared]:
        shared += 1
    print(f"prompt: part two {pa} tokens ({sum(len(m['content']) for m in msgs_a)} characters); "
          f"opening {pb} tokens, of which {shared} shared with part two's prompt")
    bias = no_stop_bias(tok)
    busy = os.getloadavg()[0] > (os.cpu_count() or 2)
    if busy:
        print("NOTE: other processes keep the cores busy; absolute figures will be low and the ratio noisy")

    app1 = app_path("app path (1)", msgs_a, msgs_b, tok, bias)
    inproc = in_process(gguf, msgs_a, msgs_b, tok, bias)
    app2 = app_path("app path (2)", msgs_a, msgs_b, tok, bias, shared=False)
    print(f"what logits_all costs the prompt eval ({C.load_note()}):")
    la = logits_all_cost(gguf, tok.llm.tokenize(tok.fmt(messages=msgs_a).prompt.encode(), add_bos=False, special=True))

    same_text = app1["cold"]["text"] == inproc["cold"]["text"] == app2["cold"]["text"]
    print(f"\nsame output text on all runs: {'yes' if same_text else 'no'}; output begins: "
          f"{app1['cold']['text'][:40].replace(chr(10), ' / ')!r}")
    print()
    rows = []
    for label, run in [("app path (1)", app1), ("in-process", inproc), ("app path (2)", app2)]:
        rows.append([label, run["cold"]["ttft"], run["warm"]["ttft"], run["shared"]["ttft"] if "shared" in run else float("nan"),
                     run["cold"]["prompt_tps"], run["cold"]["gen_tps"], run["warm"]["gen_tps"], run["start_s"]])
    C.table(["run", "TTFT cold s", "TTFT warm s", "TTFT shared-sys s", "prompt tok/s", "gen tok/s cold",
             "gen tok/s warm", "start s"], rows)
    print("(TTFT warm = the identical prompt again; shared-sys = the opening's prompt, sharing only the "
          f"system prompt's {shared} tokens)")
    app_req = [app1["cold"], app1["warm"], app2["cold"], app2["warm"]]
    in_req = [inproc["cold"], inproc["warm"]]
    gen_app, gen_in = max(r["gen_tps"] for r in app_req), max(r["gen_tps"] for r in in_req)
    gen_app_mean, gen_in_mean = C.mean(r["gen_tps"] for r in app_req), C.mean(r["gen_tps"] for r in in_req)
    prompt_app = max(app1["cold"]["prompt_tps"], app2["cold"]["prompt_tps"])
    perf_gen = max(r["perf"]["n_eval"] / r["perf"]["t_eval_ms"] * 1000 for r in in_req)
    perf_prompt = inproc["cold"]["perf"]["n_p_eval"] / inproc["cold"]["perf"]["t_p_eval_ms"] * 1000
    ratio = gen_app / gen_in
    print()
    C.table(["figure", "app path", "in-process"], [
        ["generation tok/s, best request", gen_app, gen_in],
        ["generation tok/s, mean of requests", gen_app_mean, gen_in_mean],
        ["prompt eval tok/s (prompt / cold TTFT), best", prompt_app, inproc["cold"]["prompt_tps"]],
        ["TTFT cold s, best", min(app1["cold"]["ttft"], app2["cold"]["ttft"]), inproc["cold"]["ttft"]],
        ["TTFT warm, identical prompt s, best", min(app1["warm"]["ttft"], app2["warm"]["ttft"]), inproc["warm"]["ttft"]],
        ["TTFT new turn, shared system prompt s", app1["shared"]["ttft"], inproc["shared"]["ttft"]],
    ])
    print(f"\ngeneration ratio app/in-process (best requests): {ratio:.3f}x (target >= 0.95x); "
          f"means: {gen_app_mean / gen_in_mean:.3f}x")
    print(f"llama.cpp's own counters in-process: prompt eval {perf_prompt:.1f} tok/s, generation {perf_gen:.2f} tok/s (best)")
    la_ratio = min(la[True]) / min(la[False])
    print(f"logits_all=True (the server's default) makes prompt eval {la_ratio:.2f}x as long "
          f"({min(la[True]):.2f} s vs {min(la[False]):.2f} s for {LOGITS_TOKENS} tokens, best of 3 each)")
    print(f"\ntotal run {time.perf_counter() - t_start:.0f} s ({C.load_note()} at the end)")

    def pick(r):
        return {k: r[k] for k in ("ttft", "tokens", "gen_tps", "prompt_tps", "total")}

    C.emit("local_tokens", {
        "max_tokens": MAX_TOKENS, "prompt_tokens": pa, "opening_prompt_tokens": pb, "shared_prefix_tokens": shared,
        "gen_tps_app": gen_app, "gen_tps_inprocess": gen_in, "ratio_app_over_inprocess": ratio,
        "gen_tps_app_mean": gen_app_mean, "gen_tps_inprocess_mean": gen_in_mean,
        "prompt_tps_app": prompt_app, "prompt_tps_inprocess": inproc["cold"]["prompt_tps"],
        "prompt_tps_inprocess_llama_counters": perf_prompt, "gen_tps_inprocess_llama_counters": perf_gen,
        "ttft_cold_app_s": min(app1["cold"]["ttft"], app2["cold"]["ttft"]),
        "ttft_warm_app_s": min(app1["warm"]["ttft"], app2["warm"]["ttft"]),
        "ttft_shared_system_app_s": app1["shared"]["ttft"],
        "ttft_cold_inprocess_s": inproc["cold"]["ttft"], "ttft_warm_inprocess_s": inproc["warm"]["ttft"],
        "ttft_shared_system_inprocess_s": inproc["shared"]["ttft"],
        "busy_machine": busy, "server_start_s": app1["start_s"], "inprocess_load_s": inproc["start_s"],
        "same_text": same_text, "logits_all_prompt_eval_ratio": la_ratio,
        "logits_all_s": {"true": la[True], "false": la[False]},
        "app1": {k: pick(v) for k, v in app1.items() if k != "start_s"},
        "inprocess": {k: pick(v) for k, v in inproc.items() if k != "start_s"},
        "app2": {k: pick(v) for k, v in app2.items() if k != "start_s"},
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

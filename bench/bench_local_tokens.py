"""Local model speed: the app's path (llama-cpp-python server + langchain streaming) against llama_cpp.Llama
in-process, and llama.cpp's prompt-lookup decoding on against off.

Prompts: the two the app really sends for a 区妇联第四次代表大会 speech, captured from the composer itself
(``Composer.write`` with ``Drafter.generate`` stubbed to record its first call, so every variable is the
composer's own) and rendered as ``Drafter.generate`` renders them (``PromptLibrary.chat(name).format_messages``).
The session is a new one (``build_services(...).new_session()``, speech date today) whose brief took
「为区妇联第四次代表大会写讲话，我是区委书记」 and whose outline has part two's heading and items:

* ``item`` (the main prompt): the first item of part two, 「写第二部分」 — heading
  围绕中心、服务大局，团结引领广大妇女建功新时代, item 一是聚焦中心大局，组织妇女建功立业。 It is the system prompt,
  the brief block (【讲话要素】会议、讲话人、听众、时间), the heading, the item and the task (three sentences
  beginning with 要, ``sentence_chars`` each): 253 tokens with Qwen's chat template;
* ``opening``: the opening's first paragraph, 「写开场白」: system prompt, brief block, the length and the
  opening moves for a congress (``sections_table()["opening_moves"]``): 228 tokens, of which 172 (the system
  prompt and the brief block) are shared with the item prompt — what llama.cpp's prefix cache keeps between
  two calls of a session.

Since the drafting redesign every call is such a small prompt (150–300 tokens; retrieved passages are not put
into them), no longer one section prompt of about a thousand tokens.  ``--prompts-only`` prints both prompts and
their token counts and starts no model.

Both sides: the same GGUF, n_ctx 4096, 2 threads, MAX_TOKENS new tokens (the app's own limit for these two calls
is int(chars × 0.7) + 40: 117 and 131 tokens), greedy decoding (temperature 0) with the server's sampler
defaults (top_k 40, top_p 0.95, min_p 0.05, repeat_penalty 1.1) so both produce the same text, and the
end-of-turn tokens suppressed (``logit_bias`` −100, on both sides) so both generate exactly MAX_TOKENS tokens.
llama-cpp-python applies a logit bias in a Python callback per token, on both sides alike.

1. App path: ``make_chat_model(Settings(chat_provider="local"))`` starts the server; ``.stream()``
   the item prompt twice (cold, then identical again: llama.cpp's prefix cache), then the opening's
   prompt, which shares the system prompt and the brief with it (the next call of a real session).
2. The server is stopped; ``Llama(...)`` is loaded in this process and does the same.
3. The app path once more (cold + warm), so the in-process run is bracketed by two app runs.
4. Prompt eval of the whole item prompt in-process with ``logits_all`` True/False, alternated three times
   (True is llama-cpp-python's server default; the app turns it off, but a draft model turns it on again).
5. Prompt-lookup decoding (``Settings.local_lookup_tokens`` = N → ``LocalModelServer(lookup_tokens=N)`` →
   ``--draft_model prompt-lookup-decoding --draft_model_num_pred_tokens N``): the app path with a fresh server
   per setting, in the order off, N=10, N=4, off, N=10, N=4, so drift on the shared machine shows; each server
   streams the item prompt, then the opening prompt (MAX_TOKENS each, greedy, the same logit bias).  Shown:
   generation tok/s and time to first token per run, the ratio on/off (best run of each setting per prompt,
   and each round against the off run of the same round), and whether the text equals the off run's (greedy
   decoding should give the same text; verifying guesses in batches can move the last bits of the logits).

On a shared 2-core machine a burst of work elsewhere (another llama.cpp or OpenMP process
spin-waiting on the same cores) can slow one request several-fold, so the headline rates are
the best of the requests on each side (the run least disturbed); means are shown as well.

Tokens are counted with the model's own tokenizer on the output text (the server's stream sends
no usage figures); rates come from wall-clock times seen by the caller on both sides:
generation = (tokens − 1) / (last piece − first piece), prompt eval = prompt tokens / time to
first token.  In-process, llama.cpp's own perf counters are shown as well.

    .venv/bin/python bench/bench_local_tokens.py                 # the whole bench, on a quiet machine
    .venv/bin/python bench/bench_local_tokens.py --prompts-only  # the two prompts and their token counts
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import _common as C

MAX_TOKENS = 128
SAMPLING = dict(top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.1)  # llama-cpp-python server defaults
BRIEF_MESSAGE = "为区妇联第四次代表大会写讲话，我是区委书记"
HEADING = "围绕中心、服务大局，团结引领广大妇女建功新时代"
ITEMS = ["聚焦中心大局，组织妇女建功立业", "加强家庭家教家风建设", "维护妇女儿童合法权益"]
ITEM = "一是聚焦中心大局，组织妇女建功立业。"  # the first item as the composer puts it into the prompt
LOOKUP_TOKENS = (10, 4)  # prompt-lookup decoding: tokens guessed ahead
LOOKUP_ROUNDS = 2  # off, 10, 4, off, 10, 4


@dataclass
class Prompt:
    name: str  # the prompt file (prompts/<name>.md)
    request: str  # the user's message the call serves
    variables: dict  # exactly what the composer passed to Drafter.generate
    chars: int  # the composer's target length: the app's own output limit is int(chars × 0.7) + 40
    messages: list[dict]  # OpenAI-style dicts, as the server receives them


class _Captured(Exception):
    def __init__(self, name: str, variables: dict, chars: int):
        super().__init__(name)
        self.name, self.variables, self.chars = name, variables, chars


def build_prompts() -> tuple[Prompt, Prompt]:
    """(item prompt, opening prompt) exactly as the composer renders them: ``Composer.write`` runs up to its first
    model call, which ``Drafter.generate`` (stubbed) records instead of sending."""
    from assistant.actions.draft import make_job
    from assistant.runtime import build_services

    def capture(name, variables, *, chars, **kw):
        raise _Captured(name, dict(variables), chars)
        yield  # a generator, like Drafter.generate

    with C.tmpdir("tokens") as tmp:
        settings = C.settings_for(C.copy_index(Path(tmp) / "data"), chat_provider="openai")
        services = build_services(settings, llm_factory=lambda: None)
        drafter = services.drafter
        session = services.new_session()
        # what the session takes from the first message: the brief (occasion, speaker), the message as a fact
        changed = session.brief.update(BRIEF_MESSAGE)
        assert {"occasion", "speaker"} <= set(changed), changed
        session.occasion = session.brief.occasion
        session.facts.append(BRIEF_MESSAGE)
        session.outline = ({2: HEADING}, {2: list(ITEMS)})  # as an outline turn leaves it
        drafter.generate = capture
        out = []
        for key, request, want in [("part2", "写第二部分", "item"), ("opening", "写开场白", "opening")]:
            job = make_job(session, key, request)
            try:
                for _ in session._composer().write(job):
                    pass
                raise RuntimeError(f"{key}: the composer made no model call")
            except _Captured as c:
                got = c
            if got.name != want:
                raise RuntimeError(f"{key}: the composer's first call is {got.name!r}, not {want!r}")
            if want == "item" and got.variables["item"] != ITEM:
                raise RuntimeError(f"item prompt: item is {got.variables['item']!r}, not {ITEM!r}")
            msgs = drafter.prompts.chat(got.name).format_messages(**got.variables)
            out.append(Prompt(got.name, request, got.variables, got.chars,
                              [{"role": {"system": "system", "human": "user"}[m.type], "content": m.content}
                               for m in msgs]))
    return out[0], out[1]


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

    settings = C.settings_for(C.ROOT / "data", chat_provider="local", max_tokens=MAX_TOKENS, temperature=0.0,
                              local_lookup_tokens=0)  # as the app runs by default, whatever SPEECH_LOCAL_LOOKUP_TOKENS says
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


def logits_all_cost(gguf: Path, tokens: list[int]) -> dict:
    """``Llama.eval`` of the whole prompt ``tokens``, logits_all True/False alternated 3 times.

    Wall time only: with logits_all, llama.cpp's perf counters book the prompt batch differently."""
    from llama_cpp import Llama

    out: dict[bool, list[float]] = {True: [], False: []}
    for flag in (True, False) * 3:
        llm = Llama(model_path=str(gguf), n_ctx=4096, n_threads=2, n_threads_batch=2, logits_all=flag, verbose=False)
        try:
            t0 = time.perf_counter()
            llm.eval(tokens)
            out[flag].append(time.perf_counter() - t0)
        finally:
            llm.close()
    print("  " + ", ".join(f"logits_all={f}: " + " / ".join(f"{t:.2f}" for t in v) + " s" for f, v in out.items()))
    return out


def lookup_runs(msgs_item, msgs_open, tok: Tokenizer, bias: dict) -> list[dict]:
    """The app path with prompt-lookup decoding off and on: one fresh server per setting, in the order
    (off, *LOOKUP_TOKENS) × LOOKUP_ROUNDS; each streams the item prompt, then the opening prompt."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from assistant import providers

    def lc(msgs):
        return [SystemMessage(m["content"]) if m["role"] == "system" else HumanMessage(m["content"]) for m in msgs]

    runs = []
    for rnd in range(1, LOOKUP_ROUNDS + 1):
        for n in (0, *LOOKUP_TOKENS):
            settings = C.settings_for(C.ROOT / "data", chat_provider="local", max_tokens=MAX_TOKENS, temperature=0.0,
                                      local_lookup_tokens=n)
            t0 = time.perf_counter()
            llm = providers.make_chat_model(settings, logit_bias=bias)  # starts the server
            run = {"lookup_tokens": n, "round": rnd, "start_s": time.perf_counter() - t0}
            try:
                server = providers.local_server(settings)  # the one make_chat_model started
                cmd = list(server.proc.args)
                if ("--draft_model" in cmd) != (n > 0) or n and cmd[cmd.index("--draft_model_num_pred_tokens") + 1] != str(n):
                    raise RuntimeError(f"the server was not started with lookup {n}: {cmd}")
                label = f"lookup {n}" if n else "lookup off"
                line = f"  round {rnd}, {label:<10} (server up in {run['start_s']:.1f} s):"
                for key, msgs in (("item", msgs_item), ("opening", msgs_open)):
                    r = timed_stream(c.content for c in llm.stream(lc(msgs)))
                    run[key] = rates(r, tok, tok.prompt_tokens(msgs))
                    line += f"  {key} ttft {r['ttft']:.2f} s, {r['tokens']} tok, gen {r['gen_tps']:.2f} tok/s;"
                print(line.rstrip(";"))
            finally:
                providers.stop_local_server()
            runs.append(run)
    return runs


def common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def lookup_summary(runs: list[dict]) -> dict:
    """Best-of and per-round ratios on/off, and whether each setting wrote the off runs' text."""
    keys = ("item", "opening")
    settings = (0, *LOOKUP_TOKENS)
    name = {n: str(n) if n else "off" for n in settings}
    by = {n: [r for r in runs if r["lookup_tokens"] == n] for n in settings}
    best_gen = {name[n]: {k: max(r[k]["gen_tps"] for r in by[n]) for k in keys} for n in settings}
    mean_gen = {name[n]: {k: C.mean(r[k]["gen_tps"] for r in by[n]) for k in keys} for n in settings}
    best_ttft = {name[n]: {k: min(r[k]["ttft"] for r in by[n]) for k in keys} for n in settings}
    ref = {k: by[0][0][k]["text"] for k in keys}
    same = {name[n]: all(r[k]["text"] == ref[k] for r in by[n] for k in keys) for n in settings}
    diverge = {name[n]: {k: min(common_prefix(r[k]["text"], ref[k]) for r in by[n]) for k in keys} for n in settings}
    off_round = {r["round"]: r for r in by[0]}
    out = {"order": [r["lookup_tokens"] for r in runs], "gen_tps_best": best_gen, "gen_tps_mean": mean_gen,
           "ttft_best_s": best_ttft, "same_text_as_off": same, "same_chars_as_off": diverge,
           "ratio_gen_best": {}, "ratio_gen_mean": {}, "ratio_gen_by_round": {}, "ratio_ttft_best": {}}
    for n in LOOKUP_TOKENS:
        s = name[n]
        out["ratio_gen_best"][s] = {k: best_gen[s][k] / best_gen["off"][k] for k in keys}
        out["ratio_gen_mean"][s] = {k: mean_gen[s][k] / mean_gen["off"][k] for k in keys}
        out["ratio_ttft_best"][s] = {k: best_ttft[s][k] / best_ttft["off"][k] for k in keys}
        out["ratio_gen_by_round"][s] = [{k: r[k]["gen_tps"] / off_round[r["round"]][k]["gen_tps"] for k in keys}
                                        for r in by[n]]
    return out


def show_prompts(item: Prompt, opening: Prompt, tok: Tokenizer | None) -> None:
    from assistant.drafting import TOKENS_PER_CHAR

    for p in (item, opening):
        n = f"{tok.prompt_tokens(p.messages)} tokens" if tok else "tokens not counted"
        print(f"\n--- prompt {p.name!r} ({p.request}): {n}, {sum(len(m['content']) for m in p.messages)} characters; "
              f"the app's own output limit for it: {int(p.chars * TOKENS_PER_CHAR) + 40} tokens")
        print("variables: " + ", ".join(f"{k}={v!r}" for k, v in p.variables.items() if k != "brief"))
        for m in p.messages:
            print(f"[{m['role']}]\n{m['content']}")
    print()


def main(argv: list[str] | None = None) -> int:
    from assistant.model_files import ensure_default_gguf

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prompts-only", action="store_true",
                    help="build and print the two prompts and their token counts; start no model")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    print(f"== local model tokens/s, {MAX_TOKENS} new tokens, 2 threads ({C.load_note()})")
    gguf = ensure_default_gguf(C.settings_for(C.ROOT / "data", chat_provider="local"))
    p_item, p_open = build_prompts()
    msgs_a, msgs_b = p_item.messages, p_open.messages
    tok = Tokenizer(gguf)
    pa, pb = tok.prompt_tokens(msgs_a), tok.prompt_tokens(msgs_b)
    ta = tok.llm.tokenize(tok.fmt(messages=msgs_a).prompt.encode(), add_bos=False, special=True)
    tb = tok.llm.tokenize(tok.fmt(messages=msgs_b).prompt.encode(), add_bos=False, special=True)
    shared = common_prefix(ta, tb)
    system = tok.prompt_tokens([msgs_a[0]])
    print(f"prompts: item {pa} tokens ({sum(len(m['content']) for m in msgs_a)} characters); "
          f"opening {pb} tokens, of which {shared} shared with the item prompt "
          f"(the system prompt alone is about {system} tokens)")
    if args.prompts_only:
        show_prompts(p_item, p_open, tok)
        C.emit("local_tokens", {"prompts_only": True, "max_tokens": MAX_TOKENS, "prompt_tokens": pa,
                                "opening_prompt_tokens": pb, "shared_prefix_tokens": shared})
        return 0
    bias = no_stop_bias(tok)
    busy = os.getloadavg()[0] > (os.cpu_count() or 2)
    if busy:
        print("NOTE: other processes keep the cores busy; absolute figures will be low and the ratio noisy")

    app1 = app_path("app path (1)", msgs_a, msgs_b, tok, bias)
    inproc = in_process(gguf, msgs_a, msgs_b, tok, bias)
    app2 = app_path("app path (2)", msgs_a, msgs_b, tok, bias, shared=False)
    print(f"what logits_all costs the prompt eval ({C.load_note()}):")
    la = logits_all_cost(gguf, ta)
    order = ", ".join(("off" if n == 0 else f"N={n}") for n in (0, *LOOKUP_TOKENS))
    print(f"prompt-lookup decoding, app path, a fresh server per setting ({order}) × {LOOKUP_ROUNDS} "
          f"({C.load_note()}):")
    lk_runs = lookup_runs(msgs_a, msgs_b, tok, bias)
    lk = lookup_summary(lk_runs)

    same_text = app1["cold"]["text"] == inproc["cold"]["text"] == app2["cold"]["text"]
    print(f"\nsame output text on all runs: {'yes' if same_text else 'no'}; output begins: "
          f"{app1['cold']['text'][:40].replace(chr(10), ' / ')!r}")
    print()
    rows = []
    for label, run in [("app path (1)", app1), ("in-process", inproc), ("app path (2)", app2)]:
        rows.append([label, run["cold"]["ttft"], run["warm"]["ttft"], run["shared"]["ttft"] if "shared" in run else float("nan"),
                     run["cold"]["prompt_tps"], run["cold"]["gen_tps"], run["warm"]["gen_tps"], run["start_s"]])
    C.table(["run", "TTFT cold s", "TTFT warm s", "TTFT next call s", "prompt tok/s", "gen tok/s cold",
             "gen tok/s warm", "start s"], rows)
    print("(TTFT warm = the identical item prompt again; next call = the opening's prompt, sharing the "
          f"system prompt and the brief: {shared} tokens)")
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
        ["TTFT next call, shared system + brief s", app1["shared"]["ttft"], inproc["shared"]["ttft"]],
    ])
    print(f"\ngeneration ratio app/in-process (best requests): {ratio:.3f}x (target >= 0.95x); "
          f"means: {gen_app_mean / gen_in_mean:.3f}x")
    print(f"llama.cpp's own counters in-process: prompt eval {perf_prompt:.1f} tok/s, generation {perf_gen:.2f} tok/s (best)")
    la_ratio = min(la[True]) / min(la[False])
    print(f"logits_all=True (the server's default, and forced by a draft model) makes prompt eval {la_ratio:.2f}x as "
          f"long ({min(la[True]):.2f} s vs {min(la[False]):.2f} s for {len(ta)} tokens, best of 3 each)")

    print(f"\nprompt-lookup decoding (app path; order {lk['order']}):")
    rows = []
    for r in lk_runs:
        n = r["lookup_tokens"]
        rows.append([f"round {r['round']}, " + (f"N={n}" if n else "off"), r["item"]["ttft"], r["item"]["gen_tps"],
                     r["opening"]["ttft"], r["opening"]["gen_tps"],
                     "ref" if r is lk_runs[0] else "yes" if all(r[k]["text"] == lk_runs[0][k]["text"] for k in ("item", "opening")) else "no"])
    C.table(["run", "item TTFT s", "item gen tok/s", "opening TTFT s", "opening gen tok/s", "same text as off"], rows)
    rows = []
    for n in LOOKUP_TOKENS:
        s = str(n)
        for k in ("item", "opening"):
            rows.append([f"N={n}, {k}", lk["gen_tps_best"]["off"][k], lk["gen_tps_best"][s][k], lk["ratio_gen_best"][s][k],
                         lk["ratio_gen_mean"][s][k], " / ".join(f"{x[k]:.3f}" for x in lk["ratio_gen_by_round"][s]),
                         lk["ratio_ttft_best"][s][k]])
    print()
    C.table(["lookup on / off", "gen off tok/s", "gen on tok/s", "ratio best", "ratio means", "ratio by round",
             "TTFT ratio"], rows)
    for n in LOOKUP_TOKENS:
        s = str(n)
        if lk["same_text_as_off"][s]:
            print(f"N={n}: the same text as with lookup off on every run (greedy decoding)")
        else:
            print(f"N={n}: the text DIFFERS from lookup off: identical for the first "
                  + ", ".join(f"{k} {c} characters" for k, c in lk["same_chars_as_off"][s].items()))
    if not lk["same_text_as_off"]["off"]:
        print("the two runs with lookup off differ from each other: greedy decoding is not reproducible here")
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
        "same_text": same_text, "logits_all_prompt_eval_ratio": la_ratio, "logits_all_tokens": len(ta),
        "logits_all_s": {"true": la[True], "false": la[False]},
        "lookup_gen_ratio_best": lk["ratio_gen_best"], "lookup_same_text": lk["same_text_as_off"],
        "lookup": {**lk, "runs": [{"lookup_tokens": r["lookup_tokens"], "round": r["round"], "start_s": r["start_s"],
                                   "item": pick(r["item"]), "opening": pick(r["opening"])} for r in lk_runs]},
        "app1": {k: pick(v) for k, v in app1.items() if k != "start_s"},
        "inprocess": {k: pick(v) for k, v in inproc.items() if k != "start_s"},
        "app2": {k: pick(v) for k, v in app2.items() if k != "start_s"},
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

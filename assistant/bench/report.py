"""The report's Markdown: the summary table against the goals, then one table per section."""

from __future__ import annotations

from assistant.bench.common import CONCURRENT, GOALS
from assistant.bench.retrieval import STAGES


def _ms(v) -> str:
    return "-" if v is None else f"{v:.1f}"


def _mb(v) -> str:
    return "-" if v is None else f"{v:.0f}"


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**missed**")


def markdown(r: dict, command: str) -> str:
    m = r.get("machine", {})
    lines = ["# groundwork bench\n",
             f"`{command}` on {machine_line(m)}; {r.get('seconds')} s in all.\n"]
    ing = r.get("ingest", {})
    ret = [x for x in r.get("retrieval", []) if isinstance(x, dict)] \
        if isinstance(r.get("retrieval"), list) else []
    ask = r.get("ask", {})
    conc = r.get("concurrency", {})
    big = max((x["size"] for x in ret), default=None)

    def p50(backend):
        row = next((x for x in ret if x["size"] == big and x["backend"] == backend), {})
        return row.get("p50_ms")

    goal_size = GOALS["retrieval_goal_size"]
    rows = [("measure", "result", "goal", "")]
    if "error" in ing:
        rows.append(("ingest", f"error: {ing['error'][:120]}", "", ""))
    elif ing:
        raw = ", ".join(f"{k} {v:.1f}" for k, v in ing["raw_chunks_per_s"].items())
        rows.append(("ingest throughput / best raw fp32 encoder throughput",
                     f"{ing['ratio_to_best_raw']:.2f} ({ing['chunks_per_s']:.1f} chunks/s; raw "
                     f"{raw}; batches on {ing['batch_backend']}; {ing['chunks']} chunks); the "
                     f"encoder is {ing['encoder_share_of_ingest']:.0%} of the ingest time; "
                     f"{ing['ratio_to_best_raw_with_chunker_load']:.2f} with the chunker's "
                     f"imports ({ing['chunker_load_seconds']:.1f} s, loaded before as the model "
                     "is) counted in",
                     f">= {GOALS['ingest_ratio_min']}", _met(ing["ratio_met"])))
        rows.append(("re-ingest unchanged corpus / first ingest",
                     f"{ing['reingest_fraction']:.2%} ({ing['reingest_seconds']:.2f} s in "
                     f"process); CLI {ing['reingest_cli_fraction']:.1%} "
                     f"({ing['reingest_cli_seconds']:.1f} s)",
                     f"< {GOALS['reingest_fraction_max']:.0%}", _met(ing["reingest_met"])))
    if big:
        emb, srv = p50("embedded"), p50("server")
        goal = f"< {GOALS['retrieval_p50_ms_max']:.0f} ms at {goal_size:,}"
        ok = None if big < goal_size or emb is None else emb < GOALS["retrieval_p50_ms_max"]
        rows.append((f"retrieval p50 at {big:,} chunks (embedded / server)",
                     f"{_ms(emb)} / {_ms(srv)} ms", goal, _met(ok)))
    start = r.get("startup", {})
    if "error" in start:
        rows.append(("start-up", f"error: {start['error'][:120]}", "", ""))
    elif start:
        rows.append(("`groundwork --help`, new process", f"{start['help_seconds']:.2f} s",
                     f"<= {GOALS['help_seconds_max']} s", _met(start["help_met"])))
        rows.append((f"`groundwork ask` on {start['index']}, new process, to the answer",
                     f"{start['ask_seconds']:.2f} s", f"<= {GOALS['cold_ask_seconds_max']} s",
                     _met(start["ask_met"])))
    if "error" in ask:
        rows.append(("ask", f"error: {ask['error'][:120]}", "", ""))
    elif ask:
        rows.append(("ask p50 / p95 (warm, extractive, passages analysed before)",
                     f"{ask['p50_ms']:.0f} / {ask['p95_ms']:.0f} ms",
                     f"p50 <= {GOALS['ask_p50_ms_max']:.0f} ms", _met(ask["p50_met"])))
        first = ask["first_analysis"]
        rows.append(("ask p50 / p95, every retrieved passage analysed for the first time",
                     f"{first['p50_ms']:.0f} / {first['p95_ms']:.0f} ms",
                     f"p50 <= {GOALS['ask_first_analysis_p50_ms_max']:.0f} ms",
                     _met(first["p50_met"])))
        rows.append(("chunk analysis (spaCy), all chunks of the index in one pass",
                     f"{ask['analysis']['chunks_per_s']:.1f} chunks/s "
                     f"({ask['analysis']['chunks']} chunks)", "", ""))
        rows.append(("first answer from a cold process",
                     f"{ask['cold']['first_answer_seconds']:.1f} s", "", ""))
    for key, label in (("api", "Python API"), ("http", "HTTP API (/api/ask)"),
                       ("ui", "UI queue")):
        c = conc.get(key, {}) if isinstance(conc, dict) else {}
        if "error" in c:
            text = f"error: {c['error'][:120]}"
        elif c:
            text = (f"{c['answered']}/{c['questions']} answered, {c['dropped']} dropped, "
                    f"{c['seconds']:.1f} s for all")
        else:
            continue
        rows.append((f"{CONCURRENT} questions at once, {label}", text, "all answered",
                     _met(c.get("answered") == CONCURRENT) if "answered" in c else "-"))
    lines += [md_table(rows), ""]

    if ret:
        lines.append("## Retrieval (query embedding + dense + BM25 + fusion + floor, no LLM)\n")
        head = ("chunks", "store", "vectors", "p50 ms", "p95 ms", "CPU p50 ms", *STAGES.values(),
                "Chroma alone, top 10", "load s", "build s", "build chunks/s", "disk MB",
                "peak MB", "server peak MB")
        t = [head]
        for x in ret:
            if "error" in x:
                t.append((f"{x['size']:,}", x["backend"], x["vectors"], "error: "
                          + x["error"][:80], *[""] * (len(head) - 4)))
                continue
            st = x["stages_p50_ms"]
            t.append((f"{x['size']:,}", x["backend"], x["vectors"], _ms(x["p50_ms"]),
                      _ms(x["p95_ms"]), _ms(x["cpu_p50_ms"]),
                      *[_ms(st[k]) for k in STAGES.values()],
                      _ms(x["chroma_alone_top10_p50_ms"]),
                      f"{x['load_seconds']:.1f}", f"{x['build_seconds']:.1f}",
                      _mb(x["size"] / x["build_seconds"] if x["build_seconds"] else None),
                      _mb(x.get("disk_mb")),
                      _mb(x["peak_rss_mb"]), _mb(x.get("server_peak_rss_mb"))))
        lines += [md_table(t), "", "Stage columns are p50 in ms. " + growth(ret), ""]

    enc = r.get("encoder", {})
    if enc.get("options"):
        lines.append(f"## Encoder options ({enc['texts']} chunk texts; one query = p50 of "
                     "single-question encodes)\n")
        t = [("backend", "batch", "threads", "environment", "chunks/s", "one query ms",
              "same top-10", "max diff", "note")]
        for o in enc["options"]:
            t.append((o["backend"], str(o["batch_size"]), str(o["threads"]), o.get("env") or "-",
                      f"{o['chunks_per_s']:.1f}" if "chunks_per_s" in o else "-",
                      _ms(o.get("query_p50_ms")), str(o.get("same_top10", "-")),
                      f"{o['max_abs_diff']:.1e}" if "max_abs_diff" in o else "-",
                      o.get("error", "")))

        def name(o: dict) -> str:
            return (f"{o.get('backend')} batch {o.get('batch_size')} threads {o.get('threads')}"
                    + (f" {o['env']}" if o.get("env") else ""))

        f, q = enc.get("fastest") or {}, enc.get("fastest_single_query") or {}
        lines += [md_table(t), "", f"Fastest with the same results: {name(f)} "
                  f"({enc.get('speedup_vs_current')}x the current setting); quickest single "
                  f"query: {name(q)} ({_ms(q.get('query_p50_ms'))} ms).", ""]
    elif "error" in enc:
        lines += ["## Encoder options\n", f"error: {enc['error']}", ""]

    if ing.get("breakdown_seconds"):
        lines.append(f"## Where the first ingest's {ing['seconds']:.1f} s go (exclusive time)\n")
        t = [("part", "seconds", "share")]
        for k, v in ing["breakdown_seconds"].items():
            t.append((k, f"{v:.2f}", f"{v / ing['seconds']:.1%}"))
        lines += [md_table(t), "",
                  f"Model load before the ingest: {ing['model_load_seconds']:.1f} s, the "
                  f"chunker's imports {ing['chunker_load_seconds']:.1f} s. The encoder "
                  f"alone: {ing['encode_chunks_per_s']:.1f} chunks/s over all texts in one call, "
                  f"{ing['encode_per_file_chunks_per_s']:.1f} chunks/s called once per file as "
                  f"ingest calls it ({ing['chunks_per_file']} chunks a file). Re-ingest: "
                  f"{ing['reingest_seconds']:.3f} s in process, {ing['reingest_cli_seconds']:.1f} "
                  f"s as a new `groundwork ingest` process. Peak memory of the ingest process: "
                  f"{_mb(ing['peak_rss_mb'])} MB.", ""]

    if ask.get("stages_p50_ms"):
        lines.append("## ask (warm, extractive generator)\n")
        t = [("stage", "p50 ms", "p95 ms")] + [(k, _ms(v), _ms(ask["stages_p95_ms"].get(k)))
                                               for k, v in ask["stages_p50_ms"].items()]
        cold = ask["cold"]
        per = ask["retrievals_per_ask"]
        lines += [md_table(t), "",
                  f"Retrievals per ask: {per['p50']} (p50), {per['max']} (max), "
                  f"{_ms(ask['retrieval_p50_ms'])} ms each (p50). CPU p50 "
                  f"{_ms(ask['cpu_p50_ms'])} ms. "
                  f"{ask['questions']} questions, statuses {ask['statuses']}; peak memory "
                  f"{_mb(ask['peak_rss_mb'])} MB. Cold process: first answer after "
                  f"{cold['first_answer_seconds']:.1f} s (runs {cold['runs']}): importing the "
                  f"pipeline {cold['import_seconds']:.1f} s, opening Chroma, the onnxruntime "
                  f"encoder and BM25 (their imports included) {cold['load_seconds']:.1f} s, "
                  f"answering {cold['answer_seconds']:.1f} s, the rest is interpreter start; "
                  f"libraries only ingest or serve need, imported: "
                  f"{', '.join(cold.get('heavy_modules') or []) or 'none'}; peak "
                  f"{_mb(cold['peak_rss_mb'])} MB.", ""]

    start = r.get("startup", {})
    if start.get("imports"):
        lines.append("## Start-up: new `groundwork` processes\n")
        t = [("module (imported at top level)", "cumulative s")]
        t += [(name, f"{sec:.2f}") for name, sec in start["imports"].items()]
        lines += [f"`groundwork --help` {start['help_seconds']:.2f} s, `groundwork ask` on "
                  f"{start['index']} {start['ask_seconds']:.2f} s to the printed answer (p50 of "
                  f"{start['runs']}; runs {start['ask_runs']}). Where the ask's imports go "
                  "(`python -X importtime -m assistant.cli ask ...`):\n", md_table(t), ""]

    mem = [("process", "peak RSS MB")]
    for label, value in (("encoder options", enc.get("peak_rss_mb")),
                         ("ingest + raw encode", ing.get("peak_rss_mb")),
                         ("ask (warm)", ask.get("peak_rss_mb")),
                         ("ask (cold process)", ask.get("cold", {}).get("peak_rss_mb")),
                         ("50 at once, Python API", conc.get("api", {}).get("peak_rss_mb")),
                         ("server (UI and HTTP API) during 50 at once",
                          conc.get("server", {}).get("peak_rss_mb"))):
        if value is not None:
            mem.append((label, _mb(value)))
    for x in ret:
        if "build" in x:
            mem.append((f"build {x['size']:,} {x['backend']}", _mb(x["build"]["peak_rss_mb"])))
    lines += ["## Peak memory\n", md_table(mem), ""]
    return "\n".join(lines)


def machine_line(m: dict) -> str:
    return (f"{m.get('cpus')} CPU cores ({m.get('cpu')}), {m.get('memory_gb')} GB RAM, Python "
            f"{m.get('python')}; load average {m.get('load_average_start')} at the start, "
            f"{m.get('load_average_end')} at the end")


def growth(rows: list[dict]) -> str:
    """How the size-dependent part (every stage but the query embedding) grows with the data."""
    out = []
    for backend in ("embedded", "server"):
        ok = [x for x in rows if x["backend"] == backend and "p50_ms" in x]
        if len(ok) > 1:
            a, b = ok[0], ok[-1]

            def search(x):
                return sum(v for k, v in x["stages_p50_ms"].items() if k != "embed query")

            out.append(f"{backend}: everything but the query embedding {search(a):.1f} -> "
                       f"{search(b):.1f} ms (x{search(b) / search(a):.2f}), whole p50 "
                       f"x{b['p50_ms'] / a['p50_ms']:.2f}, from {a['size']:,} to {b['size']:,} "
                       f"chunks (x{b['size'] / a['size']:.0f} data)")
    return ("Growth with size: " + "; ".join(out) + ".") if out else ""


def md_table(rows: list[tuple]) -> str:
    head, *body = rows
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in body]
    return "\n".join(out)

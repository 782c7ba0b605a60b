"""`groundwork ingest / search / ask / chat / eval / serve / prepare / bench`: a thin layer
over the API."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import assistant  # noqa: F401  (makes the process offline before anything else loads)
from assistant.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="groundwork", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", type=Path, help="index folder (default: index/)")
    common.add_argument("--chroma-url", help="http://HOST:PORT of a `chroma run` server")
    common.add_argument("--config", help="a TOML settings file")

    p = sub.add_parser("ingest", parents=[common], help="add or update documents in the index")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--prune", action="store_true", help="remove chunks of files that are gone")
    p.add_argument("--rebuild", action="store_true",
                   help="delete the index first and ingest everything again (a damaged index)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("search", parents=[common], help="ranked passages for a question")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=None, help="how many passages")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ask", parents=[common], help="a cited answer to a question")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=None, help="how many passages to answer from")
    p.add_argument("--generator", choices=["extractive", "llama-cpp", "openai"])
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("chat", parents=[common], help="a conversation: follow-ups understood "
                       "in context; one question a line when stdin is not a terminal")
    p.add_argument("--generator", choices=["extractive", "llama-cpp", "openai"])
    p.add_argument("-k", type=int, default=None, help="how many passages to answer from")
    p.add_argument("--json", action="store_true", help="one JSON answer a line, as ask --json")

    p = sub.add_parser("eval", parents=[common], help="run eval cases, report grounding metrics "
                       "(--index: keep the cases' indexes there, for the next run to reuse)")
    p.add_argument("cases", nargs="+", type=Path)
    p.add_argument("--generator", choices=["extractive", "llama-cpp", "openai"])
    p.add_argument("--out", type=Path, help="write report.json and report.md here")
    p.add_argument("--baseline", type=Path, help="an earlier report.json to compare with")
    p.add_argument("--gate", type=Path, help="thresholds file; exit 1 when a threshold is missed")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("serve", parents=[common], help="the chat UI and the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--corpus", type=Path, default=Path("corpus"), help="where uploads are stored")

    sub.add_parser("prepare", parents=[common], help="make the models' one-time files now (the "
                   "encoder's ONNX export and batch-backend choice); `make install` runs it")

    p = sub.add_parser("bench", parents=[common], help="measure speed and scale")
    p.add_argument("--sizes", default="1000,10000,100000")
    p.add_argument("--out", type=Path, default=Path("bench/out"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--work", type=Path, help="the work folder, kept afterwards (default: a "
                   "temporary one): a store built there by an earlier run is measured again, "
                   "not rebuilt")
    p.add_argument("--sections", help="run only these, comma-separated (default: all): "
                   "encoder,ingest,retrieval,ask,startup,concurrency")
    p.add_argument("--soak", action="store_true",
                   help="instead: one `groundwork serve` under mixed load (asks and uploads)")
    p.add_argument("--minutes", type=float, default=20.0, help="--soak: how long")
    p.add_argument("--clients", type=int, default=10, help="--soak: clients asking at once")
    p.add_argument("--upload-every", type=float, default=60.0, metavar="SECONDS",
                   help="--soak: a new document every this many seconds")
    p.add_argument("--corpus", type=Path, default=Path("corpus"),
                   help="--soak: the folder served (copied; ingested unless --index is given)")

    args = parser.parse_args(argv)
    try:
        settings = Settings.load(args.config, index_dir=args.index, chroma_url=args.chroma_url)
        return COMMANDS[args.command](args, settings)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError, ConnectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _ingest(args, settings: Settings) -> int:
    from assistant.ingest import import_splitter_alone, ingest

    import_splitter_alone()  # this process uses nothing else of llama-index
    report = ingest(args.paths, settings, prune=args.prune, rebuild=args.rebuild,
                    progress=False if args.json else None)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    # Non-zero only when nothing could be ingested: a bad file among good ones is reported.
    return 0 if report.files_ingested or report.files_unchanged else 1


def _search(args, settings: Settings) -> int:
    from assistant.retrieve import Retriever

    passages = Retriever(settings).run(args.question, args.k)
    if args.json:
        print(json.dumps([p.to_dict() for p in passages], indent=2))
        return 0
    if not passages:
        print("no passage is relevant enough (below the relevance floor)")
    for rank, p in enumerate(passages, 1):
        page = f" p.{p.page}" if p.page else ""
        print(f"[{rank}] {p.source}{page} (similarity {p.similarity:.2f}) {p.title}")
        print("    " + " ".join(p.text.split())[:400])
    return 0


def _ask(args, settings: Settings) -> int:
    from assistant.pipeline import Assistant

    settings = settings.replace(generator=args.generator)
    answer = Assistant(settings).ask(args.question, k=args.k)
    print(json.dumps(answer.to_dict(), indent=2) if args.json else answer)
    return 0


def _chat(args, settings: Settings) -> int:
    """A REPL on a terminal; a script's lines otherwise. "/new" starts a new conversation."""
    from assistant.pipeline import Assistant

    bot = Assistant(settings.replace(generator=args.generator))
    interactive = sys.stdin.isatty() and not args.json
    if interactive:
        print("Ask about your documents. Follow-ups are read in context; /new starts over, "
              "/quit or Ctrl-D ends.", file=sys.stderr)
    history: list = []
    failed = 0
    while True:
        try:
            line = input("> ") if interactive else sys.stdin.readline()
        except EOFError:
            break
        if not interactive and not line:
            break
        question = line.strip()
        if question in ("/quit", "/exit"):
            break
        if question == "/new":
            history = []
            continue
        if not question:
            continue
        try:
            answer = bot.chat(question, history, k=args.k)
        except (ValueError, RuntimeError) as exc:  # one bad turn does not end the conversation
            failed += 1
            print(json.dumps({"question": question, "error": str(exc)}) if args.json
                  else f"error: {exc}", flush=True)
            continue
        history.append(answer)
        print(json.dumps(answer.to_dict()) if args.json else f"{answer}\n", flush=True)
    return 1 if failed and not history else 0


def _eval(args, settings: Settings) -> int:
    from assistant.evaluate import run_cli

    return run_cli(args, settings.replace(generator=args.generator))


def _serve(args, settings: Settings) -> int:
    from assistant.server import serve

    serve(settings, host=args.host, port=args.port, corpus_dir=args.corpus)
    return 0


def _prepare(args, settings: Settings) -> int:
    """A new install exports the encoder once (about 20 s of CPU): better in the set-up than in
    a user's first ingest, or in every process of a first test run waiting for one to do it."""
    from assistant.bench.corpus import synthetic_texts
    from assistant.models import AUTO_ONNX_TEXTS, load_embedder

    encoder = load_embedder(settings.embed_model, settings.embed_batch_size,
                            settings.embed_backend)
    for key, value in encoder.prepare(synthetic_texts(AUTO_ONNX_TEXTS, seed=0)).items():
        print(f"{key}: {value}")
    return 0


def _bench(args, settings: Settings) -> int:
    if args.soak:
        from assistant.bench.soak import run_cli
    else:
        from assistant.bench.runner import run_cli

    return run_cli(args, settings)


COMMANDS = {"ingest": _ingest, "search": _search, "ask": _ask, "chat": _chat, "eval": _eval,
            "serve": _serve, "prepare": _prepare, "bench": _bench}

if __name__ == "__main__":
    sys.exit(main())

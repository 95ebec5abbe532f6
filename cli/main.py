"""Command line: `newsrag ingest PATH...`, `newsrag ask QUESTION`, `newsrag serve`, `newsrag eval`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from pathlib import Path

from rag.config import offline_environment

offline_environment()  # before anything below imports spaCy, torch or huggingface_hub: they read it on import

from rag.config import Settings, load_settings, setting_help  # noqa: E402
from rag.errors import ConfigError, CorpusNotFound, IngestLocked, RagError, StoreOwned  # noqa: E402
from server.logs import configure_logging  # noqa: E402

log = logging.getLogger("newsrag")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsrag", description="Chat with a corpus of news articles.")
    parser.add_argument("--config", help="TOML settings file (default: $RAG_CONFIG)")
    parser.add_argument("--data-dir", help="folder of the embedded store (setting data_dir)")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="add, update and remove articles from files or folders")
    ingest.add_argument("paths", nargs="+", help=".txt/.md/.json/.jsonl files or folders of them")
    ingest.add_argument("--no-prune", action="store_true",
                        help="keep stored articles that are gone from these files")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")

    ask = commands.add_parser("ask", help="answer one question with citations")
    ask.add_argument("question")
    ask.add_argument("--top-k", type=int)
    ask.add_argument("--date-from", help="YYYY-MM-DD")
    ask.add_argument("--date-to", help="YYYY-MM-DD")
    ask.add_argument("--source", action="append", default=[], help="only this source (repeatable)")
    ask.add_argument("--json", action="store_true", help="print the full JSON response")

    commands.add_parser("settings", help="print every setting with its default and help as a Markdown table")

    serve = commands.add_parser("serve", help="serve the API and the chat page")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--corpus", help="folder to ingest before serving (setting corpus_dir)")
    serve.add_argument("--no-ingest", action="store_true", help="serve the store as it is")
    add_eval_parser(commands)
    return parser


def add_eval_parser(commands) -> None:
    evaluate = commands.add_parser("eval", help="score answers and retrieval on a question set (eval/README.md)")
    evaluate.add_argument("--questions", required=True, metavar="FILE",
                          help="question set (.jsonl), e.g. eval/sets/fixture.jsonl")
    evaluate.add_argument("--out", required=True, metavar="DIR", help="folder for report.json and report.html")
    evaluate.add_argument("--corpus", dest="eval_corpus", action="append", default=[], metavar="PATH",
                          help="articles to ingest into a fresh temporary store (repeatable)")
    evaluate.add_argument("--reuse-store", action="store_true",
                          help="use the configured data_dir (adding any --corpus articles) instead of a fresh store")
    evaluate.add_argument("--server", metavar="URL", help="ask the server at this base URL instead (no ingestion)")
    evaluate.add_argument("--api-key", metavar="KEY",
                          help="API key for --server (default: the first of the api_keys setting)")
    evaluate.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    evaluate.add_argument("--top-k", type=int, default=10, metavar="K",
                          help="passages retrieved per question (default 10)")
    evaluate.add_argument("--baseline", metavar="FILE",
                          help="compare with this baseline; exit 1 when a gated metric drops")
    evaluate.add_argument("--write-baseline", metavar="FILE", help="write this run's metrics as the baseline file")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")


def settings_from_args(args: argparse.Namespace) -> Settings:
    return load_settings(args.config, data_dir=args.data_dir, host=getattr(args, "host", None),
                         port=getattr(args, "port", None), corpus_dir=getattr(args, "corpus", None))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
        configure_logging(settings.log_level)
        commands = {"ingest": run_ingest, "ask": run_ask, "serve": run_serve, "settings": run_settings,
                    "eval": run_eval}
        return commands[args.command](args, settings)
    except RagError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2 if isinstance(exc, (ConfigError, CorpusNotFound)) else 1  # 2: what was asked for is wrong
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader stopped early (`newsrag settings | head -1`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second failure at exit
        return 1


def _service(settings: Settings):
    from rag.service import build_service

    return build_service(settings)


def running_owner(settings: Settings):
    """The running server that owns the configured embedded store (rag/owner.py), or None: no such server, or
    a Chroma server (chroma_host), which any number of processes use."""
    from rag.owner import store_owner

    return None if settings.chroma_host else store_owner(settings.data_path)


def run_ingest(args, settings: Settings) -> int:
    missing = [path for path in args.paths if not Path(path).expanduser().exists()]
    if missing:  # before the model loads
        raise CorpusNotFound(f"not found: {', '.join(missing)}")
    owner = running_owner(settings)
    if owner is not None:  # a running server owns the embedded store: it writes, this process only reads files
        from cli.remote import ingest_through_server

        report = ingest_through_server(owner, args.paths, settings, prune=not args.no_prune)
    else:
        from rag.ingest import ingestion_settings

        service = _service(ingestion_settings(settings))
        report = service.ingest(args.paths, progress=not args.quiet, prune=not args.no_prune).to_dict()
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def format_report(report: dict) -> str:
    """IngestReport.to_dict() as a line, and a line for each file or record skipped."""
    lines = [f"ingested in {report['seconds']:.1f}s: {report['added']} added, {report['updated']} updated, "
             f"{report['removed']} removed, {report['unchanged']} unchanged; "
             f"{report['passages_written']} passages written"]
    lines += [f"skipped {skip['file']}: {skip['reason']}" for skip in report["skipped"]]
    return "\n".join(lines)


def run_ask(args, settings: Settings) -> int:
    """Answer here, or through the server that owns the store: the same answer, printed the same way."""
    from server.request_models import parsed, request_models

    filters = {"date_from": args.date_from, "date_to": args.date_to, "sources": args.source}
    # checked as the server checks it, before a model loads or a request goes out
    asked = parsed(request_models(settings).ask, {"question": args.question, "filters": filters, "top_k": args.top_k})
    owner = running_owner(settings)
    if owner is not None:
        from cli.remote import ask_through_server

        answer = ask_through_server(owner, args.question, filters, args.top_k, settings)
    else:
        answer = _service(settings).ask(**asked.query()).to_dict()
    print(json.dumps(answer, indent=2, ensure_ascii=False) if args.json else format_answer(answer))
    return 0


def format_answer(answer: dict) -> str:
    """Answer.to_dict() for a terminal: the short answer, the answer, then each citation with its passage."""
    lines = [f"Answer: {answer['short_answer']['text']}\n"] if answer.get("short_answer") else []
    lines.append(textwrap.fill(answer["answer"], 100))
    for c in answer["citations"]:
        lines.append(f"\n[{c['n']}] {c['title']} ({c['date'] or 'undated'}, {c['source'] or 'unknown source'}) "
                     f"article {c['article_id']}, characters {c['start']}-{c['end']}")
        lines.append(textwrap.indent(textwrap.fill(c["text"], 96), "    "))
    return "\n".join(lines)


def settings_table() -> str:
    rows = ["| setting | environment variable | default | what it does |", "|---|---|---|---|"]
    for name, default, help_text in setting_help():
        shown = "(empty)" if default == "" else str(default).lower() if isinstance(default, bool) else default
        rows.append(f"| `{name}` | `RAG_{name.upper()}` | `{shown}` | {help_text} |")
    return "\n".join(rows)


def run_settings(args, settings: Settings) -> int:
    print(settings_table())
    return 0


def run_serve(args, settings: Settings) -> int:
    """Serve; an embedded store is this process's alone while it runs (rag/owner.py): `newsrag ingest`
    sends its articles here."""
    from rag.owner import claim_store

    if settings.chroma_host:  # a Chroma server: any number of processes read and write it
        return serve(args, settings, announce=lambda url: None)
    with claim_store(settings.data_path) as claim:
        return serve(args, settings, announce=claim.announce)


def ingest_corpus(service, corpus: Path) -> None:
    if not corpus.exists():
        print(f"corpus folder {corpus} not found; serving the store as it is", flush=True)
        return
    try:
        print(format_report(service.ingest([corpus], progress=sys.stderr.isatty()).to_dict()), flush=True)
    except IngestLocked as exc:  # an ingestion started before this server: it is seen once it is done
        print(f"warning: {exc.message.split(';')[0]}; serving the store as it is, and what it ingests once it "
              "is done", file=sys.stderr, flush=True)


def served_url(host: str, port: int) -> str:
    """Where this machine reaches the server (a wildcard address through loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(args, settings: Settings, announce) -> int:
    from server import create_app
    from server.serving import build_server

    service = _service(settings)
    if not args.no_ingest:
        ingest_corpus(service, Path(settings.corpus_dir))
    service.retriever.keyword_index()  # loaded from data_dir/keyword when the store is unchanged
    health = service.health()
    print(f"{health['articles']} articles, {health['passages']} passages", flush=True)
    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.api_key_set:
        print(f"warning: listening on {settings.host} with no API keys: anyone who can reach this port can use "
              "the API (set api_keys, or put an authenticating proxy in front); it answers only to the host "
              "names in allowed_hosts (unset: loopback names)", file=sys.stderr, flush=True)
    server = build_server(create_app(service=service), settings)
    port = getattr(server, "effective_port", None) or server.effective_listen[0][1]
    announce(served_url(settings.host, port))
    print(f"serving on {served_url(settings.host, port)}/  (Ctrl+C stops)", flush=True)
    server.run()
    return 0


def run_eval(args, settings: Settings) -> int:
    from eval import report
    from eval.dataset import load_questions
    from eval.runner import evaluate_corpus, evaluate_server

    questions = load_questions(args.questions, args.limit)
    baseline = report.load_baseline(args.baseline) if args.baseline else None  # fail before a long run
    meta, progress = {"question_set": args.questions}, not args.quiet
    owner = running_owner(settings) if args.reuse_store and not args.server else None
    if args.server:
        api_key = args.api_key or min(settings.api_key_set, default=None)
        run = evaluate_server(args.server, questions, args.top_k, progress, meta, api_key=api_key)
    elif owner is not None:
        run = evaluate_through_owner(owner, args, settings, questions, meta)
    else:
        run = evaluate_corpus(settings, args.eval_corpus, questions, args.top_k, args.reuse_store, progress, meta)
    comparison = report.compare_to_baseline(run.overall, baseline) if baseline else []
    print(report.terminal_report(run, comparison))
    json_path, html_path = report.write_reports(run, args.out, comparison)
    print(f"\nreports: {json_path}  {html_path}")
    if args.write_baseline:
        print(f"baseline written: {report.write_baseline(run, args.write_baseline)}")
    worse = report.regressions(comparison)
    if worse:
        print(f"worse than the baseline {args.baseline}: {', '.join(worse)}", file=sys.stderr)
    return 1 if worse else 0


def evaluate_through_owner(owner, args, settings: Settings, questions, meta: dict):
    """eval --reuse-store while a server owns the store: its articles (and any --corpus sent to it first) are
    evaluated through that server, as `eval --server` does; opening the store here would read it stale."""
    from eval.runner import evaluate_server
    from cli.remote import ingest_through_server

    if not owner.url:
        raise StoreOwned(f"the store in {settings.data_dir} belongs to {owner.describe()}; evaluate again once "
                         "it serves")
    print(f"the store in {settings.data_dir} is served by {owner.describe()}: evaluating through it",
          file=sys.stderr, flush=True)
    ingest = ingest_through_server(owner, args.eval_corpus, settings, prune=False) if args.eval_corpus else None
    api_key = args.api_key or min(settings.api_key_set, default=None)
    extra = {"corpus": args.eval_corpus, "store": "reused", "ingest": ingest}
    return evaluate_server(owner.url, questions, args.top_k, not args.quiet, {**meta, **extra}, api_key=api_key)


if __name__ == "__main__":
    sys.exit(main())

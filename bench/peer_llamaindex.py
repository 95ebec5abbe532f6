"""Our pipeline beside the one a llama-index user would write: same articles, same model, same run.

The peer is the plain llama-index recipe: SentenceSplitter (its defaults: chunks of 1024 tiktoken tokens,
200 overlapping), the packaged all-MiniLM-L6-v2 through llama-index's HuggingFaceEmbedding (its default batch
of 10), a ChromaVectorStore in a fresh folder, VectorStoreIndex, and dense top-k retrieval
(index.as_retriever(similarity_top_k=k)). Each Document carries the article's id (left out of what is embedded)
and its title (embedded with the text, llama-index's default for metadata). Ours is `newsrag` ingestion into a
fresh store (spaCy analysis, passages of about 120 words, every passage and every sentence embedded) and our
retrieval (dense + BM25, fused) and whole answer.

The peer's embedding comes from an optional extra:

    .venv/bin/pip install -e .[bench]
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.peer_llamaindex --corpus ../shared/data/reuters21578.jsonl \\
        --articles 1000 --runs 3

Each run ingests the first N articles into a fresh store on each side (both models loaded once, before any
timing), then asks the known-item questions (one per article whose title is unique, built from the same N
articles by eval/make_known_item_set.py's rule) with no cached question embedding on either side. The side
that goes first alternates between runs. hit@1 / hit@k: the question's article is the first / among the
articles of the k passages retrieved (an article counted once, on both sides).

A last table explains the model-alone baseline of bench/ingest_throughput.py against the peer's embedding:
both text sets (ours: title + section + passage; the peer's: its nodes' embedded content) through both ways of
calling the model (ours: one encode call, batch 32, sorted by length over all texts; llama-index: encode calls
of 10 texts), with texts/s, word-piece tokens/s (after the model's truncation at 256) and the share of padding;
then what else our ingestion runs: the passages' sentences embedded, and spaCy's analysis with the chunking.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from bench.common import (median, percentile, print_load_at_end, print_machine, slice_jsonl,
                          spread, table)
from eval.make_known_item_set import known_item_records
from rag.analysis import Analyzer
from rag.config import load_settings
from rag.corpus import load_articles
from rag.embedding import resolve_model_path
from rag.ingest import Ingestor, embedding_text
from rag.service import build_embedder, build_service

INSTALL_HINT = ("the peer needs llama-index-embeddings-huggingface and llama-index-vector-stores-chroma: "
                ".venv/bin/pip install -e .[bench]")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help=".jsonl file of articles (read, never copied)")
    parser.add_argument("--articles", type=int, default=1000, help="the first N articles (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported (default 3)")
    parser.add_argument("--questions", type=int, default=400,
                        help="known-item questions drawn from the N articles (default 400)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the question sample (default 7)")
    parser.add_argument("--top-k", type=int, default=10, help="passages retrieved per question (default 10)")
    parser.add_argument("--peer-chunk-size", type=int, default=1024,
                        help="SentenceSplitter chunk_size in tokens (default 1024, llama-index's default)")
    parser.add_argument("--peer-chunk-overlap", type=int, default=200,
                        help="SentenceSplitter chunk_overlap in tokens (default 200, llama-index's default)")
    parser.add_argument("--work-dir", default=tempfile.gettempdir(), help="where the slice and stores go")
    parser.add_argument("--model-alone-runs", type=int, help="runs of the model-alone table (default: --runs)")
    parser.add_argument("--skip-pipelines", action="store_true",
                        help="only the model-alone table (no ingestion, no questions)")
    return parser.parse_args(argv)


def clear_chroma_cache() -> None:
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


# --- the peer: what a llama-index user writes ------------------------------------------------------------
def build_peer_embedding(model_name: str):
    """llama-index's HuggingFaceEmbedding over the same packaged model, with its defaults otherwise."""
    try:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    except ImportError:
        raise SystemExit(INSTALL_HINT) from None
    return HuggingFaceEmbedding(model_name=resolve_model_path(model_name), device="cpu")


def build_splitter(args):
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(chunk_size=args.peer_chunk_size, chunk_overlap=args.peer_chunk_overlap)


def documents_from_jsonl(path: Path) -> list:
    """One Document per record: the body as text, the id (not embedded) and the title as metadata."""
    from llama_index.core import Document

    documents = []
    with path.open() as handle:
        for line in handle:
            record = json.loads(line)
            documents.append(Document(text=record["body"], id_=str(record["id"]),
                                      metadata={"article_id": str(record["id"]), "title": record.get("title") or ""},
                                      excluded_embed_metadata_keys=["article_id"],
                                      excluded_llm_metadata_keys=["article_id"]))
    return documents


def peer_index(path: Path, folder: str, embed_model, splitter):
    """The index built from the file, in a fresh Chroma folder: (index, seconds, nodes)."""
    import chromadb
    from llama_index.core import StorageContext, VectorStoreIndex
    try:
        from llama_index.vector_stores.chroma import ChromaVectorStore
    except ImportError:
        raise SystemExit(INSTALL_HINT) from None

    started = time.perf_counter()
    documents = documents_from_jsonl(path)
    client = chromadb.PersistentClient(path=folder, settings=chromadb.Settings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("peer", embedding_function=None)
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    index = VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=embed_model,
                                            transformations=[splitter])
    seconds = time.perf_counter() - started
    return index, seconds, collection.count()


def peer_queries(index, questions: list[dict], top_k: int) -> dict:
    retriever = index.as_retriever(similarity_top_k=top_k)
    retriever.retrieve(questions[0]["question"])  # warm-up, not counted
    times, ranked = [], []
    for item in questions:
        started = time.perf_counter()
        nodes = retriever.retrieve(item["question"])
        times.append((time.perf_counter() - started) * 1000)
        ranked.append([n.node.metadata["article_id"] for n in nodes])
    return {"retrieve": times, "ranked": ranked}


# --- ours ----------------------------------------------------------------------------------------------------
def our_ingest(base, embedder, analyzer, path: Path, folder: str):
    """The service over a fresh store with the file ingested: (service, seconds, passages)."""
    service = build_service(base.replace(data_dir=folder), embedder, analyzer)
    started = time.perf_counter()
    report = service.ingest([path], progress=False)
    return service, time.perf_counter() - started, report.passages_written


def our_queries(service, questions: list[dict], top_k: int) -> dict:
    service.ask(questions[0]["question"], top_k=top_k)  # warm-up (the keyword index), not counted
    retrieve, total, ranked = [], [], []
    for item in questions:
        service.embedder.clear_cache()  # a cold question, as the peer's always is
        started = time.perf_counter()
        answer = service.ask(item["question"], top_k=top_k)
        total.append((time.perf_counter() - started) * 1000)
        retrieve.append(answer.timings_ms["retrieve"])
        ranked.append([p.article_id for p in answer.passages])
    return {"retrieve": retrieve, "total": total, "ranked": ranked}


# --- measures ------------------------------------------------------------------------------------------------
def hits(ranked: list[list[str]], questions: list[dict], k: int) -> float:
    """Share of questions whose article is among the first k distinct articles retrieved."""
    found = 0
    for articles, item in zip(ranked, questions):
        found += item["docs"][0] in list(dict.fromkeys(articles))[:k]
    return found / len(questions)


def one_run(run: int, args, sides: dict, path: Path, questions: list[dict]) -> dict:
    """Both sides, each into a fresh store; the side that goes first alternates with the run."""
    out = {}
    order = ["ours", "peer"] if run % 2 == 0 else ["peer", "ours"]
    with tempfile.TemporaryDirectory(dir=args.work_dir, prefix="bench-peer-") as folder:
        for side in order:
            target = str(Path(folder) / side)
            if side == "ours":
                service, seconds, passages = our_ingest(sides["settings"], sides["embedder"], sides["analyzer"],
                                                        path, target)
                out["ours"] = {"ingest": seconds, "passages": passages, **our_queries(service, questions, args.top_k)}
            else:
                index, seconds, passages = peer_index(path, target, sides["peer_embed"], sides["splitter"])
                out["peer"] = {"ingest": seconds, "passages": passages, **peer_queries(index, questions, args.top_k)}
            clear_chroma_cache()
    for side in order:
        r = out[side]
        answer = f", whole answer p50/p95 {percentile(r['total'], 50):.1f}/{percentile(r['total'], 95):.1f} ms" \
            if "total" in r else ""
        print(f"run {run + 1}, {side}: ingest {r['ingest']:.1f}s ({r['passages']} passages), retrieval p50/p95 "
              f"{percentile(r['retrieve'], 50):.1f}/{percentile(r['retrieve'], 95):.1f} ms{answer}, hit@1 "
              f"{hits(r['ranked'], questions, 1):.3f}, hit@{args.top_k} {hits(r['ranked'], questions, args.top_k):.3f}",
              flush=True)
    return out


def ingest_table(runs: list[dict], n_articles: int) -> str:
    rows = []
    for side, label in (("ours", "ours (newsrag ingest)"), ("peer", "peer (llama-index)")):
        seconds = [r[side]["ingest"] for r in runs]
        rows.append([label, median(seconds), spread(seconds), runs[-1][side]["passages"],
                     n_articles / median(seconds), runs[-1][side]["passages"] / median(seconds)])
    ratios = [r["ours"]["ingest"] / r["peer"]["ingest"] for r in runs]
    rows.append(["ours / peer (time)", f"{median(ratios):.2f}x", f"{min(ratios):.2f}x–{max(ratios):.2f}x",
                 "", "", ""])
    return table(["ingest, fresh store", "seconds (median)", "range", "passages", "articles/s", "passages/s"],
                 rows)


def query_table(runs: list[dict], questions: list[dict], top_k: int) -> str:
    columns = (("ours: retrieval", "ours", "retrieve"), ("ours: whole answer", "ours", "total"),
               ("peer: retrieval", "peer", "retrieve"))
    rows = []
    for label, side, key in columns:
        p50s = [percentile(r[side][key], 50) for r in runs]
        p95s = [percentile(r[side][key], 95) for r in runs]
        rows.append([label, median(p50s), spread(p50s), median(p95s),
                     f"{hits(runs[-1][side]['ranked'], questions, 1):.3f}",
                     f"{hits(runs[-1][side]['ranked'], questions, top_k):.3f}"])
    peer50 = median(percentile(r["peer"]["retrieve"], 50) for r in runs)
    peer95 = median(percentile(r["peer"]["retrieve"], 95) for r in runs)
    for label, key in (("retrieval", "retrieve"), ("whole answer", "total")):
        ours50 = median(percentile(r["ours"][key], 50) for r in runs)
        ours95 = median(percentile(r["ours"][key], 95) for r in runs)
        rows.append([f"ours/peer: {label}", f"{ours50 / peer50:.2f}x", "", f"{ours95 / peer95:.2f}x", "", ""])
    return table(["query (cold embedding)", "p50 ms (median)", "p50 range", "p95 ms", "hit@1", f"hit@{top_k}"],
                 rows)


def stable_hits(runs: list[dict], questions: list[dict], top_k: int) -> str:
    """hit@1/hit@k of every run, so a reader sees whether the rankings changed between stores."""
    parts = []
    for side in ("ours", "peer"):
        values = sorted({(round(hits(r[side]["ranked"], questions, 1), 4),
                          round(hits(r[side]["ranked"], questions, top_k), 4)) for r in runs})
        parts.append(f"{side}: " + ", ".join(f"{a:.3f}/{b:.3f}" for a, b in values))
    return "hit@1/hit@k over the runs (distinct values): " + "; ".join(parts)


# --- why the model-alone baseline is slower than the peer's embedding ------------------------------------------
def texts_embedded(chunked, documents, splitter) -> dict[str, list[str]]:
    """What each side embeds: our passages (as ingestion and the model-alone baseline embed them), the sentences
    of each passage (ingestion embeds them too), and the peer's nodes as its index embeds them."""
    from llama_index.core.schema import MetadataMode

    return {"ours": [embedding_text(a, c) for a, chunks in chunked for c in chunks],
            "sentences": [a.body[s.start:s.end] for a, chunks in chunked for c in chunks for s in c.sentences],
            "peer": [n.get_content(metadata_mode=MetadataMode.EMBED)
                     for n in splitter.get_nodes_from_documents(documents)]}


def token_counts(tokenizer, texts: list[str]) -> list[int]:
    """Word pieces per text ([CLS] and [SEP] included), before the model's truncation."""
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]]


def padded_tokens(texts: list[str], counts: list[int], call: int, batch: int) -> int:
    """Tokens the model computes, padding included: texts go to encode() `call` at a time, and each call sorts
    its texts by length (characters, as sentence-transformers does) and pads each batch to its longest."""
    total = 0
    for first in range(0, len(texts), call):
        group = sorted(range(first, min(first + call, len(texts))), key=lambda i: -len(texts[i]))
        for b in range(0, len(group), batch):
            members = group[b:b + batch]
            total += len(members) * max(counts[i] for i in members)
    return total


CELLS = [("ours", "ours"), ("ours", "peer"), ("peer", "ours"), ("peer", "peer"), ("sentences", "ours"),
         ("analysis", "ours")]
TEXT_LABEL = {"ours": "our passages: title+section+text", "peer": "peer chunks: title+text",
              "sentences": "our passages' sentences", "analysis": "spaCy analysis + chunking"}
CALLER_LABEL = {"ours": "ours: 1 call, batch 32", "peer": "llama-index: calls of 10"}


def model_alone_table(text_sets: dict, embedder, peer_embed, analyze, runs: int) -> str:
    """Both text sets through both callers (and what else our ingestion runs), in one process, the order turned
    around every run."""
    callers = {"ours": lambda texts: embedder.embed(texts),
               "peer": lambda texts: peer_embed.get_text_embedding_batch(texts)}
    seconds: dict[tuple, list[float]] = {cell: [] for cell in CELLS}
    for run in range(runs):
        for cell in (CELLS if run % 2 == 0 else CELLS[::-1]):
            started = time.perf_counter()
            analyze() if cell[0] == "analysis" else callers[cell[1]](text_sets[cell[0]])
            seconds[cell].append(time.perf_counter() - started)
    tokenizer, limit = embedder._model.tokenizer, embedder._model.max_seq_length
    shapes = {"ours": (10**9, embedder.batch_size), "peer": (peer_embed.embed_batch_size,) * 2}
    rows = []
    for texts_side, caller in CELLS:
        s = median(seconds[(texts_side, caller)])
        if texts_side == "analysis":
            rows.append([TEXT_LABEL[texts_side], "(no model)", "", "", "", s, spread(seconds[(texts_side, caller)]),
                         "", "", ""])
            continue
        texts = text_sets[texts_side]
        raw = token_counts(tokenizer, texts)
        counts = [min(c, limit) for c in raw]
        padded = padded_tokens(texts, counts, *shapes[caller])
        rows.append([TEXT_LABEL[texts_side], CALLER_LABEL[caller], len(texts), f"{sum(counts) / len(texts):.0f}",
                     f"{sum(c > limit for c in raw) / len(texts):.0%}", s, spread(seconds[(texts_side, caller)]),
                     len(texts) / s, f"{sum(counts) / s:,.0f}", f"{1 - sum(counts) / padded:.0%}"])
    return table(["texts", "model called as", "texts", "tokens/text", "truncated", "seconds (median)", "range",
                  "texts/s", "tokens/s", "padding"], rows)


def main(argv=None) -> int:
    args = parse_args(argv)
    print_machine()
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    path = slice_jsonl(Path(args.corpus), args.articles, Path(args.work_dir) / "bench-slices")
    settings = load_settings(env={}, max_article_bytes=10**9, max_top_k=max(20, args.top_k))
    articles = load_articles(path, settings.max_article_bytes).articles
    questions = known_item_records(articles, args.questions, args.seed)
    embedder = build_embedder(settings)
    peer_embed = build_peer_embedding(settings.embedding_model)
    embedder.embed(["warm up the model"])
    peer_embed.get_text_embedding("warm up the model")
    analyzer = Analyzer()
    analyzer.articles(["Warm up the analyzer."])
    splitter = build_splitter(args)
    sides = {"settings": settings, "embedder": embedder, "analyzer": analyzer, "peer_embed": peer_embed,
             "splitter": splitter}
    print(f"{len(articles)} articles from {path}; {len(questions)} known-item questions (seed {args.seed}); "
          f"top_k {args.top_k}; peer SentenceSplitter chunk_size {args.peer_chunk_size}, overlap "
          f"{args.peer_chunk_overlap}; embed batch ours {embedder.batch_size}, peer {peer_embed.embed_batch_size}; "
          f"{args.runs} runs", flush=True)
    if not args.skip_pipelines:
        runs = [one_run(run, args, sides, path, questions) for run in range(args.runs)]
        print()
        print(ingest_table(runs, len(articles)))
        print()
        print(query_table(runs, questions, args.top_k))
        print(stable_hits(runs, questions, args.top_k))
        print(flush=True)
    ingestor = Ingestor(None, embedder, analyzer, settings)
    text_sets = texts_embedded(ingestor.chunked(articles), documents_from_jsonl(path), splitter)
    print(model_alone_table(text_sets, embedder, peer_embed, lambda: ingestor.chunked(articles),
                            args.model_alone_runs or args.runs))
    print_load_at_end()
    return 0


if __name__ == "__main__":
    sys.exit(main())

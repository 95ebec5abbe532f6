"""Reports of an EvalRun: a terminal table, a JSON file, a self-contained HTML page with inline SVG plots,
and the baseline file that a test and `newsrag eval --baseline` compare against."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Sequence

from eval.metrics import LOWER_IS_BETTER, Sample
from eval.runner import EvalError, EvalRun

QUALITY_METRICS = ("correct", "accuracy", "token_f1", "short_em", "short_f1", "hit@1", "hit@4", "hit@10", "mrr@10", "recall@10",
                   "all_gold@10", "citations_valid", "citation_precision", "cited_sentences",
                   "refusal_accuracy", "false_refusal_rate")
GATED_METRICS = ("accuracy", "short_f1", "hit@1", "hit@4", "mrr@10", "refusal_accuracy")
TOLERANCE = 1e-9  # the pipeline is deterministic: a tie is a tie, anything lower is a regression
PER_QUESTION_ROWS = 60  # the terminal lists every question up to this many, then only the failures
COLORS = ("#2f6db5", "#e08a2c", "#3b9b5a", "#b04a7a")


# --- per-question rows --------------------------------------------------------------------------
def outcome(sample: Sample, score: dict) -> str:
    if sample.error:
        return "error"
    if sample.unanswerable:
        return "declined" if score["correctly_declined"] else "answered (should decline)"
    if score["accuracy"]:
        return "correct"
    return "declined (should answer)" if not sample.answered else "wrong"


def is_failure(sample: Sample, score: dict) -> bool:
    return outcome(sample, score) not in ("correct", "declined")


def question_rows(run: EvalRun) -> list[dict]:
    rows = []
    for question, sample, score in zip(run.questions, run.samples, run.scores):
        rows.append({**question.to_dict(), "outcome": outcome(sample, score), "short_answer": sample.short_answer,
                     "answer": sample.answer,
                     "answered": sample.answered, "error": sample.error,
                     "retrieved_articles": list(sample.ranked_ids),
                     "citations": [{"n": c.n, "article_id": c.article_id, "passage_id": c.passage_id}
                                   for c in sample.citations],
                     "scores": score, "timings_ms": sample.timings_ms})
    return rows


# --- baseline -----------------------------------------------------------------------------------
def baseline_from_run(run: EvalRun) -> dict:
    """What a committed baseline holds: the quality metrics (no timings, so an unchanged pipeline
    rewrites the same file) and the ids of the questions that fail."""
    return {"question_set": run.meta.get("question_set"), "top_k": run.meta.get("top_k"),
            "settings": run.meta.get("settings", {}),
            "metrics": {name: run.overall.get(name) for name in ("questions", *QUALITY_METRICS)},
            "failing": [s.question_id for s, sc in zip(run.samples, run.scores) if is_failure(s, sc)]}


def write_baseline(run: EvalRun, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(baseline_from_run(run), indent=2) + "\n", encoding="utf-8")
    return path


def load_baseline(path: str | Path) -> dict:
    try:
        baseline = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalError(f"baseline not found: {path} (write one with --write-baseline)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EvalError(f"baseline {path} is not valid JSON: {exc}") from None
    if not isinstance(baseline, dict) or not isinstance(baseline.get("metrics"), dict):
        raise EvalError(f"baseline {path} has no \"metrics\" object")
    return baseline


def compare_to_baseline(overall: dict, baseline: dict) -> list[dict]:
    """One row per quality metric in both: baseline, current, delta, and whether it got worse."""
    rows = []
    for name in QUALITY_METRICS:
        before, now = baseline.get("metrics", {}).get(name), overall.get(name)
        if before is None or now is None:
            continue
        delta = now - before
        worse = delta > TOLERANCE if name in LOWER_IS_BETTER else delta < -TOLERANCE
        rows.append({"metric": name, "baseline": before, "current": now, "delta": delta, "worse": worse,
                     "gated": name in GATED_METRICS})
    return rows


def regressions(comparison: Sequence[dict]) -> list[str]:
    return [row["metric"] for row in comparison if row["worse"] and row["gated"]]


# --- terminal -----------------------------------------------------------------------------------
def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def text_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    cells = [[str(h) for h in header]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)


def terminal_report(run: EvalRun, comparison: Sequence[dict] = ()) -> str:
    parts = [_question_table(run), "", _overall_table(run, comparison), "", _type_table(run), "",
             _latency_table(run)]
    if run.warnings:
        parts += ["", "warnings:"] + [f"  {w}" for w in run.warnings]
    return "\n".join(parts)


def _question_table(run: EvalRun) -> str:
    pairs = list(zip(run.samples, run.scores))
    shown = pairs if len(pairs) <= PER_QUESTION_ROWS else [p for p in pairs if is_failure(*p)]
    rows = [(s.question_id, s.type or "-", sc["first_gold_rank"], sc["hit@4"], sc["accuracy"], sc["token_f1"],
             sc["short_f1"], sc["citations_valid"], sc["citation_precision"], sc["cited_sentences"],
             round(s.timings_ms.get("total", 0.0)), outcome(s, sc)) for s, sc in shown]
    table = text_table(("id", "type", "gold rank", "hit@4", "accurate", "f1", "short f1", "cites ok", "cite prec",
                        "cited sent", "ms", "outcome"), rows)
    if len(shown) < len(pairs):
        table = f"{len(shown)} of {len(pairs)} questions failed (all are in report.json):\n" + table
    return table


def _overall_table(run: EvalRun, comparison: Sequence[dict]) -> str:
    versus = {row["metric"]: row for row in comparison}
    counts = (f"{run.overall['questions']} questions ({run.overall['answerable']} answerable, "
              f"{run.overall['unanswerable']} unanswerable, {run.overall['errors']} errors)")
    if not versus:
        return counts + "\n" + text_table(("metric", "value"), [(n, run.overall.get(n)) for n in QUALITY_METRICS])
    rows = []
    for name in QUALITY_METRICS:
        row = versus.get(name)
        extra = (row["baseline"], f"{row['delta']:+.3f}", _verdict(row)) if row else ("-", "", "")
        rows.append((name, run.overall.get(name), *extra))
    return counts + "\n" + text_table(("metric", "value", "baseline", "delta", ""), rows)


def _verdict(row: dict) -> str:
    if not row["worse"]:
        return ""
    return "WORSE (gated)" if row["gated"] else "worse"


def _type_table(run: EvalRun) -> str:
    rows = [(kind, m["questions"], m["correct"], m["accuracy"], m["hit@4"], m["mrr@10"], m["refusal_accuracy"])
            for kind, m in run.by_type.items()]
    return text_table(("type", "n", "correct", "accuracy", "hit@4", "mrr@10", "refusal acc"), rows)


def _latency_table(run: EvalRun) -> str:
    rows = [(stage, v["p50"], v["p95"], v["mean"]) for stage, v in run.latency_ms.items()]
    return text_table(("stage (ms)", "p50", "p95", "mean"), rows)


# --- JSON ---------------------------------------------------------------------------------------
def json_report(run: EvalRun, comparison: Sequence[dict] = ()) -> dict:
    return {"meta": run.meta, "overall": run.overall, "by_type": run.by_type, "latency_ms": run.latency_ms,
            "baseline_comparison": list(comparison), "warnings": run.warnings, "questions": question_rows(run)}


def write_reports(run: EvalRun, folder: str | Path, comparison: Sequence[dict] = ()) -> tuple[Path, Path]:
    """report.json and report.html in the folder (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "report.json", folder / "report.html"
    json_path.write_text(json.dumps(json_report(run, comparison), indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    html_path.write_text(html_report(run, comparison), encoding="utf-8")
    return json_path, html_path


# --- SVG plots ----------------------------------------------------------------------------------
def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{html.escape(title)}"><title>{html.escape(title)}</title>'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 11, extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" {extra}>'
            f"{html.escape(text)}</text>")


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    parts = []
    for i, name in enumerate(names):
        parts.append(f'<rect x="{x + i * 130:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{COLORS[i]}"/>')
        parts.append(_text(x + i * 130 + 14, y, name, anchor="start"))
    return parts


def bar_chart_svg(categories: Sequence[str], series: dict[str, Sequence[float | None]], title: str,
                  width: int = 760, height: int = 300) -> str:
    """Grouped bars of shares (0..1) per category; a missing value (None) draws no bar."""
    left, right, top, bottom = 44, 10, 34, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    body = _legend(list(series), left, 16)
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        body.append(_text(left - 6, y + 4, f"{tick:.0%}", anchor="end"))
    group = plot_w / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    for i, category in enumerate(categories):
        x0 = left + i * group + group * 0.1
        for j, values in enumerate(series.values()):
            if values[i] is None:
                continue
            h = plot_h * values[i]
            x, y = x0 + j * bar, top + plot_h - h
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.92:.1f}" height="{h:.1f}" '
                        f'fill="{COLORS[j % len(COLORS)]}"><title>{html.escape(category)}: '
                        f'{values[i]:.1%}</title></rect>')
        body.append(_text(left + (i + 0.5) * group, height - bottom + 16, category))
    return _svg(width, height, title, body)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least value (an axis end)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value)


def _ms(value: float) -> str:
    return "0" if value == 0 else f"{value:.1f}" if value < 10 else f"{value:.0f}"


def histogram_svg(values: Sequence[float], title: str, bins: int = 20, width: int = 760,
                  height: int = 260, unit: str = "ms", marks: dict[str, float | None] | None = None) -> str:
    """Counts of values in equal-width bins from 0 to the largest value, with optional marked lines."""
    left, right, top, bottom = 44, 10, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    high = nice_ceiling(max(values, default=0.0))
    counts = [0] * bins
    for value in values:
        counts[min(int(value / high * bins), bins - 1)] += 1
    peak = max(counts, default=0) or 1
    body = [f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#999"/>',
            _text(left - 6, top + 4, str(peak), anchor="end"), _text(left - 6, top + plot_h + 4, "0", anchor="end"),
            _text(14, top + plot_h / 2, "questions", size=10,
                  extra=f'transform="rotate(-90 14 {top + plot_h / 2:.1f})"')]
    step = plot_w / bins
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        body.append(f'<rect x="{left + i * step:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.95:.1f}" '
                    f'height="{h:.1f}" fill="{COLORS[0]}"><title>{_ms(high * i / bins)}-'
                    f'{_ms(high * (i + 1) / bins)} {unit}: {count}</title></rect>')
    for i in range(0, bins + 1, max(bins // 5, 1)):
        body.append(_text(left + i * step, height - bottom + 16, _ms(high * i / bins)))
    body.append(_text(width - right, height - 6, unit, anchor="end"))
    for k, (name, value) in enumerate((marks or {}).items()):
        if value is None:
            continue
        x = left + plot_w * value / high
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="{COLORS[k + 1]}" '
                    f'stroke-dasharray="4 3"/>')
        body.append(_text(x + 3, top + 10 + 12 * k, f"{name} {_ms(value)}", anchor="start"))
    return _svg(width, height, title, body)


def stage_latency_svg(latency: dict[str, dict], title: str, width: int = 760) -> str:
    """Horizontal bars per stage: p95 (light) behind p50 (dark), on one linear millisecond scale."""
    stages = [s for s, v in latency.items() if v.get("p95") is not None]
    left, right, row = 80, 70, 24
    height = 30 + row * len(stages)
    high = max((latency[s]["p95"] for s in stages), default=0.0) or 1.0
    scale = (width - left - right) / high
    body = _legend(["p50", "p95"], left, 14)
    for i, stage in enumerate(stages):
        y = 24 + i * row
        p50, p95 = latency[stage]["p50"], latency[stage]["p95"]
        body.append(_text(left - 6, y + 13, stage, anchor="end"))
        body.append(f'<rect x="{left}" y="{y + 2}" width="{p95 * scale:.1f}" height="16" fill="{COLORS[1]}"/>')
        body.append(f'<rect x="{left}" y="{y + 2}" width="{p50 * scale:.1f}" height="16" fill="{COLORS[0]}"/>')
        body.append(_text(left + p95 * scale + 4, y + 14, f"{_ms(p50)} / {_ms(p95)} ms", anchor="start"))
    return _svg(width, height, title, body)


# --- HTML ---------------------------------------------------------------------------------------
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
th,td{border-bottom:1px solid #e4e4e4;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.worse{color:#b00020;font-weight:600}.better{color:#1b7a3a}.fail{background:#fff3f3}
.meta{color:#555}.answer{max-width:460px}.small{font-size:12px;color:#666}svg{max-width:100%;height:auto}
"""


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def _html_table(header: Sequence[str], rows: Sequence[Sequence], numeric_from: int = 1,
                row_classes: Sequence[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for r, row in enumerate(rows):
        cells = "".join(f'<td class="num">{_fmt(v)}</td>' if i >= numeric_from else f"<td>{_fmt(v)}</td>"
                        for i, v in enumerate(row))
        css = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _overall_html(run: EvalRun, comparison: Sequence[dict]) -> str:
    versus = {row["metric"]: row for row in comparison}
    rows, classes = [], []
    for name in QUALITY_METRICS:
        row = versus.get(name)
        rows.append((name, run.overall.get(name), row["baseline"] if row else None,
                     f"{row['delta']:+.3f}" if row else None))
        classes.append("worse" if row and row["worse"] else "better" if row and abs(row["delta"]) > 1e-9 else "")
    return _html_table(("metric", "value", "baseline", "delta"), rows, row_classes=classes)


def _questions_html(run: EvalRun) -> str:
    rows, classes = [], []
    for question, sample, score in zip(run.questions, run.samples, run.scores):
        answer = sample.error or sample.answer
        total = sample.timings_ms.get("total")
        rows.append((question.id, question.type or "", question.question, outcome(sample, score), answer,
                     " | ".join(question.answers), " ".join(question.docs), " ".join(sample.ranked_ids[:4]),
                     score["first_gold_rank"], score["token_f1"], None if total is None else round(total)))
        classes.append("fail" if is_failure(sample, score) else "")
    header = ("id", "type", "question", "outcome", "answer", "accepted", "gold docs", "retrieved (top 4)",
              "gold rank", "f1", "ms")
    return _html_table(header, rows, numeric_from=8, row_classes=classes)


def _plots_html(run: EvalRun) -> str:
    kinds = list(run.by_type)
    labels = [f"{k} ({run.by_type[k]['questions']})" for k in kinds]
    series = {name: [run.by_type[k][name] for k in kinds] for name in ("correct", "accuracy", "hit@4")}
    totals = [s.timings_ms["total"] for s in run.samples if "total" in s.timings_ms]
    total = run.latency_ms.get("total", {})
    return (bar_chart_svg(labels, series, "Score by question type")
            + "<h3>Latency distribution (total per question)</h3>"
            + histogram_svg(totals, "Total latency per question", marks={"p50": total.get("p50"),
                                                                           "p95": total.get("p95")})
            + "<h3>Latency per stage</h3>" + stage_latency_svg(run.latency_ms, "p50 and p95 per stage"))


def html_report(run: EvalRun, comparison: Sequence[dict] = ()) -> str:
    """One HTML file with no external resources: tables and inline SVG plots."""
    meta = " · ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in run.meta.items()
                      if not isinstance(v, dict))
    types = [(k, m["questions"], m["correct"], m["accuracy"], m["hit@4"], m["mrr@10"], m["refusal_accuracy"],
              m["citation_precision"]) for k, m in run.by_type.items()]
    latency = [(stage, v["p50"], v["p95"], v["mean"], v["n"]) for stage, v in run.latency_ms.items()]
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in run.warnings)
    return "\n".join([
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>newsrag evaluation: {html.escape(str(run.meta.get('question_set', '')))}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>newsrag evaluation</h1>", f'<p class="meta">{meta}</p>',
        f"<p>{run.overall['questions']} questions: {run.overall['answerable']} answerable, "
        f"{run.overall['unanswerable']} unanswerable, {run.overall['errors']} errors.</p>",
        f"<ul>{warnings}</ul>" if warnings else "",
        "<h2>Overall</h2>", _overall_html(run, comparison),
        "<h2>Plots</h2>", _plots_html(run),
        "<h2>By question type</h2>",
        _html_table(("type", "n", "correct", "accuracy", "hit@4", "mrr@10", "refusal acc", "cite prec"), types),
        "<h2>Latency (ms)</h2>", _html_table(("stage", "p50", "p95", "mean", "n"), latency),
        "<h2>Questions</h2>", _questions_html(run),
        '<p class="small">accuracy: an accepted answer appears in the answer (case- and space-insensitive); '
        "retrieval metrics rank the articles of the retrieved passages; see eval/README.md.</p>",
        "</body></html>"])

"""Evaluation harness: question sets (jsonl), metrics, a runner (in process or over HTTP) and reports.

    newsrag eval --corpus tests/fixtures/articles --questions eval/sets/fixture.jsonl --out reports/fixture

See eval/README.md for the question-set format, the metrics and how to update a baseline.
"""

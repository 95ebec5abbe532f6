"""The command line's failures: one line `error: …` on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main

ROOT = Path(__file__).resolve().parent.parent


def test_ingest_of_a_missing_path_is_one_line_and_status_2(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "data"), "ingest", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nowhere" in err and err.count("\n") == 1


@pytest.mark.parametrize("arguments, message", [(["   "], "the question is empty"),
                                                 (["x" * 2001], "the question is 2001 characters; the limit is 2000"),
                                                 (["Who?", "--top-k", "0"], "'top_k' must be a whole number from 1"),
                                                 (["Who?", "--date-from", "March"], "'date_from' of 'filters'")])
def test_a_bad_question_is_one_line_and_status_1(tmp_path, capsys, arguments, message):
    """Checked by the server's request model before a model loads or a request goes out."""
    assert main(["--data-dir", str(tmp_path / "data"), "ask", *arguments]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("name, value", [("RAG_LOG_LEVEL", "LOUD"), ("RAG_LLM_TIMEOUT", "nan"),
                                         ("RAG_KEYWORD_WEIGHT", "-inf"), ("RAG_MIN_ANSWER_SCORE", "-0.5"),
                                         ("RAG_CHUNK_OVERLAP_SENTENCES", "-1"), ("RAG_PORT", "70000")])
def test_a_bad_setting_is_one_line_and_status_2(monkeypatch, capsys, name, value):
    monkeypatch.setenv(name, value)
    assert main(["settings"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: setting") and err.count("\n") == 1


def test_output_closed_early_is_no_traceback():
    """`newsrag settings | head -1`: the reader is gone before the table is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "cli", "settings"], stdout=write_end, stderr=subprocess.PIPE,
                          cwd=ROOT, env=env, text=True, timeout=120)
    os.close(write_end)
    assert "Traceback" not in done.stderr and done.returncode == 1, done.stderr

"""Shared pieces of the benchmarks: the machine they ran on, medians over runs, tables, a server process."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterable, Sequence

from rag.config import offline_environment

offline_environment()  # each benchmark is an entry point: set before anything loads torch

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = Path(__file__).resolve().parent / "reuters_questions.txt"


def machine() -> dict:
    """What the figures came from, and how busy the machine was while they were taken."""
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "load_average": os.getloadavg()}


def print_machine(info: dict | None = None) -> None:
    info = info or machine()
    load = ", ".join(f"{x:.2f}" for x in info["load_average"])
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; Python {info['python']}, "
          f"torch {info['torch']} ({info['torch_threads']} threads); load average at start {load}")


def print_load_at_end() -> None:
    print("load average at end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (readable in a terminal, pasteable into BENCHMARKS.md)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    line = lambda values: "| " + " | ".join(str(v).ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    return str(value)


def spread(values: Sequence[float]) -> str:
    return f"{_cell(min(values))}–{_cell(max(values))}"


def load_questions(path: Path = QUESTIONS) -> list[str]:
    """A text file (a question a line, # comments) or a question set (.jsonl with a question field)."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if path.suffix == ".jsonl":
        return [json.loads(line)["question"] for line in lines]
    return [line for line in lines if not line.startswith("#")]


def slice_jsonl(source: Path, n: int, folder: Path) -> Path:
    """The first n articles of a .jsonl file, written once to folder (never into the repository)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{source.stem}-{n}.jsonl"
    if not target.exists():
        with source.open() as handle, target.open("w") as out:
            for number, line in enumerate(handle):
                if number >= n:
                    break
                out.write(line)
    return target


def bench_env(**settings: object) -> dict:
    """Environment for a child process: offline, with RAG_* settings (large files allowed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                "TOKENIZERS_PARALLELISM": "false", "RAG_MAX_ARTICLE_BYTES": "200000000"})
    env.update({f"RAG_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, timeout: float = 10.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def post_json(url: str, body: dict, timeout: float = 60.0) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


class ServerProcess:
    """`newsrag serve --no-ingest` (waitress) or gunicorn on loopback, started and stopped by this object."""

    def __init__(self, data_dir: str, kind: str = "waitress", workers: int = 2, threads: int = 4,
                 start_timeout: float = 600.0, **settings: object):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = {"rate_limit_per_minute": 0, **settings}  # measuring the server, not its per-client limit
        env = bench_env(data_dir=data_dir, port=self.port, host="127.0.0.1", threads=threads,
                        log_level="WARNING", **settings)
        python = sys.executable
        if kind == "gunicorn":
            command = [python, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                       "--threads", str(threads), "--timeout", "120", "server.wsgi:app"]
        else:
            command = [python, "-m", "cli", "serve", "--no-ingest"]
        self.started = time.perf_counter()
        # the server's log goes to a file: a pipe nobody reads fills up under load and blocks the server
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=self.log, text=True)
        self.start_seconds = self._wait_ready(start_timeout)

    def _wait_ready(self, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log.read()[-4000:]}")
            try:
                if get_json(f"{self.url}/api/ready", timeout=2).get("ready"):
                    return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not ready within {timeout:.0f}s")

    def pids(self) -> list[int]:
        """The server process and its children (gunicorn workers)."""
        found = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            found += [int(p) for p in children.read_text().split()]
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of a live process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values

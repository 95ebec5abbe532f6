"""A non-editable install: the wheel carries every package and the chat page, and serves it from where it is
installed, far from this checkout."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
from pathlib import Path
import cli.main, eval.runner, rag.service, server.app, web
from rag.config import load_settings
from server import create_app

site = Path(sys.argv[1]).resolve()
for module in (cli.main, eval.runner, rag.service, server.app, web):
    assert site in Path(module.__file__).resolve().parents, module.__file__
client = create_app(load_settings(env={}, data_dir=sys.argv[2])).test_client()
page, script = client.get("/"), client.get("/static/app.js")
assert page.status_code == 200 and b"<html" in page.data.lower(), page.status_code
assert script.status_code == 200 and b"function" in script.data, script.status_code
print("served from", server.app.WEB_DIR)
"""


def test_an_installed_wheel_serves_the_page_from_its_own_files(tmp_path):
    source = tmp_path / "source"  # a copy: setuptools builds in the tree, and an old build/ would hide a gap
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("newsrag-*.whl"))
    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                                str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    run = subprocess.run([sys.executable, "-c", PROBE, str(site), str(tmp_path / "data")], cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1",
                              "HOME": str(tmp_path)}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert str(site) in run.stdout

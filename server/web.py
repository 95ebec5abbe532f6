"""The chat page: static files from web/, no build step."""

from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

web = Blueprint("web", __name__)


@web.get("/")
def index():
    return send_from_directory(current_app.extensions["web_dir"], "index.html", max_age=0)


@web.get("/static/<path:filename>")
def static_file(filename: str):
    return send_from_directory(current_app.extensions["web_dir"] / "static", filename, max_age=300)

"""The chat page: index.html and static/, package data served by server/web.py."""

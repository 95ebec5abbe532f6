"""Flask front end: JSON API and the chat page."""
from server.app import create_app

__all__ = ["create_app"]

"""Flask front end: JSON API and the chat page. Importing the package loads nothing more: an entry point
(server.wsgi, the CLI) sets the process up before the app's modules import spaCy and torch."""


def __getattr__(name: str):
    if name == "create_app":
        from server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["create_app"]

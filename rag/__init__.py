"""Question answering over a corpus of news articles, with cited passages."""

"""POST /api/ask as server-sent events: passages, tokens, the answer, citations, done — in that order."""

import json


def read_events(response) -> list[tuple[str, dict]]:
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events = []
    for frame in response.get_data(as_text=True).strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_stream_sends_passages_tokens_answer_citations_done(client):
    response = client.post("/api/ask", json={"question": "Who did Ilse Varga meet in Amberlin?", "stream": True})
    events = read_events(response)
    names = [name for name, _ in events]
    assert names[0] == "passages" and names[-3:] == ["answer", "citations", "done"]
    assert set(names[1:-3]) == {"token"}
    tokens = "".join(data["text"] for name, data in events if name == "token")
    final = dict(events)["answer"]
    assert " ".join(tokens.split()) == " ".join(final["answer"].split())
    assert "Dario Kellan" in final["answer"] and final["answered"] is True
    passages = {p["passage_id"] for p in dict(events)["passages"]["passages"]}
    citations = dict(events)["citations"]["citations"]
    assert citations and {c["passage_id"] for c in citations} <= passages
    assert dict(events)["done"]["timings_ms"]["total"] > 0


def test_accept_header_alone_asks_for_a_stream(client):
    response = client.post("/api/ask", json={"question": "How much rain fell in the Tamsel valley?"},
                           headers={"Accept": "text/event-stream"})
    events = dict(read_events(response))
    assert "212 millimetres" in events["answer"]["answer"]


def test_bad_input_is_a_json_error_not_a_stream(client):
    response = client.post("/api/ask", json={"question": "", "stream": True})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"
    response = client.post("/api/ask", json={"question": "ok", "stream": "yes"})
    assert response.status_code == 400 and "stream" in response.get_json()["error"]["message"]


def test_json_stays_the_default(client):
    response = client.post("/api/ask", json={"question": "Who is the mayor of Merrowick?"},
                           headers={"Accept": "application/json, text/event-stream"})
    assert response.mimetype == "application/json" and "Clara Ventis" in response.get_json()["answer"]


def test_failure_mid_stream_is_an_error_event_without_internals(corpus_service):
    from server.app import create_app
    from tests.conftest import FailingService

    s = corpus_service
    client = create_app(service=FailingService(s.settings, s.store, s.embedder, s.retriever, s.answerer)).test_client()
    events = read_events(client.post("/api/ask", json={"question": "Who is the mayor of Merrowick?", "stream": True}))
    assert [name for name, _ in events] == ["passages", "error"]
    error = events[-1][1]["error"]
    assert error["status"] == 500 and "simulated" not in error["message"]

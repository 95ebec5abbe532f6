"""Reading articles from files: formats, headers, ids, and a clear reason for every file skipped."""

import json

import pytest

from rag.corpus import load_articles
from tests.conftest import ARTICLES


def test_fixture_corpus_loads_every_format():
    result = load_articles(ARTICLES)
    by_id = {a.id: a for a in result.articles}
    assert result.skipped == []
    assert set(by_id) == {"harbor-accord", "harbor-accord-followup", "grain-harvest", "rail-strike",
                          "jsonl-solar-farm", "jsonl-museum-theft", "json-river-flood"}
    plain = by_id["harbor-accord"]
    assert plain.date is None and plain.body.startswith("Ostmere's Vice Foreign Minister Ilse Varga")
    dated = by_id["harbor-accord-followup"]
    assert dated.date == "2025-03-14"
    assert dated.title == "Ostmere and Serevia sign Halvik rail deal as business delegation joins talks"
    assert dated.body.startswith("Ostmere and Serevia signed")  # header and title line are not body
    markdown = by_id["grain-harvest"]
    assert (markdown.source, markdown.date) == ("Valdoria Farm Wire", "2025-06-02")
    assert markdown.title.startswith("Valdoria brings in record grain harvest") and "#" not in markdown.title
    headed = by_id["rail-strike"]
    assert headed.url == "https://example.org/rail-strike" and headed.source == "Northern Courier"
    assert by_id["json-river-flood"].date == "2024-10-09"


def test_seed_style_date_header_without_colon(tmp_path):
    (tmp_path / "second.txt").write_text("date 1987-02-26\nCOCOA REVIEW\n\nShowers continued in Bahia.\n")
    [article] = load_articles(tmp_path).articles
    assert (article.id, article.date, article.title, article.body) == (
        "second", "1987-02-26", "COCOA REVIEW", "Showers continued in Bahia.")


def test_plain_article_keeps_its_first_sentence_and_gets_a_title(tmp_path):
    (tmp_path / "first.txt").write_text("Date palms were planted in the valley. Farmers were pleased.\n")
    [article] = load_articles(tmp_path).articles
    assert article.date is None  # "Date palms" is not a date header
    assert article.body.startswith("Date palms were planted")
    assert article.title.startswith("Date palms")


def test_bad_files_are_reported_by_name_and_the_rest_load(tmp_path):
    (tmp_path / "good.txt").write_text("A good article with a body.")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 society".encode("latin-1"))
    (tmp_path / "picture.png").write_bytes(b"\x89PNG")
    (tmp_path / "huge.txt").write_text("word " * 1000)
    lines = [json.dumps({"id": "ok-1", "title": "Fine", "body": "Fine body."}), "{not json",
             json.dumps({"id": "no-body", "title": "Missing"}),
             json.dumps({"id": "bad-date", "body": "x", "published_at": "yesterday"})]
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines))
    result = load_articles(tmp_path, max_bytes=2000)
    assert sorted(a.id for a in result.articles) == ["good", "ok-1"]
    reasons = dict(result.skipped) | {f"{f}:{r[:9]}": r for f, r in result.skipped}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "unsupported file type .png" in reasons["picture.png"]
    assert "limit" in reasons["huge.txt"]
    mixed = [r for f, r in result.skipped if f == "mixed.jsonl"]
    assert len(mixed) == 3 and any("not valid JSON" in r for r in mixed)
    assert any("body" in r for r in mixed) and any("date" in r for r in mixed)
    assert str(tmp_path / "mixed.jsonl") in result.unclean


def test_duplicate_ids_are_reported(tmp_path):
    record = json.dumps({"id": "same", "body": "One."})
    (tmp_path / "a.jsonl").write_text(record + "\n" + record + "\n")
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["same"]
    assert "already used" in result.skipped[0][1]


def test_content_hash_changes_with_content_only(tmp_path):
    (tmp_path / "a.txt").write_text("Body one.")
    first = load_articles(tmp_path).articles[0].content_hash
    assert load_articles(tmp_path).articles[0].content_hash == first
    (tmp_path / "a.txt").write_text("Body two.")
    assert load_articles(tmp_path).articles[0].content_hash != first


@pytest.mark.parametrize("raw, iso", [
    ("2025-03-14", "2025-03-14"), ("2025-03-14T09:30:00Z", "2025-03-14"),
    ("31-MAR-1987 605:12:19.12", "1987-03-31"),  # as in Reuters-21578 record 15245
    ("2-APR-1987 01:53:30.00", "1987-04-02"), ("31 March 1987", "1987-03-31"),
    ("Tue, 31 Mar 1987 12:19:00 GMT", "1987-03-31"),
])
def test_dates_in_common_forms_are_read(raw, iso):
    from rag.corpus import parse_date

    assert parse_date(raw) == iso


@pytest.mark.parametrize("raw", ["next Tuesday", "31-FOO-1987", "2025-13-40"])
def test_an_unreadable_date_is_reported(raw):
    from rag.corpus import SkipFile, parse_date

    with pytest.raises(SkipFile, match="unreadable date"):
        parse_date(raw)


def test_a_jsonl_collection_is_limited_per_article_not_per_file(tmp_path):
    body = "The council met on Monday and approved the budget for the new harbour. " * 20
    lines = [json.dumps({"id": f"a{n}", "title": f"Article {n}", "body": body}) for n in range(40)]
    lines.insert(5, json.dumps({"id": "huge", "title": "Huge", "body": body * 100}))
    lines.insert(9, b"\xff\xfe not utf-8".decode("latin-1"))
    (tmp_path / "many.jsonl").write_bytes("\n".join(lines).encode("utf-8").replace("ÿþ".encode(), b"\xff\xfe"))
    limit = len(lines[0]) * 3  # the file is about 14 times this
    result = load_articles(tmp_path, max_bytes=limit)
    assert len(result.articles) == 40
    reasons = dict(result.skipped)
    assert list(reasons) == ["many.jsonl"] and len(result.skipped) == 2
    assert any("record 6:" in r and "over the" in r for _, r in result.skipped)
    assert any("record 10:" in r and "UTF-8" in r for _, r in result.skipped)


def test_a_record_with_a_lone_surrogate_is_skipped_and_the_rest_load(tmp_path):
    bad = '{"id": "bad", "title": "Broken \\ud800 text", "body": "A body."}'  # valid JSON, not valid text
    (tmp_path / "many.jsonl").write_text(bad + "\n" + json.dumps({"id": "good", "body": "Fine."}) + "\n")
    (tmp_path / "list.json").write_text('[{"id": "bad-too", "body": "x \\udfff"}, {"id": "fine", "body": "Ok."}]')
    result = load_articles(tmp_path)
    assert sorted(a.id for a in result.articles) == ["fine", "good"]
    assert {f for f, _ in result.skipped} == {"many.jsonl", "list.json"}
    assert all("surrogate" in reason for _, reason in result.skipped)


def test_a_json_file_is_limited_per_record(tmp_path):
    small = {"id": "small", "body": "The harbour reopened on Monday."}
    (tmp_path / "single.json").write_text(json.dumps({"id": "big", "body": "word " * 700}))  # 3,5 KB
    (tmp_path / "list.json").write_text(json.dumps([{"id": "big-too", "body": "word " * 700}, small]))
    result = load_articles(tmp_path, max_bytes=2000)
    assert [a.id for a in result.articles] == ["small"]
    assert all("over the 2000-byte limit" in reason for _, reason in result.skipped)
    assert sorted(f for f, _ in result.skipped) == ["list.json", "single.json"]


def test_links_that_leave_the_folder_loop_or_dangle_are_reported_and_not_followed(tmp_path):
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    (corpus / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("A secret that is not part of the corpus.")
    (corpus / "real.txt").write_text("A real article in the corpus.")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "secret.txt").symlink_to(outside / "secret.txt")
    (corpus / "elsewhere").symlink_to(outside)
    (corpus / "sub" / "again").symlink_to(corpus)
    (corpus / "loop-a.txt").symlink_to(corpus / "loop-b.txt")
    (corpus / "loop-b.txt").symlink_to(corpus / "loop-a.txt")
    (corpus / "gone.txt").symlink_to(corpus / "missing.txt")
    (corpus / "alias.txt").symlink_to(corpus / "real.txt")  # inside the folder: read
    result = load_articles(corpus)
    assert sorted(a.id for a in result.articles) == ["alias", "real"]
    reasons = dict(result.skipped)
    assert set(reasons) == {"passwd.txt", "secret.txt", "elsewhere", "sub/again", "loop-a.txt", "loop-b.txt",
                            "gone.txt"}
    assert "outside the corpus" in reasons["passwd.txt"] and "outside the corpus" in reasons["elsewhere"]
    assert "loop" in reasons["loop-a.txt"] and "does not exist" in reasons["gone.txt"]
    assert "folder" in reasons["sub/again"]


def lock_folder(folder, monkeypatch):
    """Make a folder unreadable as `chmod 000` does: it cannot be listed and nothing in it can be looked at
    (done in Python, because the tests may run as root, whom chmod does not stop)."""
    import errno
    import os

    def refused(path):
        path = os.fspath(path)
        return path == str(folder) or path.startswith(f"{folder}/")

    for name, only_inside in (("scandir", False), ("stat", True)):
        real = getattr(os, name)

        def guarded(path=".", *args, _real=real, _inside=only_inside, **kwargs):
            if refused(path) and not (_inside and os.fspath(path) == str(folder)):
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(os, name, guarded)


def test_an_unreadable_folder_is_reported_and_the_rest_load(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "inside.txt").write_text("An article in a folder that turns unreadable.")
    (tmp_path / "open.txt").write_text("An article that can be read.")
    lock_folder(tmp_path / "locked", monkeypatch)
    result = load_articles(tmp_path)
    assert [a.id for a in result.articles] == ["open"]
    assert result.skipped == [("locked", "cannot read folder: Permission denied")]
    assert str(tmp_path / "locked") in result.unclean


def test_a_missing_path_is_a_clear_error(tmp_path):
    from rag.errors import CorpusNotFound

    with pytest.raises(CorpusNotFound, match="not found"):
        load_articles(tmp_path / "nowhere")

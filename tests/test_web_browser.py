"""The chat page end to end: Debian's headless Chromium, driven by Playwright, against the real server."""

import pytest

playwright = pytest.importorskip("playwright.sync_api", reason="install the test extra: scripts/test does")
pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
QUESTION = "Who did Ilse Varga meet in Amberlin?"


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(live_server + "/")
    yield page
    context.close()


def ask(page, question):
    page.fill("#question", question)
    page.keyboard.press("Enter")
    page.locator("#send:enabled").wait_for()  # the page's CSP forbids wait_for_function's eval


def test_answer_with_citation_passage_and_whole_article(page, live_server):
    ask(page, QUESTION)
    answer = page.locator(".message.assistant").last
    assert "Dario Kellan" in answer.locator(".short-answer").inner_text()  # the short answer comes first
    assert "Dario Kellan" in answer.locator(".answer-text").inner_text()
    marker = answer.locator("a.marker").first
    assert marker.inner_text() == "[1]"
    marker.click()
    card = answer.locator(".source details").first
    assert card.get_attribute("open") is not None
    highlight = card.locator("mark", has_text="Dario Kellan")  # one of the cited sentences it highlights
    assert highlight.is_visible() and highlight.locator(".short-span").inner_text() == "Dario Kellan"
    card.get_by_role("button", name="Open article").click()
    dialog = page.locator("dialog#article")
    dialog.locator("mark").wait_for()
    assert dialog.is_visible()
    assert "Dario Kellan" in dialog.locator("mark").inner_text()
    assert "Kellan" in dialog.locator("mark .short-span").inner_text()  # the short answer, marked in the source
    assert dialog.locator("#article-body").inner_text().startswith(("Ostmere", "Varga"))
    assert all(url.startswith(live_server) or url.startswith("data:") for url in page.requests)


def test_conversation_survives_reload_and_can_be_cleared(page):
    ask(page, QUESTION)
    page.reload()
    assert page.locator(".message.user").first.inner_text() == QUESTION
    assert "Dario Kellan" in page.locator(".message.assistant").first.inner_text()
    page.click("#clear")
    assert page.locator(".message").count() == 0
    page.reload()
    assert page.locator(".message").count() == 0


def test_unanswerable_question_says_the_corpus_does_not_hold_it(page):
    ask(page, "Who won the national football cup final?")
    answer = page.locator(".message.assistant").last
    assert "Not in the corpus" in answer.inner_text()
    assert answer.locator("a.marker").count() == 0


def test_a_misspelled_name_is_answered_and_the_page_says_how_it_was_read(page):
    ask(page, "Who did Ilse Varga meet in Amberlim?")
    answer = page.locator(".message.assistant").last
    assert "Dario Kellan" in answer.locator(".short-answer").inner_text()
    assert answer.locator(".notice").inner_text() == 'Read "Amberlim" as "Amberlin", as the articles spell it.'


def test_follow_up_sends_history_and_filters(page):
    ask(page, QUESTION)
    page.click("#filters summary")
    page.select_option("#source", "Northern Courier")
    with page.expect_request("**/api/ask") as request_info:
        ask(page, "How many workers went on strike?")
    body = request_info.value.post_data_json
    assert body["history"][0] == {"role": "user", "content": QUESTION}
    assert body["history"][1]["role"] == "assistant" and "Dario Kellan" in body["history"][1]["content"]
    assert body["filters"] == {"sources": ["Northern Courier"]}
    assert "18,000" in page.locator(".message.assistant").last.inner_text()


def test_enter_sends_shift_enter_adds_a_line_and_empty_does_not_send(page):
    page.focus("#question")
    page.keyboard.press("Enter")
    assert page.locator(".message").count() == 0
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    assert page.input_value("#question") == "first line\nsecond line"
    assert page.locator(".message").count() == 0


def test_sending_is_disabled_while_waiting(page):
    page.route("**/api/ask", lambda route: (page.wait_for_timeout(600), route.continue_()))
    page.fill("#question", QUESTION)
    page.keyboard.press("Enter")
    assert page.is_disabled("#send") and page.is_disabled("#question")
    assert page.locator("#thinking").is_visible()
    page.locator("#send:enabled").wait_for()
    assert page.locator("#thinking").is_hidden()


def test_server_failure_shows_an_error_and_allows_retry(browser, failing_live_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(failing_live_server + "/")
    ask(page, QUESTION)
    error = page.locator(".message.error [role=alert]")
    assert "internal error" in error.inner_text() and "(500)" in error.inner_text()
    assert page.is_enabled("#question")
    assert error.get_by_role("button", name="Try again").is_visible()
    context.close()


def test_phone_width_has_no_horizontal_scroll_and_dark_mode_applies(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 800}, color_scheme="dark")
    page = context.new_page()
    page.goto(live_server + "/")
    ask(page, QUESTION)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 21, 23)"
    context.close()


def test_article_text_is_shown_as_text_never_as_markup(page):
    script = page.evaluate("""async () => {
        const source = await (await fetch('/static/app.js')).text();
        return /innerHTML|outerHTML|insertAdjacentHTML|document\\.write/.test(source);
    }""")
    assert script is False


HOSTILE = """title: Quillby bridge <img src=x onerror="window.__pwned='title'"> opens <b>early</b>
source: <script>window.__pwned='source'</script>Evil Wire
date: 2025-05-05

The mayor of Quillby, Orla Fenwick, opened the new river bridge on Tuesday <script>window.__pwned='body'</script> \
after two years of work. The bridge <img src=x onerror="window.__pwned='img'"> carries four lanes of traffic \
and cost 41 million crowns, Fenwick said.

Residents lined both banks to watch the opening, and a brass band played <a href="javascript:window.__pwned='link'">here</a>.
"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, embedder):
    """A server with API keys required whose only article is full of markup and script."""
    from rag.service import build_service
    from server import create_app
    from tests.conftest import _serve, clear_chroma_cache, make_settings

    root = tmp_path_factory.mktemp("hostile")
    (root / "articles").mkdir()
    (root / "articles" / "quillby-bridge.txt").write_text(HOSTILE)
    service = build_service(make_settings(root, api_keys="open-sesame"), embedder)
    service.ingest([root / "articles"], progress=False)
    server, thread = _serve(create_app(service=service))
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    clear_chroma_cache()


def test_api_key_prompt_then_hostile_article_text_stays_text(browser, hostile_server):
    context = browser.new_context()
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(hostile_server + "/")
    page.locator("#key-form").wait_for()  # /api/sources answered 401
    assert "needs an API key" in page.inner_text("#key-note")
    page.fill("#api-key", "wrong")
    page.click("#key-form button")
    page.locator("#key-note", has_text="was refused").wait_for()
    ask(page, "Who opened the Quillby bridge?")
    assert "was refused" in page.inner_text("#key-note")
    page.fill("#api-key", "open-sesame")
    page.click("#key-form button")
    assert page.locator("#key-form").is_hidden()
    page.click(".message.error >> role=button[name='Try again']")
    page.locator("#send:enabled").wait_for()
    answer = page.locator(".message.assistant").last
    answer.locator(".answer-text").wait_for()
    assert "Orla Fenwick" in answer.inner_text()
    answer.locator("a.marker").first.click()
    card = answer.locator(".source details").first
    card.get_by_role("button", name="Open article").click()
    page.locator("dialog#article mark").wait_for()
    body = page.inner_text("#article-body")
    assert "<script>window.__pwned='body'</script>" in body  # shown literally
    assert '<img src=x onerror="window.__pwned=\'img\'">' in body
    title = page.inner_text("#article-title")
    assert "<b>early</b>" in title
    assert page.evaluate("window.__pwned === undefined")
    for selector in ("#messages script", "#messages img", "#article script", "#article img", "#article b",
                     "#messages a[href^='javascript']", "#article a"):
        assert page.locator(selector).count() == 0, selector
    assert dialogs == []
    context.close()


def test_a_key_request_does_not_take_the_focus_from_a_question_being_typed(browser, hostile_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(hostile_server + "/")
    page.locator("#key-form").wait_for()  # the first 401
    assert page.evaluate("document.activeElement.id") == "api-key"
    page.fill("#question", "Who opened the Quillby bridge?")
    page.evaluate("loadStatus()")  # another 401 arrives while the question is being typed
    assert page.evaluate("document.activeElement.id") == "question"
    page.fill("#question", "")
    page.evaluate("loadStatus()")
    assert page.evaluate("document.activeElement.id") == "api-key"
    context.close()

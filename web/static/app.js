// The chat page: plain JavaScript, no build step. Server text is only ever set with textContent.
"use strict";

const STORAGE_KEY = "newsrag.conversation.v1";
const KEY_STORAGE = "newsrag.apiKey";
const MAX_HISTORY_TURNS = 10;

const $ = (id) => document.getElementById(id);

// Every API call goes through here: it sends the API key the user gave (when the server wants one)
// and asks for it when the server answers 401.
async function apiFetch(url, options = {}) {
  const key = localStorage.getItem(KEY_STORAGE);
  const headers = { ...(options.headers || {}) };
  if (key) headers["X-API-Key"] = key;
  const response = await fetch(url, { ...options, headers });
  if (response.status === 401) askForKey(Boolean(key));
  return response;
}

function askForKey(rejected) {
  $("key-form").hidden = false;
  $("key-note").textContent = rejected ? "The saved API key was refused; enter another."
    : "This server needs an API key.";
  // Take the focus, unless the user is typing elsewhere: an Enter meant for a question must not submit a key.
  const active = document.activeElement;
  const typing = active && active !== $("api-key") && active.matches("textarea, input") && active.value.trim();
  if (!typing) $("api-key").focus();
}

let conversation = loadConversation();
let waiting = false;

function loadConversation() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "[]");
    return Array.isArray(saved) ? saved : [];
  } catch (_) {
    return [];
  }
}

function saveConversation() {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(conversation));
  } catch (_) { /* storage full or disabled: the page still works */ }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// ---- rendering ------------------------------------------------------------------------------

function render() {
  const list = $("messages");
  list.replaceChildren(...conversation.map(renderMessage));
  $("empty").hidden = conversation.length > 0;
}

function renderMessage(message, index) {
  const item = el("li", `message ${message.role}`);
  item.dataset.index = index;
  if (message.role === "user") {
    item.append(el("p", "bubble", message.content));
  } else if (message.role === "error") {
    item.append(renderError(message));
  } else {
    item.append(renderAnswer(message, index));
  }
  return item;
}

function renderError(message) {
  const box = el("div", "bubble error-box");
  box.setAttribute("role", "alert");
  box.append(el("p", "", message.content));
  const retry = el("button", "quiet", "Try again");
  retry.type = "button";
  retry.addEventListener("click", () => {
    conversation = conversation.filter((m) => m !== message);
    if (conversation.length && conversation[conversation.length - 1].role === "user") conversation.pop();
    saveConversation();
    render();
    send(message.question);
  });
  box.append(retry);
  return box;
}

function renderAnswer(message, index) {
  const box = el("div", "bubble answer");
  const data = message.data || {};
  if (data.answered === false) {
    box.classList.add("not-found");
    box.append(el("p", "label", "Not in the corpus"));
  }
  if (data.short_answer && data.answered !== false) {
    const short = el("p", "short-answer");
    short.append(el("strong", "", data.short_answer.text));
    box.append(short);
  }
  box.append(renderAnswerText(message.content, index));
  if (data.notice) box.append(el("p", "notice", data.notice));
  const citations = data.citations || [];
  if (citations.length) box.append(renderSources(citations, index, data.short_answer));
  if (data.answerer) box.append(el("p", "meta", `answered by ${data.answerer}`));
  return box;
}

function renderAnswerText(text, index) {
  const paragraph = el("p", "answer-text");
  for (const part of String(text || "").split(/(\[\d+\])/)) {
    const marker = part.match(/^\[(\d+)\]$/);
    if (!marker) {
      paragraph.append(document.createTextNode(part));
      continue;
    }
    const link = el("a", "marker", part);
    link.href = `#source-${index}-${marker[1]}`;
    link.setAttribute("aria-label", `source ${marker[1]}`);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      showSource(index, marker[1]);
    });
    paragraph.append(link);
  }
  return paragraph;
}

function renderSources(citations, index, short) {
  const list = el("ol", "sources");
  list.setAttribute("aria-label", "Sources");
  for (const citation of citations) list.append(renderSource(citation, index, short));
  return list;
}

// The short answer's span inside this citation's passage, or null.
function shortSpan(citation, short) {
  if (!short || short.passage_id !== citation.passage_id || short.passage_start == null) return null;
  return { start: short.passage_start, end: short.passage_end };
}

function renderSource(citation, index, short) {
  const item = el("li", "source");
  item.id = `source-${index}-${citation.n}`;
  const card = el("details", "card");
  const summary = el("summary", "");
  summary.append(el("span", "n", `[${citation.n}]`), el("span", "title", citation.title || citation.article_id));
  const meta = [citation.date || "undated", citation.source, citation.section].filter(Boolean).join(" · ");
  summary.append(el("span", "meta", meta));
  const passage = highlightedText(citation.text, citation.highlights || [], "passage", shortSpan(citation, short));
  card.append(summary, passage);
  const open = el("button", "quiet", "Open article");
  open.type = "button";
  open.addEventListener("click", () => openArticle(citation, short));
  card.append(open);
  item.append(card);
  return item;
}

// text with the spans marked; `inner` (the short answer) is marked again, strongly, inside its span.
function highlightedText(text, spans, className, inner = null) {
  const block = el("p", className);
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < at || span.end > text.length) continue;
    block.append(document.createTextNode(text.slice(at, span.start)), markedSpan(text, span, inner));
    at = span.end;
  }
  block.append(document.createTextNode(text.slice(at)));
  return block;
}

function markedSpan(text, span, inner) {
  const mark = el("mark", "");
  if (!inner || inner.start < span.start || inner.end > span.end) {
    mark.textContent = text.slice(span.start, span.end);
    return mark;
  }
  mark.append(document.createTextNode(text.slice(span.start, inner.start)),
    el("strong", "short-span", text.slice(inner.start, inner.end)),
    document.createTextNode(text.slice(inner.end, span.end)));
  return mark;
}

function showSource(index, n) {
  const item = $(`source-${index}-${n}`);
  if (!item) return;
  const card = item.querySelector("details");
  card.open = true;
  item.scrollIntoView({ block: "nearest", behavior: "smooth" });
  item.classList.remove("flash");
  void item.offsetWidth;  // restart the highlight animation
  item.classList.add("flash");
  card.querySelector("summary").focus();
}

// ---- the whole article ----------------------------------------------------------------------

async function openArticle(citation, short) {
  const dialog = $("article");
  $("article-title").textContent = citation.title || citation.article_id;
  $("article-meta").textContent = "Loading…";
  $("article-body").replaceChildren();
  if (!dialog.open) dialog.showModal();
  try {
    const response = await apiFetch(`/api/articles/${encodeURIComponent(citation.article_id)}`);
    const data = await response.json();
    if (!response.ok) throw new Error(errorMessage(data, response.status));
    $("article-title").textContent = data.title;
    $("article-meta").textContent = [data.date || "undated", data.source, data.url].filter(Boolean).join(" · ");
    const inner = shortSpan(citation, short) && { start: short.start, end: short.end };
    const body = highlightedText(data.body, [{ start: citation.start, end: citation.end }], "body-text", inner);
    $("article-body").replaceChildren(body);
    const mark = body.querySelector("mark");
    if (mark) mark.scrollIntoView({ block: "center" });
  } catch (error) {
    $("article-meta").textContent = `Could not open the article: ${error.message}`;
  }
}

// ---- asking ---------------------------------------------------------------------------------

function historyForRequest() {
  return conversation
    .filter((m) => m.role === "user" || m.role === "assistant")
    .slice(-MAX_HISTORY_TURNS)
    .map((m) => ({ role: m.role, content: String(m.content).slice(0, 4000) }));
}

function filtersForRequest() {
  const filters = {};
  if ($("date-from").value) filters.date_from = $("date-from").value;
  if ($("date-to").value) filters.date_to = $("date-to").value;
  if ($("source").value) filters.sources = [$("source").value];
  return Object.keys(filters).length ? filters : null;
}

function setWaiting(on) {
  waiting = on;
  $("question").disabled = on;
  $("send").disabled = on;
  $("thinking").hidden = !on;
  if (!on) $("question").focus();
}

async function send(question) {
  if (waiting || !question.trim()) return;
  const body = { question, history: historyForRequest(), stream: true };
  const filters = filtersForRequest();
  if (filters) body.filters = filters;
  conversation.push({ role: "user", content: question });
  saveConversation();
  render();
  setWaiting(true);
  try {
    const response = await apiFetch("/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream, application/json" },
      body: JSON.stringify(body),
    });
    const type = response.headers.get("Content-Type") || "";
    if (response.ok && type.startsWith("text/event-stream")) {
      await readStream(response);
    } else {
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(errorMessage(data, response.status));
      finishAnswer(data);
    }
  } catch (error) {
    conversation.push({ role: "error", content: `Something went wrong: ${error.message}`, question });
  } finally {
    saveConversation();
    render();
    setWaiting(false);
    scrollToEnd();
  }
}

function errorMessage(data, status) {
  const message = data && data.error && data.error.message;
  return message ? `${message} (${status})` : `the server answered ${status}`;
}

function finishAnswer(data) {
  conversation.push({
    role: "assistant",
    content: data.answer,
    data: { short_answer: data.short_answer, answered: data.answered, answerer: data.answerer, notice: data.notice,
            citations: data.citations || [] },
  });
}

// Server-sent events: passages, token…, answer, citations, done (or error).
async function readStream(response) {
  const message = { role: "assistant", content: "", data: { citations: [] } };
  conversation.push(message);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      handleEvent(message, buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
  }
}

function handleEvent(message, raw) {
  let name = "message";
  let data = "";
  for (const line of raw.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  const payload = data ? JSON.parse(data) : {};
  if (name === "token") {
    message.content += payload.text || "";
    renderStreaming(message);
  } else if (name === "answer") {
    message.content = payload.answer;
    Object.assign(message.data, { short_answer: payload.short_answer, answered: payload.answered,
                                  answerer: payload.answerer, notice: payload.notice });
  } else if (name === "citations") {
    message.data.citations = payload.citations || [];
  } else if (name === "error") {
    conversation.pop();
    throw new Error(errorMessage(payload, payload.error ? payload.error.status : "error"));
  }
}

function renderStreaming(message) {
  const index = conversation.indexOf(message);
  const list = $("messages");
  const node = renderMessage(message, index);
  const existing = list.querySelector(`[data-index="${index}"]`);
  if (existing) existing.replaceWith(node); else list.append(node);
  scrollToEnd();
}

function scrollToEnd() {
  const last = $("messages").lastElementChild;
  if (last) last.scrollIntoView({ block: "end" });
}

// ---- start-up -------------------------------------------------------------------------------

async function loadStatus() {
  try {
    const health = await (await fetch("/api/health")).json();
    if (!health.ready) showBanner(`The index is not ready: ${health.message}.`);
  } catch (_) {
    showBanner("The server cannot be reached.");
  }
  try {
    const data = await (await apiFetch("/api/sources")).json();
    for (const option of [...$("source").options].slice(1)) option.remove();  // loaded again after a key
    for (const source of data.sources || []) {
      const option = el("option", "", `${source.name} (${source.articles})`);
      option.value = source.name;
      $("source").append(option);
    }
    for (const id of ["date-from", "date-to"]) {
      if (data.dates && data.dates.min) $(id).min = data.dates.min;
      if (data.dates && data.dates.max) $(id).max = data.dates.max;
    }
  } catch (_) { /* filters stay empty */ }
}

function showBanner(text) {
  $("banner").textContent = text;
  $("banner").hidden = false;
}

function start() {
  const input = $("question");
  $("ask").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value;
    if (!question.trim()) return;
    input.value = "";
    send(question);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("ask").requestSubmit();
    }
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
    $("api-key").value = "";
    $("key-form").hidden = true;
    loadStatus();
    input.focus();
  });
  $("clear").addEventListener("click", () => {
    conversation = [];
    saveConversation();
    render();
    input.focus();
  });
  render();
  scrollToEnd();
  loadStatus();
  input.focus();
}

document.addEventListener("DOMContentLoaded", start);

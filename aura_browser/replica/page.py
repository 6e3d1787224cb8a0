"""The app page: an empty Next.js-style shell whose inline script renders a chatbot-ui look-alike.

Stable hooks for drivers: `textarea.m-0` (message box), `#system-prompt` (placeholder "Enter a prompt..."),
`#send`, `#stop` ("Stop Generating", shown while a reply streams), `#messages` with `.message.user` /
`.message.assistant` children, `#api-key` + `#save-api-key`, `.toast` for errors, and
`document.body.dataset.state` = "loading" | "idle" | "streaming".
"""

from __future__ import annotations

import json

from .models import DEFAULT_MODEL
from .upstream import APP_SYSTEM_PROMPT


def page_html(server_side_api_key_is_set: bool) -> str:
    next_data = {
        "props": {
            "pageProps": {
                "serverSideApiKeyIsSet": server_side_api_key_is_set,
                "defaultModelId": DEFAULT_MODEL["id"],
                "serverSidePluginKeysSet": False,
            }
        },
        "page": "/",
        "query": {},
        "buildId": "replica",
    }
    page = _PAGE.replace("__APP_SYSTEM_PROMPT__", json.dumps(APP_SYSTEM_PROMPT))
    return page.replace("__NEXT_DATA_JSON__", json.dumps(next_data).replace("</", "<\\/"))


def not_found_html() -> str:
    """Next.js's own 404 page (pages router): what the app answers for any path it does not know."""
    next_data = {"props": {"pageProps": {"statusCode": 404}}, "page": "/_error", "query": {}, "buildId": "replica",
                 "nextExport": True, "isFallback": False, "gip": True, "scriptLoader": []}
    return _NOT_FOUND.replace("__NEXT_DATA_JSON__", json.dumps(next_data, separators=(",", ":")))


_NOT_FOUND = (
    '<!DOCTYPE html><html><head><meta charSet="utf-8"/><meta name="viewport" content="width=device-width"/>'
    '<title>404: This page could not be found</title><meta name="next-head-count" content="3"/></head>'
    '<body><div id="__next"><div style="font-family:system-ui,sans-serif;height:100vh;text-align:center;'
    'display:flex;flex-direction:column;align-items:center;justify-content:center"><div>'
    '<h1 class="next-error-h1">404</h1><div style="display:inline-block"><h2>This page could not be found'
    '<!-- -->.</h2></div></div></div></div>'
    '<script id="__NEXT_DATA__" type="application/json">__NEXT_DATA_JSON__</script></body></html>'
)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="height=device-height ,width=device-width, initial-scale=1, user-scalable=no">
<title>Chatbot UI</title>
<style>
body{margin:0;font-family:system-ui,sans-serif;background:#343541;color:#ececf1;display:flex;height:100vh}
#sidebar{width:260px;background:#202123;padding:12px;display:flex;flex-direction:column;gap:8px}
#main{flex:1;display:flex;flex-direction:column}
#messages{flex:1;overflow-y:auto;padding:16px}
.message{white-space:pre-wrap;padding:12px;border-bottom:1px solid #444}
.message.assistant{background:#444654}
#composer{display:flex;gap:8px;padding:12px}
textarea{background:#40414f;color:inherit;border:1px solid #555;border-radius:6px;padding:8px}
textarea.m-0{flex:1;resize:none}
.toast{position:fixed;top:16px;right:16px;background:#b91c1c;color:#fff;padding:10px 14px;border-radius:6px}
[hidden]{display:none!important}
</style>
</head>
<body data-state="loading">
<div id="__next"></div>
<script id="__NEXT_DATA__" type="application/json">__NEXT_DATA_JSON__</script>
<script>
(function () {
  "use strict";
  var props = JSON.parse(document.getElementById("__NEXT_DATA__").textContent).props.pageProps;
  var MODEL = {id: "openchat_3.6", name: "OpenChat 3.6 (latest)", maxLength: 24576, tokenLimit: 8192};
  var TEMPERATURE = 1;
  var PROMPT = __APP_SYSTEM_PROMPT__;
  var controller = null;

  function load(name, fallback) {
    var raw = localStorage.getItem(name);
    if (raw === null) { return fallback; }
    try { return JSON.parse(raw); } catch (e) { return fallback; }
  }
  function save(name, value) { localStorage.setItem(name, JSON.stringify(value)); }
  function uuid() {
    return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
  }
  function newConversation() {
    return {id: uuid(), name: "New Conversation", messages: [], model: MODEL, prompt: PROMPT,
            temperature: TEMPERATURE, folderId: null};
  }

  // As the real app: nothing is written to localStorage before the first message.
  var history = load("conversationHistory", []);
  var selected = load("selectedConversation", null) || history[0] || newConversation();

  var root = document.getElementById("__next");
  root.outerHTML =
    '<div id="sidebar">' +
    '  <div class="model">Model: <span id="model-name">' + MODEL.name + '</span></div>' +
    '  <input id="api-key" type="password" placeholder="OpenAI API Key">' +
    '  <button id="save-api-key" type="button">Set API Key</button>' +
    '  <button id="new-chat" type="button">New chat</button>' +
    '</div>' +
    '<div id="main">' +
    '  <' + 'textarea id="system-prompt" rows="2" placeholder="Enter a prompt..."></' + 'textarea>' +
    '  <div id="messages"></div>' +
    '  <div id="composer">' +
    '    <button id="stop" type="button" hidden>Stop Generating</button>' +
    '    <' + 'textarea class="m-0" rows="1"' +
    '      placeholder=\\'Type a message or type "/" to select a prompt...\\'></' + 'textarea>' +
    '    <button id="send" type="button">Send</button>' +
    '  </div>' +
    '</div>' +
    '<div class="toast" role="status" hidden></div>';

  var $ = function (sel) { return document.querySelector(sel); };
  var box = $("textarea.m-0"), systemPrompt = $("#system-prompt"), list = $("#messages");
  var sendButton = $("#send"), stopButton = $("#stop"), toast = $("[role=status].toast");
  systemPrompt.value = selected.prompt || "";

  function apiKey() { return localStorage.getItem("apiKey") || ""; }
  function setState(state) { document.body.dataset.state = state; }
  function showToast(text) {
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(showToast.timer);
    showToast.timer = setTimeout(function () { toast.hidden = true; }, 8000);
  }
  function render() {
    list.innerHTML = "";
    selected.messages.forEach(function (m) { addMessage(m.role, m.content); });
  }
  function addMessage(role, content) {
    var div = document.createElement("div");
    div.className = "message " + role;
    div.textContent = content;
    list.appendChild(div);
    return div;
  }
  function store() {
    selected.prompt = systemPrompt.value;
    var i = history.findIndex(function (c) { return c.id === selected.id; });
    if (i < 0) { history.push(selected); } else { history[i] = selected; }
    save("selectedConversation", selected);
    save("conversationHistory", history);
  }

  async function send() {
    var text = box.value.trim();
    if (!text || controller) { return; }
    if (!props.serverSideApiKeyIsSet && !apiKey()) { showToast("Please set your OpenAI API key."); return; }
    box.value = "";
    selected.messages.push({role: "user", content: text});
    if (selected.messages.length === 1) { selected.name = text.length > 30 ? text.slice(0, 30) + "..." : text; }
    store();
    addMessage("user", text);
    var body = {model: MODEL, messages: selected.messages, key: apiKey(),
                prompt: systemPrompt.value, temperature: selected.temperature};
    controller = new AbortController();
    stopButton.hidden = false;
    setState("streaming");
    var out = null, reply = "";
    try {
      var response = await fetch("api/chat", {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        signal: controller.signal,
        body: JSON.stringify(body)
      });
      if (!response.ok) {
        showToast(response.statusText || ("Error " + response.status));
        return;
      }
      out = addMessage("assistant", "");
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      for (;;) {
        var part = await reader.read();
        if (part.done) { break; }
        reply += decoder.decode(part.value, {stream: true});
        out.textContent = reply;
      }
      reply += decoder.decode();
      out.textContent = reply;
    } catch (e) {
      if (e.name !== "AbortError") { showToast(String(e.message || e)); }
    } finally {
      if (out) {
        selected.messages.push({role: "assistant", content: reply});
        store();
      }
      controller = null;
      stopButton.hidden = true;
      setState("idle");
    }
  }

  sendButton.addEventListener("click", send);
  box.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  stopButton.addEventListener("click", function () { if (controller) { controller.abort(); } });
  systemPrompt.addEventListener("change", store);
  $("#save-api-key").addEventListener("click", function () {
    var key = $("#api-key").value.trim();
    if (key) { localStorage.setItem("apiKey", key); } else { localStorage.removeItem("apiKey"); }
    loadModels();
  });
  $("#new-chat").addEventListener("click", function () {
    selected = newConversation();
    store();
    render();
  });

  function loadModels() {
    return fetch("api/models", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({key: apiKey()})
    }).then(function (r) {
      if (!r.ok) { showToast(r.statusText || ("Error " + r.status)); return null; }
      return r.json();
    }).then(function (models) {
      if (models && models.length) { $("#model-name").textContent = models[0].name; }
    }).catch(function (e) { showToast(String(e.message || e)); });
  }

  render();
  loadModels().finally(function () { setState("idle"); });
})();
</script>
</body>
</html>
"""

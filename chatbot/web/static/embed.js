// The chat page inside a business's website. Talks to POST /api/bots/<bot>/chat (server-sent
// events) and, when opened by widget.js, to the page around it through postMessage.
// Everything the visitor or the bot wrote is put in the page as text, never as HTML.
// When a person from the business has the conversation (or is asked to join), what they say
// comes over GET .../conversations/<id>/events (server-sent events, resumed by Last-Event-ID).
// Privacy: nothing the visitor types leaves the page before they agreed to the bot's privacy
// notice (POST .../consent starts the conversation); the composer is disabled until then.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("chat-config").textContent);
  var params = new URLSearchParams(location.search);
  var inLauncher = params.get("launcher") === "1";
  var api = "/api/bots/" + encodeURIComponent(config.bot);
  var storageKey = "chatbot:" + config.bot + ":conversation";
  var consentKey = "chatbot:" + config.bot + ":consent";
  var language = pickLanguage(params.get("lang") || config.language);
  // Only this browser's own storage resumes a conversation: never the URL, never the page
  // around the frame, or a link could put a visitor into a conversation its author can read.
  var conversationId = load(storageKey);
  var busy = false;
  var listening = null;  // the EventSource of what staff say, while a person is involved
  var lastMessage = 0;  // the id of the last staff message or event shown
  var lastQuestion = "";  // the customer's last question (not "hi", not "a person please")
  var consent = readConsent();  // {version, keep} once agreed to this version of the notice

  var el = function (id) { return document.getElementById(id); };
  var log = el("log"), box = el("message"), send = el("send"), form = el("composer");
  var suggestions = el("suggestions"), fields = el("composer-fields");

  function pickLanguage(tag) {
    var base = String(tag || "en").toLowerCase().split("-")[0];
    if (base === "id") base = "ms";
    return config.texts[base] ? base : "en";
  }
  function t(key, values, lang) {
    var s = (config.texts[lang || language] || config.texts.en)[key];
    Object.keys(values || {}).forEach(function (k) { s = s.replace("{" + k + "}", values[k]); });
    return s;
  }
  // Storage may be refused in a third-party frame; the conversation then lasts as long as the page.
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function save(key, value) {
    try { value ? localStorage.setItem(key, value) : localStorage.removeItem(key); } catch (e) {}
  }
  function readConsent() {
    try {
      var saved = JSON.parse(load(consentKey) || "null");
      return saved && saved.version === config.privacy.version ? saved : null;
    } catch (e) { return null; }
  }
  function tellParent(message) {
    if (inLauncher && window.parent !== window) {
      message.bot = config.bot;
      window.parent.postMessage(message, "*");  // carries no secret beyond the widget's own id
    }
  }

  function applyLooks() {
    document.documentElement.style.setProperty("--accent", config.colour);
    el("title").textContent = config.title;
    var avatar = el("avatar");
    if (config.avatar) avatar.style.backgroundImage = "url(" + JSON.stringify(config.avatar) + ")";
    else avatar.textContent = (config.title || "?").trim().charAt(0).toUpperCase();
    applyTexts();
    if (inLauncher) {
      el("close").hidden = false;
      el("close").addEventListener("click", function () { tellParent({ type: "chatbot:close" }); });
    }
  }
  function applyTexts() {
    document.documentElement.lang = language;
    box.placeholder = t("placeholder");
    box.maxLength = config.max_chars;
    send.textContent = t("send");
    el("restart").title = t("new_conversation");
    el("restart").setAttribute("aria-label", t("new_conversation"));
    el("close").setAttribute("aria-label", t("close"));
    el("erase").title = t("delete_conversation");
    el("erase").setAttribute("aria-label", t("delete_conversation"));
    el("consent-title").textContent = t("privacy_title");
    el("notice").textContent = config.privacy.notice[language] || config.privacy.notice.en;
    el("agree").textContent = t("agree");
    el("agree-no-keep").textContent = t("agree_no_keep");
    el("reference").textContent = conversationId ? t("reference", { id: conversationId }) : "";
    box.setAttribute("aria-label", t("placeholder"));
  }

  // Text with its web addresses as links (opened outside the frame).
  function fill(node, text) {
    node.textContent = "";
    var url = /https?:\/\/[^\s<>"')\]]+/g, last = 0, m;
    while ((m = url.exec(text))) {
      // Punctuation that ends the sentence is not the address's ("wa.me/60123456789, or").
      var link = m[0].replace(/[.,;:!?\u3002\uff0c\u3001\uff1b]+$/, "");
      node.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = document.createElement("a");
      a.href = link; a.textContent = link; a.target = "_blank"; a.rel = "noopener noreferrer";
      node.appendChild(a);
      last = m.index + link.length;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }
  function bubble(kind, text) {
    var node = document.createElement("div");
    node.className = "msg " + kind;
    fill(node, text || "");
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    reportSize();
    return node;
  }
  // What a person from the business said, under their name (or as staff), and what happened.
  function showStaff(message) {
    if (message.id <= lastMessage) return;  // shown already (restored, or sent again)
    lastMessage = message.id;
    if (message.author === "staff") {
      var node = bubble("bot staff", "");
      var who = document.createElement("div");
      who.className = "who";
      who.textContent = message.name || t("staff");
      var said = document.createElement("div");
      fill(said, message.text);
      node.appendChild(who);
      node.appendChild(said);
      log.scrollTop = log.scrollHeight;  // the reply whole in view, not only its name
      reportSize();
    } else if (message.author === "event") {
      var text = message.text === "joined"
        ? (message.name ? t("joined", { name: message.name }) : t("team_joined"))
        : message.text === "handed_back" ? t("handed_back")
        : message.text === "closed" ? t("closed") : "";
      if (text) bubble("notice", text);
      // A person is here: the call-back form is no longer needed.
      if (message.text === "joined") log.querySelectorAll("form.lead").forEach(function (f) { f.remove(); });
      if (message.text === "handed_back" || message.text === "closed") stopListening();
    }
  }
  // No one can answer now: the customer may leave a contact for a call back, told what for
  // and for how long (the bot's retention period) before they send it.
  function offerLead(after, question) {
    if (log.querySelector(".lead")) return;
    var form = document.createElement("form");
    form.className = "lead";
    var intro = document.createElement("p");
    intro.textContent = t("lead_intro");
    form.appendChild(intro);
    var inputs = {};
    [["name", "text", "name"], ["phone", "tel", "tel"], ["email", "email", "email"],
     ["message", "text", "off"]].forEach(function (f) {
      var input = document.createElement("input");
      input.type = f[1];
      input.name = f[0];
      input.autocomplete = f[2];
      input.placeholder = t("lead_" + f[0]);
      input.setAttribute("aria-label", t("lead_" + f[0]));
      input.maxLength = f[0] === "message" ? 1000 : f[0] === "email" ? 254 : 100;
      if (f[0] === "message") input.value = question || "";
      inputs[f[0]] = input;
      form.appendChild(input);
    });
    var purpose = document.createElement("p");
    purpose.className = "purpose";
    purpose.textContent = t("lead_purpose", { days: config.retention_days });
    form.appendChild(purpose);
    var said = document.createElement("p");
    said.className = "said";
    said.setAttribute("role", "status");
    var go = document.createElement("button");
    go.type = "submit";
    go.textContent = t("lead_send");
    form.appendChild(go);
    form.appendChild(said);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      go.disabled = true;
      said.textContent = "";  // an earlier refusal does not stand for this try
      var body = {};
      Object.keys(inputs).forEach(function (k) { body[k] = inputs[k].value.trim(); });
      fetch(api + "/conversations/" + encodeURIComponent(conversationId) + "/lead", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept-Language": language },
        body: JSON.stringify(body),
      }).then(function (r) {
        return r.json().then(function (data) {
          if (r.ok) { form.textContent = ""; form.appendChild(said); }
          said.textContent = data.message || t("failed");
          go.disabled = false;
          said.scrollIntoView({ block: "nearest" });
          reportSize();
        });
      }).catch(function () { said.textContent = t("offline"); go.disabled = false; });
    });
    after.parentNode.insertBefore(form, after.nextSibling);
    log.scrollTop = log.scrollHeight;
    reportSize();
  }
  function listen() {
    if (listening || !conversationId || !window.EventSource) return;
    var url = api + "/conversations/" + encodeURIComponent(conversationId) + "/events";
    listening = new EventSource(url + (lastMessage ? "?after=" + lastMessage : ""));
    listening.addEventListener("message", function (e) {
      var message = JSON.parse(e.data);
      showStaff(message);
      if (message.author === "event" && message.text === "closed") askFeedback();
    });
    listening.addEventListener("error", function () {
      // Gone for good (erased, past retention) rather than a network blip: stop asking.
      if (listening && listening.readyState === EventSource.CLOSED) stopListening();
    });
  }
  function stopListening() {
    if (listening) listening.close();
    listening = null;
  }

  // Under an answer, in that answer's language (a restored conversation may mix them).
  function showSources(node, sources, lang) {
    if (!sources || !sources.length) return;
    var box = document.createElement("div");
    box.className = "sources";
    box.appendChild(document.createTextNode(t("sources", null, lang) + ":"));
    var list = document.createElement("ul");
    var seen = {};
    sources.forEach(function (s) {
      var label = (s.title || s.source) + (s.page ? " · " + t("page", { n: s.page }, lang) : "");
      if (seen[label]) return;
      seen[label] = true;
      var item = document.createElement("li");
      // A page of the business's website links to it (only http(s): never javascript: or data:).
      if (s.url && /^https?:\/\//i.test(s.url)) {
        var link = document.createElement("a");
        link.href = s.url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.textContent = label;
        item.appendChild(link);
      } else {
        item.textContent = label;
      }
      list.appendChild(item);
    });
    box.appendChild(list);
    node.appendChild(box);
  }
  // Thumbs up or down under an answer; the server checks it is one of this conversation's.
  function showRating(node, answerId, current, lang) {
    if (!answerId) return;
    var bar = document.createElement("div");
    bar.className = "rating";
    [["up", "\uD83D\uDC4D", "helpful"], ["down", "\uD83D\uDC4E", "not_helpful"]].forEach(function (choice) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "rate rate-" + choice[0];
      b.textContent = choice[1];
      b.title = t(choice[2], null, lang);
      b.setAttribute("aria-label", t(choice[2], null, lang));
      b.setAttribute("aria-pressed", String(current === choice[0]));
      b.addEventListener("click", function () { rate(bar, answerId, choice[0]); });
      bar.appendChild(b);
    });
    node.appendChild(bar);
  }
  function rate(bar, answerId, value) {
    fetch(api + "/answers/" + answerId + "/rating", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ conversation_id: conversationId, rating: value }),
    }).then(function (r) {
      if (!r.ok) return;
      bar.querySelectorAll("button").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.classList.contains("rate-" + value)));
      });
      var note = bar.querySelector(".thanks") || document.createElement("span");
      note.className = "thanks";
      note.textContent = t("thanks");
      bar.appendChild(note);
    }).catch(function () {});
  }
  // The end of a conversation ("thanks", "bye", or a person closed it): how did it go, one tap
  // of five, in the conversation's language; asked once.
  var feedbackAsked = false;
  function askFeedback(lang) {
    if (feedbackAsked || !conversationId) return;
    feedbackAsked = true;
    var box = bubble("feedback", "");
    var ask = document.createElement("div");
    ask.textContent = t("feedback_ask", null, lang);
    box.appendChild(ask);
    var bar = document.createElement("div");
    bar.className = "rating";
    ["\uD83D\uDE1E", "\uD83D\uDE41", "\uD83D\uDE10", "\uD83D\uDE42", "\uD83D\uDE00"].forEach(function (face, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "rate score-" + (i + 1);
      b.textContent = face;
      b.title = t("feedback_" + (i + 1), null, lang);
      b.setAttribute("aria-label", b.title);
      b.addEventListener("click", function () {
        fetch(api + "/conversations/" + encodeURIComponent(conversationId) + "/feedback", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ score: i + 1 }),
        }).then(function (r) {
          if (!r.ok) return;
          bar.querySelectorAll("button").forEach(function (other) {
            other.disabled = true;
            other.setAttribute("aria-pressed", String(other === b));
          });
          var note = document.createElement("span");
          note.className = "thanks";
          note.textContent = t("thanks", null, lang);
          bar.appendChild(note);
        }).catch(function () {});
      });
      bar.appendChild(b);
    });
    box.appendChild(bar);
    log.scrollTop = log.scrollHeight;
    reportSize();
  }
  function showSuggestions(show) {
    suggestions.textContent = "";
    if (!show || !consent) return;  // a suggestion is a question too: not before consent
    (config.suggestions || []).forEach(function (question) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = question;
      b.addEventListener("click", function () { ask(question); });
      suggestions.appendChild(b);
    });
  }
  function reportSize() {
    // Everything the chat shows at once: the privacy notice whole (its text's full height),
    // so that the launcher's panel opens tall enough for its choices and the message box.
    var consentBox = el("consent"), reference = el("reference");
    var notice = consentBox.hidden ? 0 :
      consentBox.offsetHeight - el("notice").clientHeight + el("notice").scrollHeight;
    var wanted = el("chat").querySelector(".head").offsetHeight + log.scrollHeight + notice +
      suggestions.offsetHeight + form.offsetHeight + (reference.hidden ? 0 : reference.offsetHeight) + 8;
    tellParent({ type: "chatbot:resize", height: wanted });
  }
  function setConversation(id) {
    if (id !== conversationId) feedbackAsked = false;  // a new conversation is asked afresh
    conversationId = id;
    save(storageKey, id);
    el("erase").hidden = !id || !consent || !consent.keep;
    // Shown so the customer can quote it when asking the business for a copy or an erasure.
    el("reference").hidden = el("erase").hidden;
    el("reference").textContent = id ? t("reference", { id: id }) : "";
  }

  // The notice is shown, and the composer stays disabled, until the visitor agrees.
  function showConsent(show) {
    el("consent").hidden = !show;
    fields.disabled = show;
    if (show) showSuggestions(false);
    reportSize();
  }
  // A conversation starts with the consent record; its id comes back.
  function startConversation() {
    return fetch(api + "/consent", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ notice_version: config.privacy.version, keep: consent.keep }),
    }).then(function (r) {
      if (r.status === 409) { location.reload(); throw new Error("notice changed"); }
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.message || t("failed"));
        setConversation(data.conversation_id);
        return data.conversation_id;
      });
    });
  }
  function agree(keep) {
    consent = { version: config.privacy.version, keep: keep };
    save(consentKey, JSON.stringify(consent));
    showConsent(false);
    showSuggestions(!conversationId);
    if (!keep) bubble("notice", t("not_kept"));
    box.focus();
  }
  function forgetConsent() {
    consent = null;
    save(consentKey, null);
    setConversation(null);
    showConsent(true);
  }
  // The visitor's right to erasure, asked once more in the page (no browser dialog).
  function confirmErase() {
    if (!conversationId || log.querySelector(".confirm")) return;
    var note = bubble("notice", t("confirm_delete"));
    var bar = document.createElement("div");
    bar.className = "confirm";
    var yes = document.createElement("button"), no = document.createElement("button");
    yes.type = no.type = "button";
    yes.textContent = t("delete_conversation");
    no.textContent = "\u2715";
    no.className = "secondary";
    no.setAttribute("aria-label", t("close"));
    no.addEventListener("click", function () { note.remove(); reportSize(); });
    yes.addEventListener("click", function () {
      fetch(api + "/conversations/" + encodeURIComponent(conversationId), { method: "DELETE" })
        .then(function (r) {
          if (!r.ok && r.status !== 404) throw new Error("failed");
          setConversation(null);
          start();
          bubble("notice", t("deleted"));
        })
        .catch(function () { fill(note, t("failed")); });
    });
    bar.appendChild(yes); bar.appendChild(no);
    note.appendChild(bar);
    reportSize();
  }

  function start() {
    stopListening();
    lastMessage = 0;
    log.textContent = "";
    bubble("bot", config.greeting);
    showSuggestions(true);
  }
  // A conversation carried over from another page (or a reload): shown again, and its consent
  // taken from the server, which is what counts (the frame's storage may be partitioned).
  function restore(id) {
    fetch(api + "/conversations/" + encodeURIComponent(id), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })  // 404: erased, or past retention
      .then(function (data) {
        var agreed = data && data.consent && data.consent.notice_version === config.privacy.version;
        // The visitor agrees to the notice themselves, in this browser: a conversation whose
        // consent this browser does not hold is not resumed.
        if (!agreed || !consent) {
          setConversation(null); showConsent(!consent); showSuggestions(true); return;
        }
        consent.keep = data.consent.keep;  // what the server recorded is what counts
        showConsent(false);
        setConversation(id);
        var messages = data.messages || [];
        if (!data.turns.length && !messages.length) { showSuggestions(true); return; }
        showSuggestions(false);
        // The bot's turns and what the customer and staff said, in the order they were said.
        var said = data.turns.map(function (turn) { return { at: turn.at, turn: turn }; })
          .concat(messages.map(function (m) { return { at: m.at, message: m }; }));
        said.sort(function (a, b) { return a.at - b.at; });
        said.forEach(function (item) {
          if (item.message) {
            if (item.message.author === "customer") bubble("user", item.message.text);
            else showStaff(item.message);
            return;
          }
          var turn = item.turn;
          bubble("user", turn.question);
          var node = bubble("bot", turn.answer);
          showSources(node, turn.sources, turn.language);
          showRating(node, turn.id, turn.rating === 1 ? "up" : turn.rating === -1 ? "down" : null, turn.language);
        });
        var last = data.turns[data.turns.length - 1];  // speak on as the visitor last wrote
        if (last && config.texts[last.language]) { language = last.language; applyTexts(); }
        if (data.state === "waiting" || data.state === "staff") listen();
      })
      .catch(function () { showConsent(!consent); });
  }

  // Server-sent events from a fetch body: "event: x\ndata: {...}\n\n" blocks.
  function readEvents(response, onEvent) {
    var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        var end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          var block = buffer.slice(0, end), name = "message", data = "";
          buffer = buffer.slice(end + 2);
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event: ") === 0) name = line.slice(7);
            else if (line.indexOf("data: ") === 0) data += line.slice(6);
          });
          if (data) onEvent(name, JSON.parse(data));
        }
        return pump();
      });
    }
    return pump();
  }

  function ask(question) {
    question = (question || "").trim();
    if (!question || busy || !consent) return;
    busy = true;
    send.disabled = true;
    showSuggestions(false);
    bubble("user", question);
    box.value = "";
    var reply = bubble("bot pending", t("thinking"));
    var text = "";
    (conversationId ? Promise.resolve(conversationId) : startConversation())
      .then(function (id) {
        return fetch(api + "/chat", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
          body: JSON.stringify({ message: question, conversation_id: id }),
        });
      })
      .then(function (response) {
        if (response.status === 428) {  // the consent is gone (retention): ask again
          reply.remove();
          box.value = question;
          forgetConsent();
          return;
        }
        if (!response.ok) {
          return response.json().then(function (refusal) {
            reply.className = "msg notice";
            fill(reply, refusal.message || t("failed"));
          }, function () { reply.className = "msg notice"; fill(reply, t("failed")); });
        }
        return readEvents(response, function (name, data) {
          if (name === "start") {
            setConversation(data.conversation_id);
            // The page speaks the answer's language from here on, its waiting text first.
            if (config.texts[data.language] && data.language !== language) {
              language = data.language;
              applyTexts();
              if (!text) fill(reply, t("thinking"));
            }
          }
          else if (name === "delta") { text += data.text; reply.className = "msg bot"; fill(reply, text); }
          else if (name === "replace") { text = data.text; reply.className = "msg bot"; fill(reply, text); }
          else if (name === "done" && (data.kind === "relayed" || data.kind === "withheld")) {
            reply.remove();  // for the person who has the conversation: they answer
            listen();
          }
          else if (name === "done") {
            reply.className = "msg bot";
            fill(reply, data.answer);
            if (config.texts[data.language]) { language = data.language; applyTexts(); }
            showSources(reply, data.sources, data.language);
            // A greeting's reply or "a person will join" is nothing to rate.
            if (data.kind !== "smalltalk") showRating(reply, data.answer_id, null, data.language);
            if (data.state === "waiting" || data.state === "staff") listen();
            if (data.kind !== "smalltalk") lastQuestion = question;
            if (data.lead) offerLead(reply, lastQuestion);
            if (data.feedback) askFeedback(data.language);
          } else if (name === "error") { reply.className = "msg notice"; fill(reply, data.message); }
          log.scrollTop = log.scrollHeight;
          reportSize();
        });
      })
      .catch(function () { reply.className = "msg notice"; fill(reply, t("offline")); })
      .then(function () {
        busy = false;
        send.disabled = false;
        reportSize();
      });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); ask(box.value); });
  box.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); ask(box.value); }
  });
  el("restart").addEventListener("click", function () { setConversation(null); start(); });
  el("erase").addEventListener("click", confirmErase);
  el("agree").addEventListener("click", function () { agree(true); });
  el("agree-no-keep").addEventListener("click", function () { agree(false); });

  if (window.top === window) document.body.classList.add("standalone");  // its own page
  applyLooks();
  start();
  fields.disabled = true;  // until consent is known: given here before, or on the server
  if (conversationId) restore(conversationId);
  else { showConsent(!consent); showSuggestions(true); }
  reportSize();
})();

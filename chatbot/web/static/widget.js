// The chat bubble a business puts on its site:
//   <script src="https://chat.example/widget.js" data-bot="shop" defer></script>
// It asks the chat server for the bot's looks (refused to sites the bot does not allow: then no
// bubble appears), draws a bubble in the corner, and opens /embed/<bot> in a frame beside it, full
// screen on a phone. The open conversation is remembered in the chat frame's own storage (never
// this site's, which the site's own scripts could read), so it carries on
// across the site's pages; whether the chat was open is remembered for this browser tab.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.bot) return;
  var bot = script.dataset.bot;
  var server = new URL(script.src, location.href).origin;
  var key = "chatbot:" + server + ":" + bot;
  var PHONE = 600;

  function load(store, name) { try { return window[store].getItem(key + ":" + name); } catch (e) { return null; } }
  function save(store, name, value) {
    try {
      if (value) window[store].setItem(key + ":" + name, value);
      else window[store].removeItem(key + ":" + name);
    } catch (e) {}
  }

  fetch(server + "/api/bots/" + encodeURIComponent(bot) + "/profile", { credentials: "omit" })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(build)
    .catch(function (why) {
      if (window.console) console.warn("chat widget: bot " + bot + " is not available on this site (" + why + ")");
    });

  function build(profile) {
    var lang = (navigator.language || "en").toLowerCase().split("-")[0];
    if (lang === "id") lang = "ms";
    var texts = profile.texts[lang] || profile.texts.en;

    var host = document.createElement("div");
    host.setAttribute("data-chatbot", bot);
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var style = document.createElement("style");
    style.textContent =
      ".bubble{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;" +
      "border:0;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);color:#fff;z-index:2147483646;" +
      "display:grid;place-items:center;padding:0}" +
      ".bubble svg{width:28px;height:28px;fill:currentColor}" +
      ".panel{position:fixed;right:20px;bottom:92px;width:380px;height:560px;max-height:calc(100vh - 112px);" +
      "border:0;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.3);background:#fff;z-index:2147483647}" +
      ".panel.phone{inset:0;width:100%;height:100%;max-height:none;border-radius:0}" +
      ".bubble.phone-open{display:none}";
    root.appendChild(style);

    var bubble = document.createElement("button");
    bubble.className = "bubble";
    bubble.type = "button";
    bubble.style.background = profile.colour;
    bubble.setAttribute("aria-label", texts.open);
    bubble.title = texts.open;
    bubble.innerHTML =
      '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
    root.appendChild(bubble);

    var frame = null;
    // A page without a viewport tag lays out 980 px wide even on a phone: the screen decides.
    function isPhone() { return Math.min(window.innerWidth, screen.width) < PHONE; }
    function place() {
      if (!frame) return;
      frame.classList.toggle("phone", isPhone());
      bubble.classList.toggle("phone-open", isPhone());
    }
    function open() {
      if (frame) return;
      var url = server + "/embed/" + encodeURIComponent(bot) + "?launcher=1&lang=" + encodeURIComponent(lang);
      frame = document.createElement("iframe");
      frame.className = "panel";
      frame.title = profile.title;
      frame.src = url;
      frame.setAttribute("allow", "clipboard-write");
      root.appendChild(frame);
      place();
      save("sessionStorage", "open", "1");
      bubble.setAttribute("aria-expanded", "true");
    }
    function close() {
      if (!frame) return;
      frame.remove();
      frame = null;
      bubble.classList.remove("phone-open");
      save("sessionStorage", "open", null);
      bubble.setAttribute("aria-expanded", "false");
    }
    bubble.addEventListener("click", function () { frame ? close() : open(); });
    window.addEventListener("resize", place);
    window.addEventListener("message", function (event) {
      if (event.origin !== server || !event.data || event.data.bot !== bot) return;
      if (!frame || event.source !== frame.contentWindow) return;
      var data = event.data;
      if (data.type === "chatbot:close") close();
      else if (data.type === "chatbot:resize" && !isPhone()) {
        var height = Math.max(360, Math.min(Number(data.height) || 560, 640, window.innerHeight - 112));
        frame.style.height = height + "px";
      }
    });

    document.body.appendChild(host);
    if (load("sessionStorage", "open")) open();
  }
})();

// Try it: plays a call through POST /admin/api/try, one step at a time.
// The server signs and sends each request through the real webhook handlers
// and answers with the XML and a reading of it: prompts, gather, next, end.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const keys = Array.from(document.querySelectorAll("#keypad button"));
  const maxRedirects = 25;
  // On the flow editor, every step plays the draft being edited.
  const draft = document.getElementById("editor");

  let call = null; // {provider, id, from, to, gather, next, end, started, over, agent}
  let typed = "";
  let busy = false;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function provider() {
    return document.querySelector('input[name="provider"]:checked').value;
  }

  function setState(text, cls) {
    const s = $("callstate");
    s.textContent = text;
    s.className = "callstate " + (cls || "");
  }

  function controls() {
    const live = call && !call.over;
    const g = live && call.gather;
    keys.forEach((b) => { b.disabled = busy || !(g && g.keys); });
    $("send-keys").disabled = busy || !(g && g.keys) || typed === "";
    $("speech").disabled = busy || !(g && g.speech);
    $("confidence").disabled = busy || !(g && g.speech);
    $("say").disabled = busy || !(g && g.speech);
    $("silent").disabled = busy || !g;
    $("hangup").disabled = busy || !live;
    $("start").disabled = busy || live;
    document.querySelectorAll('input[name="provider"]').forEach((r) => { r.disabled = !!live; });
    const end = call && call.end;
    const transfer = end && end.kind === "transfer" && end.after && !call.over;
    $("after-transfer").classList.toggle("hidden", !transfer || !!call.agent);
    $("agent-answers").classList.toggle("hidden", !(transfer && end.whisper));
    $("agent-choice").classList.toggle("hidden", !(call && call.agent && call.agent.choose));
    $("after-voicemail").classList.toggle("hidden", !(end && end.kind === "voicemail" && end.after && !call.over));
    $("typed").textContent = typed;
  }

  function speak(prompts) {
    if (!$("speak").checked || !window.speechSynthesis) return;
    prompts.forEach((p) => {
      if (p.kind !== "say" || !p.text) return;
      const u = new SpeechSynthesisUtterance(p.text);
      if (p.language) u.lang = p.language;
      window.speechSynthesis.speak(u);
    });
  }

  // addTurn shows one request and what the caller heard in answer.
  function addTurn(label, data) {
    const empty = $("transcript-empty");
    if (empty) empty.remove();
    const t = el("article", "turn");
    t.dataset.step = String(document.querySelectorAll(".turn").length + 1);
    const req = el("p", "req");
    req.appendChild(el("span", "caller", label));
    if (data.request) req.appendChild(document.createTextNode(" → " + data.request.method + " " + data.request.url));
    t.appendChild(req);
    if (data.error) t.appendChild(el("p", "err", data.error));
    if (data.prompts && data.prompts.length) {
      const ul = el("ul", "prompts");
      data.prompts.forEach((p) => ul.appendChild(el("li", "prompt-" + p.kind, p.text)));
      t.appendChild(ul);
    }
    if (data.gather) {
      const what = [];
      if (data.gather.keys) what.push(data.gather.num_digits ? data.gather.num_digits + " key(s)" : "keys" + (data.gather.finish_key ? " ending with " + data.gather.finish_key : ""));
      if (data.gather.speech) what.push("speech");
      t.appendChild(el("p", "waits", "Waiting for " + what.join(" or ") + (data.next ? "; silence goes on to " + shortURL(data.next.url) : "")));
    }
    if (data.end) t.appendChild(el("p", "end end-" + data.end.kind, data.end.text));
    if (data.xml) {
      document.querySelectorAll(".turn details[open]").forEach((o) => { o.open = false; });
      const d = el("details");
      d.open = true;
      d.appendChild(el("summary", "", "XML (" + (data.status || "") + " " + (data.content_type || "") + ")"));
      d.appendChild(el("pre", "", data.xml));
      t.appendChild(d);
    }
    $("transcript").appendChild(t);
    t.scrollIntoView({ block: "nearest" });
  }

  function shortURL(u) {
    try { const x = new URL(u, location.href); return x.pathname + x.search; } catch (e) { return u; }
  }

  async function post(body) {
    const resp = await fetch("/admin/api/try", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(draft ? Object.assign({ draft: draft.value }, body) : body),
    });
    let data;
    try { data = await resp.json(); } catch (e) { data = { error: "HTTP " + resp.status + " from the admin API" }; }
    if (!resp.ok && !data.error) data.error = "HTTP " + resp.status;
    data.ok = resp.ok;
    return data;
  }

  // step sends one request of the call and follows redirects.
  async function step(extra, label) {
    busy = true;
    controls();
    try {
      let body = Object.assign({ provider: call.provider, call_id: call.id, from: call.from, to: call.to }, extra);
      for (let hops = 0; ; hops++) {
        const data = await post(body);
        if (!data.ok) {
          addTurn(label, data);
          finish("Error: " + data.error);
          return;
        }
        call.id = data.call_id;
        $("callstate").dataset.callId = call.id;
        addTurn(label, data);
        speak(data.prompts || []);
        call.gather = data.gather;
        call.next = data.next;
        call.end = data.end;
        if (data.end) {
          if (data.end.kind === "transfer") setState("Transferred to " + (data.end.numbers || []).join(", "), "over");
          else if (data.end.kind === "voicemail") setState("Voicemail", "over");
          else { await hangup(false); setState(data.end.kind === "hangup" ? "Hung up by the flow" : "Call over", "over"); }
          return;
        }
        if (data.gather) { setState("In call: your turn", "live"); return; }
        if (data.next && data.next.why === "redirect") {
          if (hops >= maxRedirects) { finish("Stopped after " + maxRedirects + " redirects in a row"); return; }
          body = { provider: call.provider, call_id: call.id, from: call.from, to: call.to, url: data.next.url };
          label = "(redirect)";
          continue;
        }
        finish("Call over");
        return;
      }
    } catch (e) {
      addTurn(label, { error: String(e) });
      finish("Error");
    } finally {
      busy = false;
      controls();
    }
  }

  function finish(text) {
    call.over = true;
    call.gather = null;
    setState(text, "over");
  }

  // hangup sends the end-of-call callback so the record gets its status.
  async function hangup(byCaller) {
    if (!call || call.over) return;
    call.over = true;
    call.gather = null;
    const data = await post({ provider: call.provider, call_id: call.id, from: call.from, to: call.to, hangup: true,
      duration: Math.round((Date.now() - call.started) / 1000) });
    if (byCaller) {
      addTurn("You hung up", data);
      setState("You hung up", "over");
    }
  }

  function submitKeys() {
    if (!call || !call.gather) return;
    const d = typed;
    typed = "";
    if (call.agent) { agentKeys(d); return; }
    step({ url: call.gather.action, digits: d }, "You pressed " + (d || "(nothing)"));
  }

  // agentKeys sends the agent's key to the whisper's gather: an empty
  // answer connects the call, a hang-up declines it.
  async function agentKeys(d) {
    const g = call.gather;
    call.gather = null;
    if (d === "") { await agentDone(false); return; }
    const data = await agentPost({ url: g.action, digits: d }, "The agent pressed " + d);
    if (!data) return;
    await agentDone(!(data.end && data.end.kind === "hangup"));
  }

  keys.forEach((b) => b.addEventListener("click", () => {
    if (!call || !call.gather || busy) return;
    const k = b.dataset.key;
    const g = call.gather;
    if (g.finish_key && g.finish_key.indexOf(k) >= 0) { submitKeys(); return; }
    typed += k;
    if (g.num_digits && typed.length >= g.num_digits) { submitKeys(); return; }
    controls();
  }));
  $("send-keys").addEventListener("click", submitKeys);
  $("say").addEventListener("click", () => {
    const s = $("speech").value.trim();
    if (!s || !call || !call.gather) return;
    $("speech").value = "";
    typed = "";
    let c = parseFloat($("confidence").value);
    if (!(c >= 0 && c <= 1)) c = 0.9;
    step({ url: call.gather.action, speech: s, confidence: c }, "You said “" + s + "” (confidence " + c + ")");
  });
  $("speech").addEventListener("keydown", (e) => { if (e.key === "Enter") $("say").click(); });
  $("silent").addEventListener("click", () => {
    if (!call || !call.gather) return;
    typed = "";
    if (call.agent) { agentKeys(""); return; }
    if (call.next) step({ url: call.next.url }, "You stayed silent");
    else { addTurn("You stayed silent", { error: "the document has nothing after the gather: the call ends" }); finish("Call over"); controls(); }
  });
  // The agent's side of a whisper: the agent's leg requests the whisper
  // URL; on Twilio its own gather asks for the accept key (the keypad, as
  // the agent), on Plivo the dial's confirmKey does (the two buttons). The
  // agent's answer then ends the dial: completed, or no-answer.
  async function agentPost(body, label) {
    busy = true;
    controls();
    try {
      const data = await post(Object.assign({ provider: call.provider, call_id: call.id, from: call.from, to: call.to }, body));
      addTurn(label, data);
      if (!data.ok) { finish("Error: " + data.error); return null; }
      return data;
    } finally {
      busy = false;
      controls();
    }
  }

  async function agentDone(took) {
    const dial = call.agent.dial;
    call.agent = null;
    call.gather = null;
    await step({ url: dial, dial_status: took ? "completed" : "no-answer" },
      took ? "The agent took the call" : "The agent declined: the transfer goes on");
  }

  $("agent-answers").addEventListener("click", async () => {
    if (!call || !call.end || !call.end.whisper) return;
    call.agent = { dial: call.end.after, key: call.end.accept_key || "" };
    const data = await agentPost({ url: call.end.whisper }, "The agent answers and hears the whisper");
    if (!data) return;
    if (data.gather) { // Twilio: press the key as the agent
      call.gather = data.gather;
      call.next = null;
      setState("Agent: press the key to take the call (or stay silent)", "live");
    } else if (data.end && data.end.kind === "hangup") {
      await agentDone(false);
      return;
    } else {
      call.agent.choose = true;
      setState(call.agent.key ? "Agent: press " + call.agent.key + " to take the call?" : "The agent hears the whisper", "live");
    }
    controls();
  });
  $("agent-accept").addEventListener("click", () => { if (call && call.agent) agentDone(true); });
  $("agent-decline").addEventListener("click", () => { if (call && call.agent) agentDone(false); });

  $("no-answer").addEventListener("click", () => {
    if (!call || !call.end) return;
    step({ url: call.end.after, dial_status: "no-answer" }, "Nobody answered the transfer");
  });
  $("leave-message").addEventListener("click", () => {
    if (!call || !call.end) return;
    step({ url: call.end.after, recording_url: "https://example.invalid/try-recording.mp3" }, "You left a message");
  });
  $("hangup").addEventListener("click", async () => {
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    busy = true; controls();
    try { await hangup(true); } finally { busy = false; controls(); }
  });
  $("start").addEventListener("click", () => {
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    $("transcript").replaceChildren();
    typed = "";
    call = { provider: provider(), id: "", from: $("from").value.trim(), to: $("to").value.trim(), started: Date.now(), over: false };
    setState("Ringing…", "live");
    step({ url: "" }, "Incoming call from " + (call.from || "?") + " (" + call.provider + ")");
  });
  $("speak").addEventListener("change", () => { if (!$("speak").checked && window.speechSynthesis) window.speechSynthesis.cancel(); });
  controls();
})();

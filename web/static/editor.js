// The flow editor: line numbers, check problems as you type (debounced
// POST /admin/api/flow/check), the map of the draft, replay of recent
// calls, publish, and the revisions with diff and rollback.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const editor = $("editor");
  const gutter = $("gutter");
  let base = Number($("editor-root").dataset.revision);
  let checkTimer = null;
  let checkSeq = 0;
  let bad = new Set();

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function api(method, url, body) {
    const opts = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(url, opts);
    let data = {};
    try { data = await resp.json(); } catch (e) { data = {}; }
    return { status: resp.status, ok: resp.ok, data: data };
  }

  // Line numbers, with the lines that have problems marked.
  function renderGutter() {
    const n = editor.value.split("\n").length;
    const frag = document.createDocumentFragment();
    for (let i = 1; i <= n; i++) {
      const s = el("span", bad.has(i) ? "bad" : "", String(i));
      s.dataset.line = String(i);
      frag.appendChild(s);
    }
    gutter.replaceChildren(frag);
    gutter.scrollTop = editor.scrollTop;
  }

  function goToLine(line, col) {
    const lines = editor.value.split("\n");
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    pos += Math.max(0, (col || 1) - 1);
    editor.focus();
    editor.setSelectionRange(pos, pos);
    editor.scrollTop = Math.max(0, (line - 5) * 18);
  }

  function showProblems(problems) {
    bad = new Set(problems.filter((p) => p.line > 0).map((p) => p.line));
    const ul = $("problems");
    ul.replaceChildren();
    problems.forEach((p) => {
      const li = el("li", "", p.text || p.message);
      li.dataset.line = String(p.line || 0);
      li.addEventListener("click", () => { if (p.line) goToLine(p.line, p.column); });
      ul.appendChild(li);
    });
    const st = $("check-state");
    st.textContent = problems.length ? problems.length + " problem(s)" : "passes check";
    st.className = "check-state " + (problems.length ? "bad" : "ok");
    renderGutter();
  }

  async function check() {
    const seq = ++checkSeq;
    const text = editor.value;
    $("check-state").textContent = "checking…";
    const r = await api("POST", "/admin/api/flow/check", { text: text });
    if (seq !== checkSeq) return; // a newer check is on its way
    if (!r.ok) { $("check-state").textContent = "check failed: " + (r.data.error || r.status); return; }
    showProblems(r.data.problems || []);
    if (!(r.data.problems || []).length) drawMap(text, seq);
  }

  async function drawMap(text, seq) {
    const resp = await fetch("/admin/api/flow/map", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ text: text }),
    });
    if (seq !== checkSeq || !resp.ok) return;
    const doc = new DOMParser().parseFromString(await resp.text(), "image/svg+xml");
    const svg = doc.documentElement;
    if (svg.nodeName !== "svg") return;
    $("draft-map").replaceChildren(document.importNode(svg, true));
  }

  function scheduleCheck() {
    renderGutter();
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 400);
  }

  function renderDiff(pre, text) {
    pre.replaceChildren();
    if (!text) { pre.appendChild(el("span", "", "(no difference)")); return; }
    text.split("\n").forEach((line) => {
      let cls = "";
      if (line.startsWith("+") && !line.startsWith("+++")) cls = "add";
      else if (line.startsWith("-") && !line.startsWith("---")) cls = "del";
      else if (line.startsWith("@@")) cls = "hunk";
      pre.appendChild(el("span", cls, line));
    });
  }

  function result(text, ok) {
    const p = $("publish-result");
    p.textContent = text;
    p.className = "publish-result " + (ok ? "ok" : "bad");
  }

  async function publish() {
    const r = await api("POST", "/admin/api/flow", { text: editor.value, base_revision: base, note: $("note").value, author: $("author").value });
    if (r.ok) {
      setBase(r.data.revision);
      $("note").value = "";
      result("Published as revision " + r.data.revision + ".", true);
    } else if (r.status === 422) {
      showProblems(r.data.problems || []);
      result("Not published: the draft does not pass check.", false);
    } else {
      result("Not published (" + r.status + "): " + (r.data.error || "error"), false);
    }
    loadRevisions();
  }

  function setBase(n) {
    base = n;
    $("base-revision").textContent = String(n);
    $("editor-root").dataset.revision = String(n);
  }

  async function loadLive() {
    const r = await api("GET", "/admin/api/flow");
    if (!r.ok) { result("Could not load the live flow: " + (r.data.error || r.status), false); return; }
    editor.value = r.data.text;
    setBase(r.data.revision);
    result("Loaded live revision " + r.data.revision + ".", true);
    scheduleCheck();
  }

  async function rollback(n) {
    const r = await api("POST", "/admin/api/flow/rollback", { revision: n, author: $("author").value });
    if (!r.ok) { result("Rollback failed (" + r.status + "): " + (r.data.error || ""), false); return; }
    await loadLive();
    result("Rolled back: revision " + n + " is live again as revision " + r.data.revision + ".", true);
    loadRevisions();
  }

  async function showDiff(from, to) {
    const r = await api("GET", "/admin/api/flow/diff?from=" + from + "&to=" + to);
    const pre = $("revision-diff");
    pre.hidden = false;
    renderDiff(pre, r.ok ? r.data.diff : "error: " + (r.data.error || r.status));
  }

  async function loadRevisions() {
    const r = await api("GET", "/admin/api/flow/revisions");
    const tb = $("revisions");
    tb.replaceChildren();
    (r.data.revisions || []).forEach((rev, i) => {
      const tr = el("tr", i === 0 ? "live" : "");
      tr.dataset.revision = String(rev.revision);
      tr.appendChild(el("td", "", String(rev.revision) + (i === 0 ? " (live)" : "")));
      tr.appendChild(el("td", "", rev.at.replace("T", " ").replace(/\..*Z$|Z$/, "")));
      tr.appendChild(el("td", "", rev.author));
      tr.appendChild(el("td", "", rev.note));
      const actions = el("td");
      if (rev.revision > 1) {
        const d = el("button", "secondary diff-prev", "Diff with " + (rev.revision - 1));
        d.type = "button";
        d.addEventListener("click", () => showDiff(rev.revision - 1, rev.revision));
        actions.appendChild(d);
      }
      if (i > 0) {
        const b = el("button", "secondary rollback", "Roll back to this");
        b.type = "button";
        b.addEventListener("click", () => rollback(rev.revision));
        actions.appendChild(b);
      }
      tr.appendChild(actions);
      tb.appendChild(tr);
    });
  }

  async function replay() {
    const out = $("replay-result");
    out.replaceChildren(el("p", "small", "Replaying…"));
    const r = await api("POST", "/admin/api/flow/replay", { text: editor.value, calls: Number($("replay-calls").value) || 50 });
    out.replaceChildren();
    if (!r.ok) {
      out.appendChild(el("p", "error", r.status === 422 ? "The draft does not pass check; fix it first." : "Replay failed: " + (r.data.error || r.status)));
      return;
    }
    const d = r.data;
    const summary = el("p", "", d.replayed + " call(s) replayed: " + d.changed.length + " would take another path" +
      (d.unfaithful ? "; for " + d.unfaithful + " of them the live flow's replay did not follow the recorded call (recorded on another revision, or steered by looked-up values)" : "") + ".");
    summary.id = "replay-summary";
    out.appendChild(summary);
    if (d.changed.length) {
      const t = el("table", "replay");
      const head = el("tr");
      ["call", "live path", "draft path"].forEach((h) => head.appendChild(el("th", "", h)));
      t.appendChild(head);
      d.changed.forEach((c) => {
        const tr = el("tr", "changed-call");
        tr.dataset.callId = c.call_id;
        tr.appendChild(el("td", "", c.provider + " " + c.call_id + (c.started_at ? " · " + c.started_at.replace("T", " ").replace(/\..*Z$|Z$/, "") : "")));
        [c.live_path, c.draft_path].forEach((path) => {
          const td = el("td");
          path.forEach((m, i) => {
            td.appendChild(el("span", i >= c.diverges_at ? "diverged" : "", m));
            if (i < path.length - 1) td.appendChild(document.createTextNode(" → "));
          });
          tr.appendChild(td);
        });
        t.appendChild(tr);
      });
      out.appendChild(t);
    }
    renderDiff($("replay-diff"), d.diff);
    $("replay-diff-box").open = true;
  }

  editor.addEventListener("input", scheduleCheck);
  editor.addEventListener("scroll", () => { gutter.scrollTop = editor.scrollTop; });
  editor.addEventListener("keydown", (e) => {
    if (e.key === "Tab") { // two spaces, as YAML wants
      e.preventDefault();
      const s = editor.selectionStart;
      editor.setRangeText("  ", s, editor.selectionEnd, "end");
      scheduleCheck();
    }
  });
  $("publish").addEventListener("click", publish);
  $("reload").addEventListener("click", loadLive);
  $("replay").addEventListener("click", replay);
  $("diff-show").addEventListener("click", () => {
    const from = Number($("diff-from").value), to = Number($("diff-to").value);
    if (from > 0 && to > 0) showDiff(from, to);
  });
  renderGutter();
  check();
  loadRevisions();
})();

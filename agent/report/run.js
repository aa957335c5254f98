// Renders the run report from the JSON block #ouro-data. Only textContent and SVG attributes
// are set from data, never innerHTML, so a patch cannot inject markup into the page.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("ouro-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };

  function renderDiff(target, diff) {
    target.textContent = "";
    if (!diff) { target.textContent = "(no diff)"; return; }
    for (const line of diff.split("\n")) {
      let cls = "";
      if (line.startsWith("+") && !line.startsWith("+++")) cls = "add";
      else if (line.startsWith("-") && !line.startsWith("---")) cls = "del";
      else if (line.startsWith("@@")) cls = "hunk";
      const span = el("span", line + "\n", cls);
      target.appendChild(span);
    }
  }

  $("run-id").textContent = data.run_id;
  const summary = $("run-summary");
  summary.appendChild(el("span", "status: " + data.status, "status-" + data.status));
  for (const [k, v] of Object.entries(data.summary || {})) summary.appendChild(el("span", k + ": " + v));
  $("issue").textContent = data.issue || "(no issue text)";
  renderDiff($("final-diff"), data.diff);
  $("explanation").appendChild(el("pre", data.explanation || "(no explanation)", "wrap"));
  const chain = $("chain");
  for (const step of data.chain || []) {
    const li = el("li");
    li.appendChild(el("strong", "node " + step.node + ": "));
    li.appendChild(el("span", step.text));
    chain.appendChild(li);
  }

  // --- the search tree: leaves spread left to right in depth-first order, parents centred ---
  const nodes = data.nodes || [];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const kids = new Map(nodes.map((n) => [n.id, []]));
  const roots = [];
  for (const n of nodes) (n.parent !== null && kids.has(n.parent) ? kids.get(n.parent) : roots).push(n);
  const pos = new Map();
  let nextX = 0, maxDepth = 0;
  function place(n, depth) {
    maxDepth = Math.max(maxDepth, depth);
    const cs = kids.get(n.id);
    if (!cs.length) { pos.set(n.id, { x: nextX++, y: depth }); return; }
    cs.forEach((c) => place(c, depth + 1));
    const xs = cs.map((c) => pos.get(c.id).x);
    pos.set(n.id, { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: depth });
  }
  roots.forEach((r) => place(r, 0));
  const DX = 34, DY = 64, PAD = 24;
  const svg = $("tree");
  svg.setAttribute("width", Math.max(200, nextX * DX + 2 * PAD));
  svg.setAttribute("height", (maxDepth + 1) * DY + 2 * PAD);
  const sx = (n) => PAD + pos.get(n.id).x * DX, sy = (n) => PAD + pos.get(n.id).y * DY;
  const colour = (v) => (v === null || v === undefined) ? "#bbbbbb"
    : "hsl(" + Math.round(120 * Math.max(0, Math.min(1, v))) + ",65%,48%)";
  for (const n of nodes) {
    if (n.parent !== null && byId.has(n.parent)) {
      const p = byId.get(n.parent), line = document.createElementNS(SVG, "line");
      line.setAttribute("x1", sx(p)); line.setAttribute("y1", sy(p));
      line.setAttribute("x2", sx(n)); line.setAttribute("y2", sy(n));
      svg.appendChild(line);
    }
  }
  let selected = null;
  for (const n of nodes) {
    const c = document.createElementNS(SVG, "circle");
    c.setAttribute("cx", sx(n)); c.setAttribute("cy", sy(n)); c.setAttribute("r", 10);
    c.setAttribute("fill", colour(n.value));
    c.setAttribute("data-node", n.id);
    c.setAttribute("class", "node" + (n.final ? " final" : "") + (n.plausible ? " plausible" : ""));
    const title = document.createElementNS(SVG, "title");
    title.textContent = "node " + n.id + (n.label ? ": " + n.label : "") +
      (n.value !== null ? "  value " + n.value.toFixed(2) : "") + (n.status ? "  [" + n.status + "]" : "");
    c.appendChild(title);
    c.addEventListener("click", () => {
      if (selected) selected.classList.remove("selected");
      selected = c; c.classList.add("selected");
      showNode(n);
    });
    svg.appendChild(c);
    const t = document.createElementNS(SVG, "text");
    t.setAttribute("x", sx(n) + 12); t.setAttribute("y", sy(n) + 4);
    t.textContent = n.id;
    svg.appendChild(t);
  }
  if (!nodes.length) $("tree-wrap").appendChild(el("p", "(this run has no search tree)", "hint"));

  function showNode(n) {
    const d = $("node-detail");
    d.textContent = "";
    d.setAttribute("data-node", n.id);
    d.appendChild(el("h3", "Node " + n.id + (n.label ? ": " + n.label : "")));
    d.appendChild(el("p", "value " + (n.value === null ? "n/a" : n.value.toFixed(3)) + ", visits " + n.visits +
      (n.status ? ", " + n.status : "") + (n.final ? ", final patch" : n.plausible ? ", plausible" : "")));
    d.appendChild(el("h4", "Diff"));
    const pre = el("pre", null, "diff node-diff");
    if (n.diff) renderDiff(pre, n.diff);
    else pre.textContent = "(this run's tree.json does not record the diff of non-final candidates)";
    d.appendChild(pre);
    if ((n.edits || []).length) {
      d.appendChild(el("h4", "Edits from the original"));
      const ol = el("ol", null, "node-edits");
      n.edits.forEach((e) => ol.appendChild(el("li", e)));
      d.appendChild(ol);
    }
    if (n.explanation) { d.appendChild(el("h4", "Explanation")); d.appendChild(el("pre", n.explanation, "node-explanation")); }
    d.appendChild(el("h4", "Test output"));
    const tests = typeof n.tests === "string" ? n.tests : JSON.stringify(n.tests, null, 2);
    d.appendChild(el("pre", [tests && tests !== "null" ? tests : "", n.test_output].filter(Boolean).join("\n\n") || "(none)", "node-tests"));
  }

  const audit = $("audit");
  if ((data.audit || []).length) {
    const head = el("tr");
    ["time", "kind", "severity", "detail"].forEach((h) => head.appendChild(el("th", h)));
    audit.appendChild(head);
    for (const e of data.audit) {
      const tr = el("tr");
      [e.time, e.kind, e.severity, e.detail].forEach((v) => tr.appendChild(el("td", v)));
      audit.appendChild(tr);
    }
  } else audit.appendChild(el("tr")).appendChild(el("td", "no audit events"));

  const timings = $("timings");
  const total = (data.timings || []).reduce((a, t) => a + t.seconds, 0);
  if ((data.timings || []).length) {
    for (const t of data.timings) {
      const tr = el("tr");
      tr.appendChild(el("td", t.phase));
      tr.appendChild(el("td", t.seconds.toFixed(2) + " s"));
      tr.appendChild(el("td", total ? Math.round(100 * t.seconds / total) + "%" : ""));
      timings.appendChild(tr);
    }
  } else timings.appendChild(el("tr")).appendChild(el("td", "no timings recorded"));
})();

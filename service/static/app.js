// The explorer uses only the public API (/v1/...). No framework, no network beyond this server.
"use strict";
const $ = (id) => document.getElementById(id);
const api = async (path) => {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
};
const hue = (label) => {  // a stable hue per label, shared by the lists and the map (map.js)
  let hash = 0;
  for (const ch of label) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
};
const colour = (label) => `hsl(${hue(label)}, 55%, 42%)`;
const model = () => $("model").value;
const esc = (text) => String(text).replace(/[&<>"']/g,
  (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const enc = encodeURIComponent;

async function loadModels() {
  const { models } = await api("/v1/models");
  $("model").innerHTML = models.map((m) => `<option value="${esc(m.name)}">${esc(m.name)}</option>`).join("");
  await showModel();
}

async function showModel() {
  const m = await api(`/v1/models/${enc(model())}`);
  $("info").textContent = `${m.family}, ${m.vocab_size.toLocaleString()} tokens × ${m.dim} dims ` +
    `(${m.vocabulary}: ${m.kinds["byte"].toLocaleString()} byte, ${m.kinds["special"]} special tokens), ` +
    `from ${m.source.kind}:${m.source.location}` + (m.description ? `. ${m.description}` : "");
  const counts = Object.entries(m.label_schemes.unicode.counts).sort((a, b) => b[1] - a[1]).slice(0, 12);
  $("scripts").innerHTML = counts.map(([name, n]) =>
    `<li><span class="script" style="background:${colour(name)}">${esc(name)}</span> ${n.toLocaleString()}</li>`).join("");
  // the lexicon's languages: pool=words finds words the vocabulary splits into pieces
  const lexicon = m.lexicon ? Object.keys(m.lexicon) : [];
  $("pool").querySelector('option[value="words"]').disabled = lexicon.length === 0;
  if (lexicon.length === 0) $("pool").value = "tokens";
  // the encoder space: ready, or why not (no encoder, or not built yet: the reason names the command)
  const encoder = $("space").querySelector('option[value="encoder"]');
  encoder.disabled = !m.spaces.includes("encoder");
  encoder.title = m.encoder_space && m.encoder_space.reason ? m.encoder_space.reason : "";
  if (encoder.disabled) $("space").value = "input";
  const languages = m.languages ? m.languages.supported : [];
  const perLanguage = m.label_schemes.language ? m.label_schemes.language.counts : {};
  $("language").innerHTML = '<option value="">any</option>' + languages.map((code) =>
    `<option value="${esc(code)}">${esc(code)} — ${esc(m.languages.names[code] || code)}</option>`).join("");
  $("languages").innerHTML = languages.length ? languages.slice(0, 12).map((code) =>
    `<li><span class="lang">${esc(code)}</span> ${esc(m.languages.names[code] || code)}: ` +
    `${(perLanguage[code] || 0).toLocaleString()}</li>`).join("") : "<li>no language labels in this artifact</li>";
  $("headline").innerHTML = '<li id="h-div">diversity: computing…</li><li id="h-sep">separability: computing…</li>';
  const name = model();
  analysis(`/v1/models/${enc(name)}/diversity`).then((d) => {
    if (name !== model()) return;
    $("h-div").innerHTML = `distinct categories among 50 neighbors (paper: 7.61 mT5-XL, 1.64 ` +
      `XLM-R-XL): <b>${d.mean.toFixed(2)}</b> (sd ${d.sd.toFixed(2)}, ${d.queries} queries, seed ${d.seed})`;
  }).catch((e) => { $("h-div").textContent = e.message; });
  analysis(`/v1/models/${enc(name)}/separability`).then((r) => {
    if (name !== model()) return;
    $("h-sep").innerHTML = `one-vs-rest script separability (paper: 0.9924 XLM-R-XL, 0.9332 mT5-XL): ` +
      `<b>${r.mean.toFixed(4)}</b> over ${r.scores.length} categories, ${r.folds} folds, seed ${r.seed}`;
  }).catch((e) => { $("h-sep").textContent = e.message; });
}

// An analysis answers 200 with its result, or 202 with a job to poll until it is done. Without Redis
// each worker keeps its own jobs: a poll that reaches another worker is a 404, and the analysis
// request (idempotent) is sent again, which that worker answers or starts itself.
async function analysis(path) {
  for (;;) {
    const response = await fetch(path);
    let body = await response.json();
    if (!response.ok) throw new Error(body.detail || response.statusText);
    if (response.status !== 202 && body.status !== "running") return body;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const poll = await fetch(body.url);
      if (poll.status === 404) break;  // another worker: ask again
      body = await poll.json();
      if (!poll.ok) throw new Error(body.detail || poll.statusText);
      if (body.status === "failed") throw new Error(body.error.detail);
      if (body.status === "done") return body.result;
    }
  }
}

async function suggest() {
  const q = $("token").value;
  if (!q) return;
  const page = await api(`/v1/models/${enc(model())}/tokens?q=${enc(q)}&limit=10`).catch(() => ({ items: [] }));
  $("suggestions").innerHTML = page.items.map((t) => `<option value="${esc(t.token)}">`).join("");
}

// Requests overlap (a mode change, then a click): only the latest one's answer is shown, whatever
// order they finish in.
let latest = 0;

async function show() {
  const mode = $("mode").value;
  document.body.classList.toggle("translations", mode === "translations");
  const token = $("token").value.trim();
  if (!token) return;
  const kind = $("as").value === "text" ? "text" : "token";
  let path = `/v1/models/${enc(model())}/${mode}?${kind}=${enc(token)}&k=${enc($("k").value)}` +
    "&fields=token,display,similarity,kind,labels,language,anomalous";
  const language = $("language").value;
  const encoder = $("space").value === "encoder";  // candidates are the encoded lexicon words
  const words = encoder || (mode === "translations" && $("pool").value === "words");
  if (words) path += `&space=${encoder ? "encoder" : "input"}`;  // the switch says which, not the default
  if (mode === "translations") {
    path += `&method=${$("method").value}`;
    if (words) path += "&pool=words";  // rows are lexicon words: script filters do not apply
    else if ($("targets").value.trim()) path += `&target_scripts=${enc($("targets").value.trim())}`;
    if (language) path += `&target_languages=${enc(language)}`;
  } else if (language) {
    path += `&languages=${enc(language)}`;
  }
  $("status").textContent = "";
  const ticket = ++latest;
  try {
    const body = await api(path);
    if (ticket !== latest) return;  // a later request replaced this one
    const items = body.neighbors || body.candidates;
    const q = body.query;
    const labels = q.labels || {};
    const pieces = q.pieces && q.pieces.length > 1 ? ` = ${q.pieces.map((p) => p.display).join(" + ")}` : "";
    $("title").textContent = `${mode === "neighbors" ? "Neighbors" : "Translation candidates"} of ` +
      `${q.display || q.matched}${pieces} (${labels.unicode || q.word_language}` +
      `${labels.language ? ", " + labels.language : ""}) in ` +
      `${body.model}${language ? " — " + language + " only" : ""}${words ? ", lexicon words" : ""}` +
      `${encoder ? ", encoder space" : ""}`;
    $("results").innerHTML = items.map((n) => {
      const script = n.labels.unicode || (words ? "word" : "");  // a lexicon word has a language only
      const lang = n.labels.language || "";
      const width = Math.max(0, n.similarity) * 100;
      const share = n.language && n.language.share !== null ? ` (${n.language.guess} ${n.language.share})` : "";
      const flag = n.anomalous ? '<span class="flag" title="under-trained token candidate (not verified)">⚠</span>' : "";
      return `<li data-script="${esc(script)}" data-language="${esc(lang)}" data-anomalous="${n.anomalous ? 1 : 0}">` +
        `<span class="token" title="${words ? esc(n.kind) : "id " + n.id}">${esc(n.display)}</span>${flag}` +
        `<span class="script" style="background:${colour(script)}">${esc(script)}</span>` +
        `<span class="lang" title="language label${esc(share)}">${esc(lang)}</span>` +
        `<span class="bar" style="width:${width}%;background:${colour(script)}"></span>` +
        `<span class="sim">${n.similarity.toFixed(3)}</span></li>`;
    }).join("");
  } catch (error) {
    if (ticket !== latest) return;
    $("results").innerHTML = "";
    $("status").textContent = error.message;
  }
}

$("go").addEventListener("click", show);
$("token").addEventListener("input", suggest);
$("token").addEventListener("keydown", (e) => { if (e.key === "Enter") show(); });
$("mode").addEventListener("change", show);
$("pool").addEventListener("change", show);
$("space").addEventListener("change", show);
$("language").addEventListener("change", show);
$("model").addEventListener("change", async () => { await showModel(); await show(); });
// map.js (loaded after this script, perhaps after the models are listed) waits on this promise.
const modelsListed = loadModels();
modelsListed.then(show).catch((e) => { $("status").textContent = e.message; });

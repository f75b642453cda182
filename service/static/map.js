// The vocabulary map: every token of the model as one WebGL point (regl-scatterplot, bundled into
// /static/vendor/ by web/build.sh). GET /v1/models/{model}/map names the columns; each is one raw
// little-endian array: float16 x, y per token and uint16 label codes, ~1.5 MB for 250k tokens.
// Uses app.js's helpers ($, api, enc, esc, hue, model, show).
"use strict";
const MAP = { plot: null, name: "", ids: null, point: null, x: null, y: null, codes: {}, names: {}, picked: -1 };
const GREY = "#5d6472";
const UNNAMED = new Set(["unlabelled", "ambiguous", "Common", "Inherited", "Unknown"]);

// float16 bit pattern -> value, for all 65,536 patterns (Float16Array is not in every browser yet)
const HALF = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    table[h] = exp === 0 ? sign * frac * 2 ** -24
      : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return table;
})();

const mapColour = (label) => {  // the list's hue, lighter for the dark map; grey for "no script/language"
  if (UNNAMED.has(label)) return GREY;
  const h = hue(label) / 60, c = 0.62, x = c * (1 - Math.abs((h % 2) - 1)), m = 0.62 - c / 2;
  const [r, g, b] = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c]
    : h < 5 ? [x, 0, c] : [c, 0, x];
  return "#" + [r, g, b].map((v) => Math.round((v + m) * 255).toString(16).padStart(2, "0")).join("");
};

async function column(name, which) {
  const response = await fetch(`/v1/models/${enc(name)}/map/${which}`);
  if (!response.ok) throw new Error(`map column ${which}: ${response.status}`);
  return response.arrayBuffer();
}

function plot() {
  if (MAP.plot) return MAP.plot;
  MAP.plot = reglScatterplot.createScatterplot({
    canvas: $("map-canvas"), width: "auto", height: "auto", backgroundColor: "#10141c",
    pointSize: 2, pointSizeSelected: 6, pointOutlineWidth: 2, pointColorHover: "#ffffff",
    opacity: 0.75, lassoOnLongPress: false,
  });
  MAP.plot.subscribe("pointover", tip);
  MAP.plot.subscribe("pointout", () => { $("map-tip").hidden = true; });
  MAP.plot.subscribe("select", ({ points }) => { if (points.length === 1) pick(points[0]); });
  return MAP.plot;
}

async function loadMap() {
  const name = model();
  $("map-status").textContent = "loading the map…";
  const meta = await api(`/v1/models/${enc(name)}/map`);
  if (!meta.layout) {
    plot().clear();
    $("map-status").textContent = "this artifact was built without a map (--layout none)";
    return;
  }
  const schemes = ["unicode", "language"].filter((c) => c in meta.categories);
  const started = performance.now();
  const buffers = await Promise.all(["xy", ...schemes].map((c) => column(name, c)));
  if (name !== model()) return;
  const half = new Uint16Array(buffers[0]);
  const tokens = half.length / 2;
  const ids = [];
  for (let i = 0; i < tokens; i++) if (!Number.isNaN(HALF[half[2 * i]])) ids.push(i);
  MAP.ids = Int32Array.from(ids);
  MAP.point = new Int32Array(tokens).fill(-1);
  MAP.x = new Float32Array(ids.length);
  MAP.y = new Float32Array(ids.length);
  MAP.ids.forEach((id, k) => { MAP.point[id] = k; MAP.x[k] = HALF[half[2 * id]]; MAP.y[k] = HALF[half[2 * id + 1]]; });
  MAP.codes = Object.fromEntries(schemes.map((c, j) => [c, new Uint16Array(buffers[j + 1])]));
  MAP.names = meta.categories;
  MAP.name = name;
  $("map-colour").querySelector('[value="language"]').disabled = !("language" in MAP.codes);
  if (!(($("map-colour").value) in MAP.codes)) $("map-colour").value = "unicode";
  await drawMap();
  const l = meta.layout;
  $("map-status").textContent = `${ids.length.toLocaleString()} tokens placed by ${l.method}` +
    (l.method === "umap" ? ` (${l.n_neighbors} neighbors from the table, seed ${l.seed})` : "") +
    `; loaded and drawn in ${Math.round(performance.now() - started)} ms`;
}

async function drawMap() {
  const scheme = $("map-colour").value in MAP.codes ? $("map-colour").value : "unicode";
  const codes = MAP.codes[scheme], names = MAP.names[scheme];
  const valueA = new Float32Array(MAP.ids.length);
  const counts = new Array(names.length).fill(0);
  MAP.ids.forEach((id, k) => { valueA[k] = codes[id]; counts[codes[id]] += 1; });
  plot().set({ pointColor: names.map(mapColour), colorBy: "valueA" });
  await plot().draw({ x: MAP.x, y: MAP.y, valueA }, { zDataType: "categorical" });
  const top = names.map((n, i) => [n, counts[i]]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).slice(0, 16);
  $("map-legend").innerHTML = top.map(([n, c]) =>
    `<li><span class="script" style="background:${mapColour(n)}">${esc(n)}</span> ${c.toLocaleString()}</li>`).join("");
}

const tokenCache = new Map();
async function tokenOf(id) {
  const key = `${MAP.name}/${id}`;
  if (!tokenCache.has(key)) tokenCache.set(key, api(`/v1/models/${enc(MAP.name)}/tokens/${id}`));
  return tokenCache.get(key);
}

async function tip(k) {
  const id = MAP.ids[k];
  const t = await tokenOf(id).catch(() => null);
  if (!t || MAP.ids[k] !== id) return;
  const [px, py] = plot().getScreenPosition(k);
  const box = $("map-tip");
  box.textContent = `${t.display}  ·  ${t.labels.unicode}${t.labels.language ? " · " + t.labels.language : ""}  ·  id ${id}`;
  box.style.left = `${px + 10}px`;
  box.style.top = `${py + 10}px`;
  box.hidden = false;
}

async function pick(k) {  // a clicked point: its neighbors or translations, by the form above
  const id = MAP.ids[k];
  MAP.picked = id;
  const t = await tokenOf(id);
  $("as").value = "token";
  $("token").value = t.token;
  await show();
}

async function flyTo() {
  const q = $("map-find").value.trim();
  if (!q || !MAP.ids) return;
  const exact = (text) => api(`/v1/models/${enc(MAP.name)}/tokens?q=${enc(text)}&limit=1&match=exact`);
  let found = q.startsWith("▁") ? [] : (await exact(`▁${q}`)).items;  // a word: its word-initial token first
  if (!found.length) found = (await exact(q)).items;
  if (!found.length) found = (await api(`/v1/models/${enc(MAP.name)}/tokens?q=${enc(q)}&limit=1`)).items;
  const k = found.length ? MAP.point[found[0].id] : -1;
  if (k < 0) {
    $("map-status").textContent = found.length ? `${q}: not on the map (special or zero row)` : `${q}: no such token`;
    return;
  }
  await plot().zoomToLocation([MAP.x[k], MAP.y[k]], 0.08, { transition: true, transitionDuration: 600 });
  plot().select([k]);
}

$("map-colour").addEventListener("change", drawMap);
$("map-go").addEventListener("click", flyTo);
$("map-find").addEventListener("keydown", (e) => { if (e.key === "Enter") flyTo(); });
$("model").addEventListener("change", () => loadMap().catch((e) => { $("map-status").textContent = e.message; }));
modelsListed.then(loadMap).catch((e) => { $("map-status").textContent = e.message; });

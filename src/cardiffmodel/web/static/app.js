// The dashboard's browser code: charts from JSON embedded in the page, and the beat map
// drawn from the API. Figures arrive already suppressed; a hidden count has value null.
"use strict";

const PALETTE = ["#1d2733", "#1c5d99", "#c0392b", "#2e8b57", "#d68910"];
const SEQUENTIAL = ["#fde0c5", "#facba6", "#f59e72", "#e8694a", "#c0392b"];
const DIVERGING = { fall2: "#2166ac", fall1: "#92c5de", none: "#f7f7f7", rise1: "#f4a582", rise2: "#b2182b" };
const HIDDEN = "#c9cfd6";
const NOT_HELD = "not held";  // the "shown" text of a figure the sources do not hold
const NOT_HELD_FILL = "#ffffff";

function drawCharts() {
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((d, i) => ({
          label: d.label, data: d.data, borderColor: PALETTE[i % PALETTE.length],
          backgroundColor: PALETTE[i % PALETTE.length], spanGaps: false, tension: 0.2,
        })),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: "Incidents" } } },
      },
    });
  });
}

const SMALL = "#fff5eb";  // a count shown as "<5": known to be 1 to 4

// Quantile classes of the shown values; each legend line gives the range it really holds.
function classes(values) {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  const cuts = [];
  for (let i = 1; i < SEQUENTIAL.length; i++) {
    const cut = sorted[Math.floor((i * sorted.length) / SEQUENTIAL.length)];
    if (cut !== undefined && cut > (cuts.length ? cuts[cuts.length - 1] : sorted[0])) cuts.push(cut);
  }
  const ranges = cuts.concat([Infinity]).map(() => []);
  for (const v of sorted) ranges[classOf(v, cuts)].push(v);
  return { cuts, ranges };
}

function classOf(value, cuts) {
  let k = 0;
  while (k < cuts.length && value >= cuts[k]) k++;
  return Math.min(k, SEQUENTIAL.length - 1);
}

function measureValue(area, measure) {
  if (measure === "rate") return area.rate_value;
  if (measure === "change") return area.change;
  return area.count.value;
}

// A figure that is no count: the period (or, for a change, the previous period) is not held.
function notHeld(area, measure) {
  return area.count.shown === NOT_HELD || (measure === "change" && area.previous.shown === NOT_HELD);
}

function fillFor(area, measure, scale) {
  const value = measureValue(area, measure);
  if (notHeld(area, measure)) return NOT_HELD_FILL;
  if (value === null || value === undefined) {
    return measure === "count" && area.count.shown === "<5" ? SMALL : HIDDEN;
  }
  if (measure === "change") {
    const flag = area.change_flag;
    return flag === "rise" ? DIVERGING.rise2 : flag === "fall" ? DIVERGING.fall2
      : value > 0 ? DIVERGING.rise1 : value < 0 ? DIVERGING.fall1 : DIVERGING.none;
  }
  return SEQUENTIAL[classOf(value, scale.cuts)];
}

function number(v, measure) {
  return measure === "rate" ? v.toFixed(1) : String(v);
}

function swatchRow(colour, text, kind) {
  const row = document.createElement("div");
  const swatch = document.createElement("i");
  if (kind) swatch.className = kind;
  else swatch.style.background = colour;
  row.append(swatch, document.createTextNode(text));
  return row;
}

function legend(element, measure, scale, areas) {
  const rows = [];
  if (measure === "change") {
    rows.push([DIVERGING.rise2, "significant rise"], [DIVERGING.rise1, "rise"], [DIVERGING.none, "no change"],
      [DIVERGING.fall1, "fall"], [DIVERGING.fall2, "significant fall"]);
  } else {
    if (measure === "count" && areas.some((a) => a.count.shown === "<5")) rows.push([SMALL, "<5"]);
    scale.ranges.forEach((values, k) => {
      if (!values.length) return;
      const low = number(values[0], measure);
      const high = number(values[values.length - 1], measure);
      rows.push([SEQUENTIAL[k], low === high ? low : `${low} to ${high}`]);
    });
  }
  if (areas.some((a) => fillFor(a, measure, scale) === HIDDEN)) rows.push([HIDDEN, "hidden (suppressed)"]);
  if (areas.some((a) => notHeld(a, measure))) {
    rows.push([NOT_HELD_FILL, measure === "change" ? "previous period not held" : "not held (no data)"]);
  }
  element.replaceChildren(...rows.map(([colour, text]) => swatchRow(colour, text)));
  for (const [kind, text] of [["hot", "hot spot"], ["cold", "cold spot"], ["venue", "venue (size: incidents)"]]) {
    element.append(swatchRow(null, text, kind));
  }
}

// Bounds of each area's main polygon, so a far islet (Flat Holm lies in a Cardiff ward)
// does not shrink the city into a corner of the map.
function coreBounds(geojson) {
  const bounds = L.latLngBounds([]);
  for (const feature of geojson.features) {
    const g = feature.geometry;
    const polygons = g.type === "MultiPolygon" ? g.coordinates : [g.coordinates];
    const main = polygons.reduce((a, b) => (b[0].length > a[0].length ? b : a));
    main[0].forEach(([lon, lat]) => bounds.extend([lat, lon]));
  }
  return bounds;
}

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

async function drawMap(element) {
  const query = element.dataset.query;
  const [areas, beats, venues, hotspots] = await Promise.all([
    getJson("/api/map/areas"), getJson(`/api/map/beats?${query}`),
    getJson(`/api/map/venues?${query}`), getJson(`/api/map/hotspots?${query}`),
  ]);
  const byCode = Object.fromEntries(beats.areas.map((a) => [a.code, a]));
  const hot = Object.fromEntries(hotspots.areas.map((a) => [a.code, a.class]));
  const map = L.map(element, { zoomSnap: 0.25, attributionControl: true });
  map.attributionControl.setPrefix("Leaflet");
  map.attributionControl.addAttribution("Boundaries: ONS, OGL v3");
  const select = document.getElementById("measure");
  const polygons = L.geoJSON(areas, {
    onEachFeature: (feature, layer) => {
      const a = byCode[feature.id];
      if (!a) return;
      layer.bindTooltip(`<strong>${escapeHtml(a.name)}</strong><br>Incidents: ${a.count.shown}` +
        `<br>Per 1,000 residents: ${a.rate_per_1000}<br>Change: ${a.previous.shown === NOT_HELD ? "previous period not held" : a.change === null ? "-" : a.change} ${a.change_flag}`,
        { sticky: true });
      layer.on("click", () => { window.location.href = `/beats/${encodeURIComponent(a.code)}?${query}`; });
    },
  }).addTo(map);
  const outlines = L.geoJSON(areas, {
    filter: (feature) => hot[feature.id] === "hot" || hot[feature.id] === "cold",
    style: (feature) => hot[feature.id] === "hot"
      ? { color: "#b3001b", weight: 4, fill: false } : { color: "#0b4f9c", weight: 4, dashArray: "6 4", fill: false },
    interactive: false,
  });
  const top = Math.max(1, ...venues.venues.map((v) => v.count.value || 0));
  const points = L.layerGroup(venues.venues.filter((v) => v.lon !== null).map((v) =>
    L.circleMarker([v.lat, v.lon], {
      radius: 4 + 10 * Math.sqrt((v.count.value || 0) / top), color: "#fff", weight: 1,
      fillColor: "#5b2a86", fillOpacity: 0.9,
    }).bindTooltip(`${escapeHtml(v.name)}: ${v.count.shown}`)));
  function recolour() {
    const measure = select.value;
    const scale = classes(beats.areas.map((a) => measureValue(a, measure)));
    polygons.setStyle((feature) => ({
      fillColor: byCode[feature.id] ? fillFor(byCode[feature.id], measure, scale) : HIDDEN,
      fillOpacity: 0.85, color: "#ffffff", weight: 1,
    }));
    legend(document.getElementById("legend"), measure, scale, beats.areas);
  }
  select.addEventListener("change", recolour);
  recolour();
  const toggle = (box, layer) => {
    const apply = () => (box.checked ? layer.addTo(map) : layer.remove());
    box.addEventListener("change", apply);
    apply();
  };
  toggle(document.getElementById("show-hotspots"), outlines);
  toggle(document.getElementById("show-venues"), points);
  map.fitBounds(coreBounds(areas), { padding: [10, 10] });
  element.dataset.ready = "true";
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

document.addEventListener("DOMContentLoaded", () => {
  drawCharts();
  const element = document.getElementById("map");
  if (element) drawMap(element).catch((err) => { element.textContent = `The map could not be drawn: ${err.message}`; });
});

// The dashboard's browser code: charts from JSON embedded in the page, and the beat map
// drawn from the API. Figures arrive already suppressed; a hidden count has value null.
"use strict";

const PALETTE = ["#1c5d99", "#c0392b", "#2e8b57", "#8e44ad", "#d68910"];
const SEQUENTIAL = ["#fde0c5", "#facba6", "#f59e72", "#e8694a", "#c0392b"];
const DIVERGING = { fall2: "#2166ac", fall1: "#92c5de", none: "#f7f7f7", rise1: "#f4a582", rise2: "#b2182b" };
const HIDDEN = "#c9cfd6";

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

function breaks(values, classes) {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  if (!sorted.length) return [];
  const cuts = [];
  for (let i = 1; i < classes; i++) cuts.push(sorted[Math.floor((i * sorted.length) / classes)]);
  return [...new Set(cuts)];
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

function styleFor(area, measure, cuts) {
  const value = measureValue(area, measure);
  let fill = HIDDEN;
  if (value !== null && value !== undefined) {
    if (measure === "change") {
      const flag = area.change_flag;
      fill = flag === "rise" ? DIVERGING.rise2 : flag === "fall" ? DIVERGING.fall2
        : value > 0 ? DIVERGING.rise1 : value < 0 ? DIVERGING.fall1 : DIVERGING.none;
    } else {
      fill = SEQUENTIAL[classOf(value, cuts)];
    }
  }
  return { fillColor: fill, fillOpacity: 0.85, color: "#ffffff", weight: 1 };
}

function legend(element, measure, cuts, suppressed) {
  const rows = [];
  if (measure === "change") {
    rows.push([DIVERGING.rise2, "significant rise"], [DIVERGING.rise1, "rise"], [DIVERGING.none, "no change"],
      [DIVERGING.fall1, "fall"], [DIVERGING.fall2, "significant fall"]);
  } else {
    const edges = [null, ...cuts, null];
    for (let i = 0; i < edges.length - 1; i++) {
      const low = edges[i] === null ? "" : edges[i];
      const high = edges[i + 1] === null ? "" : edges[i + 1];
      const text = low === "" ? `below ${high}` : high === "" ? `${low} or more` : `${low} to below ${high}`;
      rows.push([SEQUENTIAL[Math.min(i, SEQUENTIAL.length - 1)], edges.length === 2 ? "all areas" : text]);
    }
  }
  if (suppressed) rows.push([HIDDEN, "hidden (suppressed)"]);
  element.replaceChildren(...rows.map(([colour, text]) => {
    const row = document.createElement("div");
    const swatch = document.createElement("i");
    swatch.style.background = colour;
    row.append(swatch, document.createTextNode(text));
    return row;
  }));
  for (const [kind, text] of [["hot", "hot spot"], ["cold", "cold spot"], ["venue", "venue (size: incidents)"]]) {
    const row = document.createElement("div");
    const swatch = document.createElement("i");
    swatch.className = kind;
    row.append(swatch, document.createTextNode(text));
    element.append(row);
  }
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
  let cuts = [];
  const polygons = L.geoJSON(areas, {
    onEachFeature: (feature, layer) => {
      const a = byCode[feature.id];
      if (!a) return;
      layer.bindTooltip(`<strong>${escapeHtml(a.name)}</strong><br>Incidents: ${a.count.shown}` +
        `<br>Per 1,000 residents: ${a.rate_per_1000}<br>Change: ${a.change === null ? "-" : a.change} ${a.change_flag}`,
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
    cuts = breaks(beats.areas.map((a) => measureValue(a, measure)), SEQUENTIAL.length);
    polygons.setStyle((feature) => styleFor(byCode[feature.id] || { count: {} }, measure, cuts));
    legend(document.getElementById("legend"), measure, cuts, beats.suppressed);
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
  map.fitBounds(polygons.getBounds(), { padding: [10, 10] });
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

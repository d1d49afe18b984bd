// isdas dashboard charts: uPlot trend and region graphs with zoom (drag) and hover legends.
// Data comes from the page's data-src attribute or from the page's JSON twin (data-fetch);
// window buttons fetch the twin of another window and redraw without a reload.
"use strict";
(function () {
  const COLORS = ["#1f5fa8", "#d9534f", "#2a9d8f", "#e9a23b", "#7b5ea7", "#8a8f98"];
  const charts = new Map();

  function size(el) {
    const width = Math.max(280, el.clientWidth || 600);
    return { width: width, height: width < 600 ? 200 : 260 };
  }

  function trendOpts(el) {
    return Object.assign(size(el), {
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true }, pk: { auto: true }, src: { auto: true } },
      axes: [{}, { scale: "pk", label: "packets/sensor/h" },
             { scale: "src", side: 1, label: "sources/h", grid: { show: false } }],
      series: [{}, { label: "packets per sensor", scale: "pk", stroke: COLORS[0], width: 1.5 },
               { label: "distinct sources", scale: "src", stroke: COLORS[1], width: 1.5 }],
    });
  }

  function regionOpts(el, src) {
    const series = [{}].concat(src.countries.map(function (c, i) {
      return { label: c, stroke: COLORS[i % COLORS.length], width: 1.5 };
    }));
    return Object.assign(size(el), {
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { label: "packets" }],
      series: series,
    });
  }

  function draw(el, kind, src) {
    const old = charts.get(el);
    if (old) { old.destroy(); }
    el.textContent = "";
    let opts, rows;
    if (kind === "regions") {
      opts = regionOpts(el, src);
      rows = [src.t].concat(src.countries.map(function (c) { return src.values[c]; }));
    } else {
      opts = trendOpts(el);
      rows = [src.t, src.packets_per_sensor, src.sources];
    }
    const chart = new uPlot(opts, rows, el);
    charts.set(el, chart);
    el.dataset.drawn = "1";
  }

  function twinUrl(win) {
    return window.location.pathname + ".json?window=" + encodeURIComponent(win);
  }

  async function fetchJson(url) {
    const reply = await fetch(url, { headers: { Accept: "application/json" } });
    if (!reply.ok) { throw new Error("HTTP " + reply.status); }
    return reply.json();
  }

  async function switchWindow(ev) {
    const link = ev.target.closest("a[data-window]");
    if (!link) { return; }
    ev.preventDefault();
    const data = await fetchJson(twinUrl(link.dataset.window));
    const trend = document.getElementById("trend");
    const regions = document.getElementById("regions");
    if (trend) { draw(trend, "trend", data.series); }
    if (regions) { draw(regions, "regions", data.regions); }
    document.querySelectorAll("#windows a").forEach(function (a) {
      a.classList.toggle("active", a === link);
    });
    const range = document.getElementById("range");
    if (range) { range.textContent = data.range.since + " to " + data.range.until; }
    history.replaceState(null, "", "?window=" + encodeURIComponent(link.dataset.window));
    document.body.dataset.window = link.dataset.window;
  }

  async function init() {
    for (const el of document.querySelectorAll("[data-chart]")) {
      const kind = el.dataset.chart;
      if (el.dataset.src) {
        draw(el, kind, JSON.parse(el.dataset.src));
      } else if (el.dataset.fetch) {
        const data = await fetchJson(el.dataset.fetch);
        draw(el, kind, kind === "regions" ? data.regions : data.series);
      }
    }
    const nav = document.getElementById("windows");
    if (nav) { nav.addEventListener("click", switchWindow); }
    let timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        charts.forEach(function (chart, el) { chart.setSize(size(el)); });
      }, 150);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    init().catch(function (err) { console.error("isdas charts:", err); });
  });
})();

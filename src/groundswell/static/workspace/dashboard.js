// The petition dashboard: draws the daily and hourly charts with the vendored uPlot
// and polls stats.json to keep the figures, charts and rankings current without a
// reload. Without JavaScript the same numbers are in the page's tables.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  var source = document.getElementById("dashboard-stats");
  if (!root || !source) return;
  var stats = JSON.parse(source.textContent);
  var charts = {};
  var format = new Intl.NumberFormat();

  function width(el) { return Math.max(280, el.clientWidth); }
  function seconds(text) { return Date.parse(text.length === 10 ? text + "T12:00:00" : text) / 1000; }
  function bars() { return uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined; }

  function dailyData(s) {
    return [s.by_day.map(function (d) { return seconds(d.day); }),
            s.by_day.map(function (d) { return d.count; }),
            s.by_day.map(function (d) { return d.cumulative; })];
  }
  function hourlyData(s) {
    return [s.by_hour.map(function (h) { return seconds(h.hour); }),
            s.by_hour.map(function (h) { return h.count; })];
  }

  function draw() {
    if (typeof uPlot === "undefined" || typeof timeAxis === "undefined") return;
    var daily = document.getElementById("chart-daily");
    var hourly = document.getElementById("chart-hourly");
    if (daily && stats.by_day.length) {
      charts.daily = new uPlot({
        width: width(daily), height: 260,
        series: [
          { value: timeValue(false) },
          { label: daily.dataset.labelDay, fill: "rgba(47,111,176,0.35)", stroke: "#2f6fb0", paths: bars(), scale: "day" },
          { label: daily.dataset.labelTotal, stroke: "#1f8a4c", width: 2, scale: "total" },
        ],
        axes: [timeAxis(daily, 86400), { scale: "day", size: 56 }, { scale: "total", side: 1, size: 64, grid: { show: false } }],
        scales: {
          x: { time: true, range: wholeBarsRange(daily, 86400) },
          day: { range: function (u, min, max) { return [0, Math.max(4, max)]; } },
        },
      }, dailyData(stats), daily);
    }
    if (hourly) {
      charts.hourly = new uPlot({
        width: width(hourly), height: 220,
        series: [{ value: timeValue(true) }, { label: hourly.dataset.label, fill: "rgba(47,111,176,0.35)", stroke: "#2f6fb0", paths: bars() }],
        axes: [timeAxis(hourly, 3600), { size: 56 }],
        scales: {
          x: { time: true, range: wholeBarsRange(hourly, 3600) },
          y: { range: function (u, min, max) { return [0, Math.max(4, max)]; } },
        },
      }, hourlyData(stats), hourly);
    }
  }

  function update(s) {
    stats = s;
    root.querySelectorAll("[data-stat]").forEach(function (el) {
      var value = s[el.dataset.stat];
      if (typeof value === "number") el.textContent = format.format(value);
    });
    // The rankings: each table's rows again, from the same figures (first ten).
    root.querySelectorAll("table[data-ranking]").forEach(function (table) {
      var rows = s[table.dataset.ranking];
      var body = table.tBodies[0];
      if (!rows || !body) return;
      var field = table.dataset.ranking.replace("by_", "");
      var most = rows.length ? rows[0].count : 1;
      body.textContent = "";
      rows.slice(0, 10).forEach(function (row) {
        var tr = body.insertRow();
        var name = tr.insertCell();
        name.textContent = row[field] || table.dataset.blank;
        var bar = document.createElement("progress");
        bar.className = "bar"; bar.max = Math.max(1, most); bar.value = row.count;
        bar.setAttribute("aria-hidden", "true");
        name.appendChild(bar);
        var count = tr.insertCell();
        count.className = "num";
        count.textContent = format.format(row.count);
      });
    });
    if (charts.daily) charts.daily.setData(dailyData(s));
    if (charts.hourly) charts.hourly.setData(hourlyData(s));
    root.dataset.updatedAt = String(Date.now());
  }

  function poll() {
    fetch(root.dataset.statsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) update(s); })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, 1000 * Number(root.dataset.refreshSeconds || 15)); });
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (key) {
      var el = document.getElementById("chart-" + key);
      charts[key].setSize({ width: width(el), height: charts[key].height });
    });
  });
  draw();
  window.setTimeout(poll, 1000 * Number(root.dataset.refreshSeconds || 15));
})();

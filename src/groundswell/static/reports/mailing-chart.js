// The mailing report's chart: opens, clicks and actions per hour, drawn by uPlot.
(function () {
  "use strict";
  var holder = document.getElementById("report-chart");
  var source = document.getElementById("report-chart-data");
  if (!holder || !source || typeof uPlot === "undefined") return;
  var chart = JSON.parse(source.textContent);
  var colours = ["#2f6fb0", "#1f8a4c", "#9aa0a6", "#c0392b"];
  var data = [chart.hours.map(function (h) { return Date.parse(h) / 1000; })];
  var series = [{}];
  chart.series.forEach(function (s, i) {
    data.push(s.values);
    series.push({
      label: s.label,
      stroke: colours[i % colours.length],
      width: 2,
      dash: i === 2 ? [4, 4] : undefined,
      points: { show: data[0].length < 60 },
    });
  });
  function size() {
    return { width: Math.max(320, holder.clientWidth), height: 300 };
  }
  var plot = new uPlot(
    Object.assign(size(), {
      series: series,
      scales: { y: { range: function (u, min, max) { return [0, Math.max(4, max * 1.1)]; } } },
      axes: [{}, { label: "", size: 50 }],
      legend: { live: true },
    }),
    data,
    holder
  );
  window.addEventListener("resize", function () { plot.setSize(size()); });
})();

// The trust page's hourly chart with the vendored uPlot: signatures per hour as bars,
// the spike threshold as a line. Without JavaScript the same numbers are in the table.
drawChart("chart-trust-hours", "trust-hours", function (box, data) {
  "use strict";
  var bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined;
  var spikes = [];
  data.counts.forEach(function (n, i) { if (n >= data.threshold) spikes.push(i); });
  var threshold = data.hours.map(function () { return data.threshold; });
  var chart = new uPlot({
    width: Math.max(280, box.clientWidth), height: 220,
    series: [
      { value: timeValue(true) },
      {
        label: box.dataset.label, paths: bars,
        fill: "rgba(47,111,176,0.35)", stroke: "#2f6fb0",
        // A dot on every spike, so it shows without telling colours apart.
        points: { show: true, size: 7, stroke: "#b3261e", fill: "#b3261e", filter: function () { return spikes; } },
      },
      { label: box.dataset.labelThreshold, stroke: "#b3261e", dash: [6, 4], width: 1.5, points: { show: false } },
    ],
    axes: [timeAxis(box, 3600), { size: 56 }],
    scales: {
      x: { time: true, range: wholeBarsRange(box, 3600) },
      y: { range: function (u, min, max) { return [0, Math.max(4, max, data.threshold * 1.1)]; } },
    },
  }, [data.hours, data.counts, threshold], box);
  window.addEventListener("resize", function () {
    chart.setSize({ width: Math.max(280, box.clientWidth), height: 220 });
  });
});

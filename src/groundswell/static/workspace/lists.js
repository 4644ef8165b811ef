// The lists page: each list's joins (up) and departures (down) per week, drawn with the
// vendored uPlot. Without JavaScript the same numbers are in each list's table.
drawChart("list-growth", "list-growth-data", function (box, charts) {
  "use strict";
  var drawn = [];
  function width(el) { return Math.max(240, el.clientWidth); }
  function bars() { return uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 30] }) : undefined; }
  charts.forEach(function (chart) {
    var el = document.getElementById(chart.id);
    if (!el) return;
    var weeks = chart.weeks.map(function (w) { return Date.parse(w + "T12:00:00") / 1000; });
    var left = chart.left.map(function (n) { return -n; });
    drawn.push([el, new uPlot({
      width: width(el), height: 180,
      series: [
        { value: timeValue(false) },
        { label: box.dataset.labelJoined, fill: "rgba(31,138,76,0.45)", stroke: "#1f8a4c", paths: bars(), points: { show: false } },
        { label: box.dataset.labelLeft, fill: "rgba(176,47,47,0.40)", stroke: "#b02f2f", paths: bars(), points: { show: false },
          value: function (u, v) { return v == null ? "--" : String(-v); } },
      ],
      axes: [timeAxis(el, 7 * 86400), { size: 48, values: function (u, splits) { return splits.map(function (v) { return String(Math.abs(v)); }); } }],
      scales: { x: { time: true, range: wholeBarsRange(el, 7 * 86400) } },
    }, [weeks, chart.joined, left], el)]);
  });
  window.addEventListener("resize", function () {
    drawn.forEach(function (pair) { pair[1].setSize({ width: width(pair[0]), height: 180 }); });
  });
});

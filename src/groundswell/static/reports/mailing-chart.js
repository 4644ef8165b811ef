// The mailing report's chart: opens, clicks and actions per hour, drawn by uPlot,
// in the site's time zone (the same hours as the table under it).
(function () {
  "use strict";
  var holder = document.getElementById("report-chart");
  var source = document.getElementById("report-chart-data");
  if (!holder || !source || typeof uPlot === "undefined") return;
  var chart = JSON.parse(source.textContent);
  var colours = ["#2f6fb0", "#1f8a4c", "#8a8f94", "#c0392b"];
  var hours = chart.hours.map(function (h) { return Date.parse(h) / 1000; });
  var data = [hours];
  var series = [{
    label: holder.dataset.timeLabel || "Hour",
    value: function (u, ts) { return ts == null ? "--" : stamp(ts, true); },
  }];
  chart.series.forEach(function (s, i) {
    data.push(s.values);
    series.push({
      label: s.label,
      stroke: colours[i % colours.length],
      width: 2,
      dash: i === 2 ? [5, 4] : undefined,
      show: !s.hidden,
      points: { show: hours.length <= 24 },
    });
  });

  function local(ts) { return uPlot.tzDate(new Date(ts * 1000), chart.timezone); }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function stamp(ts, withDate) {
    var d = local(ts);
    var time = pad(d.getHours()) + ":" + pad(d.getMinutes());
    return withDate ? d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + time : time;
  }
  function size() {
    return { width: Math.max(320, holder.clientWidth), height: 380 };
  }
  var lastDay = null;
  var plot = new uPlot(
    Object.assign(size(), {
      tzDate: local,
      padding: [12, 28, 0, 0],
      series: series,
      scales: { y: { range: function (u, min, max) { return [0, Math.max(4, Math.ceil(max * 1.1))]; } } },
      axes: [
        {
          values: function (u, splits) {
            lastDay = null;
            return splits.map(function (ts) {
              var d = local(ts);
              var day = pad(d.getMonth() + 1) + "-" + pad(d.getDate());
              var label = stamp(ts, false);
              if (day !== lastDay) { label += "\n" + day; lastDay = day; }
              return label;
            });
          },
        },
        { size: 50 },
      ],
      legend: { live: true },
    }),
    data,
    holder
  );
  window.addEventListener("resize", function () { plot.setSize(size()); });
})();

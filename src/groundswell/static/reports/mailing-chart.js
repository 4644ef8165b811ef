// The mailing report's chart: opens, clicks and actions per minute, hour or day (the
// server picks the step that fits how long the events span), drawn by uPlot in the
// site's time zone.
drawChart("report-chart", "report-chart-data", function (holder, chart) {
  "use strict";
  var colours = ["#2f6fb0", "#1f8a4c", "#8a8f94", "#c0392b"];
  var times = chart.times.map(function (t) { return Date.parse(t) / 1000; });
  var daily = chart.step === "day";
  var stepSeconds = { minute: 60, hour: 3600, day: 86400 }[chart.step] || 3600;
  var data = [times];
  var series = [{
    label: holder.dataset.timeLabel || "Time",
    value: function (u, ts) { return ts == null ? "--" : daily ? date(ts) : stamp(ts, true); },
  }];
  chart.series.forEach(function (s, i) {
    data.push(s.values);
    series.push({
      label: s.label,
      stroke: colours[i % colours.length],
      width: 2,
      dash: i === 2 ? [5, 4] : undefined,
      show: !s.hidden,
      points: { show: times.length <= 24 },
    });
  });

  function local(ts) { return uPlot.tzDate(new Date(ts * 1000), chart.timezone); }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function date(ts) {
    var d = local(ts);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }
  function stamp(ts, withDate) {
    var d = local(ts);
    var time = pad(d.getHours()) + ":" + pad(d.getMinutes());
    return withDate ? date(ts) + " " + time : time;
  }
  // The axis spans the data, never less than two steps: one point alone would
  // otherwise get an axis of years.
  function xRange(u, min, max) {
    if (min == null) return [0, stepSeconds];
    return [min, Math.max(max, min + stepSeconds)];
  }
  // Ticks fall on whole steps (a minute at least), so no two labels read the same
  // time: left alone, uPlot splits a two-minute span every few seconds.
  var tickSteps = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 172800, 604800, 1209600, 2592000].filter(function (s) { return s >= stepSeconds; });
  function size() {
    return { width: Math.max(320, holder.clientWidth), height: 380 };
  }
  var lastDay = null;
  var plot = new uPlot(
    Object.assign(size(), {
      tzDate: local,
      padding: [12, 28, 0, 0],
      series: series,
      scales: { x: { time: true, range: xRange }, y: { range: function (u, min, max) { return [0, Math.max(4, Math.ceil(max * 1.1))]; } } },
      axes: [
        {
          incrs: tickSteps,
          values: function (u, splits) {
            lastDay = null;
            var labels = daily ? splits.map(date) : splits.map(function (ts) {
              var d = local(ts);
              var day = pad(d.getMonth() + 1) + "-" + pad(d.getDate());
              var label = stamp(ts, false);
              if (day !== lastDay) { label += "\n" + day; lastDay = day; }
              return label;
            });
            holder.dataset.xLabels = labels.join(" | ");
            return labels;
          },
        },
        { size: 50 },
      ],
      legend: { live: true },
      // The time axis's span (and above, its labels), on the holder, for whoever checks
      // the chart fits its data.
      hooks: {
        setScale: [function (u, key) {
          if (key !== "x") return;
          holder.dataset.xFrom = String(u.scales.x.min);
          holder.dataset.xTo = String(u.scales.x.max);
        }],
      },
    }),
    data,
    holder
  );
  window.addEventListener("resize", function () { plot.setSize(size()); });
});

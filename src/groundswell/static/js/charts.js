// What every chart script starts from: drawChart(boxId, dataId, draw) calls
// draw(box, data) with the element to draw in and the numbers the page put in a
// json_script element, unless the page has neither or uPlot did not load (the page's
// tables show the same numbers without a chart).
function drawChart(boxId, dataId, draw) {
  "use strict";
  var box = document.getElementById(boxId);
  var source = document.getElementById(dataId);
  if (!box || !source || typeof uPlot === "undefined") return;
  draw(box, JSON.parse(source.textContent));
}

// A bar chart's time axis: from half a step (in seconds) before its first point to half
// a step after its last, so the bars at either end are drawn whole and one point alone
// gets an axis of one step (uPlot would give it years). The span is kept on the holder
// (data-x-from, data-x-to) for whoever checks the chart fits its data.
function wholeBarsRange(holder, step) {
  "use strict";
  return function (u) {
    var xs = u.data[0];
    var span = xs && xs.length ? [xs[0] - step / 2, xs[xs.length - 1] + step / 2] : [0, step];
    holder.dataset.xFrom = String(span[0]);
    holder.dataset.xTo = String(span[1]);
    return span;
  };
}

// A bar chart's time axis, labelled as the rest of the site writes times: 24-hour
// clock and month-day (uPlot's own labels read "4pm" and "12/3"). Hourly ticks fall on
// whole hours, under the bars; a chart of days or weeks puts its ticks under its bars
// too (every bar while they are 60 px apart, every other one or fewer when not),
// where uPlot would put them at midnights between them. A label names its day where
// the day changes, and its year where that changes. The labels are kept on the holder
// (data-x-labels) too.
function timeAxis(holder, step) {
  "use strict";
  var byDay = step >= 86400;
  var incrs = [3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2419200,
    4838400, 7862400, 15724800, 31449600].filter(function (s) { return s >= step; });
  function underBars(u) {
    var xs = u.data[0] || [];
    var room = Math.max(60, u.width - 120); // the chart less its value axes
    var every = Math.max(1, Math.ceil((xs.length * 60) / room));
    return xs.filter(function (x, i) { return i % every === 0; });
  }
  return {
    incrs: incrs,
    splits: byDay ? underBars : undefined,
    values: function (u, splits) {
      var lastDay = null;
      var lastYear = null;
      var labels = splits.map(function (ts) {
        var d = new Date(ts * 1000);
        var day = chartPad(d.getMonth() + 1) + "-" + chartPad(d.getDate());
        var year = String(d.getFullYear());
        if (byDay) {
          if (year === lastYear) return day;
          lastYear = year;
          return day + "\n" + year;
        }
        var time = chartPad(d.getHours()) + ":" + chartPad(d.getMinutes());
        if (day === lastDay) return time;
        lastDay = day;
        return time + "\n" + day;
      });
      holder.dataset.xLabels = labels.join(" | ");
      return labels;
    },
  };
}

// The legend's time for a point: year-month-day, and the hour when `withTime`.
function timeValue(withTime) {
  "use strict";
  return function (u, ts) {
    if (ts == null) return "--";
    var d = new Date(ts * 1000);
    var day = d.getFullYear() + "-" + chartPad(d.getMonth() + 1) + "-" + chartPad(d.getDate());
    return withTime ? day + " " + chartPad(d.getHours()) + ":" + chartPad(d.getMinutes()) : day;
  };
}

function chartPad(n) {
  "use strict";
  return n < 10 ? "0" + n : String(n);
}

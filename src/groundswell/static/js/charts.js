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

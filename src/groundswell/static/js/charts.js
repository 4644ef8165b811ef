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

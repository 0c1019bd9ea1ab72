// The dashboards page: draw each figure's chart with ECharts from the table under it (the
// table is the page without JavaScript and stays one click away), then fold the table.
(function () {
  "use strict";
  var COLOURS = ["#1d70b8", "#f47738", "#00703c", "#4c2c92", "#d4351c", "#28a197", "#6f72af", "#b58840"];

  function number(cell) {
    var text = cell ? cell.getAttribute("data-value") : "";
    return text === "" || text === null ? null : Number(text);
  }

  function option(table, spec) {
    var heads = table.tHead.rows[0].cells;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var categories = rows.map(function (row) { return row.cells[spec.category].textContent.trim(); });
    var series = spec.series.map(function (index) {
      return {
        name: heads[index].textContent.trim(),
        type: spec.kind,
        stack: spec.stacked ? "total" : undefined,
        connectNulls: false,
        data: rows.map(function (row) { return number(row.cells[index]); })
      };
    });
    var categoryAxis = { type: "category", data: categories, axisLabel: { hideOverlap: true } };
    var valueAxis = { type: "value" };
    if (spec.horizontal) { categoryAxis.inverse = true; }
    return {
      animation: false,
      color: COLOURS,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: spec.horizontal ? valueAxis : categoryAxis,
      yAxis: spec.horizontal ? categoryAxis : valueAxis,
      series: series
    };
  }

  function draw() {
    if (!window.echarts) { return; }
    var charts = [];
    document.querySelectorAll("[data-chart-for]").forEach(function (box) {
      var table = document.getElementById(box.getAttribute("data-chart-for"));
      if (!table || !table.getAttribute("data-chart")) { return; }
      box.hidden = false;
      var chart = window.echarts.init(box, null, { renderer: "canvas" });
      chart.setOption(option(table, JSON.parse(table.getAttribute("data-chart"))));
      charts.push(chart);
      var details = table.closest("details");
      if (details) { details.open = false; }
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

/* Charts drawn with the vendored Apache ECharts. Every chart is also a table on the page, so
   the chart only adds a picture: <div class="chart" data-chart="ID"> reads its data from
   <script type="application/json" id="ID">{"kind": "line"|"bar", "x": [...],
   "series": [{"name": "...", "data": [...]}], "y_max": n, "title": "..."}</script>. */
(function () {
  "use strict";
  function draw(element) {
    var source = document.getElementById(element.dataset.chart);
    if (!source || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var chart = echarts.init(element, null, { renderer: "svg" });
    var many = spec.series.length > 1;
    // Every label of a short axis; a long one (a day series) thins its labels itself.
    var axisLabel = spec.x.length > 12 ? { hideOverlap: true } : { interval: 0, hideOverlap: false };
    // Many long labels (target groups, unit names) are turned so that they do not overlap.
    var longest = spec.x.reduce(function (n, label) { return Math.max(n, String(label).length); }, 0);
    if (spec.x.length > 6 && longest > 4) { axisLabel = { interval: 0, rotate: 35 }; }
    chart.setOption({
      aria: { enabled: true },
      animation: false,
      grid: { left: 40, right: 16, top: many ? 56 : 24, bottom: axisLabel.rotate ? 96 : 40 },
      tooltip: { trigger: "axis" },
      legend: many ? { top: 0, type: "scroll" } : undefined,
      xAxis: { type: "category", data: spec.x, axisLabel: axisLabel },
      yAxis: { type: "value", minInterval: 1, max: spec.y_max === undefined ? null : spec.y_max },
      series: spec.series.map(function (s) {
        return { name: s.name, type: spec.kind || "line", data: s.data, label: { show: spec.kind === "bar" } };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();

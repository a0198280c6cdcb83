// 总览 charts: weekly trend by category and one building × category heatmap per
// compound, drawn with the vendored ECharts from a JSON block (no inline script).
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || typeof echarts === "undefined") return;
  var data = JSON.parse(node.textContent);
  var charts = [];
  var trendNode = document.getElementById("trend-chart");
  if (trendNode) {
    var trend = echarts.init(trendNode, null, { renderer: "svg" });
    trend.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 36, right: 12, top: 40, bottom: 28 },
      xAxis: { type: "category", data: data.weeks },
      yAxis: { type: "value", minInterval: 1 },
      series: data.trend.map(function (s) {
        return { name: s.name, type: "line", data: s.data, smooth: false, symbolSize: 5 };
      })
    });
    charts.push(trend);
  }
  var holder = document.getElementById("heatmaps");
  (data.heatmaps || []).forEach(function (h) {
    var title = document.createElement("h3");
    title.textContent = h.compound;
    title.className = "small";
    holder.appendChild(title);
    var div = document.createElement("div");
    div.className = "chart heat";
    div.style.height = Math.max(220, 60 + 26 * h.buildings.length) + "px";
    holder.appendChild(div);
    var chart = echarts.init(div, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { formatter: function (p) {
        return h.buildings[p.value[1]] + " · " + h.categories[p.value[0]] + "：" + p.value[2] + " 件";
      } },
      grid: { left: 64, right: 12, top: 8, bottom: 70 },
      xAxis: { type: "category", data: h.categories, axisLabel: { rotate: 40, interval: 0 } },
      yAxis: { type: "category", data: h.buildings },
      visualMap: { min: 0, max: Math.max(1, h.max), show: false,
                   inRange: { color: ["#fff5f0", "#fb6a4a", "#a50f15"] } },
      series: [{ type: "heatmap", data: h.cells, label: { show: true } }]
    });
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();

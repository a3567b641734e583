// Draws the charts a page asks for (every <div class="charts" data-url>) with uPlot, and fetches them again every two
// seconds, so curves grow while a run writes to the store. The server decides what each chart holds:
// { charts: [{ title, lines: [{ label, x: [iteration...], y: [value...] }] }] }.
"use strict";
(function () {
  var COLOURS = ["#2f6fdf", "#e0531f", "#2a9d4b", "#9b46c7", "#c79a1a", "#1aa3a3", "#d6336c", "#555555"];
  var POLL_MS = 2000;

  // uPlot wants one x array shared by every line: the union of the lines' x, with null where a line has no point.
  function aligned(lines) {
    var xs = Array.from(new Set(lines.flatMap(function (l) { return l.x; }))).sort(function (a, b) { return a - b; });
    var index = new Map(xs.map(function (x, i) { return [x, i]; }));
    var data = [xs];
    lines.forEach(function (line) {
      var ys = xs.map(function () { return null; });
      line.x.forEach(function (x, i) { ys[index.get(x)] = line.y[i]; });
      data.push(ys);
    });
    return data;
  }

  function makeChart(holder, chart, width) {
    var box = document.createElement("div");
    box.className = "chart";
    box.dataset.title = chart.title;
    holder.appendChild(box);
    var options = {
      title: chart.title,
      width: width,
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: "iteration" }, {}],
      series: [{ label: "iteration" }].concat(chart.lines.map(function (line, i) {
        return { label: line.label, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true, points: { size: 5 } };
      })),
    };
    var plot = new uPlot(options, aligned(chart.lines), box);
    return { plot: plot, box: box, labels: chart.lines.map(function (l) { return l.label; }).join("\n") };
  }

  function start(holder) {
    var drawn = new Map();
    var width = Math.max(320, Math.min(560, Math.floor((holder.clientWidth || 1100) / 2) - 24));
    function draw(charts) {
      holder.dataset.points = String(charts.reduce(function (n, c) { return n + c.lines.reduce(function (m, l) { return m + l.x.length; }, 0); }, 0));
      charts.forEach(function (chart) {
        var current = drawn.get(chart.title);
        var labels = chart.lines.map(function (l) { return l.label; }).join("\n");
        if (current && current.labels === labels) {
          current.plot.setData(aligned(chart.lines));
        } else {
          if (current) { current.plot.destroy(); current.box.remove(); }
          drawn.set(chart.title, makeChart(holder, chart, width));
        }
        // What the chart shows, for people's tools and the browser test: how many points, each line's last value.
        var box = drawn.get(chart.title).box;
        box.dataset.points = String(chart.lines.reduce(function (m, l) { return m + l.x.length; }, 0));
        box.dataset.last = JSON.stringify(chart.lines.map(function (l) { return l.y[l.y.length - 1]; }));
      });
      if (charts.length === 0) holder.textContent = "no metrics stored yet";
    }
    function refresh() {
      fetch(holder.dataset.url, { cache: "no-store" })
        .then(function (response) { return response.json(); })
        .then(function (body) {
          if (body.error) throw new Error(body.error.message);
          draw(body.charts || []);
          holder.dataset.updated = String(Date.now());
          holder.classList.remove("stale");
        })
        .catch(function (error) {
          holder.classList.add("stale");
          holder.title = String(error);
        })
        .finally(function () { setTimeout(refresh, POLL_MS); });
    }
    refresh();
  }

  document.querySelectorAll(".charts[data-url]").forEach(start);
})();

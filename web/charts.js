// Line charts drawn as SVG (no chart library, nothing fetched at run time).
const NS = "http://www.w3.org/2000/svg";

function node(tag, attrs) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  return n;
}

// series: [{label, color, points: [[x, y], ...], dash?}]
export function lineChart(series, { width = 640, height = 240, yMax = null, xLabel = "", yLabel = "" } = {}) {
  const pad = { l: 44, r: 12, t: 10, b: 34 };
  const all = series.flatMap((s) => s.points);
  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img",
                            "aria-label": `${yLabel} by ${xLabel}: ${series.map((s) => s.label).join(", ")}` });
  if (!all.length) {
    const t = node("text", { x: width / 2, y: height / 2, "text-anchor": "middle", fill: "#5b6475" });
    t.textContent = "no data yet";
    svg.append(t);
    return svg;
  }
  const xMax = Math.max(...all.map((p) => p[0]), 1);
  const xMin = Math.min(...all.map((p) => p[0]), 0);
  const top = yMax ?? Math.max(...all.map((p) => p[1]), 1e-9) * 1.1;
  const x = (v) => pad.l + ((v - xMin) / (xMax - xMin || 1)) * (width - pad.l - pad.r);
  const y = (v) => height - pad.b - (v / top) * (height - pad.t - pad.b);
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    svg.append(node("line", { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), stroke: "#e6e9ef" }));
    const t = node("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6475" });
    t.textContent = v.toFixed(top < 2 ? 2 : 0);
    svg.append(t);
  }
  const xl = node("text", { x: width / 2, y: height - 6, "text-anchor": "middle", "font-size": 12, fill: "#5b6475" });
  xl.textContent = xLabel;
  svg.append(xl);
  for (const s of series) {
    if (!s.points.length) continue;
    const d = s.points.map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
    svg.append(node("path", { d, fill: "none", stroke: s.color, "stroke-width": 2.2,
                              ...(s.dash ? { "stroke-dasharray": s.dash } : {}) }));
  }
  return svg;
}

export function legend(series) {
  const div = document.createElement("div");
  div.className = "legend";
  for (const s of series) {
    const span = document.createElement("span");
    const i = document.createElement("i");
    i.style.background = s.color;
    span.append(i, s.label);
    div.append(span);
  }
  return div;
}

import { api, apiKey, el, fmt, setApiKey } from "/web/api.js";
import { legend, lineChart } from "/web/charts.js";

const $ = (id) => document.getElementById(id);
let sortKey = "clicks";

function replace(target, ...children) { target.replaceChildren(...children); }
function unavailable(target, error) {
  replace(target, el("p", { class: "na" }, `not available: ${error.message}`));
}

// Throughput from successive health readings: events this instance published (decisions and
// rewards) and events the learner has learned, as rates per minute. No API keeps this history.
const readings = [];
function rates(h) {
  readings.push({ t: Date.now() / 1000, sent: h.publisher?.sent ?? 0, learned: h.learning?.eventsLearned ?? 0 });
  if (readings.length > 60) readings.shift();
  if (readings.length < 2) return;
  const t0 = readings[0].t;
  const perMinute = (key) => readings.slice(1).map((r, i) =>
    [(r.t - t0) / 60, Math.max(0, r[key] - readings[i][key]) * 60 / Math.max(r.t - readings[i].t, 1e-3)]);
  const series = [{ label: "published (decisions + rewards)", color: "#0b62d6", points: perMinute("sent") },
                  { label: "learned", color: "#137a3a", dash: "5 4", points: perMinute("learned") }];
  replace($("rate"), lineChart(series, { xLabel: "minutes since the page opened", yLabel: "events per minute" }),
    legend(series));
}

async function model() {
  try {
    const h = await api("/health");
    rates(h);
    const m = h.learning || {};
    replace($("model"),
      ...[["model version", m.modelVersion ?? 0], ["events learned", m.eventsLearned ?? 0],
          ["lag p50", m.lagSeconds ? `${fmt.num(m.lagSeconds.p50, 1)} s` : "–"],
          ["last export", m.trainedAt ? new Date(m.trainedAt).toLocaleTimeString() : "–"],
          ["status", h.status], ["transport", h.transport]]
        .map(([k, v]) => el("div", { class: "kpi", "data-kpi": k }, el("b", {}, v), el("span", {}, k))));
  } catch (e) { unavailable($("model"), e); }
}

async function lift() {
  try {
    const r = await api("/stats/lift?hours=24");
    const rows = Object.entries(r.arms).map(([arm, s]) =>
      el("tr", {}, el("td", {}, arm), el("td", { class: "num" }, s.decisions),
        el("td", { class: "num" }, fmt.num(s.meanReward, 3)),
        el("td", { class: "num" }, `${fmt.num(s.ci95[0], 3)} – ${fmt.num(s.ci95[1], 3)}`)));
    const table = el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "arm"),
      el("th", { class: "num" }, "decisions"), el("th", { class: "num" }, "reward"),
      el("th", { class: "num" }, "95% interval"))), el("tbody", {}, rows));
    const l = r.lift;
    const text = l ? `Lift ${fmt.num(l.absolute, 3)} (95%: ${fmt.num(l.ci95[0], 3)} – ${fmt.num(l.ci95[1], 3)})`
      + (l.relative !== null ? `, ${fmt.pct(l.relative)} over control` : "")
      + (l.significant ? " — significant" : " — not yet significant")
      : "Lift appears once both arms have learned decisions.";
    replace($("lift"), rows.length ? table : el("p", { class: "na" }, "no offers decisions learned yet"),
      el("p", { id: "lift-text" }, text));
  } catch (e) { unavailable($("lift"), e); }
}

async function offerStats() {
  try {
    const r = await api(`/stats/offers?hours=${$("stats-hours").value}&sort=${sortKey}`);
    const cols = [["id", "offer"], ["views", "views"], ["clicks", "clicks"], ["ctr", "CTR"],
                  ["purchases", "purchases"], ["conversion", "conversion"], ["revenue", "revenue"]];
    const head = el("tr", {}, cols.map(([k, label]) => el("th", { class: k === "id" ? "" : "num",
      "aria-sort": k === sortKey ? "descending" : "none" },
      el("button", { type: "button", onclick: () => { sortKey = k === "id" ? "clicks" : k; offerStats(); } }, label))));
    const body = r.items.map((row) => el("tr", { "data-offer": row.id }, el("td", {}, row.id),
      el("td", { class: "num" }, row.views), el("td", { class: "num" }, row.clicks),
      el("td", { class: "num" }, fmt.pct(row.ctr)), el("td", { class: "num" }, row.purchases),
      el("td", { class: "num" }, fmt.pct(row.conversion)), el("td", { class: "num" }, fmt.money(row.revenue))));
    replace($("offer-stats"), body.length ? el("table", { id: "offer-table" }, el("thead", {}, head), el("tbody", {}, body))
      : el("p", { class: "na" }, "no offer activity in this period yet"));
  } catch (e) { unavailable($("offer-stats"), e); }
}

async function bundles() {
  try {
    const r = await api("/bundles?n=5");
    replace($("bundles"), r.items.length ? el("ul", {}, r.items.map((b) =>
      el("li", {}, `${b.products.join(" + ")}: ${b.baskets} baskets, support ${fmt.pct(b.support)}, lift ${fmt.num(b.lift, 1)}`)))
      : el("p", { class: "na" }, "no baskets with two products yet"));
  } catch (e) { unavailable($("bundles"), e); }
}

const SERIES = [["app", "the app", "#0b62d6"], ["oracle", "oracle (best possible)", "#137a3a", "5 4"],
                ["random", "uniform random", "#7d7d7d", "2 3"], ["control", "control / baseline", "#8a5a00", "6 3"]];

async function simulation() {
  const id = localStorage.getItem("simulation");
  if (!id) return;
  try {
    const s = await api(`/simulations/${id}`);
    const windows = s.windows || [];
    const series = SERIES.map(([key, label, color, dash]) => ({ label, color, dash,
      points: windows.map((w) => [w.window, w[key] ?? 0]) }));
    replace($("sim"),
      el("p", {}, `Run ${s.id} (${s.scenario}): ${s.status}, ${s.decisions} of ${s.expectedDecisions} decisions.`
        + ` Reward so far ${fmt.num(s.reward.app, 3)} vs oracle ${fmt.num(s.reward.oracle, 3)} and random ${fmt.num(s.reward.random, 3)}.`),
      el("div", { class: "bar", role: "progressbar", "aria-label": "simulation progress",
        "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(100 * s.progress)) },
        el("div", { style: `width:${(100 * s.progress).toFixed(1)}%` })),
      lineChart(series, { xLabel: "decisions", yLabel: "reward per window" }), legend(series));
  } catch (e) { unavailable($("sim"), e); }
}

async function customer(event) {
  event.preventDefault();
  const id = encodeURIComponent($("customer-id").value.trim());
  try {
    const [p, recs, lapsed] = await Promise.all([api(`/users/${id}/profile`),
      api(`/users/${id}/recommendations?n=5`), api(`/users/${id}/lapsed`)]);
    const top = Object.entries(p.categories || {}).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([c]) => c);
    replace($("customer"),
      el("p", {}, `Segment ${p.segment || "–"}, spend ${fmt.money(p.spend)} (${p.spendBand}), last seen `
        + `${p.lastSeen ? new Date(p.lastSeen * 1000).toLocaleString() : "–"}. Likes: ${top.join(", ") || "–"}.`),
      el("h3", {}, "Pitch"), recs.items.length ? el("ol", {}, recs.items.map((r) => el("li", {}, `${r.productId} (${r.reason})`)))
        : el("p", { class: "na" }, "no co-purchase history to recommend from yet"),
      el("h3", {}, "Overdue recurring products"), lapsed.items.length ? el("ul", {}, lapsed.items.map((l) =>
        el("li", {}, `${l.productId}: usually every ${l.usualIntervalDays} d, ${l.overdueDays} d overdue`)))
        : el("p", { class: "na" }, "none"),
      el("h3", {}, "Bought"), el("p", {}, Object.keys(p.purchases || {}).join(", ") || "nothing yet"));
  } catch (e) { unavailable($("customer"), e); }
}

async function startSimulation(event) {
  event.preventDefault();
  try {
    const run = await api("/simulations", { method: "POST", body: {
      scenario: $("sim-scenario").value, visitors: Number($("sim-visitors").value),
      rate: Number($("sim-rate").value), sessionsPerVisitor: 2, window: 100 } });
    localStorage.setItem("simulation", run.id);
    simulation();
  } catch (e) { unavailable($("sim"), e); }
}

async function stopSimulation() {
  const id = localStorage.getItem("simulation");
  if (id) { try { await api(`/simulations/${id}`, { method: "DELETE" }); } catch (e) { unavailable($("sim"), e); } }
  simulation();
}

function refresh() { model(); lift(); offerStats(); bundles(); simulation(); }

$("apikey").value = apiKey();
$("apikey").addEventListener("change", (e) => { setApiKey(e.target.value); refresh(); });
$("sim-form").addEventListener("submit", startSimulation);
$("sim-stop").addEventListener("click", stopSimulation);
$("customer-form").addEventListener("submit", customer);
$("stats-hours").addEventListener("change", offerStats);
refresh();
setInterval(refresh, 5000);

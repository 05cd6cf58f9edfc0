import { api, el, fmt } from "/web/api.js";

const $ = (id) => document.getElementById(id);
let current = null; // {eventId, context}

function defaultUser() { return `store-${$("persona").value}-1`; }

function context() {
  return { segment: $("persona").value, device: $("device").value, timeOfDay: $("time").value };
}

function log(line) {
  $("log").prepend(el("div", {}, `${new Date().toLocaleTimeString()} ${line}`));
}

async function send(type, offer, extra = {}) {
  const event = { type, userId: $("user").value, sessionId: `${$("user").value}-web`,
    offerId: offer.offerId, eventId: current.eventId, context: current.context,
    productId: offer.productIds[0], ...extra };
  if (type === "offer_view" || type === "offer_dismiss") delete event.productId;
  try {
    const answer = await api("/activity", { method: "POST", body: event });
    log(`${type} ${offer.offerId}: accepted ${answer.accepted}`);
  } catch (e) { log(`${type} ${offer.offerId}: ${e.message}`); }
}

function card(offer) {
  const price = offer.price !== null ? fmt.money(offer.price) : "";
  const reasons = offer.explanation.candidate.map((r) => r.text).join("; ");
  return el("article", { class: "offer", "data-offer": offer.offerId },
    el("h3", {}, offer.title),
    el("p", {}, offer.description),
    el("p", {}, el("b", {}, price), offer.discount ? ` (−${Math.round(100 * offer.discount)}%)` : ""),
    el("p", { class: "why" }, `Why: ${reasons}. ${offer.explanation.rank.text}.`),
    el("div", { class: "actions" },
      el("button", { type: "button", onclick: () => send("offer_click", offer) }, "View offer"),
      el("button", { type: "button", onclick: () => send("add_to_cart", offer, { quantity: 1, price: offer.price }) }, "Add to cart"),
      el("button", { type: "button", onclick: () => send("purchase", offer, { quantity: 1, price: offer.price }) }, "Buy"),
      el("button", { type: "button", class: "secondary", onclick: () => send("offer_dismiss", offer) }, "Not interested")));
}

async function show(event) {
  event.preventDefault();
  if (!$("user").value) $("user").value = defaultUser();
  try {
    const answer = await api("/offers", { method: "POST", body: {
      userId: $("user").value, placement: $("placement").value, count: 3, context: context() } });
    current = { eventId: answer.eventId, context: context() };
    $("offers").replaceChildren(...answer.offers.map(card),
      el("p", { class: "muted" }, `decision ${answer.eventId} · arm ${answer.arm} · model v${answer.modelVersion}`));
    for (const offer of answer.offers) send("offer_view", offer);
  } catch (e) {
    $("offers").replaceChildren(el("p", { class: "na" }, `not available: ${e.message}`));
  }
}

$("persona").addEventListener("change", () => { $("user").value = defaultUser(); });
$("user").value = defaultUser();
$("visit").addEventListener("submit", show);

// The pages' one door to the app: relative /api URLs, as a website calls the function URLs.
// An API key (admin for the dashboard, client for a storefront) is kept in this browser only.
export function apiKey() { return localStorage.getItem("apiKey") || ""; }
export function setApiKey(key) { localStorage.setItem("apiKey", key); }

export async function api(path, options = {}) {
  const headers = { ...(options.body ? { "Content-Type": "application/json" } : {}) };
  if (apiKey()) headers["Ocp-Apim-Subscription-Key"] = apiKey();
  const response = await fetch(`/api${path}`, {
    method: options.method || "GET",
    headers,
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const message = data && data.error ? `${data.error.code}: ${data.error.message}` : response.statusText;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return data;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const fmt = {
  pct: (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`),
  num: (x, d = 0) => (x === null || x === undefined ? "–" : Number(x).toFixed(d)),
  money: (x) => (x === null || x === undefined ? "–" : `€${Number(x).toFixed(2)}`),
};

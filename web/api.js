// The server's HTTP API as the page uses it: bearer token handling and JSON requests.

const TOKEN_KEY = "whisker-token";

/** Takes `?token=` from the address once (then removes it) and keeps it for this tab. */
export function adoptTokenFromURL() {
  const url = new URL(window.location.href);
  const token = url.searchParams.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
}

export function token() { return sessionStorage.getItem(TOKEN_KEY); }
export function setToken(value) { sessionStorage.setItem(TOKEN_KEY, value); }

/** Raised for non-2xx answers, carrying the server's `{"error": …}` body. */
export class APIError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.hint = body?.error?.hint;
  }
}

export async function request(method, path) {
  const headers = { Accept: "application/json" };
  const current = token();
  if (current) headers.Authorization = `Bearer ${current}`;
  const response = await fetch(path, { method, headers });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) throw new APIError(response.status, body);
  return body;
}

/** The event stream's URL (EventSource cannot set headers, so the token rides in the query). */
export function eventsURL() {
  const current = token();
  return current ? `/api/events?token=${encodeURIComponent(current)}` : "/api/events";
}

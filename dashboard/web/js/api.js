// Requests to the dashboard's API, with the bearer token when one is set.
//
// The token lives in sessionStorage: it survives a reload but not the
// closing of the tab, and other origins cannot read it.

const KEY = 'pbatunnel.token';

let token = '';
try {
  token = sessionStorage.getItem(KEY) || '';
} catch {
  // Storage can be disabled; the token then lasts as long as the page.
}

// unauthorized is called once per request answered with 401.
let unauthorized = () => {};

export class AuthError extends Error {}

export function onUnauthorized(fn) {
  unauthorized = fn;
}

export function setToken(t) {
  token = t;
  try {
    if (t) sessionStorage.setItem(KEY, t);
    else sessionStorage.removeItem(KEY);
  } catch {
    // See above: keep it in memory only.
  }
}

export const hasToken = () => token !== '';

export function authHeaders() {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// request fetches path and returns the Response, raising AuthError on 401
// and Error with the server's message on any other failure.
export async function request(path, { signal } = {}) {
  const res = await fetch(path, { headers: authHeaders(), signal, cache: 'no-store' });
  if (res.status === 401) {
    unauthorized();
    throw new AuthError(token ? 'the token was not accepted' : 'this dashboard needs a token');
  }
  if (!res.ok) {
    let msg = res.statusText;
    try {
      const body = await res.json();
      if (body && typeof body.error === 'string') msg = body.error;
    } catch {
      // Not JSON: keep the status text.
    }
    throw new Error(`${path.split('?')[0]}: ${res.status} ${msg}`);
  }
  return res;
}

export async function getJSON(path, opts) {
  return (await request(path, opts)).json();
}

export async function getText(path, opts) {
  return (await request(path, opts)).text();
}

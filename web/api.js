// The console's one way to the API: same origin, the session cookie (sent by
// the browser; the page never sees it or the API key), the CSRF token in a
// header on every request that changes state, errors as ApiError carrying
// the server's code and message.

let csrfToken = '';
let onSignedOut = () => {};

export function setCsrfToken(token) { csrfToken = token || ''; }
// Called when any answer is 401: the session ended (expired, signed out, key revoked).
export function setSignedOutHandler(fn) { onSignedOut = fn; }

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function send(method, path, body, accept) {
  const headers = { Accept: accept };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', `the server did not answer (${e.message})`);
  }
  if (!r.ok) {
    let error = {};
    try { error = (await r.json()).error || {}; } catch { /* not JSON */ }
    const e = new ApiError(r.status, error.code || `http_${r.status}`, error.message || r.statusText);
    if (r.status === 401 && path !== '/ui/api/session') onSignedOut(e);
    throw e;
  }
  return r;
}

export async function api(method, path, body) {
  const r = await send(method, path, body, 'application/json');
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

// GET `path` and hand the answer to the browser as a download named by its
// Content-Disposition (or `fallback`).
export async function download(path, fallback) {
  const r = await send('GET', path, undefined, '*/*');
  const blob = await r.blob();
  const disposition = r.headers.get('Content-Disposition') || '';
  const m = /filename="?([^";]+)"?/.exec(disposition);
  const name = m ? m[1] : fallback;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return { name, bytes: blob.size };
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

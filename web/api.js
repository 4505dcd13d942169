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

// `notify` false: a 401 is only this request's error (a prefetch's, below).
async function send(method, path, body, accept, notify = true) {
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
    if (r.status === 401 && notify && path !== '/ui/api/session') onSignedOut(e);
    throw e;
  }
  return r;
}

// A GET started before the page knows it will need it (the queue's first
// page, asked for at the same time as the session check, web/app.js), kept
// for the first api('GET', path) of the same path. One only, taken once; a
// failed one is asked for again by that call (so a 401 then ends the
// session as any other would); dropPrefetch() forgets one nobody took.
let early = null;

export function prefetch(path) {
  const text = send('GET', path, undefined, 'application/json', false).then((r) => r.text());
  text.catch(() => {});  // its failure is seen, if at all, by the call that takes it
  early = { path, text };
}

export function dropPrefetch() { early = null; }

export async function api(method, path, body) {
  let text = null;
  if (method === 'GET' && early && early.path === path) {
    const taken = early.text;
    early = null;
    text = await taken.catch(() => null);
  }
  if (text === null) text = await (await send(method, path, body, 'application/json')).text();
  return text ? JSON.parse(text) : null;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// GET /v1/audit/export (`path` with its query) page by page (the server
// answers at most 2000 entries at once and names the next page in
// X-Audit-Next, `next` in JSON), and hand the whole range to the browser as
// one download named by the first page's Content-Disposition. CSV pages
// are concatenated (only the first has the header line); JSON pages'
// `matches` are joined into one document.
export async function downloadExport(path, format) {
  const csvParts = [];
  const matches = [];
  let name = `hashscreen-matches.${format}`;
  let cursor = null;
  const seen = new Set();
  for (let page = 0; ; page += 1) {
    const r = await send('GET', cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path, undefined, '*/*');
    if (page === 0) {
      const m = /filename="?([^";]+)"?/.exec(r.headers.get('Content-Disposition') || '');
      if (m) name = m[1];
    }
    if (format === 'json') {
      const doc = await r.json();
      matches.push(...(doc.matches || []));
      cursor = doc.next || null;
    } else {
      csvParts.push(await r.blob());
      cursor = r.headers.get('X-Audit-Next') || null;
    }
    if (!cursor) break;
    if (seen.has(cursor)) throw new ApiError(0, 'export_loop', 'the export repeated a page cursor; stopped');
    seen.add(cursor);
  }
  const blob = format === 'json'
    ? new Blob([JSON.stringify({ matches })], { type: 'application/json' })
    : new Blob(csvParts, { type: 'text/csv' });
  save(blob, name);
  return { name, bytes: blob.size, rows: format === 'json' ? matches.length : null };
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

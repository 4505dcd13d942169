// The console's entry point: the session (sign in, sign out, reload), the
// hash router (#/queue, #/browse, #/entry/ID, #/export, #/admin/...), the
// status line and the keyboard help. Views live in their own modules and
// render into <main>.
//
// The queue is the page most loads show, so only what it needs is imported
// up front (index.html preloads those modules in one go); an entry, the
// export and the admin pages are imported when first opened. A load asks
// for the session and the queue's first page at once (docs/review.md,
// "Speed").
import { api, ApiError, setCsrfToken, setSignedOutHandler, prefetch, dropPrefetch } from './api.js';
import { h, clear, field } from './dom.js';
import { renderMatches, firstPagePath } from './matches.js';
import { session, say, sayError, errorText, setKeyHandler, keyHandlerNow } from './state.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const help = document.getElementById('help');

function setSession(s) {
  session.role = s ? s.role : '';
  session.keyId = s ? s.key_id : '';
  session.expiresMs = s ? s.expires_ms : 0;
  setCsrfToken(s ? s.csrf_token : '');
  nav.hidden = !s;
  for (const el of document.querySelectorAll('.admin-only')) el.hidden = !s || s.role !== 'admin';
  document.getElementById('who').textContent = s ? `${s.role} ${s.key_id}` : '';
}

function renderSignIn(message) {
  setKeyHandler(null);
  document.title = 'Sign in - hashscreen review';
  const key = h('input', { type: 'password', name: 'api_key', autocomplete: 'off', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'error', role: 'alert' }, message || '');
  const form = h('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', {}, 'With a reviewer or admin API key. The key is sent once; the browser keeps only a session cookie.'),
    field('API key', key),
    h('p', {}, h('button', { type: 'submit' }, 'Sign in')),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      const s = await api('POST', '/ui/api/session', { api_key: key.value });
      key.value = '';
      setSession(s);
      say(`Signed in as ${s.role}.`);
      if (!location.hash || location.hash === '#/signin') location.hash = '#/queue';
      else route();
    } catch (e) {
      error.textContent = errorText(e);
    }
  });
  clear(main).append(form);
  key.focus();
}

async function signOut() {
  try {
    await api('DELETE', '/ui/api/session');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) return sayError(e);
  }
  setSession(null);
  say('Signed out.');
  location.hash = '#/signin';
  renderSignIn();
}

// The route in location.hash: its path's parts and its filters.
function current() {
  const hash = location.hash || '#/queue';
  const [path, queryText] = hash.slice(1).split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(queryText || '') };
}

// A view from its module, imported on first use; an import that fails
// (the server went away) is said on the status line.
function lazy(load, render) {
  return load().then(render, sayError);
}

function route() {
  if (!session.role) return renderSignIn();
  setKeyHandler(null);
  const { parts, params } = current();
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${parts.slice(0, 2).join('/')}` || a.getAttribute('href') === `#/${parts[0]}`) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
  // Each route renders into a container of its own. A render still waiting
  // for the server when the next route begins (a hash change during a
  // fetch) then appends to a detached container, never beside the new page.
  const view = h('div', { class: 'view' });
  clear(main).append(view);
  main.focus({ preventScroll: true });
  switch (parts[0]) {
    case 'queue': case 'browse': case undefined:
      return renderMatches(view, parts[0] === 'browse' ? 'browse' : 'queue', params);
    case 'entry': return lazy(() => import('./entry.js'), (m) => m.renderEntry(view, parts[1]));
    case 'export': return lazy(() => import('./export.js'), (m) => m.renderExport(view));
    case 'admin': return lazy(() => import('./admin.js'), (m) => m.renderAdmin(view, parts[1]));
    case 'signin': location.hash = '#/queue'; return undefined;
    default:
      view.append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/queue' }, 'Back to the queue')));
      return undefined;
  }
}

document.addEventListener('keydown', (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  const typing = t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
  if (typing || help.open) return;
  if (ev.key === '?') {
    ev.preventDefault();
    help.showModal();
    return;
  }
  const handler = keyHandlerNow();
  if (handler && handler(ev)) ev.preventDefault();
});

document.getElementById('sign-out').addEventListener('click', signOut);
setSignedOutHandler((e) => {
  setSession(null);
  renderSignIn(`Your session ended: ${e.message}. Sign in again.`);
});
window.addEventListener('hashchange', route);

// The session check and the first page of a queue or browse view go out
// together: one round trip before the rows instead of two. Signed out, the
// page's request is a 401 nobody sees, and is forgotten.
(async () => {
  const { parts, params } = current();
  const checking = api('GET', '/ui/api/session');
  if (['queue', 'browse', undefined].includes(parts[0])) prefetch(firstPagePath(parts[0] === 'browse' ? 'browse' : 'queue', params));
  try {
    setSession(await checking);
  } catch {
    setSession(null);
  }
  route();
  dropPrefetch();
})();

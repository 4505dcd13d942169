// The console's entry point: the session (sign in, sign out, reload), the
// hash router (#/queue, #/browse, #/entry/ID, #/export, #/admin/...), the
// status line and the keyboard help. Views live in their own modules and
// render into <main>.
import { api, ApiError, setCsrfToken, setSignedOutHandler } from './api.js';
import { h, clear, field } from './dom.js';
import { renderMatches } from './matches.js';
import { renderEntry } from './entry.js';
import { renderExport } from './export.js';
import { renderAdmin } from './admin.js';
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

function route() {
  if (!session.role) return renderSignIn();
  setKeyHandler(null);
  const hash = location.hash || '#/queue';
  const [path, queryText] = hash.slice(1).split('?');
  const params = new URLSearchParams(queryText || '');
  const parts = path.split('/').filter(Boolean);
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
    case 'entry': return renderEntry(view, parts[1]);
    case 'export': return renderExport(view);
    case 'admin': return renderAdmin(view, parts[1]);
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

(async () => {
  try {
    setSession(await api('GET', '/ui/api/session'));
  } catch {
    setSession(null);
  }
  route();
})();

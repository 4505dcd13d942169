// Admin pages: lists (counts, thresholds, enabled), keys (list, create with
// the secret shown once, revoke), and the audit chain's verification. The
// links show for admin sessions only; the API refuses reviewers (403)
// whatever the page does.
import { api } from './api.js';
import { h, field, utc } from './dom.js';
import { say, sayError, errorText } from './state.js';

function table(caption, headers, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    rows instanceof HTMLTableSectionElement ? rows : h('tbody', {}, rows));
}

const cell = (v) => h('td', {}, v === undefined || v === null || v === '' ? '-' : String(v));

async function renderLists(main) {
  document.title = 'Lists - hashscreen review';
  main.append(h('h1', {}, 'Lists'));
  const data = await api('GET', '/v1/lists');
  main.append(table('Lists', ['Id', 'Name', 'Partner', 'Kind', 'Signals', 'PDQ threshold', 'Enabled', 'Created (UTC)'],
    (data.lists || []).map((l) => h('tr', {}, cell(l.id), cell(l.name), cell(l.owner), cell(l.kind), cell(l.signal_count),
      cell(l.pdq_threshold), cell(l.enabled ? 'yes' : 'no'), cell(utc(l.created_ms))))));
}

async function renderKeys(main) {
  document.title = 'Keys - hashscreen review';
  main.append(h('h1', {}, 'Keys'));
  const role = h('select', { name: 'role' }, ['reviewer', 'admin', 'ingest', 'partner', 'replica'].map((r) => h('option', { value: r }, r)));
  const partner = h('input', { name: 'partner' });
  const label = h('input', { name: 'label', maxlength: 256 });
  const secret = h('p', { class: 'secret', role: 'status' });
  const form = h('form', { class: 'filters', 'aria-label': 'New key' },
    h('h2', {}, 'New key'), field('Role', role), field('Partner (partner keys)', partner), field('Label', label),
    h('p', { class: 'actions' }, h('button', { type: 'submit' }, 'Create key')), secret);
  const body = h('tbody');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    secret.replaceChildren();
    const spec = { role: role.value };
    if (partner.value.trim()) spec.partner = partner.value.trim();
    if (label.value.trim()) spec.label = label.value.trim();
    try {
      const k = await api('POST', '/v1/keys', spec);
      secret.append('Key ', h('code', {}, k.id), ' created. Its secret, shown this once: ',
        h('code', { class: 'secret-value' }, k.secret));
      say(`Key ${k.id} created.`);
      await fill();
    } catch (e) {
      secret.textContent = errorText(e);
      sayError(e);
    }
  });
  async function fill() {
    const data = await api('GET', '/v1/keys');
    body.replaceChildren(...(data.keys || []).map((k) => {
      let action = '-';
      if (!k.revoked_ms) {
        action = h('button', { type: 'button', 'aria-label': `Revoke ${k.id}` }, 'Revoke');
        action.addEventListener('click', async () => {
          if (action.dataset.armed !== '1') {
            action.dataset.armed = '1';
            action.textContent = 'Click again to revoke';
            return;
          }
          try {
            await api('DELETE', `/v1/keys/${k.id}`);
            say(`Key ${k.id} revoked: its sessions ended.`);
            await fill();
          } catch (e) {
            sayError(e);
          }
        });
      }
      return h('tr', { 'data-id': k.id }, cell(k.id), cell(k.role), cell(k.partner), cell(k.label), cell(utc(k.created_ms)),
        cell(utc(k.last_used_ms)), cell(k.revoked_ms ? `revoked ${utc(k.revoked_ms)}` : k.blocked ? 'blocked' : 'active'),
        h('td', {}, action));
    }));
  }
  main.append(form, table('Keys', ['Id', 'Role', 'Partner', 'Label', 'Created (UTC)', 'Last used (UTC)', 'State', 'Action'], body));
  await fill();
}

async function renderVerify(main) {
  document.title = 'Audit chain - hashscreen review';
  main.append(h('h1', {}, 'Audit chain'), h('p', {}, 'Verifying the whole chain...'));
  const v = await api('GET', '/v1/audit/verify');
  main.lastChild.remove();
  main.append(h('p', { class: v.ok ? 'ok' : 'error', id: 'verify-result' },
    v.ok ? `Intact: ${v.entries} entries verified.` : `NOT intact: ${v.result}.`),
  h('dl', { class: 'facts' }, [['Result', v.result], ['Entries', v.entries], ['Head', v.head],
    ['Head authenticated (HMAC)', v.head_authenticated ? 'yes' : 'no'], ['HMAC key configured', v.hmac_key ? 'yes' : 'no']]
    .map(([k, x]) => [h('dt', {}, k), h('dd', {}, String(x ?? '-'))])),
  table('Instances', ['Instance', 'Role', 'Entries', 'Head', 'Intact'],
    (v.instances || []).map((i) => h('tr', {}, cell(i.instance), cell(i.role), cell(i.entries), cell(i.head), cell(i.ok ? 'yes' : 'no')))));
}

export async function renderAdmin(main, page) {
  try {
    if (page === 'lists') await renderLists(main);
    else if (page === 'keys') await renderKeys(main);
    else if (page === 'verify') await renderVerify(main);
    else main.append(h('h1', {}, 'Not found'));
  } catch (e) {
    main.append(h('p', { class: 'error', role: 'alert' }, errorText(e)));
    sayError(e);
  }
}

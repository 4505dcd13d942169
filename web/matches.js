// The queue (matches awaiting review, oldest first) and the newest-first
// browsing of every entry: one filtered, paged table of audit entries.
// Filters live in the URL (#/queue?list=3), so a view can be bookmarked and
// the back button works. Keys: j/k or arrows move, Enter opens, c/f/e review
// the selected entry.
import { api, query } from './api.js';
import { h, field, utc, parseUtcInput, utcInputValue } from './dom.js';
import { say, sayError, setKeyHandler } from './state.js';

const VERDICTS = ['', 'match', 'no_match', 'error', 'review', 'event', 'batch'];
const DISPOSITIONS = ['', 'unreviewed', 'confirmed', 'false_positive', 'escalated', 'reported'];
const KEY_DISPOSITIONS = { c: 'confirmed', f: 'false_positive', e: 'escalated' };
const PAGE = 50;

function select(name, values, current) {
  return h('select', { name }, values.map((v) => h('option', { value: v, selected: v === current }, v || 'any')));
}

export function hitsSummary(entry) {
  const hits = entry.hits || [];
  if (!hits.length) return '-';
  return hits.map((x) => `${x.list || x.list_id} (${x.partner || '?'})`).filter((v, i, a) => a.indexOf(v) === i).join(', ');
}

export function closestDistance(entry) {
  const d = (entry.hits || []).map((x) => x.distance).filter((x) => typeof x === 'number');
  return d.length ? String(Math.min(...d)) : '-';
}

// The GET /v1/audit parameters of a view ('queue' or 'browse') and its
// filters, without the cursor.
function apiQuery(mode, params) {
  const queue = mode === 'queue';
  return {
    list: params.get('list'), partner: params.get('partner'), instance: params.get('instance'),
    since: params.get('since'), until: params.get('until'),
    verdict: queue ? 'match' : params.get('verdict'),
    disposition: queue ? 'unreviewed' : params.get('disposition'),
    order: queue ? 'oldest' : 'newest', limit: PAGE,
  };
}

// The path of a view's first page: what renderMatches asks for first, so
// the page can ask for it before it has rendered anything (web/app.js).
export function firstPagePath(mode, params) {
  return `/v1/audit${query(apiQuery(mode, params))}`;
}

const kShowEmptyAfterMs = 150;

export function renderMatches(main, mode, params) {
  const queue = mode === 'queue';
  document.title = `${queue ? 'Queue' : 'All entries'} - hashscreen review`;
  const f = {
    list: h('input', { name: 'list', inputmode: 'numeric', value: params.get('list') || '' }),
    partner: h('input', { name: 'partner', value: params.get('partner') || '' }),
    since: h('input', { name: 'since', type: 'datetime-local', value: utcInputValue(params.get('since')) }),
    until: h('input', { name: 'until', type: 'datetime-local', value: utcInputValue(params.get('until')) }),
    instance: h('input', { name: 'instance', value: params.get('instance') || '' }),
    verdict: select('verdict', VERDICTS, params.get('verdict') || ''),
    disposition: select('disposition', DISPOSITIONS, params.get('disposition') || ''),
  };
  const form = h('form', { class: 'filters', 'aria-label': 'Filters' },
    field('List id', f.list), field('Partner', f.partner),
    field('Since (UTC)', f.since), field('Until (UTC)', f.until),
    queue ? null : field('Verdict', f.verdict), queue ? null : field('Disposition', f.disposition),
    field('Instance', f.instance),
    h('p', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filters'), ' ',
      h('a', { href: `#/${mode}` }, 'Clear')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = {
      list: f.list.value.trim(), partner: f.partner.value.trim(), instance: f.instance.value.trim(),
      since: parseUtcInput(f.since.value), until: parseUtcInput(f.until.value),
      verdict: queue ? '' : f.verdict.value, disposition: queue ? '' : f.disposition.value,
    };
    location.hash = `#/${mode}${query(p)}`;
  });

  const body = h('tbody');
  const table = h('table', { class: 'entries' },
    h('caption', {}, queue ? 'Matches' : 'Entries'),
    h('thead', {}, h('tr', {}, ['Time (UTC)', 'Entry', 'Verdict', 'Instance', 'Caller reference', 'Lists (partner)',
      'Closest distance', 'Disposition'].map((t) => h('th', { scope: 'col' }, t)))),
    body);
  const more = h('button', { type: 'button', hidden: true }, 'More');
  const empty = h('p', { hidden: true }, queue ? 'No matches await review.' : 'No entries.');
  // The page goes on screen with its first rows, in one layout: shown
  // empty first, it was laid out and painted twice (docs/review.md). A
  // server slower than kShowEmptyAfterMs gets the empty page meanwhile.
  let shown = false;
  const show = () => {
    if (shown) return;
    shown = true;
    main.append(
      h('h1', {}, queue ? 'Queue: matches awaiting review' : 'All entries, newest first'),
      h('p', { class: 'hint' }, 'Keys: j/k or arrows move, Enter opens, c confirm, f false positive, e escalate, ? help.'),
      form, table, empty, h('p', {}, more));
  };
  setTimeout(show, kShowEmptyAfterMs);

  const apiParams = apiQuery(mode, params);
  let cursor = null;
  let selected = -1;
  const rows = () => [...body.rows];

  function select_(i, focus = true) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(i, all.length - 1));
    all.forEach((r, j) => (j === selected ? r.setAttribute('aria-current', 'true') : r.removeAttribute('aria-current')));
    const link = all[selected].querySelector('a');
    if (focus && link) link.focus();
  }

  function row(entry) {
    const id = String(entry.id ?? entry.seq);
    const tr = h('tr', { 'data-id': id },
      h('td', {}, utc(entry.time_ms)),
      h('td', {}, h('a', { href: `#/entry/${encodeURIComponent(id)}` }, `#${id}`)),
      h('td', {}, entry.verdict || entry.kind || '-'),
      h('td', {}, entry.instance || '-'),
      h('td', {}, entry.ref || entry.event || (entry.target_id ? `review of #${entry.target_id}` : '-')),
      h('td', {}, hitsSummary(entry)),
      h('td', {}, closestDistance(entry)),
      h('td', { class: 'disposition' }, entry.disposition || (entry.verdict === 'match' ? 'unreviewed' : '-')));
    tr.addEventListener('click', (ev) => { if (ev.target.tagName !== 'A') select_(rows().indexOf(tr)); });
    return tr;
  }

  async function load() {
    try {
      const page = await api('GET', `/v1/audit${query({ ...apiParams, cursor })}`);
      for (const e of page.entries || []) body.append(row(e));
      show();
      cursor = page.next || null;
      more.hidden = !cursor;
      empty.hidden = body.rows.length > 0;
      if (selected < 0 && body.rows.length) select_(0, false);
      say(`${body.rows.length} ${queue ? 'matches' : 'entries'} shown${cursor ? ', more available' : ''}.`);
    } catch (e) {
      show();
      sayError(e);
    }
  }

  async function review(disposition) {
    const tr = rows()[selected];
    if (!tr) return;
    const id = tr.dataset.id;
    try {
      await api('POST', `/v1/audit/${encodeURIComponent(id)}/review`, { disposition });
      say(`#${id}: ${disposition}.`);
      if (queue) {
        tr.remove();
        empty.hidden = body.rows.length > 0;
        select_(selected);
      } else {
        tr.querySelector('.disposition').textContent = disposition;
      }
    } catch (e) {
      sayError(e);
    }
  }

  more.addEventListener('click', load);
  // Only the page on screen takes keys (not a render a later route replaced).
  if (main.isConnected) setKeyHandler((ev) => {
    switch (ev.key) {
      case 'j': case 'ArrowDown': select_(selected + 1); return true;
      case 'k': case 'ArrowUp': select_(selected - 1); return true;
      case 'Enter': {
        const tr = rows()[selected];
        if (tr) location.hash = `#/entry/${encodeURIComponent(tr.dataset.id)}`;
        return Boolean(tr);
      }
      default:
        if (KEY_DISPOSITIONS[ev.key]) { review(KEY_DISPOSITIONS[ev.key]); return true; }
        return false;
    }
  });
  load();
}

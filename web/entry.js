// One audit entry: what it holds (never the image: the server keeps none),
// its review history, and the form for a new review. The current
// disposition is the latest review's; a change needs a note, and the
// server's answer (note_required, a missing report id) is shown as it is.
import { api } from './api.js';
import { h, field, utc } from './dom.js';
import { say, sayError, errorText, setKeyHandler } from './state.js';

const KEY_DISPOSITIONS = { c: 'confirmed', f: 'false_positive', e: 'escalated' };

function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === undefined || v === null || v === '' ? '-' : String(v))]));
}

function table(caption, headers, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c === undefined || c === null || c === '' ? '-' : String(c)))))));
}

export async function renderEntry(main, id) {
  document.title = `Entry #${id} - hashscreen review`;
  let entry;
  try {
    entry = await api('GET', `/v1/audit/${encodeURIComponent(id)}`);
  } catch (e) {
    main.append(h('h1', {}, `Entry #${id}`), h('p', { class: 'error', role: 'alert' }, errorText(e)));
    return;
  }
  const q = entry.query || {};
  const img = entry.image || {};
  const reviews = entry.reviews || [];
  const latest = reviews.length ? reviews[reviews.length - 1] : entry.review || null;
  const current = entry.disposition || (latest && latest.disposition) || null;

  main.append(
    h('h1', {}, `Entry #${entry.id ?? id}`),
    h('p', { class: 'current' }, 'Current disposition: ', h('strong', { id: 'current-disposition' }, current || 'unreviewed')),
    h('h2', {}, 'Screen'),
    dl([
      ['Time (UTC)', utc(entry.time_ms)], ['Instance', entry.instance], ['Verdict', entry.verdict],
      ['Source', entry.source], ['Caller reference', entry.ref], ['Request id', entry.request_id], ['Key', entry.key_id],
      ['Query PDQ', q.pdq], ['PDQ used', q.pdq_used], ['Quality', q.quality], ['MD5', q.md5], ['SHA-256', q.sha256],
      ['Image format', img.format], ['Image size', img.width ? `${img.width} x ${img.height} px, ${img.bytes} bytes` : ''],
    ]),
    h('h2', {}, 'Hits'),
    table('Hits', ['List', 'Partner', 'Partner reference', 'Tags', 'Signal', 'List hash', 'Distance', 'Variant'],
      (entry.hits || []).map((x) => [x.list || x.list_id, x.partner, x.partner_ref, (x.tags || []).join(', '), x.signal,
        x.hash, x.distance, x.variant_name || x.variant])),
    h('h2', {}, 'Reviews'),
    reviews.length
      ? table('Review history, oldest first', ['Time (UTC)', 'Key', 'Disposition', 'Report id', 'Note'],
        reviews.map((r) => [utc(r.time_ms), r.key_id, r.disposition, r.report_id, r.note]))
      : h('p', {}, 'Not reviewed yet.'));

  if (entry.verdict !== 'match') return;
  const note = h('textarea', { name: 'note', rows: 3 });
  const reportId = h('input', { name: 'report_id', maxlength: 64, autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert' });
  async function submit(disposition) {
    error.textContent = '';
    const body = { disposition };
    if (note.value.trim()) body.note = note.value.trim();
    if (disposition === 'reported') body.report_id = reportId.value.trim();
    try {
      await api('POST', `/v1/audit/${encodeURIComponent(id)}/review`, body);
      say(`#${id}: ${disposition}.`);
      const scrollY = window.scrollY;
      main.replaceChildren();
      await renderEntry(main, id);
      window.scrollTo(0, scrollY);
    } catch (e) {
      error.textContent = errorText(e);
      sayError(e);
    }
  }
  const button = (label, disposition) => h('button', { type: 'button', onclick: () => submit(disposition) }, label);
  main.append(h('form', { class: 'review', 'aria-labelledby': 'review-title' },
    h('h2', { id: 'review-title' }, current ? 'Change the disposition' : 'Review'),
    current ? h('p', {}, 'A change needs a note saying why.') : null,
    field('Note', note),
    field('Report id (for Report)', reportId),
    h('p', { class: 'actions' }, button('Confirm', 'confirmed'), ' ', button('False positive', 'false_positive'), ' ',
      button('Escalate', 'escalated'), ' ', button('Report', 'reported')),
    error));
  // Only the page on screen takes keys (not a render a later route replaced).
  if (main.isConnected) setKeyHandler((ev) => {
    if (!KEY_DISPOSITIONS[ev.key]) return false;
    submit(KEY_DISPOSITIONS[ev.key]);
    return true;
  });
}

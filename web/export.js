// Export of the matches in a time range (GET /v1/audit/export), as CSV or
// JSON, every page of it, handed to the browser as one download.
import { downloadExport, query } from './api.js';
import { h, field, parseUtcInput, utcInputValue } from './dom.js';
import { say, sayError } from './state.js';

export function renderExport(main) {
  document.title = 'Export - hashscreen review';
  const now = Date.now();
  const since = h('input', { type: 'datetime-local', name: 'since', required: true, value: utcInputValue(now - 7 * 86400000) });
  const until = h('input', { type: 'datetime-local', name: 'until', required: true, value: utcInputValue(now + 60000) });
  const list = h('input', { name: 'list', inputmode: 'numeric' });
  const partner = h('input', { name: 'partner' });
  const disposition = h('select', { name: 'disposition' },
    ['', 'unreviewed', 'confirmed', 'false_positive', 'escalated', 'reported'].map((v) => h('option', { value: v }, v || 'any')));
  const result = h('p', { role: 'status' });
  async function go(format) {
    const s = parseUtcInput(since.value);
    const u = parseUtcInput(until.value);
    if (s === null || u === null) return say('Give both ends of the range.', true);
    try {
      const got = await downloadExport(`/v1/audit/export${query({ since: s, until: u + 59999, format, list: list.value.trim(),
        partner: partner.value.trim(), disposition: disposition.value })}`, format);
      result.textContent = `Downloaded ${got.name} (${got.bytes} bytes).`;
      return say(result.textContent);
    } catch (e) {
      return sayError(e);
    }
  }
  main.append(h('h1', {}, 'Export matches'),
    h('p', {}, 'One row per hit of each match in the range, with its current disposition.'),
    h('form', { class: 'filters', 'aria-label': 'Export range' },
      field('Since (UTC)', since), field('Until (UTC)', until), field('List id', list), field('Partner', partner),
      field('Disposition', disposition),
      h('p', { class: 'actions' },
        h('button', { type: 'button', onclick: () => go('csv') }, 'Download CSV'), ' ',
        h('button', { type: 'button', onclick: () => go('json') }, 'Download JSON'))),
    result);
}

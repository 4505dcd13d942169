// Building DOM nodes without HTML strings: every value from the API becomes a
// text node, so nothing an audit entry holds can inject markup or script.

// h('a', {href: '#/x', class: 'y', onclick: fn}, 'text', child, [more])
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  }
}

// A labelled form field: <p class="field"><label for=id>text</label> control</p>.
let fieldCounter = 0;
export function field(labelText, control) {
  if (!control.id) control.id = `f${++fieldCounter}`;
  return h('p', { class: 'field' }, h('label', { for: control.id }, labelText), control);
}

export function utc(ms) {
  if (!ms) return '-';
  return new Date(Number(ms)).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

// "2026-11-30T06:00" (a datetime-local value, read as UTC) -> ms, or null.
export function parseUtcInput(value) {
  if (!value) return null;
  const ms = Date.parse(value + (value.length === 16 ? ':00Z' : 'Z'));
  return Number.isFinite(ms) ? ms : null;
}

export function utcInputValue(ms) {
  if (ms === null || ms === undefined || ms === '') return '';
  return new Date(Number(ms)).toISOString().slice(0, 16);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// The console's queue page at scale, measured in the browser: a data dir
// seeded by seed_audit (N realistic entries written straight through
// store::AuditLog), a real hashscreend serving it, Debian's chromium loading
// /ui/#/queue signed in. One load's time is from the navigation's start
// (performance.timeOrigin) to the first frame after the "Matches" table holds
// its first page of rows, seen by a MutationObserver the test installs
// before any page script runs (the app is not changed to be measured).
//
// Cold: a new browser context each time (no HTTP cache, a new session
// signed in through the API). Warm: the same context reloaded. The median of
// several loads of each, with a breakdown from the Performance API (the
// page and its modules, the session check, GET /v1/audit's time to first
// byte = the server's time plus loopback), the server time of the same
// GET /v1/audit measured from node with a bearer key, the CPU time the
// browser's processes and hashscreend spent per load (/proc), and the floor:
// a new context loading the same page with JavaScript off.
//
// Also checks the queue is right at that size: the first page is the oldest
// unreviewed matches in order (seed_audit tracks them on its own), More
// shows the next ones, paging the whole queue through the API gives every
// unreviewed match once in order, confirming the first row (key c) takes it
// out of the queue, and the whole chain verifies (GET /v1/audit/verify).
//
// The browser test (queue_scale.test.mjs) runs it at a size that keeps CI
// fast; bench/console_queue.sh runs it at 1M against a small log's page
// measured in the same run, printing both against the 300 ms target.
//
//   node tests/web/queue_scale.mjs [--entries N] [--baseline N] [--loads N]
//   (environment as for the browser test: HASHSCREEND, HASHSCREEN_CLI,
//    HASHSCREEN_SEED_AUDIT, HASHSCREEN_SOURCE_DIR, HASHSCREEN_WEB_ARTIFACTS)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARTIFACTS, Server, launchBrowser, requireEnvironment, shoot, axeViolations } from './harness.mjs';

export const SEED_AUDIT = process.env.HASHSCREEN_SEED_AUDIT;
export const TARGET_MS = 300;
const PAGE = 50;  // the queue's page (web/matches.js)
const QUEUE_API = `/v1/audit?verdict=match&disposition=unreviewed&order=oldest&limit=${PAGE}`;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
export const medianOf = median;
const round = (x) => Math.round(x * 10) / 10;

// Runs in the page before its own scripts (addInitScript: a CDP injection,
// which the page's CSP does not govern). Records when the "Matches" table
// holds the page of rows the status line announces ("50 matches shown"),
// and the first frame after that.
function observeQueue() {
  window.__queue = { rows: 0, rendered: 0, painted: 0 };
  const observer = new MutationObserver(() => {
    const table = document.querySelector('table.entries');
    if (!table || table.caption?.textContent !== 'Matches') return;
    const shown = /^(\d+) matches shown/.exec(document.getElementById('status')?.textContent || '');
    const n = table.tBodies[0]?.rows.length || 0;
    if (!shown || Number(shown[1]) !== n || n === 0 || window.__queue.rendered) return;
    window.__queue.rows = n;
    window.__queue.rendered = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => { window.__queue.painted = performance.now(); }, 0));
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });
}

// What one load spent where, from the Performance API, in ms since its start.
function breakdown() {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const audit = res.find((r) => r.name.includes('/v1/audit?'));
  const session = res.find((r) => r.name.endsWith('/ui/api/session'));
  const modules = res.filter((r) => r.name.endsWith('.js') || r.name.endsWith('.css'));
  return {
    document_ms: nav.responseEnd,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    assets_done_ms: Math.max(0, ...modules.map((r) => r.responseEnd)),
    session_start_ms: session ? session.startTime : null,
    session_end_ms: session ? session.responseEnd : null,
    audit_start_ms: audit ? audit.startTime : null,
    audit_ttfb_ms: audit ? audit.responseStart - audit.requestStart : null,
    audit_end_ms: audit ? audit.responseEnd : null,
    audit_bytes: audit ? audit.encodedBodySize : null,
    rows: window.__queue.rows,
    rendered_ms: window.__queue.rendered,
    painted_ms: window.__queue.painted,
  };
}

function seed(data, entries, extra = []) {
  if (!SEED_AUDIT) throw new Error('HASHSCREEN_SEED_AUDIT is not set (build/tests/web/seed_audit)');
  const r = spawnSync(SEED_AUDIT, ['--data', data, '--entries', String(entries), '--queue-head', String(2 * PAGE), ...extra],
    { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`seed_audit failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// A hashscreend on a seeded log with a reviewer and an admin key; .seed
// holds what seed_audit wrote (counts, the queue's head), .seedWallS its
// wall time. On failure its temp dir is removed. `binary`: another
// hashscreend to serve it than $HASHSCREEND (queue_ab.mjs).
export async function seededLog(entries, binary = '') {
  const server = new Server();
  if (binary) server.binary = binary;
  try {
    server.keys = { reviewer: server.createKey('reviewer'), admin: server.createKey('admin') };
    const t0 = Date.now();
    server.seed = seed(server.data, entries);
    server.seedWallS = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    await server.start(['--rate-per-key', '0']);
    server.startS = (Date.now() - t1) / 1000;
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

export async function signedInContext(browser, server) {
  const context = await browser.newContext();
  const r = await context.request.post(`${server.url}/ui/api/session`, { data: { api_key: server.keys.reviewer } });
  if (r.status() !== 200 && r.status() !== 201) throw new Error(`sign in: ${r.status()} ${await r.text()}`);
  await context.addInitScript(observeQueue);
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  return { context, page };
}

// Polls every 50 ms, not every frame (Playwright's default): the times are
// taken in the page, and frame-by-frame polling would add its own work to
// the load being measured.
async function loaded(page) {
  await page.waitForFunction(() => window.__queue && window.__queue.painted > 0, null, { polling: 50 });
  return page.evaluate(breakdown);
}

// The server's time for the queue's first page: GET /v1/audit from node
// over loopback with a bearer key (one connection per call, as fetch does).
async function serverTimes(server, n) {
  const times = [];
  for (let i = 0; i < n; i += 1) {
    const t0 = performance.now();
    const r = await server.call('GET', QUEUE_API, server.keys.reviewer);
    times.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`GET ${QUEUE_API}: ${r.text}`);
  }
  return times;
}

// CPU time (user + system, ms) spent so far by this process's descendants:
// the browser's processes and hashscreend. Measured around each load, it
// says how much work a load is independently of how busy the machine is
// (its wall time on a loaded machine is mostly waiting for a core).
// Clock ticks are 10 ms: meaningful as a median of several loads.
function childCpuMs() {
  const parent = new Map();
  const cpu = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');  // fields from 3 on
    parent.set(Number(name), Number(f[1]));
    cpu.set(Number(name), Number(f[11]) + Number(f[12]));  // utime, stime (fields 14, 15)
  }
  let ticks = 0;
  for (const [pid, t] of cpu) {
    for (let p = parent.get(pid); p; p = parent.get(p)) {
      if (p === process.pid) { ticks += t; break; }
    }
  }
  return ticks * 10;
}

// One load by `navigate` (a goto or a reload) of a page from
// signedInContext: its breakdown and the CPU it cost.
export async function measureLoad(page, navigate) {
  const cpu0 = childCpuMs();
  await navigate();
  return { ...await loaded(page), cpu_ms: childCpuMs() - cpu0 };
}

const summary = (loads) => Object.fromEntries(Object.keys(loads[0]).map((k) => [k, round(median(loads.map((l) => l[k] ?? NaN)))]));

// Measures the queue page on `server` (cold and warm, `loads` each) and
// returns the numbers. Every load measured must show the whole first page.
export async function measureQueue(browser, server, loads) {
  const rows = Math.min(PAGE, server.seed.queue_length);
  const cold = [];
  for (let i = 0; i < loads; i += 1) {
    const { context, page } = await signedInContext(browser, server);
    const cpu0 = childCpuMs();
    await page.goto(`${server.url}/ui/#/queue`);
    cold.push({ ...await loaded(page), cpu_ms: childCpuMs() - cpu0 });
    if (page.problems.length) throw new Error(page.problems.join('\n'));
    await context.close();
  }
  const warm = [];
  const { context, page } = await signedInContext(browser, server);
  await page.goto(`${server.url}/ui/#/queue`);
  await loaded(page);
  for (let i = 0; i < loads; i += 1) {
    const cpu0 = childCpuMs();
    await page.reload();
    warm.push({ ...await loaded(page), cpu_ms: childCpuMs() - cpu0 });
  }
  if (page.problems.length) throw new Error(page.problems.join('\n'));
  await context.close();
  // The floor: what a new context costs the browser for the same page with
  // JavaScript off (its HTML, CSS and the <noscript> line: the same process
  // start, fonts and first paint, without the app), to its load event.
  const floor = [];
  for (let i = 0; i < loads; i += 1) {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const p = await ctx.newPage();
    const cpu0 = childCpuMs();
    await p.goto(`${server.url}/ui/`, { waitUntil: 'load' });
    const loadEnd = await p.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd);
    floor.push({ load_ms: loadEnd, cpu_ms: childCpuMs() - cpu0 });
    await ctx.close();
  }
  for (const l of [...cold, ...warm]) {
    if (l.rows !== rows) throw new Error(`a load showed ${l.rows} rows, not the first page's ${rows}`);
  }
  const api = await serverTimes(server, loads);
  return {
    blank_cold: summary(floor),
    cold: summary(cold), warm: summary(warm),
    cold_painted_ms: cold.map((l) => round(l.painted_ms)), warm_painted_ms: warm.map((l) => round(l.painted_ms)),
    api_first_page_ms: round(median(api)),
  };
}

// Every unreviewed match through the API, 1000 a page: seqs in order.
export async function wholeQueue(server) {
  const seqs = [];
  let cursor = null;
  for (;;) {
    const r = await server.call('GET', `/v1/audit?verdict=match&disposition=unreviewed&order=oldest&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      server.keys.reviewer);
    if (r.status !== 200) throw new Error(`queue page: ${r.text}`);
    for (const e of r.json.entries) seqs.push(Number(e.id ?? e.seq));
    if (!r.json.next) return seqs;
    cursor = r.json.next;
  }
}

// The queue at this size, in the browser: its first two pages, then a
// review with the keyboard. Returns the problems found ([] = right).
export async function checkQueue(browser, server, shotName) {
  const problems = [];
  const head = server.seed.queue_head;
  const { context, page } = await signedInContext(browser, server);
  await page.goto(`${server.url}/ui/#/queue`);
  await loaded(page);
  const ids = () => page.locator('table.entries tbody tr').evaluateAll((rs) => rs.map((r) => Number(r.dataset.id)));
  const first = await ids();
  if (JSON.stringify(first) !== JSON.stringify(head.slice(0, PAGE))) {
    problems.push(`first page ${first.slice(0, 5)}... is not the oldest unreviewed matches ${head.slice(0, 5)}...`);
  }
  if (shotName) {
    await shoot(page, shotName);
    problems.push(...(await axeViolations(page)).map((v) => `axe: ${v}`));
  }
  if (head.length > PAGE) {
    await page.getByRole('button', { name: 'More' }).click();
    await page.locator('table.entries tbody tr').nth(Math.min(2 * PAGE, server.seed.queue_length) - 1).waitFor();
    const two = await ids();
    if (JSON.stringify(two) !== JSON.stringify(head.slice(0, 2 * PAGE))) problems.push('More did not show the next oldest matches');
  }
  // c confirms the selected (first) row; reloaded, the queue starts at the next.
  await page.keyboard.press('c');
  await page.getByRole('status').filter({ hasText: `#${head[0]}: confirmed` }).waitFor();
  await page.reload();
  await loaded(page);
  const after = await ids();
  if (after[0] !== head[1]) problems.push(`after confirming #${head[0]} the queue starts at #${after[0]}, not #${head[1]}`);
  if (page.problems.length) problems.push(...page.problems);
  await context.close();
  return problems;
}

// One scale's run: seed, serve, check, measure. Writes
// ARTIFACTS/queue-scale-<entries>.json and returns what it wrote.
export async function runScale(browser, entries, loads, { check = true, shotName = '' } = {}) {
  const server = await seededLog(entries);
  try {
    const result = { entries: server.seed.entries, seed: { ...server.seed, queue_head: undefined }, seed_wall_s: server.seedWallS,
      server_start_s: server.startS, cores: cpus().length };
    // Measured before the check's review changes the log (and before the
    // check warms anything): the first cold load is the server's first page.
    // The machine's load while measuring (other builds share it): the times
    // scale with it, the ratio against the baseline of the same run less so.
    result.load_average_before = loadavg().map(round);
    Object.assign(result, await measureQueue(browser, server, loads));
    result.load_average_after = loadavg().map(round);
    if (check) {
      const all = await wholeQueue(server);
      result.queue_problems = [];
      if (all.length !== server.seed.queue_length) result.queue_problems.push(`the API's queue holds ${all.length} entries, seeded ${server.seed.queue_length}`);
      if (all.some((x, i) => i > 0 && x <= all[i - 1])) result.queue_problems.push('the queue is not oldest first');
      if (JSON.stringify(all.slice(0, server.seed.queue_head.length)) !== JSON.stringify(server.seed.queue_head)) {
        result.queue_problems.push('the queue\'s head is not the seeded oldest unreviewed matches');
      }
      result.queue_problems.push(...await checkQueue(browser, server, shotName));
      // The seeded chain is the chain a server writes: it verifies whole.
      const v = await server.call('GET', '/v1/audit/verify', server.keys.admin);
      if (v.status !== 200 || !v.json.ok || v.json.entries < server.seed.entries) {
        result.queue_problems.push(`GET /v1/audit/verify: ${v.status} ${v.text}`);
      }
    }
    writeFileSync(join(ARTIFACTS, `queue-scale-${entries}.json`), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await server.stop();
  }
}

export function describeResult(r) {
  return `${r.entries} entries (${r.seed.matches} matches, ${r.seed.queue_length} in the queue; seeded in ${r.seed_wall_s.toFixed(1)} s, `
    + `served after ${r.server_start_s.toFixed(1)} s): queue page cold ${r.cold.painted_ms} ms, warm ${r.warm.painted_ms} ms `
    + `(median; GET /v1/audit first byte ${r.cold.audit_ttfb_ms}/${r.warm.audit_ttfb_ms} ms in the page, ${r.api_first_page_ms} ms from node; `
    + `load average ${r.load_average_before[0]} on ${r.cores} cores; CPU of browser + server per load: cold ${r.cold.cpu_ms} ms, warm ${r.warm.cpu_ms} ms; `
    + `the page in a new context with JavaScript off: ${r.blank_cold.load_ms} ms, ${r.blank_cold.cpu_ms} ms CPU)`;
}

// node tests/web/queue_scale.mjs: the on-demand run (bench/console_queue.sh).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = { entries: 1000000, baseline: 10000, loads: 7 };
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i].replace(/^--/, '');
    if (!(name in opts) || !args[i].startsWith('--') || i + 1 >= args.length || !/^[1-9][0-9]*$/.test(args[i + 1])) {
      console.error(`queue_scale: unknown option or bad value: ${args[i]} ${args[i + 1] ?? ''}\nusage: node tests/web/queue_scale.mjs [--entries N] [--baseline N] [--loads N]`);
      process.exit(2);
    }
    opts[name] = Number(args[i + 1]);
  }
  requireEnvironment();
  const { browser, close } = await launchBrowser();
  try {
    const base = await runScale(browser, opts.baseline, opts.loads, { check: false });
    console.log(`baseline: ${describeResult(base)}`);
    const big = await runScale(browser, opts.entries, opts.loads, { shotName: `14-queue-${opts.entries}` });
    console.log(`at scale: ${describeResult(big)}`);
    for (const kind of ['cold', 'warm']) {
      const ms = big[kind].painted_ms;
      console.log(`${kind}: ${ms} ms at ${big.entries} entries = ${(ms / TARGET_MS).toFixed(2)} of the ${TARGET_MS} ms target, `
        + `${(ms / base[kind].painted_ms).toFixed(2)}x the ${base.entries}-entry log's ${base[kind].painted_ms} ms`);
    }
    if (big.queue_problems.length) {
      console.error(`the queue is wrong at ${big.entries}:\n${big.queue_problems.join('\n')}`);
      process.exitCode = 1;
    }
    console.log(`numbers in ${join(ARTIFACTS, `queue-scale-${opts.entries}.json`)} and queue-scale-${opts.baseline}.json`);
  } finally {
    await close();
  }
}

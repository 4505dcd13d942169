// The browser tests' fixture: real hashscreend processes on loopback ports
// with temp data dirs, keys made offline (`hashscreend keys create`), a
// partner list holding the conformance bridge photo, real screens, and
// Debian's chromium driven by playwright-core. Nothing is downloaded: a
// missing chromium or node_modules fails naming `./setup.sh test`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HASHSCREEND = process.env.HASHSCREEND;
export const HASHSCREEN_CLI = process.env.HASHSCREEN_CLI;
export const SOURCE_DIR = process.env.HASHSCREEN_SOURCE_DIR;
export const ARTIFACTS = process.env.HASHSCREEN_WEB_ARTIFACTS || join(process.cwd(), 'web-artifacts');
export const CHROMIUM = process.env.HASHSCREEN_CHROMIUM || '/usr/bin/chromium';
export const BRIDGE_DIR = SOURCE_DIR ? join(SOURCE_DIR, 'tests', 'data', 'pdq', 'images', 'bridge-mods') : '';

// The browser's launch arguments: headless, and nothing that reaches out
// (no component updates, sync, QUIC or background fetches).
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function requireEnvironment() {
  const missing = [];
  if (!HASHSCREEND || !existsSync(HASHSCREEND)) missing.push(`hashscreend (HASHSCREEND=${HASHSCREEND})`);
  if (!HASHSCREEN_CLI || !existsSync(HASHSCREEN_CLI)) missing.push(`hashscreen (HASHSCREEN_CLI=${HASHSCREEN_CLI})`);
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (Debian package chromium)`);
  if (!existsSync(new URL('./node_modules/playwright-core/package.json', import.meta.url))) missing.push('tests/web/node_modules/playwright-core (npm ci)');
  if (!existsSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url))) missing.push('tests/web/node_modules/axe-core (npm ci)');
  if (missing.length) {
    throw new Error(`the browser test needs: ${missing.join(', ')}. Run ./setup.sh test (it installs chromium and runs npm ci in tests/web), or set HASHSCREEN_NO_BROWSER=1 to skip`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
}

function run(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export class Server {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'hashscreen-web-'));
    this.data = join(this.dir, 'data');
    this.proc = null;
    this.url = '';
    this.log = '';
    this.binary = HASHSCREEND;  // the hashscreend that serves (queue_ab.mjs compares two)
  }

  createKey(role, extra = []) {
    const out = run([HASHSCREEND, 'keys', 'create', '--create', '--data', this.data, '--role', role, ...extra]);
    return out.trim().split('\n').pop();
  }

  async start(extra = []) {
    this.proc = spawn(this.binary, ['serve', '--data', this.data, '--listen', '127.0.0.1:0', '--plain-http',
      '--metrics-listen', '', '--audit-sync=false', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`hashscreend did not start: ${this.log}`)), 30000);
      this.proc.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (\S+)/.exec(out);
        if (m) { clearTimeout(timer); this.url = `http://${m[1]}`; resolve(); }
      });
      this.proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`hashscreend exited ${code}: ${this.log}`)); });
    });
    this.proc.removeAllListeners('exit');
  }

  async call(method, path, key, body, contentType = 'application/json') {
    const headers = { Authorization: `Bearer ${key}` };
    if (body !== undefined) headers['Content-Type'] = contentType;
    const r = await fetch(this.url + path, { method, headers, body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text };
  }

  // Stops the server; under the sanitizer build a report in its log fails the test.
  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((resolve) => this.proc.on('exit', resolve));
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(this.log)) throw new Error(`hashscreend sanitizer report:\n${this.log}`);
  }
}

// A server with one key per role, acme's block list holding the bridge
// photo's PDQ hash, and `matches` screens of bridge variants (matches) plus
// one unrelated image (no match).
export async function seededServer(extra = [], matches = 4) {
  const s = new Server();
  s.keys = {};
  for (const role of ['reviewer', 'admin', 'replica']) s.keys[role] = s.createKey(role);
  s.keys.ingest = s.createKey('ingest', ['--hash-queries']);
  s.keys.partner = s.createKey('partner', ['--partner', 'acme']);
  await s.start(extra);
  const list = await s.call('POST', '/v1/lists', s.keys.partner, { name: 'known', kind: 'block', pdq_threshold: 31 });
  if (list.status !== 201) throw new Error(`list create: ${list.text}`);
  s.listId = list.json.id;
  const pdq = run([HASHSCREEN_CLI, 'hash', join(BRIDGE_DIR, 'aaa-orig.jpg')]).split(',')[0];
  s.pdq = pdq;
  const batch = await s.call('POST', `/v1/lists/${s.listId}/batches`, s.keys.partner,
    { batch_id: 'seed', add: [{ type: 'pdq', hash: pdq, ref: 'bridge-ref-1' }] });
  if (batch.status !== 200) throw new Error(`batch: ${batch.text}`);
  const images = readdirSync(BRIDGE_DIR).filter((f) => f.endsWith('.jpg')).sort().slice(0, matches);
  s.matchIds = [];
  for (const f of images) {
    const r = await s.call('POST', `/v1/screen?ref=${encodeURIComponent(`upload-${f}`)}`, s.keys.ingest, readFileSync(join(BRIDGE_DIR, f)), 'image/jpeg');
    if (r.status !== 200 || !r.json.match) throw new Error(`screen ${f}: ${r.text}`);
    s.matchIds.push(r.json.audit_id);
  }
  const unrelated = join(SOURCE_DIR, 'tests', 'data', 'pdq', 'images', 'misc-images', 'small.jpg');
  const r = await s.call('POST', '/v1/screen?ref=upload-unrelated', s.keys.ingest, readFileSync(unrelated), 'image/jpeg');
  if (r.status !== 200 || r.json.match) throw new Error(`screen small.jpg: ${r.text}`);
  return s;
}

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  // launch() runs the browser on a fresh temporary profile (user data dir) of
  // its own, removed at close.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  return { browser, close: () => browser.close() };
}

const axeSource = () => readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

// Runs axe-core in the page (evaluated, not a <script>: the CSP blocks
// injected scripts, as it should) and returns the serious and critical
// violations.
export async function axeViolations(page) {
  await page.evaluate(axeSource());
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function shoot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

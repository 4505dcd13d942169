// The review console in a real browser (docs/console.md): Debian's chromium,
// headless, driven by playwright-core, against real hashscreend instances
// with real screens. Every page is screenshot into the build dir
// (web-artifacts/) and checked with axe-core (no serious or critical
// violations). Run by ctest (tests/web/CMakeLists.txt): node --test.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { requireEnvironment, seededServer, launchBrowser, axeViolations, shoot } from './harness.mjs';

const CSV_HEADER = 'audit_id,time_utc,time_ms,instance,caller_ref,source,pdq,quality,md5,sha256,image_format,width,height,bytes,list,partner,partner_ref,tags,signal,list_hash,distance,variant,disposition,report_id,reviewed_by,reviewed_utc,note';

if (process.env.HASHSCREEN_NO_BROWSER === '1') {
  it('browser tests', { skip: 'HASHSCREEN_NO_BROWSER=1: the browser tests of the console are skipped' }, () => {});
} else {
  requireEnvironment();  // throws, naming ./setup.sh test, when chromium or node_modules are missing

  describe('the review console', () => {
    let server;
    let browser;
    const started = Date.now();

    before(async () => {
      server = await seededServer(['--rate-per-key', '0']);
      browser = await launchBrowser();
    });
    after(async () => {
      if (browser) await browser.close();
      if (server) await server.stop();
      console.log(`# browser test time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });

    // A fresh context (no cookies) with its page; asserts no page error and
    // no CSP violation happened when it is checked.
    async function newPage() {
      const context = await browser.browser.newContext({ acceptDownloads: true });
      const page = await context.newPage();
      page.setDefaultTimeout(10000);
      page.problems = [];
      page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
      // An API refusal the page shows (401, 403, a 400 note_required) is
      // logged by the browser too; anything else (a missing asset, a CSP
      // violation, a script error) is a problem.
      page.on('console', (m) => {
        const api = /\/(v1|ui\/api)\//.test(m.location().url || '');
        if (m.type() === 'error' && !(api && /status of 4\d\d/.test(m.text()))) page.problems.push(`console: ${m.text()}`);
      });
      return { context, page };
    }

    async function check(page, name) {
      await shoot(page, name);
      assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
      assert.deepEqual(page.problems, [], `errors on ${name}`);
    }

    async function signIn(page, key) {
      await page.goto(`${server.url}/ui/`);
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }

    it('refuses an ingest key, signs a reviewer in with a cookie only, and shows the queue oldest first', async () => {
      const { context, page } = await newPage();
      await page.goto(`${server.url}/ui/`);
      await check(page, '01-sign-in');
      await page.getByLabel('API key').fill(server.keys.ingest);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'role_cannot_sign_in' }).waitFor();
      for (const role of ['partner', 'replica']) {
        await page.getByLabel('API key').fill(server.keys[role]);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('alert').filter({ hasText: `role is ${role}` }).waitFor();
      }
      await page.getByLabel('API key').fill(server.keys.reviewer);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const table = page.getByRole('table', { name: 'Matches' });
      await table.waitFor();
      await page.locator('table.entries tbody tr').nth(server.matchIds.length - 1).waitFor();
      assert.equal(await page.locator('table.entries tbody tr').count(), server.matchIds.length);
      const ids = await page.locator('table.entries tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
      assert.deepEqual(ids, server.matchIds, 'oldest first');
      await check(page, '02-queue');
      // The key is nowhere in the browser; the cookie is HttpOnly.
      const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
      assert.equal(stored, '{}{}');
      const cookies = await context.cookies();
      assert.equal(cookies.length, 1);
      assert.equal(cookies[0].name, 'hs_session');
      assert.equal(cookies[0].httpOnly, true);
      assert.equal(cookies[0].sameSite, 'Strict');
      assert.ok(!cookies[0].value.includes(server.keys.reviewer));
      // A reviewer sees no admin links, and the API refuses the data.
      assert.equal(await page.getByRole('link', { name: 'Keys' }).count(), 0);
      await page.goto(`${server.url}/ui/#/admin/keys`);
      await page.getByRole('alert').filter({ hasText: 'permission_denied' }).waitFor();
      await check(page, '03-reviewer-admin-refused');
      await context.close();
    });

    it('filters by partner, list, verdict and time, and browses everything newest first', async () => {
      const { context, page } = await newPage();
      await signIn(page, server.keys.reviewer);
      await page.getByRole('table', { name: 'Matches' }).waitFor();
      await page.getByLabel('Partner').fill('acme');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.waitForURL(/partner=acme/);
      await page.locator('table.entries tbody tr').nth(server.matchIds.length - 1).waitFor();
      await page.getByLabel('Partner').fill('nobody');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.getByText('No matches await review.').waitFor();
      await page.goto(`${server.url}/ui/#/queue?list=${server.listId}&since=${Date.now() - 3600000}`);
      await page.locator('table.entries tbody tr').nth(server.matchIds.length - 1).waitFor();
      await page.goto(`${server.url}/ui/#/queue?until=1000`);
      await page.getByText('No matches await review.').waitFor();
      await page.getByRole('link', { name: 'All entries' }).click();
      await page.getByRole('table', { name: 'Entries' }).waitFor();
      await page.getByLabel('Verdict').selectOption('no_match');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.waitForURL(/verdict=no_match/);
      await page.getByRole('cell', { name: 'upload-unrelated' }).waitFor();
      assert.equal(await page.locator('table.entries tbody tr').count(), 1);
      await page.goto(`${server.url}/ui/#/browse`);
      await page.locator('table.entries tbody tr').nth(server.matchIds.length).waitFor();
      const ids = await page.locator('table.entries tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.dataset.id)));
      assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
      await check(page, '04-browse');
      await context.close();
    });

    it('reviews with the keyboard: j/k move, ? helps, c confirms, Enter opens', async () => {
      const { context, page } = await newPage();
      await signIn(page, server.keys.reviewer);
      const rows = page.locator('table.entries tbody tr');
      await rows.nth(server.matchIds.length - 1).waitFor();
      const before = await rows.count();
      await page.keyboard.press('j');
      await page.keyboard.press('j');
      await page.keyboard.press('k');
      assert.equal(await rows.nth(1).getAttribute('aria-current'), 'true');
      await page.keyboard.press('?');
      await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
      await check(page, '05-keyboard-help');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'hidden' });
      const confirmed = await rows.nth(1).getAttribute('data-id');
      await page.keyboard.press('c');
      await page.getByRole('status').filter({ hasText: `#${confirmed}: confirmed` }).waitFor();
      assert.equal(await rows.count(), before - 1);
      const entry = await rows.nth(1).getAttribute('data-id');
      await page.keyboard.press('Enter');
      await page.waitForURL(new RegExp(`#/entry/${entry}$`));
      await page.getByRole('heading', { name: `Entry #${entry}` }).waitFor();
      const r = await server.call('GET', `/v1/audit/${confirmed}`, server.keys.reviewer);
      assert.equal(r.json.disposition, 'confirmed');
      assert.equal(r.json.reviews.length, 1);
      await context.close();
    });

    it('opens an entry, confirms, needs a note to change, marks a false positive, reports with an id', async () => {
      const { context, page } = await newPage();
      await signIn(page, server.keys.reviewer);
      const id = server.matchIds[0];
      await page.goto(`${server.url}/ui/#/entry/${id}`);
      await page.getByRole('heading', { name: `Entry #${id}` }).waitFor();
      // What the entry holds, never the image.
      await page.getByRole('cell', { name: 'bridge-ref-1' }).waitFor();
      await page.getByText('upload-aaa-orig.jpg').waitFor();
      assert.equal(await page.locator('img, video, picture, object, embed').count(), 0);
      await check(page, '06-entry');
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.locator('#current-disposition').filter({ hasText: 'confirmed' }).waitFor();
      await page.getByRole('button', { name: 'False positive' }).click();
      await page.getByRole('alert').filter({ hasText: 'note_required' }).waitFor();
      await check(page, '07-note-required');
      await page.getByLabel('Note').fill('the bridge is a public landmark photo');
      await page.getByRole('button', { name: 'False positive' }).click();
      await page.locator('#current-disposition').filter({ hasText: 'false_positive' }).waitFor();
      await page.getByLabel('Note').fill('reported after all');
      await page.getByLabel('Report id (for Report)').fill('CT-2026-000123');
      await page.getByRole('button', { name: 'Report' }).click();
      await page.locator('#current-disposition').filter({ hasText: 'reported' }).waitFor();
      await page.getByRole('cell', { name: 'CT-2026-000123' }).waitFor();
      assert.equal(await page.getByRole('table', { name: 'Review history, oldest first' }).locator('tbody tr').count(), 3);
      await check(page, '08-entry-reviewed');
      const r = await server.call('GET', `/v1/audit/${id}`, server.keys.reviewer);
      assert.deepEqual(r.json.reviews.map((x) => x.disposition), ['confirmed', 'false_positive', 'reported']);
      assert.equal(r.json.reviews[2].report_id, 'CT-2026-000123');
      await context.close();
    });

    it('a page still loading when the next one opens never shows beside it', async () => {
      const { context, page } = await newPage();
      await signIn(page, server.keys.reviewer);
      await page.getByRole('table', { name: 'Matches' }).waitFor();
      const id = server.matchIds[0];
      // The entry's answer is held back until the export page is on screen.
      let release;
      const held = new Promise((resolve) => { release = resolve; });
      await page.route(`**/v1/audit/${id}`, async (route) => { await held; await route.continue(); });
      await page.evaluate((x) => { location.hash = `#/entry/${x}`; }, id);
      await page.evaluate(() => { location.hash = '#/export'; });
      await page.getByRole('button', { name: 'Download CSV' }).waitFor();
      const answered = page.waitForResponse((r) => r.url().endsWith(`/v1/audit/${id}`));
      release();
      await answered;
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));  // the late render's turn
      assert.equal(await page.getByRole('heading', { name: `Entry #${id}` }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Download CSV' }).count(), 1);
      // Nor does it take the keys: 'c' on the export page confirms nothing.
      await page.keyboard.press('c');
      const r = await server.call('GET', `/v1/audit/${id}`, server.keys.reviewer);
      const before = r.json.reviews.length;
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
      const after = (await server.call('GET', `/v1/audit/${id}`, server.keys.reviewer)).json.reviews.length;
      assert.equal(after, before);
      await context.close();
    });

    it('exports a time range as CSV and JSON downloads', async () => {
      const { context, page } = await newPage();
      await signIn(page, server.keys.reviewer);
      await page.getByRole('table', { name: 'Matches' }).waitFor();
      await page.getByRole('link', { name: 'Export' }).click();
      await page.getByRole('button', { name: 'Download CSV' }).waitFor();
      await check(page, '09-export');
      const [csvDownload] = await Promise.all([page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download CSV' }).click()]);
      const csv = readFileSync(await csvDownload.path(), 'utf8').trim().split(/\r?\n/);
      assert.equal(csv[0], CSV_HEADER);
      assert.equal(csv.length - 1, server.matchIds.length, 'one row per hit of each match');
      assert.ok(csv.some((line) => line.includes('CT-2026-000123') && line.includes('reported')));
      const [jsonDownload] = await Promise.all([page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download JSON' }).click()]);
      const exported = JSON.parse(readFileSync(await jsonDownload.path(), 'utf8'));
      assert.equal(exported.matches.length, server.matchIds.length);
      assert.ok(exported.matches.every((m) => Array.isArray(m.tags) && Array.isArray(m.reviews)));
      await context.close();
    });

    it('refuses a state change without the CSRF token, and signs out', async () => {
      const { context, page } = await newPage();
      await signIn(page, server.keys.reviewer);
      await page.getByRole('table', { name: 'Matches' }).waitFor();
      const id = server.matchIds[server.matchIds.length - 1];
      const refused = await page.evaluate(async (entry) => {
        const r = await fetch(`/v1/audit/${entry}/review`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ disposition: 'confirmed' }) });
        return { status: r.status, body: await r.json() };
      }, id);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'csrf_failed');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      const after = await page.evaluate(async () => (await fetch('/v1/audit')).status);
      assert.equal(after, 401);
      assert.equal((await context.cookies()).length, 0);
      await context.close();
    });

    it('admin pages: lists with counts, keys (create shows the secret once, revoke), the chain verified', async () => {
      const { context, page } = await newPage();
      await signIn(page, server.keys.admin);
      await page.getByRole('link', { name: 'Lists' }).click();
      const lists = page.getByRole('table', { name: 'Lists' });
      await lists.getByRole('cell', { name: 'known' }).waitFor();
      await check(page, '10-admin-lists');
      await page.getByRole('link', { name: 'Keys' }).click();
      await page.getByRole('table', { name: 'Keys' }).waitFor();
      await page.getByLabel('Role').selectOption('reviewer');
      await page.getByLabel('Label').fill('browser test reviewer');
      await page.getByRole('button', { name: 'Create key' }).click();
      const secret = await page.locator('.secret-value').textContent();
      assert.match(secret, /^hsk_[0-9a-f]{16}_[0-9a-f]{64}$/);
      await check(page, '11-admin-keys');
      // The new key signs in elsewhere, then its revocation ends that session.
      const other = await newPage();
      await signIn(other.page, secret);
      await other.page.getByRole('table', { name: 'Matches' }).waitFor();
      const keyId = secret.slice(4, 20);
      await page.getByRole('button', { name: `Revoke ${keyId}` }).click();
      await page.getByRole('button', { name: `Revoke ${keyId}` }).click();
      await page.getByRole('status').filter({ hasText: `Key ${keyId} revoked` }).waitFor();
      await other.page.getByRole('link', { name: 'All entries' }).click();
      await other.page.getByRole('alert').filter({ hasText: 'Your session ended' }).waitFor();
      await other.context.close();
      await page.getByRole('link', { name: 'Audit chain' }).click();
      await page.locator('#verify-result').filter({ hasText: 'Intact' }).waitFor();
      await check(page, '12-admin-verify');
      await context.close();
    });

    it('exports a range of more than one server page (2000 entries) into one file', async () => {
      // 2,100 matches of one signal are a flood: quarantine would hold it after 500.
      const big = await seededServer(['--rate-per-key', '0', '--quarantine-enabled=false'], 1);
      try {
        const items = Array.from({ length: 2100 }, (_, i) => ({ ref: `bulk-${i}`, pdq: [big.pdq], quality: 100 }));
        const r = await big.call('POST', '/v1/screen/hashes/batch', big.keys.ingest, { items });
        assert.equal(r.status, 200, r.text);
        assert.ok(r.json.results.every((x) => x.match), 'every item matches');
        const total = items.length + 1;
        const { context, page } = await newPage();
        await page.goto(`${big.url}/ui/#/export`);
        await page.getByLabel('API key').fill(big.keys.reviewer);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('button', { name: 'Download CSV' }).waitFor();
        const [csvDownload] = await Promise.all([page.waitForEvent('download'),
          page.getByRole('button', { name: 'Download CSV' }).click()]);
        const csv = readFileSync(await csvDownload.path(), 'utf8').trim().split(/\r?\n/);
        assert.equal(csv.filter((line) => line === CSV_HEADER).length, 1, 'the header once');
        assert.equal(csv.length - 1, total);
        const [jsonDownload] = await Promise.all([page.waitForEvent('download'),
          page.getByRole('button', { name: 'Download JSON' }).click()]);
        const exported = JSON.parse(readFileSync(await jsonDownload.path(), 'utf8'));
        assert.equal(exported.matches.length, total);
        assert.equal(new Set(exported.matches.map((m) => m.audit_id)).size, total, 'every match once');
        await context.close();
      } finally {
        await big.stop();
      }
    });

    // The load's critical path (docs/review.md "Speed"): the session check
    // and the queue's first page go out together, the page's request is the
    // one the queue shows (not asked twice), a signed-out load's 401 for it
    // shows nothing, and a reload revalidates the files (304 by ETag).
    // "Together" is checked by holding the session's answer back until the
    // page's request has been made: a console that waited for the session
    // first would never ask, whatever the machine's load. (Comparing the two
    // requests' resource timings instead failed once on a loaded CI machine.)
    it('a load asks for the session and the first page together, signed out it shows only the sign-in form, loads again revalidate the files', async () => {
      const { context, page } = await newPage();
      const refused = page.waitForResponse((r) => r.url().includes('/v1/audit?'));
      await page.goto(`${server.url}/ui/#/browse?partner=acme`);
      assert.equal((await refused).status(), 401);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 200)));
      assert.equal(await page.locator('form.signin [role=alert]').textContent(), '', 'no "session ended" for the early request');
      assert.equal(await page.getByRole('status').textContent(), '');
      const r = await context.request.post(`${server.url}/ui/api/session`, { data: { api_key: server.keys.reviewer } });
      assert.equal(r.status(), 200);
      // The new context's first load moved app.js whole (200).
      const firstTransfer = await page.evaluate(() => performance.getEntriesByType('resource').find((x) => x.name.endsWith('/ui/app.js')).transferSize);
      for (const load of ['first', 'reload']) {
        if (load === 'first') {
          await page.goto('about:blank');  // a new document, not a fragment change
          await page.goto(`${server.url}/ui/#/browse?partner=acme`);
        } else {
          await page.reload();
        }
        await page.getByRole('status').filter({ hasText: 'entries shown' }).waitFor();
        const t = await page.evaluate(() => {
          const res = performance.getEntriesByType('resource');
          const session = res.find((x) => x.name.endsWith('/ui/api/session'));
          const audits = res.filter((x) => x.name.includes('/v1/audit?'));
          const app = res.find((x) => x.name.endsWith('/ui/app.js'));
          const lazy = res.filter((x) => /\/(entry|export|admin)\.js$/.test(x.name)).length;
          return { session: Boolean(session), audits: audits.map((x) => x.name), appTransfer: app.transferSize, lazy };
        });
        assert.ok(t.session, `${load}: the session checked`);
        assert.equal(t.audits.length, 1, `${load}: the first page asked once`);
        assert.match(t.audits[0], /partner=acme/);
        assert.equal(t.lazy, 0, `${load}: the entry, export and admin modules are not loaded for the table`);
        // Revalidated, a 304 moves app.js's header only (the 200 its 6 KB too).
        assert.ok(t.appTransfer > 0 && t.appTransfer * 4 < firstTransfer, `${load}: app.js revalidated (304): ${t.appTransfer} bytes moved, ${firstTransfer} at first`);
      }
      // One more load with the session's answer held back (a route turns the
      // HTTP cache off, so not in the loads above): the first page is asked
      // for all the same.
      let release;
      const held = new Promise((resolve) => { release = resolve; });
      await page.route('**/ui/api/session', async (route) => { await held; await route.continue(); });
      const asked = page.waitForRequest((q) => q.url().includes('/v1/audit?'), { timeout: 15000 })
        .then(() => true, () => false);
      await page.reload();
      const askedWhileHeld = await asked;
      release();
      assert.ok(askedWhileHeld, 'the first page asked while the session check was still unanswered');
      await page.getByRole('status').filter({ hasText: 'entries shown' }).waitFor();
      await page.unroute('**/ui/api/session');
      // The rows are the API's answer to the same query.
      const ids = await page.locator('table.entries tbody tr').evaluateAll((rows) => rows.map((x) => x.dataset.id));
      const api = await server.call('GET', '/v1/audit?partner=acme&order=newest&limit=50', server.keys.reviewer);
      assert.ok(ids.length > 0);
      assert.deepEqual(ids, api.json.entries.map((e) => String(e.id ?? e.seq)));
      // An entry's module arrives when it is first opened.
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: `Entry #${ids[0]}` }).waitFor();
      await check(page, '15-browse-reloaded-entry');
      await context.close();
    });

    it('a session expires after ui.session_ttl_s', async () => {
      const short = await seededServer(['--ui-session-ttl-s', '3'], 1);
      try {
        const { context, page } = await newPage();
        await page.goto(`${short.url}/ui/`);
        await page.getByLabel('API key').fill(short.keys.reviewer);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('table', { name: 'Matches' }).waitFor();
        // Wait until the session's own end (no guess at how long signing in took).
        const expires = await page.evaluate(async () => (await (await fetch('/ui/api/session')).json()).expires_ms);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, expires - Date.now()) + 300));
        await page.getByRole('link', { name: 'All entries' }).click();
        await page.getByRole('alert').filter({ hasText: 'Your session ended' }).waitFor();
        await page.getByRole('button', { name: 'Sign in' }).waitFor();
        await check(page, '13-expired');
        await context.close();
      } finally {
        await short.stop();
      }
    });
  });
}

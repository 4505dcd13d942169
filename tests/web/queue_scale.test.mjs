// The console's queue at scale in a real browser (queue_scale.mjs): a log of
// HASHSCREEN_QUEUE_ENTRIES entries (default 100,000: seeding 1M costs more
// than CI's budget, docs/review.md) seeded by seed_audit, served by a real
// hashscreend. Asserts the queue is right at that size (oldest unreviewed
// match first, paging, a review leaves it, the chain verifies) and no
// serious axe violation; prints the page's load times (cold, warm) and
// writes them to web-artifacts/queue-scale-N.json, but asserts no time
// (project rule: the 300 ms target at 1M is bench/console_queue.sh's).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { requireEnvironment, launchBrowser } from './harness.mjs';
import { runScale, describeResult, SEED_AUDIT } from './queue_scale.mjs';

const ENTRIES = Number(process.env.HASHSCREEN_QUEUE_ENTRIES || 100000);

if (process.env.HASHSCREEN_NO_BROWSER === '1') {
  it('the queue at scale', { skip: 'HASHSCREEN_NO_BROWSER=1: the browser tests of the console are skipped' }, () => {});
} else {
  requireEnvironment();
  it(`the queue page at ${ENTRIES} entries: oldest unreviewed match first, paging, a review leaves it, the chain verifies`, async () => {
    assert.ok(Number.isInteger(ENTRIES) && ENTRIES >= 1000, `HASHSCREEN_QUEUE_ENTRIES=${process.env.HASHSCREEN_QUEUE_ENTRIES} is not a count >= 1000`);
    assert.ok(SEED_AUDIT, 'HASHSCREEN_SEED_AUDIT names build/tests/web/seed_audit');
    const { browser, close } = await launchBrowser();
    try {
      const r = await runScale(browser, ENTRIES, 5, { shotName: '14-queue-at-scale' });
      console.log(`# ${describeResult(r)}`);
      assert.ok(r.seed.queue_length > 100, `a queue of two pages at least (${r.seed.queue_length})`);
      assert.deepEqual(r.queue_problems, []);
    } finally {
      await close();
    }
  });
}

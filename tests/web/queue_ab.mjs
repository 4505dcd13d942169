// The queue page's load time, two hashscreend binaries side by side
// (bench/console_queue_ab.sh): each serves a log seeded the same way, and
// loads alternate between them (A, B, A, B...), so both see the same
// machine load, which on a shared machine moves the absolute times more
// than most changes to the page do. Cold loads (a new browser context each)
// and warm ones (the same tab reloaded), timed as queue_scale.mjs does; the
// medians of each and of the paired differences B - A.
//
//   node tests/web/queue_ab.mjs A_HASHSCREEND B_HASHSCREEND [--entries N] [--loads N]
//   (environment as for queue_scale.mjs; HASHSCREEND is only used for keys)
import { Server, launchBrowser, requireEnvironment } from './harness.mjs';
import { measureLoad, seededLog, signedInContext, medianOf } from './queue_scale.mjs';

const [binA, binB, ...rest] = process.argv.slice(2);
const opts = { entries: 10000, loads: 15 };
for (let i = 0; i < rest.length; i += 2) {
  const name = rest[i].replace(/^--/, '');
  if (!(name in opts) || !rest[i].startsWith('--') || !/^[1-9][0-9]*$/.test(rest[i + 1] ?? '')) {
    console.error(`queue_ab: unknown option or bad value: ${rest[i]} ${rest[i + 1] ?? ''}`);
    process.exit(2);
  }
  opts[name] = Number(rest[i + 1]);
}
if (!binA || !binB) {
  console.error('usage: node tests/web/queue_ab.mjs A_HASHSCREEND B_HASHSCREEND [--entries N] [--loads N]');
  process.exit(2);
}
requireEnvironment();
const servers = [];
const { browser, close } = await launchBrowser();
try {
  for (const bin of [binA, binB]) servers.push(await seededLog(opts.entries, bin));
  const times = { cold: [[], []], warm: [[], []] };
  for (let i = 0; i < opts.loads; i += 1) {
    for (const s of [0, 1]) {
      const { context, page } = await signedInContext(browser, servers[s]);
      times.cold[s].push(await measureLoad(page, () => page.goto(`${servers[s].url}/ui/#/queue`)));
      await context.close();
    }
  }
  const tabs = [];
  for (const s of [0, 1]) {
    const { context, page } = await signedInContext(browser, servers[s]);
    await measureLoad(page, () => page.goto(`${servers[s].url}/ui/#/queue`));
    tabs.push({ context, page });
  }
  for (let i = 0; i < opts.loads; i += 1) {
    for (const s of [0, 1]) times.warm[s].push(await measureLoad(tabs[s].page, () => tabs[s].page.reload()));
  }
  for (const t of tabs) await t.context.close();
  for (const kind of ['cold', 'warm']) {
    const [a, b] = times[kind].map((xs) => xs.map((x) => x.painted_ms));
    const diff = a.map((x, i) => b[i] - x);
    const fmt = (xs) => Math.round(medianOf(xs));
    console.log(`${kind}: A ${fmt(a)} ms, B ${fmt(b)} ms (medians of ${a.length}); B - A paired median ${fmt(diff)} ms; B faster in ${diff.filter((d) => d < 0).length} of ${diff.length}`);
    for (const key of ['dom_content_loaded_ms', 'session_end_ms', 'audit_start_ms', 'audit_end_ms', 'rendered_ms']) {
      console.log(`  ${key}: A ${fmt(times[kind][0].map((x) => x[key]))}, B ${fmt(times[kind][1].map((x) => x[key]))}`);
    }
  }
} finally {
  await close();
  for (const s of servers) await s.stop();
}

// ctest's entry to the browser tests: skips (exit 77, ctest's SKIP_RETURN_CODE)
// only when HASHSCREEN_NO_BROWSER=1, else runs one test file of this folder
// (the argument; console.test.mjs when none) with node's test runner and
// reports how long it took.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (process.env.HASHSCREEN_NO_BROWSER === '1') {
  console.log('skipped: HASHSCREEN_NO_BROWSER=1 (the console\'s browser test needs chromium and tests/web/node_modules: ./setup.sh test)');
  process.exit(77);
}
const started = Date.now();
const file = process.argv[2] || 'console.test.mjs';
if (!/^[a-z_]+\.test\.mjs$/.test(file)) {
  console.error(`run.mjs: not a test file of tests/web: ${file}`);
  process.exit(2);
}
const test = fileURLToPath(new URL(`./${file}`, import.meta.url));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', test], { stdio: 'inherit' });
console.log(`browser test: ${((Date.now() - started) / 1000).toFixed(1)} s wall`);
process.exit(r.status === null ? 1 : r.status);

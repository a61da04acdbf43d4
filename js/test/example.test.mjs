// The embedding example (example.mjs) runs as documented against the simulator.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { CREDENTIALS, JS_DIR, component, startSimulator, transpiled } from './support.mjs';

let simulator;
let dir;
before(async () => {
  dir = transpiled(component());
  simulator = await startSimulator();
});
after(() => simulator?.stop());

test('example.mjs connects, collects one page of users and prints them', () => {
  const run = spawnSync(process.execPath, [join(JS_DIR, 'example.mjs'), simulator.url, 'users'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      CONNECTOR_JS_DIR: dir,
      QUALYS_USERNAME: CREDENTIALS.username,
      QUALYS_PASSWORD: CREDENTIALS.password,
    },
  });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.match(lines[0], /^connected as demo_manager \(Manager\) on US1$/);
  const rows = lines.slice(1, -1).map((line) => JSON.parse(line));
  assert.ok(rows.length > 0);
  assert.ok(rows.every((r) => typeof r.login === 'string'), run.stdout);
  assert.equal(lines.at(-1), `${rows.length} rows; complete`);
});

test('example.mjs reports a refused login as the connector error', () => {
  const run = spawnSync(process.execPath, [join(JS_DIR, 'example.mjs'), simulator.url], {
    encoding: 'utf8',
    env: { ...process.env, CONNECTOR_JS_DIR: dir, QUALYS_USERNAME: 'demo_manager', QUALYS_PASSWORD: 'wrong' },
  });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^authentication: /);
});

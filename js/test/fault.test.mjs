// A connection reset in the middle of a response body, under jco: the component must see a
// transport fault and retry, as it does under wasmtime. preview2-shim 0.26.1 needs host.mjs's
// workaround for that (see `toErrorCode`); the last test tells when it no longer does.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { collectAll, loadConnector } from '../host.mjs';
import { assertSameRows, cliCollect, component, config, startSimulator, transpiled } from './support.mjs';

const RESET_USERS_ONCE = ['--fault', 'reset@/msp/user_list.php*1'];

describe('a connection reset mid-body on the users call', () => {
  let dir;
  let componentPath;
  const simulators = [];
  const start = async () => {
    const simulator = await startSimulator(RESET_USERS_ONCE);
    simulators.push(simulator);
    return simulator;
  };

  before(() => {
    componentPath = component();
    dir = transpiled(componentPath);
  });

  after(() => simulators.forEach((s) => s.stop()));

  test('is retried by the component under jco, which then has the same rows as the wasmtime host', async () => {
    const simulator = await start();
    const requests = [];
    const connector = await loadConnector(dir, { allowedOrigins: [simulator.url], onRequest: (r) => requests.push(r) });

    const js = collectAll(connector, config(simulator.url), 'users');

    const userCalls = requests.filter((r) => r.path.startsWith('/msp/user_list.php'));
    assert.ok(userCalls.length >= 2, `the users call was not retried: ${JSON.stringify(requests)}`);
    assert.ok(js.rows.length > 0);
    // The fault is spent: the wasmtime host now reads the same data undisturbed.
    assertSameRows('users', js.rows, await cliCollect({ url: simulator.url, proofType: 'users', componentPath }));
  });

  test('without the workaround, preview2-shim 0.26.1 throws a TypeError out of the call', async () => {
    const simulator = await start();
    const connector = await loadConnector(dir, { allowedOrigins: [simulator.url], workaround: false });

    assert.throws(
      () => collectAll(connector, config(simulator.url), 'users'),
      (e) => e instanceof TypeError && /invalid variant tag value .* for `ErrorCode`/.test(e.message),
      'preview2-shim now gives the component a valid error-code for a reset mid-body: ' +
        'the workaround in js/host.mjs (toErrorCode) and this test can go',
    );
  });
});

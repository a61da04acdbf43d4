// One component, two hosts: the component transpiled by jco and run by Node.js must collect
// exactly the rows the wasmtime host (`connector-host`) writes, for every proof type, from the
// same simulator at the same time.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { collectAll, loadConnector } from '../host.mjs';
import {
  assertSameRows, binaries, cliCollect, component, config, startSimulator, transpiled,
} from './support.mjs';

describe('the component under jco and under wasmtime', () => {
  let simulator;
  let connector;
  let componentPath;
  const requests = [];

  before(async () => {
    componentPath = component();
    binaries();
    simulator = await startSimulator();
    connector = await loadConnector(transpiled(componentPath), {
      allowedOrigins: [simulator.url],
      onRequest: (r) => requests.push(r),
    });
  });

  after(() => simulator?.stop());

  test('list-proof-types: the same proof types, fields and criteria as `connector-host proof-types --json`', () => {
    const js = connector.listProofTypes();
    const cli = JSON.parse(execFileSync(binaries().cli, ['--plugin', componentPath, 'proof-types', '--json'], {
      encoding: 'utf8',
    }));
    const shape = (types) => types.map((p) => ({
      id: p.id,
      title: p.title,
      // Names only: the CLI has its own words for kinds ("list" for text-list).
      fields: p.fields.map((f) => f.name),
      criteria: p.criteria.map((c) => c.name),
      key: p.key,
    }));
    assert.deepEqual(shape(js), shape(cli));
    assert.ok(js.length >= 5, `only ${js.length} proof types`);
  });

  test('describe: the connector names itself and the service it collects from', () => {
    const about = connector.describe();
    assert.equal(about.name, 'qualys-connector');
    assert.equal(about.service, 'Qualys');
    assert.match(about.version, /^\d+\.\d+\.\d+/);
  });

  test('connect: the demo Manager can collect every proof type', () => {
    const account = connector.connect(config(simulator.url));
    assert.equal(account.login, 'demo_manager');
    assert.equal(account.apiUrl, simulator.url);
    const ids = connector.listProofTypes().map((p) => p.id);
    assert.deepEqual(account.proofAccess.map((a) => a.proofTypeId).sort(), [...ids].sort());
    assert.deepEqual(account.proofAccess.filter((a) => a.access !== 'full'), []);
  });

  test('collect: every proof type, every page, the same rows as the wasmtime host', async (t) => {
    const pages = {};
    for (const proofType of connector.listProofTypes().map((p) => p.id)) {
      await t.test(proofType, async () => {
        // Started first, it runs while jco collects (both see the same wall clock).
        const wasmtime = cliCollect({ url: simulator.url, proofType, componentPath });
        const js = collectAll(connector, config(simulator.url), proofType);
        const cliRows = await wasmtime;
        assert.ok(js.rows.length > 0, `no ${proofType} rows: nothing was compared`);
        assertSameRows(proofType, js.rows, cliRows);
        pages[proofType] = js.pages;
        t.diagnostic(`${proofType}: ${js.rows.length} rows in ${js.pages} pages, equal`);
      });
    }
    // Paging went through the cursor somewhere, not only first pages.
    assert.ok(Object.values(pages).some((n) => n > 1), `one page each: ${JSON.stringify(pages)}`);
  });

  test('the JS host let through requests to the simulator only', () => {
    assert.ok(requests.length > 0);
    assert.deepEqual([...new Set(requests.map((r) => r.origin))], [simulator.url]);
  });
});

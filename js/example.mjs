// Embedding the connector in Node.js, in brief: load the component transpiled by jco, give it
// WASI (no files, no environment) and HTTP to one API server, connect, collect one page.
//
//   npm run transpile          # jco transpile ../dist/qualys_connector.wasm -o out ...
//   QUALYS_USERNAME=... QUALYS_PASSWORD=... node example.mjs https://qualysapi.qualys.com [users]
//
// The transpiled folder is ./out, or $CONNECTOR_JS_DIR.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { connectorImports } from './host.mjs';

const [apiUrl, proofTypeId = 'users'] = process.argv.slice(2);
if (!apiUrl) throw new Error('usage: node example.mjs API_URL [PROOF_TYPE]');
const dir = process.env.CONNECTOR_JS_DIR ?? new URL('./out', import.meta.url).pathname;

// 1. Instantiate: jco's `instantiate` takes a loader for the core modules and the imports.
const { instantiate } = await import(pathToFileURL(join(dir, 'qualys_connector.js')).href);
const { connector } = await instantiate(
  async (name) => WebAssembly.compile(await readFile(join(dir, name))),
  connectorImports({ allowedOrigins: [apiUrl] }), // WASI + HTTP to apiUrl only
);

// 2. Connect: who is this, and what may they collect? (An `err` result is thrown.)
const config = {
  platform: 'US1',
  apiUrl,
  username: process.env.QUALYS_USERNAME,
  password: process.env.QUALYS_PASSWORD,
};
try {
  const account = connector.connect(config);
  console.log(`connected as ${account.login} (${account.role ?? 'no role'}) on ${account.platform}`);

  // 3. Collect the first page; pass page.nextCursor back for the next one.
  const proofType = connector.listProofTypes().find((p) => p.id === proofTypeId);
  const page = connector.collect(config, proofTypeId, [], undefined);
  for (const row of page.rows) {
    // Each row is aligned with proofType.fields; each value a variant { tag, val }.
    const object = Object.fromEntries(proofType.fields.map((f, i) => [f.name, row[i].val ?? null]));
    console.log(JSON.stringify(object, (_, v) => (typeof v === 'bigint' ? Number(v) : v)));
  }
  console.log(`${page.rows.length} rows; ${page.nextCursor ? 'more pages follow' : 'complete'}`);
} catch (e) {
  // e.payload is the connector-error: { tag: 'authentication' | 'transport' | ..., val }.
  console.error(`${e.payload?.tag ?? 'error'}: ${JSON.stringify(e.payload?.val ?? e.message)}`);
  process.exitCode = 1;
}

// What the Node tests share: the workspace's binaries and component, the simulator, the
// wasmtime CLI, and the component transpiled by jco (once per component build).

import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const JS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(JS_DIR, '..');
export const CREDENTIALS = { username: 'demo_manager', password: 'demo-password' };

const CLI = join(ROOT, 'target/debug/connector-host');
const SIMULATOR = join(ROOT, 'target/debug/qualys-simulator');
const BUILT_COMPONENT = join(ROOT, 'target/plugin/wasm32-wasip2/release/qualys_connector.wasm');

function cargo(args) {
  execFileSync(process.env.CARGO ?? 'cargo', args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** The wasmtime CLI and the simulator; `cargo test --workspace` builds both, else they are built here. */
export function binaries() {
  if (!existsSync(CLI) || !existsSync(SIMULATOR)) cargo(['build', '-p', 'connector-host', '-p', 'qualys-simulator']);
  return { cli: CLI, simulator: SIMULATOR };
}

/**
 * The component both hosts run: $CONNECTOR_COMPONENT (CI sets the release artifact,
 * dist/qualys_connector.wasm), else the one the workspace builds.
 */
export function component() {
  const chosen = process.env.CONNECTOR_COMPONENT;
  if (chosen) {
    const path = resolve(ROOT, chosen);
    if (!existsSync(path)) throw new Error(`CONNECTOR_COMPONENT=${chosen}: no such file`);
    return path;
  }
  if (!existsSync(BUILT_COMPONENT)) {
    cargo(['build', '-p', 'qualys-connector', '--target', 'wasm32-wasip2', '--release', '--target-dir', 'target/plugin']);
  }
  return BUILT_COMPONENT;
}

/**
 * `jco transpile COMPONENT -o DIR --name qualys_connector --instantiation async`, into
 * js/out/<sha256 prefix>/, reused while the component is the same.
 */
export function transpiled(componentPath) {
  const sha = createHash('sha256').update(readFileSync(componentPath)).digest('hex').slice(0, 16);
  const dir = join(JS_DIR, 'out', sha);
  if (existsSync(join(dir, 'qualys_connector.js'))) return dir;
  mkdirSync(join(JS_DIR, 'out'), { recursive: true });
  const partial = mkdtempSync(join(JS_DIR, 'out', `${sha}.partial-`));
  execFileSync(process.execPath, [
    join(JS_DIR, 'node_modules/@bytecodealliance/jco/dist/jco.js'), 'transpile', componentPath,
    '-o', partial, '--name', 'qualys_connector', '--instantiation', 'async', '--quiet',
  ], { cwd: JS_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    renameSync(partial, dir);
  } catch (e) {
    // Another test file transpiled the same component first.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(dir, 'qualys_connector.js'))) throw e;
  }
  return dir;
}

/**
 * Starts `qualys-simulator --port 0 [ARGS]` and returns `{ url, stop }`. Its output goes to a
 * file, never a pipe: the component's calls block Node's event loop, and a full pipe would
 * stall the simulator.
 */
export async function startSimulator(args = []) {
  const { simulator } = binaries();
  const dir = mkdtempSync(join(tmpdir(), 'qualys-sim-'));
  const log = join(dir, 'simulator.log');
  const fd = openSync(log, 'w');
  const child = spawn(simulator, ['--port', '0', ...args], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  const stop = () => {
    if (exited === null) child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  for (let waited = 0; waited < 30_000; waited += 50) {
    const text = readFileSync(log, 'utf8');
    const url = /Qualys simulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
    if (url) return { url, stop };
    if (exited !== null) break;
    await sleep(50);
  }
  const text = readFileSync(log, 'utf8');
  stop();
  throw new Error(`the simulator did not start (${JSON.stringify(exited)}): ${text}`);
}

let privateNetworkFlag;
/** `--allow-private-network` where the CLI has it (it then requires it for a loopback API URL). */
function networkFlags(cli) {
  privateNetworkFlag ??= execFileSync(cli, ['collect', '--help'], { encoding: 'utf8' })
    .includes('--allow-private-network');
  return privateNetworkFlag ? ['--allow-private-network'] : [];
}

/**
 * Starts `connector-host collect --format jsonl` for one proof type and returns a promise of
 * its rows (parsed JSON Lines). It runs while the caller collects through jco, so both see the
 * same wall clock (remediation tickets' `overdue` depends on it).
 */
export function cliCollect({ url, proofType, componentPath }) {
  const { cli } = binaries();
  const dir = mkdtempSync(join(tmpdir(), 'connector-cli-'));
  const output = join(dir, `${proofType}.jsonl`);
  const errors = join(dir, 'stderr.txt');
  const fd = openSync(errors, 'w');
  const args = [
    '--plugin', componentPath, '--cache-dir', join(ROOT, 'target/connector-cache'),
    'collect', '--platform', 'US1', '--api-url', url, ...networkFlags(cli),
    '--proof-type', proofType, '--format', 'jsonl', '--output', output, '--quiet',
  ];
  const child = spawn(cli, args, {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, QUALYS_USERNAME: CREDENTIALS.username, QUALYS_PASSWORD: CREDENTIALS.password },
  });
  closeSync(fd);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        if (code !== 0) {
          reject(new Error(`connector-host ${args.join(' ')} exited with ${code}: ${readFileSync(errors, 'utf8')}`));
          return;
        }
        const text = readFileSync(output, 'utf8');
        resolvePromise(text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** The connector's config for the simulator at `url`. */
export function config(url) {
  return { platform: 'US1', apiUrl: url, username: CREDENTIALS.username, password: CREDENTIALS.password };
}

/**
 * Compares two hosts' rows: the same number, and each row the same JSON, keys in the same
 * order. Throws naming the first row and the fields that differ.
 */
export function assertSameRows(proofType, jsRows, cliRows) {
  const problems = [];
  if (jsRows.length !== cliRows.length) {
    problems.push(`jco collected ${jsRows.length} rows, wasmtime ${cliRows.length}`);
  }
  for (let i = 0; i < Math.min(jsRows.length, cliRows.length) && problems.length < 5; i++) {
    const a = jsRows[i];
    const b = cliRows[i];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const keysA = Object.keys(a).join(',');
    const keysB = Object.keys(b).join(',');
    if (keysA !== keysB) {
      problems.push(`row ${i}: fields [${keysA}] under jco, [${keysB}] under wasmtime`);
      continue;
    }
    const fields = Object.keys(a).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    for (const f of fields) {
      problems.push(`row ${i} field ${f}: jco ${JSON.stringify(a[f])}, wasmtime ${JSON.stringify(b[f])}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`${proofType}: the two hosts' rows differ:\n  ${problems.join('\n  ')}`);
  }
}

// A small JavaScript host for the connector component: the component transpiled by jco
// (`jco transpile --instantiation async`), WASI from @bytecodealliance/preview2-shim, and the
// host's own policy on outbound HTTP. README.md explains what a host provides and why.

import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import * as wasi from '@bytecodealliance/preview2-shim';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The cases of `wasi:http/types.error-code`, as jco names them. */
const ERROR_CODE_TAGS = new Set([
  'DNS-timeout', 'DNS-error', 'destination-not-found', 'destination-unavailable',
  'destination-IP-prohibited', 'destination-IP-unroutable', 'connection-refused',
  'connection-terminated', 'connection-timeout', 'connection-read-timeout',
  'connection-write-timeout', 'connection-limit-reached', 'TLS-protocol-error',
  'TLS-certificate-error', 'TLS-alert-received', 'HTTP-request-denied',
  'HTTP-request-length-required', 'HTTP-request-body-size', 'HTTP-request-method-invalid',
  'HTTP-request-URI-invalid', 'HTTP-request-URI-too-long', 'HTTP-request-header-section-size',
  'HTTP-request-header-size', 'HTTP-request-trailer-section-size', 'HTTP-request-trailer-size',
  'HTTP-response-incomplete', 'HTTP-response-header-section-size', 'HTTP-response-header-size',
  'HTTP-response-body-size', 'HTTP-response-trailer-section-size', 'HTTP-response-trailer-size',
  'HTTP-response-transfer-coding', 'HTTP-response-content-coding', 'HTTP-response-timeout',
  'HTTP-upgrade-failed', 'HTTP-protocol-error', 'loop-detected', 'configuration-error',
  'internal-error',
]);

/** Node's words for a connection that broke while a body was being read. */
const CUT = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * Makes any value a valid `error-code`. preview2-shim 0.26.1's `http-error-code` returns the
 * failed stream's payload as it is; when a connection is reset in the middle of a body that
 * payload is Node's `Error: aborted`, not an `error-code`, and jco's lowering then throws
 * `TypeError: invalid variant tag value undefined ... for ErrorCode` out of the component's
 * call: the component never sees the error, so its retry never runs.
 */
export function toErrorCode(value) {
  if (value && typeof value === 'object' && ERROR_CODE_TAGS.has(value.tag)) return value;
  const code = value?.code;
  const message = typeof value?.message === 'string' ? value.message : String(value);
  if (CUT.has(code) || message === 'aborted' || /socket hang up|ECONNRESET/.test(message)) {
    return { tag: 'connection-terminated' };
  }
  if (code === 'ETIMEDOUT') return { tag: 'connection-read-timeout' };
  return { tag: 'internal-error', val: message };
}

/**
 * `wasi:http` from preview2-shim with two host rules on top:
 * - the workaround above on `http-error-code` (unless `workaround` is false);
 * - outbound requests only to `allowedOrigins` (e.g. `https://qualysapi.qualys.com`), at most
 *   `maxRequests` per instance; refusals are `HTTP-request-denied`, as wasmtime's host does.
 * `onRequest({ method, origin, path })` sees every request that is let through.
 */
export function connectorHttp({ allowedOrigins, maxRequests = 64, onRequest, workaround = true } = {}) {
  const http = wasi.http;
  const allowed = allowedOrigins && new Set(allowedOrigins.map((o) => new URL(o).origin));
  let requests = 0;
  const types = workaround
    ? { ...http.types, httpErrorCode: (err) => {
        const code = http.types.httpErrorCode(err);
        return code === undefined ? undefined : toErrorCode(code);
      } }
    : http.types;
  const outgoingHandler = {
    handle(request, options) {
      const scheme = request.scheme();
      const origin = `${scheme?.tag === 'HTTP' ? 'http' : 'https'}://${request.authority()}`;
      if (allowed && !allowed.has(new URL(origin).origin)) throw { tag: 'HTTP-request-denied' };
      if (++requests > maxRequests) throw { tag: 'HTTP-request-denied' };
      const method = request.method();
      onRequest?.({ method: method.tag === 'other' ? method.val : method.tag, origin, path: request.pathWithQuery() });
      return http.outgoingHandler.handle(request, options);
    },
  };
  return { ...http, types, outgoingHandler };
}

/**
 * The import object for the transpiled component: WASI with no files, no environment, no
 * arguments (the component asks for none), and `connectorHttp(options)` for HTTP.
 */
export function connectorImports(options = {}) {
  const shim = new WASIShim({
    http: connectorHttp(options),
    sandbox: { preopens: {}, env: {}, args: [] },
  });
  return shim.getImportObject();
}

/**
 * Instantiates the component transpiled into `dir` (by `jco transpile ... -o dir --name
 * qualys_connector --instantiation async`) and returns its `connector` interface: `connect`,
 * `listProofTypes` and `collect`. Each call is synchronous; an `err` result is thrown as an
 * Error whose `payload` is the `connector-error` variant.
 */
export async function loadConnector(dir, options = {}) {
  const { instantiate } = await import(pathToFileURL(join(dir, 'qualys_connector.js')).href);
  const getCoreModule = async (name) => WebAssembly.compile(await readFile(join(dir, name)));
  const root = await instantiate(getCoreModule, connectorImports(options));
  return root.connector;
}

/** A `value` variant as the CLI's JSON Lines write it. */
export function toJson(value) {
  switch (value.tag) {
    case 'null':
      return null;
    case 'text':
    case 'timestamp':
    case 'boolean':
      return value.val;
    case 'integer': {
      const n = Number(value.val);
      if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${value.val} is beyond JSON's exact range`);
      return n;
    }
    case 'text-list':
      return [...value.val];
    default:
      throw new TypeError(`unknown value variant ${JSON.stringify(value.tag)}`);
  }
}

/** A row as an object keyed by field name, in the proof type's field order. */
export function rowObject(fields, row) {
  if (row.length !== fields.length) {
    throw new Error(`a row has ${row.length} values for ${fields.length} fields`);
  }
  return Object.fromEntries(fields.map((f, i) => [f.name, toJson(row[i])]));
}

/**
 * Collects every page of a proof (following `nextCursor`) and returns its rows as objects
 * and the warnings of every page.
 */
export function collectAll(connector, config, proofTypeId, criteria = []) {
  const proofType = connector.listProofTypes().find((p) => p.id === proofTypeId);
  if (!proofType) throw new Error(`unknown proof type ${proofTypeId}`);
  const rows = [];
  const warnings = [];
  let cursor;
  let pages = 0;
  do {
    const page = connector.collect(config, proofTypeId, criteria, cursor);
    pages += 1;
    for (const row of page.rows) rows.push(rowObject(proofType.fields, row));
    warnings.push(...page.warnings);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return { rows, warnings, pages };
}

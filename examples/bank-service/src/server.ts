/**
 * The HTTP API (node:http, JSON in and out; money as strings of cents so
 * int64 survives JSON):
 *
 *   POST /accounts        { id, owner, balance }  -> 201 the account
 *   GET  /accounts/:id                            -> 200 the account | 404
 *   POST /transfers       { from, to, amount }    -> 201 the transfer, once durable | 4xx { code, message }
 *   GET  /stats                                   -> 200 db.stats()
 *   GET  /metrics                                 -> 200 Prometheus text (prom-client)
 *   GET  /primary                                 -> 200 { role, primary } (a cluster node only)
 *
 * Errors answer { code, message } with a 4xx for the client's mistakes and
 * 500 (logged) for anything else. On a cluster node (cluster.ts) that is not
 * the primary, a write answers 503 { code: 'NOT_PRIMARY', primary }.
 */
import { registerTidemarkMetrics } from '@tidemark/core/prometheus';
import { type Database, ErrorCode, isTidemarkError } from '@tidemark/core';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { Bank, BankError, type Account } from './bank.js';

const MAX_BODY_BYTES = 64 * 1024;

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text =
    type === 'application/json'
      ? JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
      : String(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer); // past the limit: read on (so the answer reaches the client), keep nothing
  }
  if (size > MAX_BODY_BYTES) throw new BankError(413, 'BODY_TOO_LARGE', `a body holds at most ${MAX_BODY_BYTES} bytes`);
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new BankError(400, 'BAD_JSON', 'the body must be a JSON object');
  }
}

function text(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v === '') throw new BankError(400, 'BAD_FIELD', `"${field}" must be a non-empty string`);
  return v;
}

function cents(body: Record<string, unknown>, field: string): bigint {
  const v = body[field];
  if ((typeof v === 'string' && /^-?\d+$/.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v)))
    return BigInt(v);
  throw new BankError(400, 'BAD_FIELD', `"${field}" must be a whole number of cents`);
}

/** A node of a cluster (joinCluster's Member): its database changes with its role. */
export interface ClusterNode {
  readonly role: 'primary' | 'replica' | 'closed';
  readonly db: Database;
  primary(): { node: string; epoch: number } | null;
}

/** The bank of a single database, or of a cluster node's current database (a new one after each change of role). */
function banks(source: Database | ClusterNode): { bank: (write: boolean) => Bank; node: ClusterNode | null } {
  if (!('role' in source)) {
    const bank = new Bank(source);
    return { bank: () => bank, node: null };
  }
  let current: { bank: Bank; role: string } | null = null;
  const bank = (write: boolean): Bank => {
    if (write && source.role !== 'primary')
      throw new BankError(503, 'NOT_PRIMARY', `this node does not take writes: ${JSON.stringify(source.primary())}`);
    const db = source.db;
    if (current === null || current.bank.db !== db || current.role !== source.role)
      current = { bank: new Bank(db, 'replicated'), role: source.role };
    return current.bank;
  };
  return { bank, node: source };
}

export function createBankServer(source: Database | ClusterNode): { server: Server; bank: Bank } {
  const { bank, node } = banks(source);
  const registry = new Registry();
  // A cluster node's database changes with its role: the metrics follow the single database only.
  if (node === null) registerTidemarkMetrics(source as Database, { registry });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname.replace(/^\/accounts\/[^/]+$/, '/accounts/:id')}`;
    switch (route) {
      case 'POST /accounts': {
        const body = await readJson(req);
        const account: Account = { id: text(body, 'id'), owner: text(body, 'owner'), balance: cents(body, 'balance') };
        return send(res, 201, await bank(true).open(account));
      }
      case 'GET /accounts/:id': {
        const id = decodeURIComponent(url.pathname.slice('/accounts/'.length));
        const account = bank(false).account(id);
        return account === undefined
          ? send(res, 404, { code: 'NO_ACCOUNT', message: `no account ${id}` })
          : send(res, 200, account);
      }
      case 'POST /transfers': {
        const body = await readJson(req);
        const transfer = bank(true).transfer(text(body, 'from'), text(body, 'to'), cents(body, 'amount'));
        return send(res, 201, await transfer);
      }
      case 'GET /stats':
        return send(res, 200, bank(false).db.stats());
      case 'GET /metrics':
        if (node !== null) return send(res, 404, { code: 'NO_ROUTE', message: 'a cluster node serves no /metrics' });
        return send(res, 200, await registry.metrics(), registry.contentType);
      case 'GET /primary':
        if (node === null) return send(res, 404, { code: 'NO_ROUTE', message: 'not a cluster node' });
        return send(res, 200, { role: node.role, primary: node.primary() });
      default:
        return send(res, 404, { code: 'NO_ROUTE', message: `no route ${req.method} ${url.pathname}` });
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        // The answer was on its way when it failed (the client went away): nothing more to say to it.
        res.destroy();
        return;
      }
      // On a cluster node, a write met in the middle of a change of role is refused or has an unknown outcome.
      if (node !== null && isTidemarkError(error)) {
        const code = (error as { code: string }).code;
        if (code === ErrorCode.READ_ONLY || code === ErrorCode.REPLICATION_FENCED)
          return send(res, 503, { code: 'NOT_PRIMARY', message: error.message, primary: node.primary() });
        if (code === ErrorCode.REPLICATION_UNAVAILABLE)
          return send(res, 503, { code: 'OUTCOME_UNKNOWN', message: error.message, primary: node.primary() });
        // A read on a node changing roles, or out of date past its bound: ask again, or ask the primary.
        if (code === ErrorCode.STALE)
          return send(res, 503, { code: 'STALE', message: error.message, primary: node.primary() });
      }
      if (error instanceof BankError)
        return send(res, error.status, {
          code: error.code,
          message: error.message,
          ...(error.code === 'NOT_PRIMARY' && node !== null ? { primary: node.primary() } : {}),
        });
      console.error(error);
      send(res, 500, { code: 'INTERNAL', message: 'internal error' });
    });
  });
  return { server, bank: bank(false) };
}

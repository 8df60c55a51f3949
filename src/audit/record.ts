import { createHash, createHmac } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { sanitizeEvent } from './schema.js';
import type { AuditEventInput, AuditRecord } from './types.js';

/** `prev` of the very first record of a log. */
export const GENESIS = '0'.repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** SHA-256, or HMAC-SHA256 under `key`, of the canonical JSON of the record without `hash`. */
export function hashRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }, key: Buffer | null): string {
  const { hash: _ignored, ...body } = record;
  const text = canonicalJson(body);
  return (key === null ? createHash('sha256') : createHmac('sha256', key)).update(text).digest('hex');
}

/** The line pushgate writes for a record (without the newline): header, event fields in schema order, chain. */
export function serializeRecord(record: AuditRecord): string {
  const event = sanitizeEvent(record) ?? { type: record.type };
  return JSON.stringify({ v: record.v, time: record.time, seq: record.seq, ...event, prev: record.prev, hash: record.hash });
}

/** Builds the next record of a chain. */
export function chainRecord(event: AuditEventInput, at: { time: string; seq: number; prev: string }, key: Buffer | null): AuditRecord {
  const body = { v: 1 as const, time: at.time, seq: at.seq, ...event, prev: at.prev };
  return { ...body, hash: hashRecord(body, key) };
}

export type ParsedLine = { record: AuditRecord } | { error: string };

/** Parses one line as a v1 record, checking the header and chain fields' types. */
export function parseRecordLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: line === '' ? 'empty line' : 'not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: 'not a JSON object' };
  const r = value as Record<string, unknown>;
  if (r.v !== 1) return { error: `unknown record version ${JSON.stringify(r.v)}` };
  if (typeof r.time !== 'string' || !ISO_MS.test(r.time)) return { error: 'time is not a UTC ISO-8601 timestamp' };
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) return { error: 'seq is not a positive integer' };
  if (typeof r.type !== 'string') return { error: 'type is missing' };
  if (typeof r.prev !== 'string' || !HEX64.test(r.prev)) return { error: 'prev is not a SHA-256 hex digest' };
  if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) return { error: 'hash is not a SHA-256 hex digest' };
  return { record: r as unknown as AuditRecord };
}

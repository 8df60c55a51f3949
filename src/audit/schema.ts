import type { AuditEventInput } from './types.js';

/**
 * The record schema as data, in the order fields are written. `record()`
 * keeps only these fields, of these types: whatever else a caller hands over
 * (a finding's raw value, an error object, a token) never reaches the log.
 */
type Field =
  | 'string'
  | 'number'
  | 'strings'
  | { object: Shape }
  | { list: Shape };
type Shape = Readonly<Record<string, Field>>;

const IDENTITY: Shape = {
  principal: 'string',
  roles: 'strings',
  keyId: 'string',
  certSerial: 'string',
  keyFingerprint: 'string',
  clientAddress: 'string',
  sponsor: 'string',
};

const REF_UPDATE: Shape = { ref: 'string', old: 'string', new: 'string' };

const FINDING: Shape = {
  rule: 'string',
  action: 'string',
  mode: 'string',
  ref: 'string',
  commit: 'string',
  path: 'string',
  line: 'number',
  excerpt: 'string',
  fingerprint: 'string',
};

const EVENT: Shape = {
  type: 'string',
  session: 'string',
  identity: { object: IDENTITY },
  repository: 'string',
  refUpdates: { list: REF_UPDATE },
  decision: 'string',
  rules: 'strings',
  findings: { list: FINDING },
  queueId: 'string',
  reviewer: { object: IDENTITY },
  command: 'string',
  bytesIn: 'number',
  bytesOut: 'number',
  durationMs: 'number',
  result: 'string',
  code: 'string',
  reason: 'string',
};

/** Longer strings are cut: a record describes an event, it does not carry payloads. */
export const MAX_STRING = 4096;

const EVENT_TYPE = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/;

function cleanString(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING - 1)}…` : value;
}

function cleanField(field: Field, value: unknown): unknown {
  if (field === 'string') return cleanString(value);
  if (field === 'number') return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  if (field === 'strings') {
    if (!Array.isArray(value)) return undefined;
    return value.map(cleanString).filter((s): s is string => s !== undefined);
  }
  if ('object' in field) return cleanObject(field.object, value);
  if (!Array.isArray(value)) return undefined;
  return value.map((item) => cleanObject(field.list, item)).filter((item) => item !== undefined);
}

function cleanObject(shape: Shape, value: unknown): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(shape)) {
    // Policy findings name their rule `ruleId`; accept them as they are.
    const raw = name === 'rule' && source.rule === undefined ? source.ruleId : source[name];
    const clean = cleanField(field, raw);
    if (clean !== undefined) out[name] = clean;
  }
  return out;
}

/** The event with only schema fields of schema types, in schema order; undefined when `type` is unusable. */
export function sanitizeEvent(event: unknown): AuditEventInput | undefined {
  const clean = cleanObject(EVENT, event);
  if (clean === undefined || typeof clean.type !== 'string' || !EVENT_TYPE.test(clean.type)) return undefined;
  return clean as unknown as AuditEventInput;
}

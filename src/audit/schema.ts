import type { AuditEventInput } from './types.js';

/**
 * The record schema as data, in the order fields are written. `record()`
 * keeps only these fields, of these types: whatever else a caller hands over
 * (a finding's raw value, an error object, a token) never reaches the log.
 */
type Field =
  | 'string'
  /** A value of fixed form (an object id, a digest): not masked while it has that form, masked as text otherwise. */
  | { id: RegExp }
  | 'number'
  | 'strings'
  | { object: Shape }
  | { list: Shape };
type Shape = Readonly<Record<string, Field>>;

/*
 * Masking (see sanitizeEvent) treats every string as free text, except the
 * fields below whose values have a fixed form that masking could only
 * corrupt: object ids and digests. Such a value is exempt only while it has
 * exactly that form, which leaves no room for free text; anything else in
 * the field is masked like text.
 */
const OID: Field = { id: /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/ };
const FINGERPRINT: Field = { id: /^[0-9a-f]{16,64}$/ };
const KEY_FINGERPRINT: Field = { id: /^SHA256:[A-Za-z0-9+/]{43}$/ };

const IDENTITY: Shape = {
  principal: 'string',
  roles: 'strings',
  keyId: 'string',
  certSerial: 'string',
  keyFingerprint: KEY_FINGERPRINT,
  clientAddress: 'string',
  sponsor: 'string',
};

const REF_UPDATE: Shape = { ref: 'string', old: OID, new: OID };

const FINDING: Shape = {
  rule: 'string',
  action: 'string',
  mode: 'string',
  ref: 'string',
  commit: OID,
  path: 'string',
  line: 'number',
  excerpt: 'string',
  fingerprint: FINGERPRINT,
};

const EVENT: Shape = {
  type: { id: /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/ },
  session: 'string',
  identity: { object: IDENTITY },
  repository: 'string',
  refUpdates: { list: REF_UPDATE },
  decision: { id: /^(?:allow|park|deny)$/ },
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
  upstream: 'string',
};

/** Longer strings are cut: a record describes an event, it does not carry payloads. */
export const MAX_STRING = 4096;

const EVENT_TYPE = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/;

/** What a string goes through before it is kept; identity when only the shape is checked. */
type Mask = (text: string) => string;
const KEEP: Mask = (text) => text;

function cleanString(value: unknown, mask: Mask): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Masked before it is cut: a secret cut in half may no longer be recognised.
  const masked = mask(value);
  return masked.length > MAX_STRING ? `${masked.slice(0, MAX_STRING - 1)}…` : masked;
}

function cleanField(field: Field, value: unknown, mask: Mask): unknown {
  if (field === 'string') return cleanString(value, mask);
  if (field === 'number') return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  if (field === 'strings') {
    if (!Array.isArray(value)) return undefined;
    return value.map((item) => cleanString(item, mask)).filter((s): s is string => s !== undefined);
  }
  if ('id' in field) return typeof value === 'string' && field.id.test(value) ? value : cleanString(value, mask);
  if ('object' in field) return cleanObject(field.object, value, mask);
  if (!Array.isArray(value)) return undefined;
  return value.map((item) => cleanObject(field.list, item, mask)).filter((item) => item !== undefined);
}

function cleanObject(shape: Shape, value: unknown, mask: Mask): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(shape)) {
    // Policy findings name their rule `ruleId`; accept them as they are.
    const raw = name === 'rule' && source.rule === undefined ? source.ruleId : source[name];
    const clean = cleanField(field, raw, mask);
    if (clean !== undefined) out[name] = clean;
  }
  return out;
}

/**
 * The event with only schema fields of schema types, in schema order;
 * undefined when `type` is unusable. With `mask`, every string except the
 * fixed-form ids above goes through it first: the writer passes maskText,
 * so no credential is hashed or written, whichever field it came in.
 * (Reading a record back re-orders it without masking: what is stored is
 * what was hashed.)
 */
export function sanitizeEvent(event: unknown, mask: Mask = KEEP): AuditEventInput | undefined {
  const clean = cleanObject(EVENT, event, mask);
  if (clean === undefined || typeof clean.type !== 'string' || !EVENT_TYPE.test(clean.type)) return undefined;
  return clean as unknown as AuditEventInput;
}

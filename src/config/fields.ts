/**
 * Schema building blocks shared by the sections of pushgate.yaml. Each one
 * carries its own error message so a problem reads as what the field wants
 * (`expected a list of patterns`), not as a generic type error.
 */
import { z } from 'zod';
import { didYouMean } from './suggest.js';
import { expected, typeError } from './messages.js';
import { DURATION_FORMS, SIZE_FORMS, tryParseDuration, tryParseSize } from './units.js';
import type { ListenAddress } from './types.js';

type Issues = z.core.$ZodRawIssue[];

function fail(issues: Issues, input: unknown, message: string): typeof z.NEVER {
  issues.push({ code: 'custom', message, input });
  return z.NEVER;
}

/**
 * A mapping with a fixed set of keys. An unknown key is an error — a typo must
 * not silently disable a setting — reported at its own path with the closest
 * known key. zod reports all unknown keys of one mapping as one issue; the
 * message carries one line per key, in the order of `keys`, and the loader
 * splits it back.
 */
export function section<S extends z.core.$ZodLooseShape>(shape: S, notAMapping?: (input: unknown) => string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `unknown key${didYouMean(key, known)}`).join('\n');
      if (issue.code === 'invalid_type') return notAMapping?.(issue.input) ?? expected('a mapping', issue.input);
      return undefined;
    },
  });
}

/** A non-empty string; `what` names it in messages. */
export function text(what = 'a string') {
  return z.string({ error: typeError(what) }).min(1, { error: 'must not be empty' });
}

/** A list of `item`, described as `what` when it is not a list at all. */
export function list<T extends z.ZodType>(item: T, what: string) {
  return z.array(item, { error: typeError(what) });
}

export const pattern = text('a pattern').refine((value) => !value.includes('\0'), 'must not contain NUL');
export const patterns = list(pattern, 'a list of patterns');
export const nonEmptyPatterns = patterns.min(1, { error: 'expected at least one pattern' });

const ROLE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const role = text('a role name').regex(ROLE, { error: 'a role name is letters, digits and . _ : -' });
export const roles = list(role, 'a list of role names');

/** A filesystem path; relative ones are resolved against the config file's directory later. */
export const filePath = text('a file path').refine((value) => !value.includes('\0'), 'must not contain NUL');

export function positiveInt(what = 'a whole number') {
  return z
    .number({ error: typeError(what) })
    .int({ error: (issue) => expected(what, issue.input) })
    .min(1, { error: (issue) => `expected a number ≥ 1, got ${String(issue.input)}` });
}

export function nonNegativeInt(what = 'a whole number') {
  return z
    .number({ error: typeError(what) })
    .int({ error: (issue) => expected(what, issue.input) })
    .min(0, { error: (issue) => `expected a number ≥ 0, got ${String(issue.input)}` });
}

/** `30s`, `15m`, `1h30m`, `7d` → milliseconds (> 0). */
export const duration = z.unknown().transform((value, ctx) => {
  if (typeof value === 'number') return fail(ctx.issues, value, `expected ${DURATION_FORMS}: a bare number has no unit (${value}s? ${value}m?)`);
  const ms = typeof value === 'string' ? tryParseDuration(value) : undefined;
  if (ms === undefined) return fail(ctx.issues, value, expected(DURATION_FORMS, value));
  if (ms <= 0) return fail(ctx.issues, value, 'must be longer than 0');
  return ms;
});

/** `500KB`, `10MiB`, or a number of bytes → bytes (> 0). */
export const size = z.unknown().transform((value, ctx) => {
  const bytes = typeof value === 'string' || typeof value === 'number' ? tryParseSize(value) : undefined;
  if (bytes === undefined) return fail(ctx.issues, value, expected(SIZE_FORMS, value));
  if (bytes <= 0) return fail(ctx.issues, value, 'must be larger than 0');
  return bytes;
});

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[\w.-]+)?$/;

/** `HOST:PORT` or `[IPv6]:PORT`; port 0 picks a free port at start. */
export function parseListen(value: string): ListenAddress | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (match === null) return undefined;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  if (match[1] !== undefined ? !IPV6.test(host) || !host.includes(':') : !HOSTNAME.test(host)) return undefined;
  return { host, port };
}

export const listen = z.unknown().transform((value, ctx) => {
  const address = typeof value === 'string' ? parseListen(value) : undefined;
  if (address === undefined) return fail(ctx.issues, value, expected('HOST:PORT such as 127.0.0.1:2222 or [::1]:2222', value));
  return address;
});

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/** An http(s) URL; plain http only where `allowHttp` says so. */
export function url(allowHttp: 'always' | 'loopback') {
  return z.unknown().transform((value, ctx) => {
    let parsed: URL | undefined;
    try {
      parsed = typeof value === 'string' ? new URL(value) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      return fail(ctx.issues, value, expected('an http(s) URL', value));
    }
    if (parsed.protocol === 'http:' && allowHttp === 'loopback' && !LOOPBACK.test(parsed.hostname)) {
      return fail(ctx.issues, value, 'must use https (plain http is accepted only for localhost)');
    }
    return value as string;
  });
}

/** Accepts one item where a list is expected, for fields commonly written either way. */
export function oneOrMany<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (typeof value === 'string' ? [value] : value), schema);
}

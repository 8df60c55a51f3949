/**
 * Human-friendly durations and sizes, as written in pushgate.yaml and on the
 * command line: `30s`, `15m`, `1h30m`, `7d`; `500KB`, `10MiB`, `1048576`.
 */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  tb: 1_000_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;
const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

export const DURATION_FORMS = 'a duration such as 30s, 15m, 1h30m or 7d';
export const SIZE_FORMS = 'a size such as 500KB, 10MiB or a number of bytes';

/** Milliseconds, or undefined when `text` is not a duration. */
export function tryParseDuration(text: string): number | undefined {
  const input = text.trim();
  if (input === '') return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < input.length) {
    const match = DURATION_PART.exec(input);
    if (match === null) return undefined;
    total += Number(match[1]) * (DURATION_UNITS[match[2]!] ?? Number.NaN);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** Bytes, or undefined when `text` is not a size. */
export function tryParseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const match = SIZE.exec(text.trim());
  if (match === null) return undefined;
  const unit = SIZE_UNITS[(match[2] || 'b').toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Milliseconds; throws a RangeError naming the accepted forms. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new RangeError(`invalid duration ${JSON.stringify(text)}: expected ${DURATION_FORMS}`);
  return ms;
}

/** Bytes; throws a RangeError naming the accepted forms. */
export function parseSize(text: string | number): number {
  const bytes = tryParseSize(text);
  if (bytes === undefined) throw new RangeError(`invalid size ${JSON.stringify(text)}: expected ${SIZE_FORMS}`);
  return bytes;
}

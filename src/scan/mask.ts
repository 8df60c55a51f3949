/** The largest share of a secret's characters that may ever be shown. */
export const MAX_REVEALED_FRACTION = 0.25;
const MAX_SIDE = 4;

/**
 * The one way a secret is shown anywhere in the product (messages, queue
 * records, audit, scan output): at most four characters at each end and never
 * more than a quarter of the value; values under eight characters show nothing.
 */
export function maskSecret(value: string): string {
  const side = Math.min(MAX_SIDE, Math.floor((value.length * MAX_REVEALED_FRACTION) / 2));
  if (side === 0) return '****';
  return `${value.slice(0, side)}…${value.slice(value.length - side)}`;
}

/** `line` with every finding's span replaced by its mask; overlapping spans are merged first. */
export function maskLine(line: string, findings: readonly { start: number; end: number }[]): string {
  const spans = findings
    .filter((finding) => finding.end > finding.start)
    .map((finding) => ({ start: Math.max(0, finding.start), end: Math.min(line.length, finding.end) }))
    .sort((a, b) => a.start - b.start);
  let out = '';
  let cursor = 0;
  let i = 0;
  while (i < spans.length) {
    const start = spans[i]!.start;
    let end = spans[i]!.end;
    for (i++; i < spans.length && spans[i]!.start < end; i++) end = Math.max(end, spans[i]!.end);
    out += line.slice(cursor, start) + maskSecret(line.slice(start, end));
    cursor = end;
  }
  return out + line.slice(cursor);
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/**
 * Reads a path as git prints it: verbatim, or in double quotes with C-style
 * escapes (`\t`, `\"`, `\\`, octal `\303\274` bytes) when it contains
 * characters that need them. Returns the path and where it ended in `text`.
 */
export function readGitPath(text: string, from = 0): { path: string; end: number } {
  if (text[from] !== '"') return { path: text.slice(from), end: text.length };
  const bytes: number[] = [];
  let i = from + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') return { path: Buffer.from(bytes).toString('utf8'), end: i + 1 };
    if (ch !== '\\') {
      const code = ch.charCodeAt(0);
      if (code < 0x80) bytes.push(code);
      else {
        // Surrogate pairs are taken whole so the character survives the round trip.
        const whole = String.fromCodePoint(text.codePointAt(i)!);
        for (const byte of Buffer.from(whole, 'utf8')) bytes.push(byte);
        i += whole.length;
        continue;
      }
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next !== undefined && next >= '0' && next <= '7') {
      bytes.push(parseInt(text.slice(i + 1, i + 4), 8) & 0xff);
      i += 4;
    } else if (next !== undefined && ESCAPES[next] !== undefined) {
      bytes.push(ESCAPES[next]!);
      i += 2;
    } else {
      bytes.push(0x5c);
      i += 1;
    }
  }
  // Unterminated quote: git never prints one; keep what was read.
  return { path: Buffer.from(bytes).toString('utf8'), end: text.length };
}

/** A whole path field (nothing after it). */
export function unquoteGitPath(text: string): string {
  return readGitPath(text).path;
}

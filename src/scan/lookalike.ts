/**
 * Values that have the shape of a secret but are not one: placeholders,
 * references to a secret kept elsewhere, hashes, identifiers, paths, words.
 */

/**
 * Checked in every value. Long enough that a random token contains one only
 * with negligible probability (under 1e-7 for 6 letters of base62).
 */
const PLACEHOLDER_WORDS = [
  'example', 'sample', 'placeholder', 'changeme', 'change_me', 'change-me', 'replace', 'redacted',
  'xxxxxx', '******', '....', '…', '12345678', 'abcdefgh', 'qwerty', '00000000',
];

/**
 * Short words, checked only in loosely shaped values and only as a word of
 * their own (`test_key`, `YOUR-TOKEN`, `fakePassword`), never inside a jumble.
 */
const SHORT_PLACEHOLDER = new RegExp(
  String.raw`(?:^|[^A-Za-z])(?:${['dummy', 'your', 'insert', 'fake', 'todo', 'fixme', 'test', 'mock', 'xxxx']
    .map((word) => `${word}|${word[0]!.toUpperCase()}${word.slice(1)}|${word.toUpperCase()}`)
    .join('|')})(?![a-z])|xxxx|XXXX|\*\*\*\*`,
);

/** Common words and defaults that only look like a password in loosely shaped values. */
const WEAK_WORDS = [
  'password', 'passwd', 'secret', 'token', 'hunter2', 'letmein', 'admin', 'default', 'localhost',
  'mysecret', 'mypass', 'demo', 'invalid', 'none', 'null', 'undefined', 'string',
];

const TEMPLATE = /\$\{[A-Za-z_{]|\$\([A-Za-z_ ]|\{\{|\{%[\s-]|%\(\w+\)[sdifr]|#\{[A-Za-z_@]|@\{[A-Za-z_]|^\$[A-Za-z_{]|^<.*>$|^\[.*\]$|^%[A-Za-z_]+%$|^%[sd]$|^__[A-Za-z0-9_]+__$/;

/** A placeholder, template or obviously fake value. `loose` adds the short words. */
export function isPlaceholder(value: string, loose = false): boolean {
  if (TEMPLATE.test(value)) return true;
  const lower = value.toLowerCase();
  for (const word of PLACEHOLDER_WORDS) if (lower.includes(word)) return true;
  if (loose && SHORT_PLACEHOLDER.test(value)) return true;
  return fewDistinct(value, 3) || isSequential(value);
}

const KEYBOARD_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm', '1234567890'];
/** Each character's place on a keyboard row (row × 16 + column + 1), 0 for none; upper case folded. */
const KEY_PLACE = new Uint8Array(128);
KEYBOARD_ROWS.forEach((row, r) => {
  for (let c = 0; c < row.length; c++) {
    KEY_PLACE[row.charCodeAt(c)] = r * 16 + c + 1;
    if (r < 3) KEY_PLACE[row.charCodeAt(c) - 32] = r * 16 + c + 1;
  }
});

/** Lower-cased letter or digit code, or -1. */
function folded(code: number): number {
  if (code >= 65 && code <= 90) return code + 32;
  return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) ? code : -1;
}

/**
 * Typed, not generated: at least half of the letters and digits are in
 * runs of three or more neighbours — alphabet or digit order either way,
 * case ignored (`abc123xyz`, `AbC123dEf456`, the SDK documentation keys
 * built that way), or four or more along a keyboard row (`qwerty`,
 * `asdf`). A random value of 16 base62 characters has a run of three with
 * probability under 1%, and runs covering half of it essentially never.
 * One pass, no allocation: it runs on every candidate value.
 */
export function isSequential(value: string): boolean {
  const n = value.length;
  if (n < 6) return false;
  let alnum = 0;
  let covered = 0;
  // Current runs: ascending, descending, keyboard. Each holds its length.
  let up = 0;
  let down = 0;
  let keys = 0;
  let previous = -1;
  let previousKey = 0;
  let best = 0;
  const settle = (): void => {
    covered += best;
    best = 0;
  };
  for (let i = 0; i <= n; i++) {
    const code = i < n ? folded(value.charCodeAt(i)) : -1;
    if (code < 0) {
      if (previous >= 0) settle();
      up = down = keys = 0;
      previous = -1;
      previousKey = 0;
      continue;
    }
    alnum++;
    const key = code < 128 ? KEY_PLACE[code]! : 0;
    const continues = previous >= 0 && (code - previous === 1 || code - previous === -1 || (key !== 0 && key - previousKey === 1));
    up = previous >= 0 && code - previous === 1 ? up + 1 : 1;
    down = previous >= 0 && code - previous === -1 ? down + 1 : 1;
    keys = key !== 0 && previousKey !== 0 && key - previousKey === 1 ? keys + 1 : 1;
    if (!continues && previous >= 0) settle();
    const longest = Math.max(up >= 3 ? up : 0, down >= 3 ? down : 0, keys >= 4 ? keys : 0);
    if (longest > best) best = longest;
    previous = code;
    previousKey = key;
  }
  return alnum > 0 && covered * 2 >= alnum;
}

function fewDistinct(value: string, limit: number): boolean {
  const seen = new Set<string>();
  for (const ch of value) {
    seen.add(ch);
    if (seen.size >= limit) return false;
  }
  return true;
}

const REFERENCE = new RegExp(
  [
    'process\\.env', 'import\\.meta\\.env', 'os\\.environ', 'getenv', '\\benv\\(', '\\bENV\\[', 'System\\.getenv',
    'GetEnvironmentVariable', 'secrets\\.', '^vault:', '^!vault', 'arn:aws:secretsmanager', 'arn:aws:ssm',
    'secretKeyRef', '^ssm:', '^op://', '^sm://', '^gcpsm', '^azurekeyvault', '^!(?:Ref|Sub|GetAtt)',
    'resolve:', '^ENC\\[', '^keyvault:', '^akv:', '^gsm:', '^aws-sm:',
  ].join('|'),
  'i',
);

/** A reference to a secret kept elsewhere (environment, CI secrets, a secret store). */
export function isReference(value: string): boolean {
  return REFERENCE.test(value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HASH_PREFIX = /^(?:sha(?:1|224|256|384|512)[-:~]|md5[-:]|\$(?:2[abxy]?|argon2(?:id|i|d)|[156]|pbkdf2[^$]*|scrypt)\$)/i;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const WORD_CHUNK = /[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+/g;
const VOWEL = /[aeiouy]/i;

/**
 * An identifier made of words (`allowPositionInTrivia`, `SOCKS5_AUTH_END`,
 * `Socks5Auth`, `getHTTPResponse`), as opposed to a jumble
 * (`Xs520c1aKNHu17Od`, `NirUANLaKfgsiWnvw`, hex): its case/digit chunks
 * average three characters or more, it has at most two numbers, and every
 * longer chunk has a vowel unless it is a short acronym.
 */
export function isWordy(value: string): boolean {
  if (!IDENTIFIER.test(value)) return false;
  const chunks = value.match(WORD_CHUNK) ?? [];
  if (chunks.length === 0 || chunks.length * 3 > value.replace(/[_$]/g, '').length) return false;
  let numbers = 0;
  for (const chunk of chunks) {
    if (/^[0-9]/.test(chunk)) {
      if (++numbers > 2) return false;
    } else if (chunk.length >= 3 && !VOWEL.test(chunk) && !/^[A-Z]{3,4}$/.test(chunk)) {
      return false;
    }
  }
  return true;
}

/**
 * Words joined by separators (`keyword-operator`, `variable-2`,
 * `string.quoted.double`, `my_app_prod`): a phrase, not a secret. At most
 * two short numbers, every other part a word (see isWordy).
 */
export function isWordSequence(value: string): boolean {
  const parts = value.split(/[-_.:/\\ ]+/).filter((part) => part !== '');
  if (parts.length < 2) return false;
  let numbers = 0;
  let words = 0;
  for (const part of parts) {
    if (/^[0-9]{1,4}$/.test(part)) {
      if (++numbers > 2) return false;
    } else if (/^[A-Za-z][a-z]*$|^[A-Z]+$/.test(part) ? part.length <= 3 || VOWEL.test(part) : isWordy(part)) {
      words++;
    } else {
      return false;
    }
  }
  return words > 0;
}

/** `notify.ps1`, `app-config.prod.yaml`: a file name made of words and an extension. */
function isFileName(value: string): boolean {
  const dot = value.lastIndexOf('.');
  if (dot <= 0 || !/^[a-z]{1,4}[0-9]?$/.test(value.slice(dot + 1))) return false;
  const stem = value.slice(0, dot);
  // `ico-<32 hex>`, `app.3f9a1c2b`: words and a content hash (cache busting).
  const hashed = /^(.*?)[-._]([0-9a-f]{8,64})$/.exec(stem);
  if (hashed !== null && (hashed[1] === '' || isWordy(hashed[1]!) || isWordSequence(hashed[1]!))) return true;
  return isWordy(stem) || isWordSequence(stem) || /^[a-z]{1,12}$/.test(stem);
}

/** Placeholder words only (no shape checks): for user names and other short labels. */
export function hasPlaceholderWord(value: string): boolean {
  const lower = value.toLowerCase();
  return PLACEHOLDER_WORDS.some((word) => lower.includes(word)) || SHORT_PLACEHOLDER.test(value);
}

/** `config.apiKey`, `settings.AUTH_TOKEN`, `Foo::BAR`: every segment is made of words. */
function isMemberAccess(value: string): boolean {
  const segments = value.split(/\.|::|->/);
  return segments.length > 1 && segments.every(isWordy);
}

const PUBLIC_KEY = /^(?:ssh-|ecdsa-sha2-|sk-ssh-|sk-ecdsa-|AAAA[A-Z0-9]|age1[a-z0-9]{50})/;
const PATH_START = /^(?:\.{0,2}\/|~\/|[A-Za-z]:\\)/;

/**
 * The extra filters for loosely shaped values: anything here is far more often
 * code, configuration or a public value than a credential.
 */
export function isLooseLookalike(value: string): boolean {
  if (UUID.test(value) || HASH_PREFIX.test(value) || PUBLIC_KEY.test(value)) return true;
  if (/^[0-9.+-]+$/.test(value)) return true;
  if (value.includes('://')) return true;
  if (isPath(value)) return true;
  if (isMemberAccess(value)) return true;
  if (isWordSequence(value) || isFileName(value)) return true;
  const lower = value.toLowerCase();
  for (const word of WEAK_WORDS) if (lower.includes(word)) return true;
  if (!/[0-9]/.test(value)) {
    // Without a digit, a secret is a jumble of both cases; anything else is a word or an identifier.
    if (value.length < 12 || !/[a-z]/.test(value) || !/[A-Z]/.test(value)) return true;
    if (isWordy(value)) return true;
    if (caseSwitches(value) < 4) return true;
  }
  return false;
}

/** How often the character class changes between upper case, lower case and symbols. */
function caseSwitches(value: string): number {
  let switches = 0;
  let previous = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const kind = code >= 65 && code <= 90 ? 1 : code >= 97 && code <= 122 ? 2 : 3;
    if (previous !== 0 && kind !== previous) switches++;
    previous = kind;
  }
  return switches;
}

/**
 * `/run/secrets/db`, `./certs/key.pem`, `secret/data/app`. A base64 value can
 * start with `/` too, but its segments are long mixes of cases and digits.
 */
function isPath(value: string): boolean {
  const segments = value.split(/[\\/]/);
  if (segments.length < 2) return false;
  if (PATH_START.test(value) && !/[+=]/.test(value)) return !segments.some(isJumble);
  return segments.every((segment) => /^[a-z0-9_.-]*$/.test(segment) && !/[0-9].*[0-9].*[0-9]/.test(segment));
}

function isJumble(segment: string): boolean {
  return segment.length >= 8 && /[a-z]/.test(segment) && /[A-Z]/.test(segment) && /[0-9]/.test(segment);
}

import { hasValidTokenChecksum } from './checksum.js';
import { shannonEntropy } from './entropy.js';
import { hasPlaceholderWord, isLooseLookalike, isPlaceholder, isReference, isWordy } from './lookalike.js';
import type { MatchContext, Verdict } from './types.js';

/**
 * A token with a prefix and CRC-32 checksum whose checksum does not match was
 * not issued by GitHub or npm (a typo, a truncation or a hand-made fixture),
 * so it cannot grant access: it is dropped rather than reported.
 */
export function tokenChecksum(secret: string): Verdict {
  return hasValidTokenChecksum(secret);
}

function decodeBase64Url(segment: string): string {
  return Buffer.from(segment, 'base64url').toString('utf8');
}

/** JWT segments start with `eyJ` (`{"`), so what parses is an object. */
function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** A JWT counts when it is signed: JSON header with an `alg` other than `none`, JSON payload. */
export function signedJwt(secret: string): Verdict {
  const [header, payload, signature] = secret.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return false;
  const head = parseJsonObject(decodeBase64Url(header));
  if (head === null || typeof head['alg'] !== 'string' || head['alg'].toLowerCase() === 'none') return false;
  const claims = parseJsonObject(decodeBase64Url(payload));
  if (claims === null) return false;
  // The token every JWT tutorial shows.
  if (claims['name'] === 'John Doe' || claims['sub'] === '1234567890') return false;
  return true;
}

const PRINTABLE = /^[\x20-\x7e]+$/;

/** `Basic <base64>` and docker `auth` values: they must decode to `user:password`. */
export function basicCredentials(secret: string): Verdict {
  const decoded = Buffer.from(secret, 'base64').toString('latin1');
  if (!PRINTABLE.test(decoded)) return false;
  const colon = decoded.indexOf(':');
  if (colon <= 0) return false;
  return plausiblePassword(decoded.slice(0, colon), decoded.slice(colon + 1));
}

/** Development defaults that are everywhere in docker-compose files and READMEs. */
const DEFAULT_PASSWORDS = new Set([
  'password', 'pass', 'passwd', 'secret', 'root', 'admin', 'guest', 'user', 'test', 'postgres', 'mysql',
  'redis', 'mongo', 'rabbitmq', 'changeme', 'example', 'default', 'pwd', 'dev', 'local', 'docker',
]);

export function plausiblePassword(user: string, password: string): boolean {
  if (password.length < 4 || password === user || user.toLowerCase() === 'anonymous') return false;
  if (hasPlaceholderWord(user)) return false;
  if (DEFAULT_PASSWORDS.has(password.toLowerCase())) return false;
  if (isPlaceholder(password, true) || isReference(password) || isLooseLookalike(password) || isWordy(password)) return false;
  return !/^\*+$|^\$|^%[0-9A-F]{2}$/i.test(password);
}

/** `scheme://user:password@host`: the password must look real. */
export function urlPassword(secret: string, context: MatchContext): Verdict {
  return plausiblePassword(context.groups['user'] ?? '', secret);
}

/**
 * A private-key header counts only with key material after it: inline (a
 * JSON or YAML string with `\n` escapes), or on the next lines (the scanner
 * follows a header alone at the end of its line, see multiline.ts). Code
 * and prose that only name the header — a parser's string literal, a
 * document about the format, a PEM block with no body — are not keys.
 */
export function privateKey(secret: string): Verdict {
  const material = secret.slice(secret.lastIndexOf('-----') + 5).replace(/\\{1,2}[rn]/g, '');
  if (material.length < 40 || isPlaceholder(material, true)) return false;
  return shannonEntropy(material) >= 4 ? 'high' : false;
}

/** An Azure SAS signature only counts inside a SAS query (service version and expiry or permissions). */
export function azureSas(_secret: string, context: MatchContext): Verdict {
  const line = context.line;
  return /[?&]sv=\d{4}-\d\d-\d\d/.test(line) && /[?&](?:se|sp|spr)=/.test(line);
}

const SECRET_WORDS = new Set([
  'storepass', 'keypass', 'srcstorepass', 'deststorepass', 'srckeypass', 'destkeypass', 'passwd', 'pw',
  'password', 'passwd', 'pass', 'pwd', 'passphrase', 'passcode', 'secret', 'secrets', 'token', 'apikey',
  'authtoken', 'auth', 'credential', 'credentials', 'privatekey', 'accesskey', 'secretkey', 'clientsecret',
]);
/** One-word compounds (`dbpassword`, `mysqlpwd`, `apitoken`, `passwords`) and a few other languages' words. */
const SECRET_COMPOUND = /^(?:\w*(?:password|passwd|passphrase|pwd|secret|token|apikey|passwort|kennwort|senha|contrasena|motdepasse)s?|(?:password|passwd)\w*)$/;
/** Words that turn a following `key` into a secret name (`api_key`, `signingKey`, …). */
const KEY_QUALIFIERS = new Set(['api', 'access', 'auth', 'private', 'secret', 'encryption', 'signing', 'master', 'session', 'client', 'app', 'account']);
/** A name whose last word is one of these holds something about a secret, not the secret. */
const NON_SECRET_LAST = new Set([
  'hash', 'hashed', 'digest', 'checksum', 'sha', 'sha1', 'sha256', 'sha512', 'md5', 'fingerprint', 'id', 'ids',
  'name', 'names', 'url', 'uri', 'path', 'file', 'filename', 'dir', 'type', 'length', 'len', 'count', 'field',
  'label', 'header', 'endpoint', 'policy', 'mode', 'format', 'pattern', 'regex', 'prefix', 'suffix', 'ttl',
  'timeout', 'expiry', 'expires', 'expiration', 'expiresat', 'expiresin', 'size', 'enabled', 'required',
  'validator', 'input', 'error', 'message', 'version', 'kind', 'method', 'provider', 'strategy', 'scheme',
  'host', 'server', 'user', 'username', 'email', 'realm', 'scope', 'scopes', 'audience', 'issuer', 'redirect',
  'callback', 'env', 'var', 'variable', 'ref', 'source', 'store', 'manager', 'helper', 'rotation',
  'min', 'max', 'minlength', 'maxlength', 'placeholder', 'hint', 'text', 'title', 'description', 'class',
  'style', 'column', 'table', 'param', 'keys', 'index', 'usage', 'location', 'region', 'limit',
  'alg', 'algorithm', 'algorithms', 'enc', 'encoding', 'cipher', 'kid', 'digits', 'charset', 'alphabet',
]);
const NON_SECRET_ANY = new Set(['public', 'publishable', 'hash', 'hashed', 'salt', 'test', 'example', 'sample', 'dummy', 'fake', 'mock', 'tokenizer']);

function identifierWords(identifier: string): string[] {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

/** Whether an assignment target (`DB_PASSWORD`, `apiKey`, `client-secret`) names a secret. */
export function namesSecret(identifier: string): boolean {
  const words = identifierWords(identifier);
  if (words.length === 0) return false;
  const last = words[words.length - 1]!;
  let secret = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (NON_SECRET_ANY.has(word)) return false;
    if (SECRET_WORDS.has(word) || SECRET_COMPOUND.test(word) || (word === 'key' && i > 0 && KEY_QUALIFIERS.has(words[i - 1]!))) secret = true;
  }
  if (!secret) return false;
  if (last === 'key') return KEY_QUALIFIERS.has(words[words.length - 2] ?? '');
  return !NON_SECRET_LAST.has(last);
}

const IDENT_CHAR = /[A-Za-z0-9_.-]/;
const QUOTES = '"\'`';
const CODE_PUNCTUATION = /[(){}[\]<>,;]/;
const EXPRESSION_CONTINUES = /^\s*(?:[?+*/|&<>=.([]|-[^-])/;

/** The name an assignment targets: the `key` group, widened to the whole identifier it is part of. */
function assignedName(context: MatchContext, keyEnd: number): string {
  const line = context.line;
  let keyStart = keyEnd - (context.groups['key']?.length ?? 0);
  while (keyStart > 0 && keyEnd - keyStart < 80 && IDENT_CHAR.test(line[keyStart - 1]!)) keyStart--;
  return line.slice(keyStart, keyEnd);
}

/**
 * The value half shared by every generic form: a closed quoted literal, or a
 * bare word that is not code (a name, a call, an operand), with enough
 * entropy for its length. The scanner has already dropped placeholders,
 * references and look-alikes (loose rules).
 */
export function plausibleValue(secret: string, line: string, start: number, end: number): boolean {
  const open = line[start - 1] ?? '';
  if (open !== '' && QUOTES.includes(open)) {
    if (line[end] !== open) return false;
  } else if ((open === '-' || open === '=') && line[end] === '}' && line.lastIndexOf('${', start) >= 0) {
    // `${NAME:-value}`: the expansion closes right after the value.
  } else if (open === '>') {
    // `<password>…</password>`: the element closes right after the value.
    if (!line.startsWith('</', end)) return false;
  } else if (CODE_PUNCTUATION.test(secret) || secret.endsWith('.') || isWordy(secret) || EXPRESSION_CONTINUES.test(line.slice(end))) {
    return false;
  }
  const entropy = shannonEntropy(secret);
  return secret.length >= 20 ? entropy >= 3.3 : entropy >= 3;
}

/**
 * `password = "…"`, `API_KEY: …`, `"client_secret": "…"`, `$pw .= '…'`,
 * `var pw string = "…"`, `PASSWORD ?= …`, `<password>…</password>`: the
 * name must be a secret's name, the value plausible (see plausibleValue).
 */
export function genericAssignment(secret: string, context: MatchContext): Verdict {
  const keyEnd = context.start - (context.groups['lead']?.length ?? 0);
  if (!namesSecret(assignedName(context, keyEnd))) return false;
  return plausibleValue(secret, context.line, context.start, context.end);
}

/**
 * A quoted name and a quoted value side by side: `define('DB_PASSWORD', '…')`,
 * `setProperty("db.password", "…")`, `env('API_TOKEN', '…')`,
 * `os.getenv("SECRET", "…")`, `{"password", "…"}`, `<add key="…" value="…">`.
 */
export function namedValue(secret: string, context: MatchContext): Verdict {
  if (!namesSecret(context.groups['key'] ?? context.groups['key2'] ?? context.groups['key3'] ?? '')) return false;
  return plausibleValue(secret, context.line, context.start, context.end);
}

/** `--password …`, `--api-key=…`, `-u user:password`, `sshpass -p …`, `mysql -p…`. */
export function cliCredential(secret: string, context: MatchContext): Verdict {
  const flag = context.groups['flag'];
  if (flag !== undefined && !namesSecret(flag)) return false;
  const user = context.groups['user'];
  if (user !== undefined && !plausiblePassword(user, secret)) return false;
  return plausibleValue(secret, context.line, context.start, context.end);
}

/** A value found by the lines around it (the next line of an element, a YAML block, a Kubernetes Secret). */
export function plausibleStandaloneValue(value: string): boolean {
  if (value.length < 8 || value.length > 400 || /\s/.test(value)) return false;
  if (isPlaceholder(value, true) || isReference(value) || isLooseLookalike(value) || isWordy(value)) return false;
  if (CODE_PUNCTUATION.test(value) && !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false;
  const entropy = shannonEntropy(value);
  return value.length >= 20 ? entropy >= 3.3 : entropy >= 3;
}

/** Whether a name says its value is not the secret (`db_host`, `username`, `token_url`). */
export function namesNonSecret(identifier: string): boolean {
  const words = identifierWords(identifier);
  const last = words[words.length - 1] ?? '';
  return NON_SECRET_LAST.has(last) || words.some((word) => NON_SECRET_ANY.has(word));
}

/**
 * A Discord bot token's first part is the bot's user id (a snowflake of
 * 17–20 digits) in base64, the second a timestamp: checked by decoding, so
 * no keyword is needed near it.
 */
export function discordBotToken(secret: string): Verdict {
  const [id, stamp] = secret.split('.');
  if (id === undefined || stamp === undefined) return false;
  const decoded = Buffer.from(id, 'base64').toString('latin1');
  return /^[1-9][0-9]{16,19}$/.test(decoded);
}

/** Twilio: an account SID next to a 32-hex auth token, or an API key SID next to its secret. */
export function twilioPair(secret: string): Verdict {
  return !/^(.)\1+$/.test(secret) && /[a-f]/.test(secret) && /[0-9]/.test(secret);
}

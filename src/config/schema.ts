/**
 * The schema of pushgate.yaml: every key, its type, its default. Paths stay
 * as written here; `resolve.ts` anchors them to the config file's directory.
 */
import { z } from 'zod';
import {
  duration, filePath, list, listen, nonEmptyPatterns, nonNegativeInt, oneOrMany,
  pattern, patterns, positiveInt, roles, section, size, text, url,
} from './fields.js';
import { claimName, DEFAULT_ALGORITHMS, jwtAlgorithm, principalTemplate, requiredClaims } from './identity-fields.js';
import { errorMap, expected, typeError } from './messages.js';
import { closest, didYouMean } from './suggest.js';
import { commitRules, pathRules, refNameRules } from './policy-rules.js';
import { isIP } from 'node:net';
import { QUEUE_EVENTS, SSH_CIPHERS, type TrustedCaKey } from './types.js';

const bool = z.boolean({ error: typeError('true or false') });

// ── ssh ────────────────────────────────────────────────────────────────────

/**
 * sshd's MaxStartups, `start:rate:full`: below `start` connections that have
 * not authenticated yet are always accepted; from `start` a new one is
 * dropped with probability `rate`% rising linearly to 100% at `full`. `N`
 * alone is `N:100:N`.
 */
const maxStartups = z.unknown().transform((value, ctx) => {
  const text = typeof value === 'number' ? String(value) : value;
  const match = typeof text === 'string' ? /^\s*(\d{1,6})(?::(\d{1,3}):(\d{1,6}))?\s*$/.exec(text) : null;
  if (match === null) {
    ctx.addIssue({ code: 'custom', message: `expected start:rate:full (such as 256:30:512) or one number, got ${JSON.stringify(value)}`, input: value });
    return z.NEVER;
  }
  const start = Number(match[1]);
  const rate = match[2] === undefined ? 100 : Number(match[2]);
  const full = match[3] === undefined ? start : Number(match[3]);
  if (start < 1 || rate < 1 || rate > 100 || full < start) {
    ctx.addIssue({ code: 'custom', message: `start:rate:full needs 1 ≤ start ≤ full and a rate of 1-100 (percent), got ${JSON.stringify(value)}`, input: value });
    return z.NEVER;
  }
  return { start, rate, full };
});

const sshLimits = section({
  maxConnections: positiveInt().default(1024),
  maxConnectionsPerAddress: positiveInt().default(256),
  maxStartups: maxStartups.prefault('256:30:512'),
  identificationTimeout: duration.prefault('10s'),
  preAuthSummaryInterval: duration.prefault('1m'),
  preAuthDetailedRecords: nonNegativeInt().default(20),
  maxSessionsPerIdentity: positiveInt().default(256),
  authTimeout: duration.prefault('20s'),
  maxAuthAttempts: positiveInt().default(6),
  idleTimeout: duration.prefault('10m'),
  maxChannelsPerConnection: positiveInt().default(10),
  drainTimeout: duration.prefault('60s'),
}).superRefine((limits, ctx) => {
  if (limits.maxConnections >= 1 && limits.maxConnectionsPerAddress > limits.maxConnections) {
    ctx.addIssue({ code: 'custom', path: ['maxConnectionsPerAddress'], message: `must not exceed maxConnections (${limits.maxConnections})` });
  }
});

const ssh = section({
  listen: listen.prefault('127.0.0.1:2222'),
  hostKeys: list(filePath, 'a list of host key files').min(1, { error: 'expected at least one host key' }).default(['host_ed25519']),
  ciphers: list(z.enum(SSH_CIPHERS), 'a list of cipher names').min(1).default([...SSH_CIPHERS]),
  limits: sshLimits.prefault({}),
  breakGlassKeys: filePath.nullable().default(null),
});

// ── http ───────────────────────────────────────────────────────────────────

/** `10.0.0.0/8`, `fd00::/8`, or one address (`192.0.2.7`). */
const proxyCidr = text('an IP address or CIDR block').superRefine((value, ctx) => {
  const [address = '', prefix, extra] = value.trim().split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) {
    ctx.addIssue({ code: 'custom', message: `expected an IP address or CIDR block (10.0.0.0/8, fd00::/8, 192.0.2.7), got ${JSON.stringify(value)}`, input: value });
  } else if (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128))) {
    ctx.addIssue({ code: 'custom', message: `the prefix length of ${JSON.stringify(value)} must be 0-${family === 4 ? 32 : 128}`, input: value });
  }
}).transform((value) => value.trim());

const http = section({
  enabled: bool.default(true),
  listen: listen.prefault('127.0.0.1:8080'),
  rateLimit: section({
    requests: positiveInt().default(60),
    window: duration.prefault('1m'),
    unauthenticated: positiveInt().default(30),
  }).prefault({}),
  trustedProxies: list(proxyCidr, 'a list of IP addresses or CIDR blocks').default([]),
  metrics: bool.default(true),
});

// ── ca ─────────────────────────────────────────────────────────────────────

const KEY_TYPES = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;
const LOOKS_LIKE_KEY = /^(ssh-|ecdsa-|sk-)\S* /;

/** `<type> <base64> [comment]` where the blob starts with the same type name, as in authorized_keys. */
function isKeyLine(line: string): boolean {
  const [type = '', blob = ''] = line.split(/ +/);
  if (!KEY_TYPES.test(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return false;
  const bytes = Buffer.from(blob, 'base64');
  return bytes.length > 4 + type.length && bytes.readUInt32BE(0) === type.length && bytes.subarray(4, 4 + type.length).toString('latin1') === type;
}

/** A trusted CA is either a public key file or the key line itself. */
const trustedCa = text('a CA public key file or key line').transform((value, ctx): TrustedCaKey => {
  const line = value.trim();
  if (isKeyLine(line)) return { kind: 'inline', line };
  if (LOOKS_LIKE_KEY.test(line)) {
    ctx.issues.push({ code: 'custom', message: 'looks like a public key line but is not one (expected "<type> <base64> [comment]"; certificates are not CA keys)', input: value });
    return z.NEVER;
  }
  return { kind: 'file', path: value };
});

const ca = section({
  key: filePath.nullable().default('ca'),
  trusted: list(trustedCa, 'a list of CA public key files or key lines').min(1, { error: 'expected at least one trusted CA' }).optional(),
  krl: filePath.nullable().default(null),
  clockSkew: duration.prefault('30s'),
  maxTtl: duration.prefault('1h'),
  defaultTtl: duration.prefault('15m'),
  sourceAddressBinding: bool.default(false),
}).superRefine((value, ctx) => {
  if (value.defaultTtl > value.maxTtl) ctx.addIssue({ code: 'custom', path: ['defaultTtl'], message: 'must not be longer than maxTtl' });
  if (value.key === null && value.trusted === undefined) {
    ctx.addIssue({ code: 'custom', path: ['trusted'], message: 'required when ca.key is null (which CAs should the gateway accept?)' });
  }
});

// ── identity ───────────────────────────────────────────────────────────────

const issuer = section({
  name: text('a name').regex(/^[A-Za-z0-9._-]+$/, { error: 'a name is letters, digits and . _ -' }).optional(),
  issuer: url('loopback'),
  audience: oneOrMany(list(text('an audience'), 'an audience or a list of audiences').min(1)),
  algorithms: list(jwtAlgorithm, 'a list of algorithms').min(1).default([...DEFAULT_ALGORITHMS]),
  jwksUri: url('loopback').nullable().default(null),
  clockSkew: duration.prefault('30s'),
  requiredClaims: requiredClaims.prefault([]),
  principal: principalTemplate.default('{{sub}}'),
  rolesClaim: claimName.nullable().default(null),
  roleMap: z.record(z.string(), oneOrMany(roles), { error: typeError('a mapping of claim value: roles') }).default({}),
  defaultRoles: roles.default([]),
  sponsorClaim: claimName.nullable().default('act.sub'),
});

const roleRule = section({
  principals: nonEmptyPatterns,
  roles: roles.min(1, { error: 'expected at least one role' }),
});

const EXTENSION = /^[\x21-\x7e]+$/;
const extensionName = text('an extension name').regex(EXTENSION, { error: 'an extension name is printable ASCII without spaces' });

const identity = section({
  issuers: list(issuer, 'a list of issuers').default([]).superRefine((issuers, ctx) => {
    const seen = new Set<string>();
    issuers.forEach((entry, index) => {
      const name = entry.name ?? new URL(entry.issuer).host;
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `another issuer is already named "${name}"; give each a distinct name` });
      seen.add(name);
    });
  }),
  roles: list(roleRule, 'a list of role rules').default([{ principals: ['local:*'], roles: ['reviewer'] }]),
  roleExtension: extensionName.default('roles@pushgate'),
  sponsorExtension: extensionName.default('sponsor@pushgate'),
});

// ── access ─────────────────────────────────────────────────────────────────

/** `/team/app.git` and `team/app` name the same repository. */
function normalizeRepoPattern(value: string): string {
  return value.replace(/^(~\/|\/+)/, '').replace(/\.git$/, '');
}

const repoPatterns = nonEmptyPatterns.transform((values) => values.map(normalizeRepoPattern));

const accessRule = section({
  repos: repoPatterns,
  principals: patterns.default([]),
  roles: roles.default([]),
  permissions: list(z.enum(['read', 'write']), 'a list of permissions (read, write)').min(1, { error: 'expected at least one permission' }),
}).superRefine((rule, ctx) => {
  if (rule.principals.length === 0 && rule.roles.length === 0) {
    ctx.addIssue({ code: 'custom', path: [], message: 'a rule needs principals or roles (principals: ["*"] means everyone)' });
  }
});

// ── policy ─────────────────────────────────────────────────────────────────

const refPattern = pattern.superRefine((value, ctx) => {
  if (!value.startsWith('refs/') && !value.startsWith('*')) {
    ctx.addIssue({ code: 'custom', message: `ref patterns are full ref names (did you mean "refs/heads/${value}"?)` });
  }
});
const refPatterns = list(refPattern, 'a list of patterns').min(1, { error: 'expected at least one pattern' });

const refActions = list(z.enum(['create', 'update', 'force-push', 'delete']), 'a list of actions (create, update, force-push, delete)');

const protectRule = section({
  refs: refPatterns,
  roles: roles.default([]),
  deny: refActions.default([]),
  park: refActions.default([]),
}).superRefine((rule, ctx) => {
  if (rule.deny.length === 0 && rule.park.length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'a protect rule needs at least one action under deny or park' });
});

const findingAction = z.enum(['deny', 'park']);
const policyMode = z.enum(['enforce', 'audit']);

const RULE_ID = /^[a-z0-9*][a-z0-9.*_-]*$/;
const SHORTHAND: Record<string, object> = {
  deny: { action: 'deny' },
  park: { action: 'park' },
  off: { action: 'off' },
  enforce: { mode: 'enforce' },
  audit: { mode: 'audit' },
};

const OVERRIDE_WORDS = Object.keys(SHORTHAND);

/** `"secret.*": audit` is short for `"secret.*": { mode: audit }`. */
const ruleOverride = z.preprocess(
  (value) => (typeof value === 'string' && value in SHORTHAND ? SHORTHAND[value] : value),
  section(
    {
      action: z.enum(['deny', 'park', 'off']).optional(),
      mode: policyMode.optional(),
    },
    (input) => `${expected(`${OVERRIDE_WORDS.join(', ')} or a mapping with action/mode`, input)}${typeof input === 'string' ? didYouMean(input, OVERRIDE_WORDS) : ''}`,
  ).superRefine((value, ctx) => {
    if (value.action === undefined && value.mode === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'expected action and/or mode' });
  }),
);

const ruleId = z.string().regex(RULE_ID, { error: 'not a rule id or pattern (like secret.aws-access-key or secret.*)' });

const ruleOverrides = z
  .record(ruleId, ruleOverride, { error: typeError('a mapping of rule id: override') })
  .transform((rules) => Object.entries(rules).map(([rule, override]) => ({ rule, ...override })));

const regexSource = text('a regular expression').superRefine((value, ctx) => {
  try {
    new RegExp(value, 'u');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(error as Error).message}` });
  }
});

const allowlist = section({
  paths: patterns.default([]),
  values: list(text('a value'), 'a list of values').default([]),
  regexes: list(regexSource, 'a list of regular expressions').default([]),
  fingerprints: list(text('a fingerprint'), 'a list of fingerprints').default([]),
  repoFile: text('a path in the repository').nullable().default('.pushgate/allowlist.yaml'),
  // Branches repoFile is read from (as they were before the push); only refs/heads/ can be trusted.
  trustedRefs: list(
    pattern.superRefine((value, ctx) => {
      if (!value.startsWith('refs/heads/')) ctx.addIssue({ code: 'custom', message: `only branches (refs/heads/…) can be trusted${value.startsWith('refs/') ? '' : ` (did you mean "refs/heads/${value}"?)`}` });
    }),
    'a list of branch patterns',
  ).default(['refs/heads/main', 'refs/heads/master', 'refs/heads/release/**']),
});

const pathGroupName = text('a name').regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'a name is lowercase letters, digits and -' });

export const DEFAULT_SENSITIVE_PATHS = [
  {
    name: 'ci-workflow',
    patterns: ['.github/workflows/**', '.github/actions/**', '.gitlab-ci.yml', '.gitlab/ci/**', '.circleci/**', 'Jenkinsfile', '.buildkite/**', 'azure-pipelines.yml', '.drone.yml', '.woodpecker/**', '.woodpecker.yml'],
  },
  { name: 'codeowners', patterns: ['CODEOWNERS', '.github/CODEOWNERS', 'docs/CODEOWNERS', '.gitlab/CODEOWNERS'] },
  { name: 'infrastructure', patterns: ['**/*.tf', '**/*.tfvars', '**/*.hcl', '**/terraform/**', '**/k8s/**', '**/helm/**', '**/charts/**'] },
  { name: 'git-hooks', patterns: ['.husky/**', '.githooks/**', '.pre-commit-config.yaml'] },
  { name: 'pushgate', patterns: ['.pushgate/**'] },
] as const;

const pathGroup = section({
  name: pathGroupName,
  patterns: nonEmptyPatterns,
  action: findingAction.default('park'),
});

const pathGroups = list(pathGroup, 'a list of path groups').superRefine((groups, ctx) => {
  const seen = new Set<string>();
  groups.forEach((group, index) => {
    if (seen.has(group.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate name "${group.name}"` });
    seen.add(group.name);
  });
});

const PUSH_OPTION = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const pushOptionName = text('a push option name').regex(PUSH_OPTION, { error: 'a push option name is letters, digits and . _ -' });

// ── policy.deps and policy.commands: dependency changes, external checks ─────

/** Where packages may come from without a finding: registry URL prefixes (scheme, host and path prefix). */
export const DEFAULT_ALLOWED_REGISTRIES = [
  'https://registry.npmjs.org/', 'https://registry.yarnpkg.com/',
  'https://pypi.org/', 'https://files.pythonhosted.org/',
  'https://proxy.golang.org/',
  'https://index.crates.io/', 'https://github.com/rust-lang/crates.io-index',
  'https://rubygems.org/',
  'https://repo.maven.apache.org/maven2/', 'https://repo1.maven.org/maven2/', 'https://plugins.gradle.org/m2/', 'https://dl.google.com/dl/android/maven2/', 'https://maven.google.com/',
] as const;

/** Which pushes a rule applies to: updates of these refs, by pushers with one of these roles (empty: everyone). */
const ruleScope = {
  refs: refPatterns.default(['refs/**']),
  roles: roles.default([]),
  mode: policyMode.default('enforce'),
};

const deps = section({
  enabled: bool.default(true),
  ...ruleScope,
  changes: findingAction.default('park'),
  sources: findingAction.default('deny'),
  unreadable: findingAction.default('park'),
  allowedRegistries: list(url('always'), 'a list of registry URLs').default([...DEFAULT_ALLOWED_REGISTRIES]),
  maxFileSize: size.prefault('4MiB'),
});

const commandName = text('a name').regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'a name is lowercase letters, digits and -' });

const policyCommand = section({
  name: commandName,
  run: oneOrMany(list(text('an argument'), 'a program and its arguments').min(1)),
  ...ruleScope,
  timeout: duration.prefault('30s'),
  onFailure: findingAction.default('park'),
  maxOutput: size.prefault('1MiB'),
});

const policyCommands = list(policyCommand, 'a list of commands').superRefine((commands, ctx) => {
  const seen = new Set<string>();
  commands.forEach((command, index) => {
    if (seen.has(command.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate name "${command.name}"` });
    seen.add(command.name);
  });
});

export const DEFAULT_PROTECTED_REFS = ['refs/heads/main', 'refs/heads/master', 'refs/heads/release/**', 'refs/tags/**'];

const policy = section({
  mode: policyMode.default('enforce'),
  protect: list(protectRule, 'a list of protect rules').default([
    { refs: [...DEFAULT_PROTECTED_REFS], roles: [], deny: ['delete', 'force-push'], park: [] },
  ]),
  rules: ruleOverrides.prefault({}),
  secrets: section({
    enabled: bool.default(true),
    action: findingAction.default('deny'),
  }).prefault({}),
  allowlist: allowlist.prefault({}),
  paths: pathGroups.prefault(DEFAULT_SENSITIVE_PATHS.map((group) => ({ ...group, patterns: [...group.patterns] }))),
  limits: section({
    blobSize: size.nullable().prefault('5MiB'),
    changedFiles: positiveInt().nullable().default(1000),
    deletedFiles: positiveInt().nullable().default(100),
    action: findingAction.default('park'),
  }).prefault({}),
  trustedRoles: roles.default([]),
  reviewPushOption: pushOptionName.default('review'),
  reasonPushOption: pushOptionName.default('reason'),
  scan: section({
    timeBudget: duration.prefault('60s'),
    maxBytes: size.prefault('1GiB'),
    onFailure: findingAction.default('park'),
  }).prefault({}),
  // Catalogue rules (shape: policy-rules.ts): commit metadata, ref names for creation, paths.
  commit: commitRules.prefault({}),
  refNames: refNameRules,
  path: pathRules.prefault({}),
  deps: deps.prefault({}),
  commands: policyCommands.default([]),
});

// ── queue ──────────────────────────────────────────────────────────────────

const approvalRule = section({
  repos: repoPatterns.prefault(['**']),
  refs: refPatterns.default(['refs/**']),
  approvals: positiveInt(),
  reviewerRoles: roles.min(1, { error: 'expected at least one role' }).nullable().default(null),
});

/** json: the event as pushgate writes it; chat: a Slack- and Teams-compatible message with a link to the console. */
const webhookSection = section({
  url: url('always'),
  format: z.enum(['json', 'chat']).default('json'),
  timeout: duration.prefault('5s'),
  retries: nonNegativeInt().default(3),
  secretFile: filePath.nullable().default(null),
});

const queue = section({
  reviewerRoles: roles.min(1, { error: 'expected at least one role' }).default(['reviewer']),
  approvals: positiveInt().default(1),
  expiry: duration.prefault('7d'),
  rules: list(approvalRule, 'a list of approval rules').default([]),
  waits: section({
    perIdentity: positiveInt().default(16),
    total: positiveInt().default(1024),
  }).prefault({}),
  notify: section({
    events: list(z.enum(QUEUE_EVENTS), `a list of events (${QUEUE_EVENTS.join(', ')})`).default([...QUEUE_EVENTS]),
    webhook: webhookSection.nullable().default(null),
    webhooks: list(webhookSection, 'a list of webhooks').default([]),
    command: section({
      run: oneOrMany(list(text('an argument'), 'a program and its arguments').min(1)),
      timeout: duration.prefault('10s'),
    }).nullable().default(null),
  }).prefault({}),
});

// ── console ────────────────────────────────────────────────────────────────

const consoleAttestation = text('an attestation').max(300);

const consoleSection = section({
  enabled: bool.default(false),
  issuer: url('loopback').nullable().default(null),
  clientId: text('a client id').nullable().default(null),
  clientSecretFile: filePath.nullable().default(null),
  redirectUrl: url('loopback').nullable().default(null),
  scopes: list(text('a scope').regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'a scope is printable ASCII without spaces, quotes or backslashes' }), 'a list of scopes').default(['openid']),
  resource: text('a resource indicator').regex(/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/, { error: 'a resource indicator is an absolute URI (https://pushgate.example.com or urn:pushgate:api)' }).nullable().default(null),
  sessionLifetime: duration.prefault('8h'),
  idleTimeout: duration.prefault('1h'),
  attestations: list(consoleAttestation, 'a list of statements').default([]),
  cookieName: text('a cookie name').regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'a cookie name is letters, digits, _ and -' }).default('pushgate_console'),
  secureCookie: z.enum(['auto', 'always', 'never']).default('auto'),
}).superRefine((value, ctx) => {
  if (!value.enabled) return;
  for (const key of ['issuer', 'clientId', 'redirectUrl'] as const) {
    if (value[key] === null) ctx.addIssue({ code: 'custom', path: [key], message: 'required when console.enabled is true' });
  }
  if (value.redirectUrl !== null && !new URL(value.redirectUrl).pathname.endsWith('/console/callback')) {
    ctx.addIssue({ code: 'custom', path: ['redirectUrl'], message: 'must end with /console/callback (the console\'s own callback, as registered with the issuer)' });
  }
  if (!value.scopes.includes('openid')) ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'must include openid' });
});

// ── audit / log ────────────────────────────────────────────────────────────

const TRANSPORT_TYPES = ['stderr', 'http'] as const;

const transportByType = {
  stderr: section({ type: z.literal('stderr') }),
  http: section({ type: z.literal('http'), url: url('always'), timeout: duration.prefault('5s') }),
};

/** Dispatches on `type` itself so a bad type is reported at `transports[n].type`. */
const transport = z.unknown().transform((value, ctx) => {
  const type = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as { type?: unknown }).type : undefined;
  if (type === 'stderr' || type === 'http') {
    const parsed = transportByType[type].safeParse(value, { error: errorMap });
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: undefined } as z.core.$ZodRawIssue);
    return z.NEVER;
  }
  const path = type === undefined && (value === null || typeof value !== 'object' || Array.isArray(value)) ? [] : ['type'];
  const hint = typeof type === 'string' && closest(type, TRANSPORT_TYPES) ? ` (did you mean "${closest(type, TRANSPORT_TYPES)}"?)` : '';
  ctx.issues.push({ code: 'custom', path, message: path.length === 0 ? expected('a mapping with a type', value) : `${expected(`one of ${TRANSPORT_TYPES.join(', ')}`, type)}${hint}`, input: value });
  return z.NEVER;
});

const audit = section({
  file: filePath.optional(),
  hmacKeyFile: filePath.nullable().default(null),
  rotate: section({
    size: size.nullable().prefault('100MiB'),
    daily: bool.default(false),
  }).prefault({}),
  transports: list(transport, 'a list of transports').default([]),
  headInterval: duration.nullable().prefault('1m'),
  backgroundTimeout: duration.prefault('2m'),
});

const log = section({
  level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  file: filePath.nullable().default(null),
});

// ── upstreams ──────────────────────────────────────────────────────────────

const UPSTREAM_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)/;

/** `ssh`, `https`, `file` (or `http` for a loopback test server); undefined for anything else. */
export function upstreamScheme(url: string): 'ssh' | 'https' | 'http' | 'file' | undefined {
  if (SCP_LIKE.test(url)) return 'ssh';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'ssh' || scheme === 'git+ssh' || scheme === 'ssh+git') return 'ssh';
  if (scheme === 'https' || scheme === 'http' || scheme === 'file') return scheme;
  return undefined;
}

/** The URL's password or token, when someone wrote one into it: it belongs in tokenFile. */
function urlUserinfoSecret(url: string): boolean {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(url);
  return match !== null && match[1]!.includes(':');
}

const upstreamUrl = text('a URL with {repo}').superRefine((value, ctx) => {
  if (!value.includes('{repo}')) ctx.addIssue({ code: 'custom', message: 'the URL needs {repo} where the repository name goes (such as ssh://git@gitlab.internal/{repo}.git)' });
  const scheme = upstreamScheme(value);
  if (scheme === undefined) ctx.addIssue({ code: 'custom', message: `expected an ssh://, https:// or file:// URL (or user@host:path), got ${JSON.stringify(value.replace(/:\/\/[^/@]*@/, '://…@'))}` });
  if (urlUserinfoSecret(value)) ctx.addIssue({ code: 'custom', message: 'the URL carries a password or token; put the token in tokenFile (it is never written into URLs, arguments or logs)' });
  if (/[\s\0-\x1f\x7f]/.test(value)) ctx.addIssue({ code: 'custom', message: 'the URL must not contain spaces or control characters' });
});

const credentialPath = filePath.refine((value) => !/[\n\r"]/.test(value), 'must not contain a newline or a double quote');

const upstream = section({
  name: text('a name').regex(UPSTREAM_NAME, { error: 'a name is lowercase letters, digits and . _ -' }),
  repositories: pattern.transform(normalizeRepoPattern),
  url: upstreamUrl,
  sshKeyFile: credentialPath.optional(),
  knownHostsFile: credentialPath.optional(),
  username: text('a user name').regex(/^[^\s:\0-\x1f\x7f]+$/, { error: 'a user name has no spaces, colons or control characters' }).optional(),
  tokenFile: credentialPath.optional(),
  credentialHelper: text('a git credential helper').refine((value) => !/[\n\r\0]/.test(value), 'must be one line').optional(),
  caFile: credentialPath.optional(),
  fetchInterval: duration.prefault('5s'),
  serveStale: bool.default(true),
  timeout: duration.prefault('60s'),
}).superRefine((entry, ctx) => {
  const scheme = upstreamScheme(entry.url);
  const present = (keys: readonly (keyof typeof entry)[]): string[] => keys.filter((key) => entry[key] !== undefined) as string[];
  const refuse = (keys: string[], why: string): void => {
    for (const key of keys) ctx.addIssue({ code: 'custom', path: [key], message: why });
  };
  if (scheme === 'ssh') {
    for (const key of ['sshKeyFile', 'knownHostsFile'] as const) {
      if (entry[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `an ssh upstream needs ${key} (${key === 'sshKeyFile' ? 'the deploy key pushgate writes with' : 'the upstream\'s host key, pinned: `ssh-keyscan HOST > FILE`, then check it'})` });
    }
    refuse(present(['username', 'tokenFile', 'credentialHelper', 'caFile']), 'not used with an ssh upstream (it authenticates with sshKeyFile)');
  } else if (scheme === 'https' || scheme === 'http') {
    if (entry.credentialHelper !== undefined && entry.tokenFile !== undefined) ctx.addIssue({ code: 'custom', path: ['credentialHelper'], message: 'give either tokenFile (with username) or credentialHelper, not both' });
    if (entry.credentialHelper === undefined && entry.tokenFile === undefined) ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: `an ${scheme} upstream needs a credential: username + tokenFile, or credentialHelper` });
    if (entry.tokenFile !== undefined && entry.username === undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'tokenFile needs a username (the account or deploy token name the token belongs to)' });
    refuse(present(['sshKeyFile', 'knownHostsFile']), `not used with an ${scheme} upstream (it authenticates with tokenFile or credentialHelper)`);
    if (scheme === 'http' && !/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//i.test(entry.url)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'plain http would send the credential in the clear; use https:// (http:// is accepted for loopback only)' });
  } else if (scheme === 'file') {
    refuse(present(['sshKeyFile', 'knownHostsFile', 'username', 'tokenFile', 'credentialHelper', 'caFile']), 'a file:// upstream needs no credentials');
  }
});

const upstreams = list(upstream, 'a list of upstreams').superRefine((entries, ctx) => {
  const names = new Map<string, number>();
  const patterns = new Map<string, number>();
  entries.forEach((entry, index) => {
    const name = names.get(entry.name);
    if (name !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `upstreams[${name}] is already named "${entry.name}"; give each a distinct name` });
    else names.set(entry.name, index);
    const same = patterns.get(entry.repositories);
    if (same !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'repositories'], message: `upstreams[${same}] (${entries[same]!.name}) already covers "${entry.repositories}"; a repository must have exactly one upstream` });
    else patterns.set(entry.repositories, index);
  });
});

// ── the file ───────────────────────────────────────────────────────────────

const SERVICE_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

export const configSchema = section({
  reposRoot: filePath.default('/srv/git'),
  stateDir: filePath.default('/var/lib/pushgate'),
  serviceUser: text('a user name').regex(SERVICE_USER, { error: 'expected a user name (lowercase letters, digits, _ and -)' }).default('git'),
  ssh: ssh.prefault({}),
  http: http.prefault({}),
  ca: ca.prefault({}),
  identity: identity.prefault({}),
  access: list(accessRule, 'a list of access rules').default([
    { repos: ['**'], principals: [], roles: ['agent', 'reviewer'], permissions: ['read', 'write'] },
  ]),
  policy: policy.prefault({}),
  queue: queue.prefault({}),
  console: consoleSection.prefault({}),
  audit: audit.prefault({}),
  log: log.prefault({}),
  upstreams: upstreams.default([]),
});

export type ParsedConfig = z.output<typeof configSchema>;

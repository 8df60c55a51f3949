import t from 'tap';
import { ConfigError, formatProblem, isConfigError, parseConfig, type ConfigProblem } from '../../src/config/index.js';

/** The problems a config text produces; fails the caller's test when it loads. */
export function problemsOf(text: string): ConfigProblem[] {
  try {
    parseConfig(text, { baseDir: '/etc/pushgate', file: '/etc/pushgate/pushgate.yaml' });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the config to be refused, but it loaded');
}

/** `path: message` lines, the way `pushgate config check` prints them without locations. */
export function linesOf(text: string): string[] {
  return problemsOf(text).map((problem) => `${problem.path}: ${problem.message}`);
}

interface Asserts {
  equal: (...args: any[]) => unknown;
  match: (...args: any[]) => unknown;
}

/** Asserts that `text` is refused with exactly one problem that reads `expected`. */
function refuses(t: Asserts, text: string, expected: string | RegExp): void {
  const lines = linesOf(text);
  t.equal(lines.length, 1, `one problem: ${lines.join(' | ')}`);
  if (typeof expected === 'string') t.equal(lines[0], expected);
  else t.match(lines[0], expected);
}

t.test('wrong types name the path and what was expected', async (t) => {
  refuses(t, `
policy:
  protect:
    - refs: [refs/heads/a]
      deny: [delete]
    - refs: [refs/heads/b]
      deny: [delete]
    - refs: refs/heads/c
      deny: [delete]
`, 'policy.protect[2].refs: expected a list of patterns, got "refs/heads/c"');
  refuses(t, 'reposRoot: 5', 'reposRoot: expected a file path, got 5');
  refuses(t, 'ssh: [1, 2]', 'ssh: expected a mapping, got a list');
  refuses(t, 'ssh:\n  limits:\n    maxConnections: many', 'ssh.limits.maxConnections: expected a whole number, got "many"');
  refuses(t, 'ssh:\n  limits:\n    maxAuthAttempts: 2.5', 'ssh.limits.maxAuthAttempts: expected a whole number, got 2.5');
  refuses(t, 'http:\n  enabled: yes', 'http.enabled: expected true or false, got "yes"');
  refuses(t, 'access:\n  - repos: ["**"]\n    roles: agent\n    permissions: [read]', 'access[0].roles: expected a list of role names, got "agent"');
  refuses(t, 'policy:\n  paths: {}', 'policy.paths: expected a list of path groups, got a mapping');
  refuses(t, 'identity:\n  issuers:\n    - issuer: https://idp.example.com\n      audience: pushgate\n      roleMap: [a]', 'identity.issuers[0].roleMap: expected a mapping of claim value: roles, got a list');
  refuses(t, 'policy:\n  rules: [secret.x]', 'policy.rules: expected a mapping of rule id: override, got a list');
  refuses(t, 'reposRoot: ""', 'reposRoot: must not be empty');
  refuses(t, 'reposRoot: null', 'reposRoot: expected a file path, got nothing');
});

t.test('missing required settings', async (t) => {
  refuses(t, 'identity:\n  issuers:\n    - audience: pushgate', 'identity.issuers[0].issuer: required');
  refuses(t, 'access:\n  - repos: ["**"]\n    roles: [agent]', 'access[0].permissions: required');
  refuses(t, 'queue:\n  rules:\n    - refs: [refs/heads/main]', 'queue.rules[0].approvals: required');
  refuses(t, 'ca:\n  key: null', 'ca.trusted: required when ca.key is null (which CAs should the gateway accept?)');
  refuses(t, 'queue:\n  notify:\n    webhook: {}', 'queue.notify.webhook.url: required');
  refuses(t, 'queue:\n  notify:\n    command: {}', 'queue.notify.command.run: required');
});

t.test('values out of range or not among the choices', async (t) => {
  refuses(t, 'policy:\n  mode: enforced', 'policy.mode: expected one of enforce, audit, got "enforced" (did you mean "enforce"?)');
  refuses(t, 'policy:\n  secrets:\n    action: block', 'policy.secrets.action: expected one of deny, park, got "block"');
  refuses(t, 'ssh:\n  ciphers: [aes128-cbc]', /^ssh\.ciphers\[0\]: expected one of aes128-gcm@openssh.com, .*got "aes128-cbc" \(did you mean "aes128-ctr"\?\)$/);
  refuses(t, 'ssh:\n  ciphers: []', 'ssh.ciphers: expected at least 1 entry');
  refuses(t, 'ssh:\n  hostKeys: []', 'ssh.hostKeys: expected at least one host key');
  refuses(t, 'ssh:\n  limits:\n    maxConnections: 0', 'ssh.limits.maxConnections: expected a number ≥ 1, got 0');
  refuses(t, 'queue:\n  notify:\n    webhook: { url: "https://hooks.example.com/x", retries: -1 }', 'queue.notify.webhook.retries: expected a number ≥ 0, got -1');
  refuses(t, 'ssh:\n  limits:\n    maxConnections: 10\n    maxConnectionsPerAddress: 20', 'ssh.limits.maxConnectionsPerAddress: must not exceed maxConnections (10)');
  refuses(t, 'ca:\n  maxTtl: 10m\n  defaultTtl: 15m', 'ca.defaultTtl: must not be longer than maxTtl');
  refuses(t, 'policy:\n  protect:\n    - refs: [refs/heads/x]\n      deny: [fly]', 'policy.protect[0].deny[0]: expected one of create, update, force-push, delete, got "fly"');
  refuses(t, 'access:\n  - repos: ["**"]\n    roles: [agent]\n    permissions: [admin]', 'access[0].permissions[0]: expected one of read, write, got "admin"');
  refuses(t, 'serviceUser: Git User', 'serviceUser: expected a user name (lowercase letters, digits, _ and -)');
  refuses(t, 'queue:\n  reviewerRoles: ["bad role"]', 'queue.reviewerRoles[0]: a role name is letters, digits and . _ : -');
  refuses(t, 'queue:\n  reviewerRoles: []', 'queue.reviewerRoles: expected at least one role');
  refuses(t, 'log:\n  level: verbose', 'log.level: expected one of error, warn, info, debug, got "verbose"');
  refuses(t, 'policy:\n  reviewPushOption: "re view"', 'policy.reviewPushOption: a push option name is letters, digits and . _ -');
  refuses(t, 'identity:\n  roleExtension: "has space"', 'identity.roleExtension: an extension name is printable ASCII without spaces');
});

t.test('durations, sizes and addresses', async (t) => {
  refuses(t, 'ca:\n  defaultTtl: 15', 'ca.defaultTtl: expected a duration such as 30s, 15m, 1h30m or 7d: a bare number has no unit (15s? 15m?)');
  refuses(t, 'ca:\n  defaultTtl: soon', 'ca.defaultTtl: expected a duration such as 30s, 15m, 1h30m or 7d, got "soon"');
  refuses(t, 'ca:\n  clockSkew: 0s', 'ca.clockSkew: must be longer than 0');
  refuses(t, 'queue:\n  expiry: [7d]', 'queue.expiry: expected a duration such as 30s, 15m, 1h30m or 7d, got a list');
  refuses(t, 'policy:\n  limits:\n    blobSize: 5 megs', 'policy.limits.blobSize: expected a size such as 500KB, 10MiB or a number of bytes, got "5 megs"');
  refuses(t, 'policy:\n  limits:\n    blobSize: 0', 'policy.limits.blobSize: must be larger than 0');
  refuses(t, 'policy:\n  scan:\n    maxBytes: true', 'policy.scan.maxBytes: expected a size such as 500KB, 10MiB or a number of bytes, got true');
  refuses(t, 'ssh:\n  listen: 2222', 'ssh.listen: expected HOST:PORT such as 127.0.0.1:2222 or [::1]:2222, got 2222');
  refuses(t, 'http:\n  listen: "localhost:http"', 'http.listen: expected HOST:PORT such as 127.0.0.1:2222 or [::1]:2222, got "localhost:http"');
  const config = parseConfig('policy:\n  limits:\n    blobSize: null\n    changedFiles: null\naudit:\n  rotate:\n    size: 1GB\n    daily: true');
  t.equal(config.policy.limits.blobSize, null, 'a limit can be switched off');
  t.equal(config.policy.limits.changedFiles, null);
  t.same(config.audit.rotate, { size: 1e9, daily: true });
});

t.test('unknown keys are errors, with the closest known key', async (t) => {
  refuses(t, 'polcy:\n  mode: audit', 'polcy: unknown key (did you mean "policy"?)');
  refuses(t, 'ssh:\n  limits:\n    idle_timeout: 5m', 'ssh.limits.idle_timeout: unknown key (did you mean "idleTimeout"?)');
  refuses(t, 'policy:\n  protect:\n    - refs: [refs/heads/main]\n      deny: [delete]\n      allow: [update]', 'policy.protect[0].allow: unknown key');
  const lines = linesOf('policy:\n  protet: []\n  mdoe: audit\n  color: blue\n');
  t.same(lines, [
    'policy.protet: unknown key (did you mean "protect"?)',
    'policy.mdoe: unknown key (did you mean "mode"?)',
    'policy.color: unknown key',
  ], 'every unknown key of one mapping, each at its own path');
  const both = linesOf('identity:\n  issuers:\n    - issuer: https://idp.example.com\n      audiences: [x]');
  t.same(both, ['identity.issuers[0].audience: required', 'identity.issuers[0].audiences: unknown key (did you mean "audience"?)']);
});

t.test('the identity section refuses what would weaken token checks', async (t) => {
  const base = 'identity:\n  issuers:\n    - issuer: https://idp.example.com\n      audience: pushgate\n';
  refuses(t, `${base}      algorithms: [none]`, 'identity.issuers[0].algorithms[0]: algorithm "none" is never accepted: tokens must be signed');
  refuses(t, `${base}      algorithms: [None]`, /algorithms\[0\]: algorithm "none" is never accepted/);
  refuses(t, `${base}      algorithms: [RS256, HS256]`, /^identity\.issuers\[0\]\.algorithms\[1\]: HS256 is refused: HMAC algorithms would let anyone holding the issuer's public key forge tokens/);
  refuses(t, `${base}      algorithms: [hs512]`, /algorithms\[0\]: hs512 is refused/);
  refuses(t, `${base}      algorithms: [RS265]`, /algorithms\[0\]: expected one of RS256, .*got "RS265" \(did you mean "RS256"\?\)/);
  refuses(t, `${base}      algorithms: [5]`, /algorithms\[0\]: expected one of RS256, .*got 5$/);
  refuses(t, `${base}      algorithms: []`, 'identity.issuers[0].algorithms: expected at least 1 entry');
  refuses(t, 'identity:\n  issuers:\n    - issuer: http://idp.example.com\n      audience: x', 'identity.issuers[0].issuer: must use https (plain http is accepted only for localhost)');
  refuses(t, 'identity:\n  issuers:\n    - issuer: ftp://idp.example.com\n      audience: x', 'identity.issuers[0].issuer: expected an http(s) URL, got "ftp://idp.example.com"');
  refuses(t, 'identity:\n  issuers:\n    - issuer: "not a url"\n      audience: x', 'identity.issuers[0].issuer: expected an http(s) URL, got "not a url"');
  refuses(t, `${base}      principal: ci-bot`, 'identity.issuers[0].principal: must contain a {{claim}} placeholder such as {{sub}}, or every token would get the same principal');
  refuses(t, `${base}      principal: "{{sub}"`, 'identity.issuers[0].principal: unbalanced braces: placeholders are written {{claim}}');
  refuses(t, `${base}      principal: "{{ bad claim }}"`, 'identity.issuers[0].principal: {{bad claim}} is not a claim name');
  refuses(t, `${base}      rolesClaim: "a b"`, /^identity\.issuers\[0\]\.rolesClaim: a claim name is/);
  refuses(t, `${base}      requiredClaims: [email, 5]`, 'identity.issuers[0].requiredClaims[1]: expected a claim name, got 5');
  refuses(t, `${base}      requiredClaims: { email_verified: [] }`, /requiredClaims\.email_verified: expected a value or a list of values/);
  refuses(t, `${base}      requiredClaims: { "bad claim": x }`, 'identity.issuers[0].requiredClaims["bad claim"]: not a claim name');
  refuses(t, `${base}      requiredClaims: yes`, 'identity.issuers[0].requiredClaims: expected a list of claim names or a mapping of claim: value, got "yes"');
  refuses(t, `${base}    - issuer: https://idp.example.com/other\n      audience: y`, 'identity.issuers[1].name: another issuer is already named "idp.example.com"; give each a distinct name');
});

t.test('policy rules that would not do what they say', async (t) => {
  refuses(t, 'policy:\n  protect:\n    - refs: [main]\n      deny: [delete]', 'policy.protect[0].refs[0]: ref patterns are full ref names (did you mean "refs/heads/main"?)');
  refuses(t, 'policy:\n  protect:\n    - refs: [refs/heads/main]', 'policy.protect[0]: a protect rule needs at least one action under deny or park');
  refuses(t, 'policy:\n  protect:\n    - refs: []\n      deny: [delete]', 'policy.protect[0].refs: expected at least one pattern');
  refuses(t, 'access:\n  - repos: ["**"]\n    permissions: [read]', 'access[0]: a rule needs principals or roles (principals: ["*"] means everyone)');
  refuses(t, 'policy:\n  rules:\n    "Secret AWS": off', 'policy.rules["Secret AWS"]: not a rule id or pattern (like secret.aws-access-key or secret.*)');
  refuses(t, 'policy:\n  rules:\n    secret.jwt: denyy', 'policy.rules["secret.jwt"]: expected deny, park, off, enforce, audit or a mapping with action/mode, got "denyy" (did you mean "deny"?)');
  refuses(t, 'policy:\n  rules:\n    secret.jwt: {}', 'policy.rules["secret.jwt"]: expected action and/or mode');
  refuses(t, 'policy:\n  rules:\n    secret.jwt: { action: allow }', 'policy.rules["secret.jwt"].action: expected one of deny, park, off, got "allow"');
  refuses(t, 'policy:\n  allowlist:\n    regexes: ["(unclosed"]', /^policy\.allowlist\.regexes\[0\]: invalid regular expression: /);
  refuses(t, 'policy:\n  paths:\n    - name: ci\n      patterns: [a]\n    - name: ci\n      patterns: [b]', 'policy.paths[1].name: duplicate name "ci"');
  refuses(t, 'policy:\n  paths:\n    - name: CI Files\n      patterns: [a]', 'policy.paths[0].name: a name is lowercase letters, digits and -');
  refuses(t, 'policy:\n  paths:\n    - name: ci\n      patterns: ["a\\0b"]', 'policy.paths[0].patterns[0]: must not contain NUL');
});

t.test('trusted CAs are files or key lines', async (t) => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMKOqkxA4RjE0LnJtMuBtQ0qF9yr0BP1JR4d0+0tQLkU ca@example';
  const config = parseConfig(`ca:\n  key: null\n  trusted:\n    - keys/ca.pub\n    - "${key}"\n    - /etc/ssh/other_ca.pub`, { baseDir: '/etc/pushgate' });
  t.same(config.ca.trusted, [
    { kind: 'file', path: '/etc/pushgate/keys/ca.pub' },
    { kind: 'inline', line: key },
    { kind: 'file', path: '/etc/ssh/other_ca.pub' },
  ]);
  t.equal(config.ca.key, null);
  refuses(t, 'ca:\n  trusted: ["ssh-ed25519 not base64!"]', /^ca\.trusted\[0\]: looks like a public key line but is not one/);
  refuses(t, 'ca:\n  trusted: ["ssh-ed25519-cert-v01@openssh.com AAAA"]', /^ca\.trusted\[0\]: looks like a public key line but is not one/);
  refuses(t, 'ca:\n  trusted: []', 'ca.trusted: expected at least one trusted CA');
  refuses(t, `ca:\n  trusted: ["ssh-rsa ${key.split(' ')[1]!}"]`, /^ca\.trusted\[0\]: looks like a public key line/);
});

t.test('audit transports', async (t) => {
  const config = parseConfig('audit:\n  transports:\n    - type: stderr\n    - type: http\n      url: https://collector.example.com/in');
  t.same(config.audit.transports, [{ type: 'stderr' }, { type: 'http', url: 'https://collector.example.com/in', timeout: 5000 }]);
  refuses(t, 'audit:\n  transports:\n    - type: stdrr', 'audit.transports[0].type: expected one of stderr, http, got "stdrr" (did you mean "stderr"?)');
  refuses(t, 'audit:\n  transports:\n    - type: syslog', 'audit.transports[0].type: expected one of stderr, http, got "syslog"');
  refuses(t, 'audit:\n  transports:\n    - {}', 'audit.transports[0].type: required');
  refuses(t, 'audit:\n  transports:\n    - stderr', 'audit.transports[0]: expected a mapping with a type, got "stderr"');
  refuses(t, 'audit:\n  transports:\n    - type: http\n      url: nope', 'audit.transports[0].url: expected an http(s) URL, got "nope"');
  t.same(linesOf('audit:\n  transports:\n    - type: http\n      url: https://c.example.com\n      timeout: 5\n      level: info').map((line) => line.split(':')[0]), [
    'audit.transports[0].timeout',
    'audit.transports[0].level',
  ]);
  refuses(t, 'audit:\n  transports:\n    - type: stderr\n      level: info', 'audit.transports[0].level: unknown key');
});

t.test('many problems are reported at once, in file order, with positions', async (t) => {
  const text = [
    'reposRoot: 5',                       // 1
    'ssh:',                                // 2
    '  listen: nowhere',                   // 3
    '  limits: { idleTimeout: 30 }',       // 4
    'policy:',                             // 5
    '  mode: enforced',                    // 6
    '  protect:',                          // 7
    '    - refs: refs/heads/main',         // 8
    '      deny: [delete]',                // 9
    'identity:',                           // 10
    '  issuers:',                          // 11
    '    - issuer: https://idp.example.com', // 12
    '      audience: x',                   // 13
    '      algorithms: [none]',            // 14
    'queue:',                              // 15
    '  aprovals: 2',                       // 16
  ].join('\n');
  const problems = problemsOf(text);
  t.same(problems.map((p) => [p.line, p.path]), [
    [1, 'reposRoot'],
    [3, 'ssh.listen'],
    [4, 'ssh.limits.idleTimeout'],
    [6, 'policy.mode'],
    [8, 'policy.protect[0].refs'],
    [14, 'identity.issuers[0].algorithms[0]'],
    [16, 'queue.aprovals'],
  ]);
  t.same(problems[2], { path: 'ssh.limits.idleTimeout', message: problems[2]!.message, line: 4, column: 13 });
  t.equal(problems[6]!.column, 3);
});

t.test('ConfigError: code, file, problems and format()', async (t) => {
  let caught: unknown;
  try {
    parseConfig('policy:\n  mode: x\n  bogus: 1\n', { file: '/etc/pushgate/pushgate.yaml' });
  } catch (error) {
    caught = error;
  }
  t.ok(isConfigError(caught));
  const error = caught as ConfigError;
  t.equal(error.name, 'ConfigError');
  t.equal(error.code, 'config.invalid');
  t.equal(error.file, '/etc/pushgate/pushgate.yaml');
  t.equal(error.problems.length, 2);
  t.equal(error.format(), [
    '/etc/pushgate/pushgate.yaml:2:3: policy.mode: expected one of enforce, audit, got "x"',
    '/etc/pushgate/pushgate.yaml:3:3: policy.bogus: unknown key',
  ].join('\n'));
  t.match(error.message, /^\/etc\/pushgate\/pushgate\.yaml: 2 problems: policy\.mode: expected one of enforce, audit/);
  t.notOk(isConfigError(new Error('x')));
  t.equal(formatProblem(null, { path: '', message: 'whole file' }), 'whole file');
  t.equal(formatProblem(null, { path: 'a.b', message: 'm' }), 'a.b: m');
  t.equal(formatProblem('f.yaml', { path: 'a', message: 'm', line: 3 }), 'f.yaml:3: a: m');
  t.equal(new ConfigError('config.invalid', null, [{ path: 'x', message: 'y' }]).message, 'config: 1 problem: x: y');
  t.equal(new ConfigError('config.invalid', null, []).message, 'config: 0 problems');
});

t.test('YAML that is not a config', async (t) => {
  const syntax = (text: string) => {
    try {
      parseConfig(text, { file: '/c/pushgate.yaml' });
    } catch (error) {
      t.ok(isConfigError(error));
      t.equal((error as ConfigError).code, 'config.syntax');
      return (error as ConfigError).problems;
    }
    throw new Error('loaded');
  };
  const unclosed = syntax('ssh:\n  listen: 127.0.0.1:2222\n  ciphers: [aes128-ctr\npolicy: {}\n');
  t.ok(unclosed.length >= 1);
  t.match(unclosed[0]!.message, /^YAML: /);
  t.type(unclosed[0]!.line, 'number');
  t.type(unclosed[0]!.column, 'number');
  const duplicate = syntax('policy:\n  mode: audit\npolicy:\n  mode: enforce\n');
  t.same(duplicate.map((p) => [p.line, p.column]), [[3, 1]]);
  t.match(duplicate[0]!.message, /YAML: Map keys must be unique/);
  const tab = syntax('ssh:\n\tlisten: x\n');
  t.equal(tab[0]!.line, 2);
  const documents = syntax('a: 1\n---\nb: 2\n');
  t.equal(documents[0]!.message, 'YAML: a config is a single YAML document: remove the `---` separator');
  const tag = syntax('reposRoot: !vault secret\n');
  t.match(tag[0]!.message, /YAML: .*tag/i);
  const bomb = syntax(['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n'));
  t.match(bomb[0]!.message, /YAML: .*alias/i, 'alias expansion is capped');
  t.same(problemsOf('- a\n- b\n').map((p) => [p.path, p.message]), [['', 'expected a mapping, got a list']]);
  t.same(problemsOf('just text').map((p) => p.message), ['expected a mapping, got "just text"']);
});

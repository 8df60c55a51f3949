import t from 'tap';
import { rules, SecretScanner } from '../../src/scan/index.js';
import type { SecretFinding } from '../../src/scan/index.js';
import { buildCorpus } from './corpus.js';
import { B64, B64URL, gh, jwt, pemBegin, pemLine, Rng } from './fixtures.js';

const scanner = new SecretScanner();
const ids = (findings: SecretFinding[]): string[] => findings.map((finding) => finding.ruleId);
const scan = (line: string, path = 'src/app.ts'): string[] => ids(scanner.scanLine(path, 1, line));

t.test('rules are well-formed data', async (t) => {
  t.ok(rules.length >= 60, `${rules.length} rules`);
  const seen = new Set<string>();
  let previous = '';
  for (const rule of rules) {
    t.match(rule.id, /^secret\.[a-z0-9-]+$/, rule.id);
    // One id may have several patterns (the forms of one kind); they stay together.
    t.ok(!seen.has(rule.id) || previous === rule.id, `${rule.id} is unique or one kind's patterns`);
    seen.add(rule.id);
    previous = rule.id;
    t.ok(rule.title.length > 0 && rule.fix.length > 20, `${rule.id} has a title and a fix`);
    t.ok(rule.keywords.length > 0 !== (rule.onEncodedRun === true), `${rule.id} has keywords, or none and runs on encoded runs`);
    for (const keyword of rule.keywords) t.equal(keyword, keyword.toLowerCase(), `${rule.id}: keyword ${keyword} is lower case`);
    t.notOk(rule.regex.global || rule.regex.sticky, `${rule.id}: the scanner adds the flags it needs`);
  }
});

t.test('every family fires on its corpus samples', async (t) => {
  const families = new Map<string, { line: string; path: string; ruleId: string }[]>();
  for (const sample of buildCorpus(99).positives) {
    const family = sample.ruleId!.replace(/^secret\./, '').split('-')[0]!;
    families.set(family, [...(families.get(family) ?? []), { line: sample.line, path: sample.path, ruleId: sample.ruleId! }]);
  }
  for (const [family, samples] of families) {
    t.test(family, async (t) => {
      for (const sample of samples) t.ok(scan(sample.line, sample.path).includes(sample.ruleId), `${sample.ruleId} in ${sample.path}`);
    });
  }
});

t.test('findings carry position, rule data and the inline marker', async (t) => {
  const rng = new Rng(1);
  const key = 'sk_' + 'live_' + rng.str(30);
  const line = `stripe.key = "${key}" // pushgate:allow rotated already`;
  const [finding] = scanner.scanLine('billing.js', 12, line);
  t.ok(finding);
  t.equal(finding!.ruleId, 'secret.stripe-secret-key');
  t.equal(finding!.line, 12);
  t.equal(finding!.column, line.indexOf(key) + 1);
  t.equal(line.slice(finding!.start, finding!.end), key);
  t.equal(finding!.inlineAllow, true);
  t.equal(finding!.confidence, 'high');
  t.match(finding!.fingerprint, /^[0-9a-f]{16}$/);
  t.equal(scanner.scanLine('billing.js', 12, `stripe.key = "${key}"`)[0]!.inlineAllow, false);
  t.equal(scanner.scanLine('other.js', 1, `k = "${key}"`)[0]!.fingerprint, finding!.fingerprint, 'the fingerprint depends on rule and value only');
});

t.test('private keys', async (t) => {
  const rng = new Rng(2);
  for (const kind of ['', 'RSA', 'EC', 'DSA', 'OPENSSH', 'ENCRYPTED']) {
    const fresh = new SecretScanner();
    t.same(fresh.scanLine('k', 1, pemBegin(kind)), [], `a lone ${kind || 'PKCS#8'} header is no key`);
    const body = rng.str(64, B64);
    const [finding] = fresh.scanLine('k', 2, body);
    t.equal(finding?.ruleId, 'secret.private-key', `${kind || 'PKCS#8'} header, then a body on the next line`);
    t.equal(finding?.confidence, 'high');
    t.equal(finding?.line, 2);
  }
  const fresh = new SecretScanner();
  fresh.scanLine('doc.md', 1, pemBegin('RSA'));
  t.same(fresh.scanLine('doc.md', 2, pemLine('END', 'RSA PRIV' + 'ATE KEY')), [], 'a PEM block with no body');
  fresh.scanLine('a.pem', 1, pemBegin('RSA'));
  t.same(fresh.scanLine('b.pem', 2, rng.str(64, B64)), [], 'the body must follow in the same file');
  fresh.scanLine('c.pem', 1, pemBegin('RSA'));
  fresh.scanLine('c.pem', 2, 'Proc-Type: 4,ENCRYPTED');
  fresh.scanLine('c.pem', 3, 'DEK-Info: AES-128-CBC,' + rng.hex(32).toUpperCase());
  fresh.scanLine('c.pem', 4, '');
  t.same(ids(fresh.scanLine('c.pem', 5, rng.str(64, B64))), ['secret.private-key'], 'encrypted PEM headers before the body');
  const embedded = scanner.scanLine('sa.json', 5, `"private_key": "${pemBegin('')}\\nMIIE${rng.str(200, B64)}\\n${pemLine('END', 'PRIV' + 'ATE KEY')}\\n"`);
  t.same(embedded.map((f) => [f.ruleId, f.confidence]), [['secret.private-key', 'high']]);
  t.same(scanner.scanLine('pem.js', 1, `if (text.startsWith("${pemBegin('RSA')}") && strict) parse(text);`), [], 'a parser naming the marker');
  t.same(scan(`key: '${pemBegin('')}\\nXXXX\\nXXXX\\n${pemLine('END', 'PRIV' + 'ATE KEY')}'`), [], 'placeholder material');
  t.same(scan(`key="${pemBegin('')}\\\\nXXXX\\\\nXXXX\\\\n${pemLine('END', 'PRIV' + 'ATE KEY')}"`), [], 'placeholder material, escaped twice');
  t.same(scanner.scanLine('gen.js', 1, `let pem = '${pemBegin('OPENSSH')}\\n';`), [], 'a generator building the marker');
  t.same(scanner.scanLine('gen.js', 2, `pem += body + '\\n';`), [], 'and what follows it in code');
  t.same(scan(pemLine('BEGIN', 'PUBLIC KEY')), []);
  t.same(scan(pemLine('BEGIN', 'CERTIFICATE')), []);
});

t.test('JWTs must be signed', async (t) => {
  const rng = new Rng(3);
  t.same(scan(`token: ${jwt(rng, { alg: 'ES256' }, { sub: 'a', exp: 2000000000 })}`), ['secret.jwt']);
  t.same(scan(`token: ${jwt(rng, { alg: 'none' }, { sub: 'a' })}`), []);
  t.same(scan(`token: ${jwt(rng, { alg: 'NONE' }, { sub: 'a' })}`), []);
  t.same(scan(`token: ${jwt(rng, { typ: 'JWT' }, { sub: 'a' })}`), [], 'no alg');
  const notJsonPayload = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.eyJ${rng.str(30, B64URL)}.${rng.str(43, B64URL)}`;
  t.same(scan(`token: ${notJsonPayload}`), []);
  const badHeader = `eyJ${rng.str(20, B64URL)}.${Buffer.from('{"a":1}').toString('base64url')}.${rng.str(43, B64URL)}`;
  t.notOk(scan(`const t = '${badHeader}';`).includes('secret.jwt'));
});

t.test('credentials in URLs', async (t) => {
  const rng = new Rng(4);
  const pass = rng.str(16);
  t.same(scan(`url = "postgresql://svc:${pass}@db:5432/x"`), ['secret.database-url']);
  t.same(scan(`https://ci:${pass}@git.corp.internal/a.git`), ['secret.url-credentials']);
  t.same(scan('postgres://admin:admin@localhost/dev'), [], 'password equals user');
  t.same(scan('amqp://guest:guest@localhost:5672'), []);
  t.same(scan('redis://:password@localhost:6379'), [], 'development default');
  t.same(scan('https://user:${TOKEN}@host/x'), [], 'reference');
  t.same(scan('https://user:****@host/x'), [], 'masked');
  t.same(scan(`ftp://anonymous:${pass}@ftp.corp.internal/pub`), [], 'anonymous FTP');
  t.same(scan(`socks://your-name:${pass}@proxy.corp.internal`), [], 'placeholder user');
});

t.test('HTTP Basic and docker auth must decode to user:password', async (t) => {
  const rng = new Rng(5);
  const basic = (value: string): string => `Authorization: Basic ${Buffer.from(value).toString('base64')}`;
  t.same(scan(basic(`svc:${rng.str(18)}`)), ['secret.http-basic-auth']);
  t.same(scan(basic('no colon in this value')), []);
  t.same(scan(basic('user:changeme')), []);
  t.same(scan(`Authorization: Basic ${rng.bytes(30).toString('base64')}`), [], 'binary');
  t.same(scan(`"auth": "${Buffer.from(`ci:${rng.str(24)}`).toString('base64')}"`, 'config.json'), ['secret.docker-config-auth']);
});

t.test('Azure SAS signatures need a SAS query around them', async (t) => {
  const rng = new Rng(6);
  const sig = rng.str(43) + '%3D';
  t.same(scan(`https://a.blob.core.windows.net/c?sv=2021-08-06&se=2030-01-01&sp=r&sig=${sig}`), ['secret.azure-sas-token']);
  t.same(scan(`https://example.org/callback?id=3&sig=${sig}`), []);
});

t.test('generic assignments: names and values', async (t) => {
  const rng = new Rng(8);
  const value = rng.str(24);
  for (const name of ['password', 'DB_PASSWORD', 'apiKey', 'x-api-key', 'client_secret', 'authToken', 'signing_key', 'SECRET_KEY_BASE', 'passphrase']) {
    t.same(scan(`${name} = "${value}"`), ['secret.generic-assignment'], name);
  }
  for (const name of ['password_hash', 'token_url', 'secretName', 'tokenizer', 'publicKey', 'api_key_id', 'passport', 'test_password', 'key', 'monkey', 'auth_method']) {
    t.same(scan(`${name} = "${value}"`), [], name);
  }
  t.same(scan(`password = "${value}`), [], 'unterminated string');
  t.same(scan(`password = "${value}'`), [], 'mismatched quotes');
  t.same(scan(`password = compute(${value})`), [], 'a call');
  t.same(scan(`password = ${value}(x)`), [], 'a call with a random name');
  t.same(scan(`password = a.b.c.d.e.f`), [], 'member access');
  t.same(scan(`const tokenStart = allowPositionInLeadingTrivia ? a : b;`), [], 'an operand');
  t.same(scan(`exports.SOCKS5_AUTH = exports.SOCKS5_CUSTOM_AUTH_END = 3;`), [], 'chained assignment');
  t.same(scan(`password = Socks5AuthMethods`), [], 'a wordy identifier');
  t.same(scan(`token = getHTTPResponseToken`), [], 'a wordy identifier with an acronym');
  t.same(scan(`"auth_hint_here_1007": "${'分析器预期在此处找'}"`), [], 'non-ASCII text');
  t.same(scan(`password = ${'Nir' + 'UANLaKfgsiWnvw'}`, '.env'), ['secret.generic-assignment'], 'a bare jumble');
  t.same(scan(`JWT_SECRET=${rng.hex(64)}`, '.env'), ['secret.generic-assignment'], 'bare hex');
  t.same(scan(`password = /run/secrets/db_pw`), [], 'path');
  t.same(scan(`password = "${rng.uuid()}"`), [], 'UUID');
  t.same(scan(`password = "$2b$10$${rng.str(53)}"`), [], 'bcrypt hash');
  t.same(scan(`password = "SuperLongCamelCaseIdentifierName"`), [], 'camel-case words');
  t.same(scan(`password = "${rng.str(20, 'abcdefghijklmnopqrstuvwxyz')}"`), [], 'lower-case letters only');
  t.same(scan(`password = "qWeRtYuIoPaSdFgH"`), [], 'keyboard placeholder');
  t.same(scan(`password = "${'pQmWzRtL' + 'kBvNcXsY'}"`), ['secret.generic-assignment'], 'mixed case without digits');
  t.same(scan(`password = "${'zXcVbNmA' + 'sDfGhJkL'}"`), [], 'a keyboard walk in mixed case');
  t.same(scan(`password = "${'abc123' + 'xyz789'}"`), [], 'sequential runs');
  t.same(scan(`password = "Zx.Cv"`), [], 'short');
  t.same(scan(`password = "${'ab'.repeat(12)}"`), [], 'low entropy');
});

t.test('lock files only get the exact formats', async (t) => {
  const rng = new Rng(9);
  t.same(scan(`"password": "${rng.str(24)}"`, 'package-lock.json'), [], 'no generic rule');
  t.same(scan(`  resolved "https://ci:${rng.str(24)}@npm.corp.internal/x/-/x-1.0.0.tgz"`, 'yarn.lock'), ['secret.url-credentials']);
  t.same(scan(`"data": "${Buffer.from(`password=${rng.str(20)}`).toString('base64')}"`, 'sub/dir/pnpm-lock.yaml'), [], 'no decoding');
});

t.test('public and example values stay quiet', async (t) => {
  const rng = new Rng(10);
  t.same(scan(`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${rng.str(43, B64)} me@host`), []);
  t.same(scan(`aws_access_key_id = ${'AKIA' + 'IOSFODNN7' + 'EXAMPLE'}`), []);
  t.same(scan(`aws_secret_access_key = ${'wJalrXUtnFEMI/K7MDENG/bPxRfi' + 'CY' + 'EXAMPLEKEY'}`), []);
});

t.test('hashed asset names are file names; a token in a file name is not', async (t) => {
  const rng = new Rng(11);
  t.same(scan(`<link rel="icon" href="/static/ico-${rng.hex(32)}.png">`), [], 'cache-busting icon name');
  t.same(scan(`import "./app.${rng.hex(20)}.js";`), []);
  const token = gh(rng);
  t.notSame(scanner.scanLine('x', 1, `docs/${token}.txt`).length, 0, 'mixed-case token before .txt');
});

t.test('values on the lines after their name', async (t) => {
  const rng = new Rng(12);
  const lines = (path: string, text: string[]): string[] => {
    const fresh = new SecretScanner();
    return text.flatMap((line, index) => ids(fresh.scanLine(path, index + 1, line)));
  };
  const value = rng.str(20);
  t.same(lines('server.xml', ['  <dbPassword>', `    ${value}`, '  </dbPassword>']), ['secret.generic-assignment'], 'XML element value on the next line');
  t.same(lines('server.xml', ['  <entry key="db.password">', `    ${value}`, '  </entry>']), ['secret.generic-assignment'], 'named element');
  t.same(lines('values.yaml', ['api_token: |', `  ${value}`]), ['secret.generic-assignment'], 'YAML block scalar');
  t.same(lines('values.yaml', ['api_token: |', '  changeme-later']), [], 'placeholder in a block scalar');
  t.same(lines('server.xml', ['  <dbPassword>', '    ${DB_PASSWORD}', '  </dbPassword>']), [], 'reference on the next line');
  t.same(lines('server.xml', ['  <description>', `    ${value}`, '  </description>']), [], 'not a secret name');
  const encoded = Buffer.from(rng.str(20)).toString('base64');
  t.same(lines('secret.yaml', ['data:', `  foo: ${encoded}`, 'kind: Secret']), ['secret.kubernetes-secret'], 'any key of a Secret');
  t.same(lines('secret.yaml', ['data:', `  host: ${Buffer.from('db.corp.internal').toString('base64')}`]), [], 'a key that names no secret');
  t.same(lines('secret.yaml', ['data:', `  foo: ${encoded}`, 'metadata:', `  foo: ${encoded}`]), ['secret.kubernetes-secret'], 'the section ends where the indentation does');
  t.same(lines('cm.yaml', ['stringData:', `  token: ${rng.str(24)}`]), ['secret.kubernetes-secret'], 'stringData');
});

t.test('vendor formats found by structure, without a keyword nearby', async (t) => {
  const rng = new Rng(13);
  const snowflake = Buffer.from(rng.digits(18)).toString('base64').replace(/=+$/, '');
  t.same(scan(`login("${snowflake}.${rng.str(6, B64URL)}.${rng.str(38, B64URL)}")`), ['secret.discord-bot-token']);
  const notSnowflake = Buffer.from(rng.str(18)).toString('base64').replace(/=+$/, '');
  t.same(scan(`x("M${notSnowflake.slice(1)}.${rng.str(6, B64URL)}.${rng.str(38, B64URL)}")`), [], 'the first part must decode to a user id');
  t.same(scan(`Client("A${'C'}${rng.hex(32)}", "${rng.hex(32)}")`), ['secret.twilio-credential']);
  t.same(scan(`creds = ["FQoGZXIvY${'XdzE'}${rng.str(200, B64)}"]`), ['secret.aws-session-token'], 'older STS prefix');
});

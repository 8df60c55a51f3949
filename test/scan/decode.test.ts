import t from 'tap';
import { findEncoded } from '../../src/scan/decode.js';
import { SecretScanner } from '../../src/scan/index.js';
import { B64, gh, pemBegin, Rng, slackBot } from './fixtures.js';

const scanner = new SecretScanner();

t.test('base64 values are decoded and scanned once', async (t) => {
  const rng = new Rng(11);
  const token = gh(rng);
  const encoded = Buffer.from(`GITHUB_TOKEN=${token}\n`).toString('base64');
  const line = `  github-token: ${encoded}`;
  const [finding, ...rest] = scanner.scanLine('k8s/secret.yaml', 4, line);
  t.same(rest, []);
  t.equal(finding?.ruleId, 'secret.github-token');
  t.equal(finding?.encoded, 'base64');
  t.equal(line.slice(finding!.start, finding!.end), encoded, 'the span is the encoded value');
  t.notOk(JSON.stringify(finding).includes(token));
  t.notOk(JSON.stringify(finding).includes(encoded));

  const urlSafe = Buffer.from(`slack: ${slackBot(rng)} ??>>`).toString('base64url');
  t.same(scanner.scanLine('a.env', 1, `X=${urlSafe}`).map((f) => [f.ruleId, f.encoded]), [['secret.slack-bot-token', 'base64']]);

  const pem = Buffer.from(`${pemBegin('RSA')}\nMIIE${rng.str(60, B64)}\n`).toString('base64');
  t.same(scanner.scanLine('tls.yaml', 1, `  tls.key: ${pem}`).map((f) => [f.ruleId, f.encoded]), [['secret.private-key', 'base64']]);

  const generic = Buffer.from(`DB_PASSWORD=${rng.str(20)}`).toString('base64');
  t.same(scanner.scanLine('values.yaml', 1, `data: ${generic}`).map((f) => [f.ruleId, f.encoded]), [['secret.generic-assignment', 'base64']]);

  const twice = Buffer.from(encoded).toString('base64');
  t.same(scanner.scanLine('a.yaml', 1, `data: ${twice}`), [], 'not decoded a second time');
});

t.test('a loose guess about an encoded value is checked against its decoded form', async (t) => {
  const rng = new Rng(15);
  const fake = Buffer.from('alice:not my real password').toString('base64');
  t.same(scanner.scanLine('README.md', 1, `  auth: '${fake}',`), [], 'decodes to a placeholder');
  const weak = Buffer.from('supersecret-password').toString('base64');
  t.same(scanner.scanLine('secret.yaml', 1, `  password: ${weak}`), []);
  const real = Buffer.from(rng.str(24)).toString('base64');
  t.same(scanner.scanLine('secret.yaml', 1, `  password: ${real}`).map((f) => [f.ruleId, f.encoded]), [['secret.generic-assignment', undefined]]);
});

t.test('hex values are decoded', async (t) => {
  const rng = new Rng(12);
  const key = 'sk_' + 'live_' + rng.str(32);
  const hex = Buffer.from(key).toString('hex');
  const [finding] = scanner.scanLine('cfg.ini', 1, `blob=${hex}`);
  t.equal(finding?.ruleId, 'secret.stripe-secret-key');
  t.equal(finding?.encoded, 'hex');
});

t.test('binary, digests and short values are not decoded', async (t) => {
  const rng = new Rng(13);
  t.same(findEncoded(`x = "${rng.bytes(64).toString('base64')}"`), [], 'binary base64');
  t.same(findEncoded(`x = "${rng.bytes(32).toString('hex')}"`), [], 'binary hex');
  const text = Buffer.from('password=abcdefghij1234').toString('base64');
  t.same(findEncoded(`integrity sha512-${text}`), [], 'SRI digest');
  t.same(findEncoded(`image@sha256:${text}`), [], 'digest with colon');
  t.same(findEncoded(Buffer.from('short text').toString('base64')), [], 'too short');
  t.same(findEncoded(`${text.slice(0, 20)}+_${text.slice(20)}`), [], 'mixed alphabets');
  t.equal(findEncoded(text).length, 1);
  t.equal(findEncoded(text)[0]!.decoded, 'password=abcdefghij1234');
  t.equal(findEncoded(`${text} ${text}`, text.length).length, 1, 'starts where the caller says');
  t.equal(findEncoded(Array(40).fill(text).join(' ')).length, 16, 'bounded per line');
});

t.test('a value already reported is not decoded again', async (t) => {
  const rng = new Rng(14);
  const header = Buffer.from('{"alg":"HS256"}').toString('base64url');
  const payload = Buffer.from(`{"password":"${rng.str(20)}"}`).toString('base64url');
  const token = `${header}.${payload}.${rng.str(43)}`;
  t.same(scanner.scanLine('a.ts', 1, `const t = '${token}';`).map((f) => f.ruleId), ['secret.jwt']);
});

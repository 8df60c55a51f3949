import t, { type Test } from 'tap';
import { chmodSync, existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loginSettings } from '../../src/cli/login.js';
import { CliError } from '../../src/cli/exit.js';
import { obtainToken, TokenSourceError, type TokenSourceSettings } from '../../src/identity/token-source.js';
import {
  AgentState, CertificateRequestError, defaultStateDir, ensureFreshCertificate, formatAgentSettings, NotLoggedInError, parseAgentSettings,
  renewalDue, renewCertificate, requestCertificate, SettingsError, sshArguments, type AgentSettings,
} from '../../src/issuance/index.js';
import { formatPublicKeyLine, generatePrivateKey, parseCertificateText, signCertificate } from '../../src/sshcert/index.js';
import { tempDir } from '../helpers/tools.js';
import { TestIdp } from '../identity/idp.js';
import { startIssuance } from '../issuance/harness.js';

const idp = await TestIdp.start(t);
const issuance = await startIssuance(t, [idp]);

function secretFile(t: { teardown(fn: () => void): void }, value: string): string {
  const path = join(tempDir(t), 'secret');
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return path;
}

async function sourceError(t: Test, promise: Promise<unknown>, code: TokenSourceError['code'], what: string): Promise<void> {
  await t.rejects(promise, { name: 'TokenSourceError', code }, what);
}

t.test('tokens by every flow', async (t) => {
  const cc: TokenSourceSettings = { flow: 'client-credentials', issuer: idp.issuer, clientId: idp.clients.agent.id, clientSecretFile: secretFile(t, idp.clients.agent.secret), scope: 'git:push' };
  t.match(await obtainToken(cc, { interactive: false }), /^eyJ/);
  t.match(await obtainToken({ ...cc, clientAuth: 'post' }, { interactive: false }), /^eyJ/, 'client_secret_post');
  await sourceError(t, obtainToken({ ...cc, clientSecretFile: secretFile(t, 'wrong') }, { interactive: false }), 'login.idp', 'wrong secret');
  await sourceError(t, obtainToken({ ...cc, clientSecretFile: '/nonexistent/secret' }, { interactive: false }), 'login.secret', 'missing secret file');
  await sourceError(t, obtainToken({ ...cc, clientSecretFile: secretFile(t, 'two words') }, { interactive: false }), 'login.secret', 'not one value');
  await sourceError(t, obtainToken({ ...cc, clientSecretFile: undefined }, { interactive: false }), 'login.settings', 'no secret file');
  await sourceError(t, obtainToken({ ...cc, clientId: undefined }, { interactive: false }), 'login.settings', 'no client id');
  await sourceError(t, obtainToken({ ...cc, issuer: 'http://idp.example.com' }, { interactive: false }), 'login.settings', 'plain http elsewhere');
  await sourceError(t, obtainToken({ ...cc, issuer: 'not a url' }, { interactive: false }), 'login.settings', 'not a URL');
  await sourceError(t, obtainToken({ ...cc, issuer: 'http://127.0.0.1:1' }, { interactive: false }), 'login.unreachable', 'nobody there');

  const device: TokenSourceSettings = { flow: 'device', issuer: idp.issuer, clientId: idp.clients.device.id, scope: 'git:review' };
  await sourceError(t, obtainToken(device, { interactive: false }), 'login.interactive', 'a device login needs a person');
  const prompts: string[] = [];
  const token = await obtainToken(device, {
    interactive: true,
    onDevicePrompt: (prompt) => {
      prompts.push(prompt.userCode);
      void idp.approveDevice(prompt.verificationUriComplete!, 'carol');
    },
  });
  t.equal(prompts.length, 1);
  t.equal(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub, 'carol');
  await sourceError(t, obtainToken({ ...device, clientId: 'no-such-client' }, { interactive: true }), 'login.idp', 'unknown client');

  const file = join(tempDir(t), 'token');
  writeFileSync(file, `${await idp.sign({ sub: 'job-1' })}\n`);
  t.match(await obtainToken({ flow: 'token-file', tokenFile: file }, { interactive: false }), /^eyJ/);
  await sourceError(t, obtainToken({ flow: 'token-file' }, { interactive: false }), 'login.settings', 'no file');

  const actor = join(tempDir(t), 'actor');
  writeFileSync(actor, await idp.sign({ sub: 'dana' }));
  const exchanged = await obtainToken({ ...cc, exchange: true, actorTokenFile: actor, resource: 'urn:pushgate:api' }, { interactive: false });
  t.match(JSON.parse(Buffer.from(exchanged.split('.')[1]!, 'base64url').toString()), { sub: idp.clients.agent.id, act: { sub: 'dana' } });
  const fromFile = await obtainToken({ flow: 'token-file', tokenFile: file, exchange: true, issuer: idp.issuer, clientId: idp.clients.exchanger.id, clientSecretFile: secretFile(t, idp.clients.exchanger.secret) }, { interactive: false });
  t.equal(JSON.parse(Buffer.from(fromFile.split('.')[1]!, 'base64url').toString()).sub, 'job-1', 'a workload token exchanged keeps its subject');
  writeFileSync(actor, 'not-a-token');
  await sourceError(t, obtainToken({ ...cc, exchange: true, actorTokenFile: actor }, { interactive: false }), 'login.idp', 'the IdP refuses a bad actor token');
});

t.test('requesting a certificate', async (t) => {
  const key = formatPublicKeyLine(generatePrivateKey('ed25519').publicKey);
  const token = await idp.sign({ sub: 'req', scope: 'git:push' });
  const issued = await requestCertificate(`${issuance.url}/`, token, key, '2m');
  t.equal(issued.principal, 'req');
  await t.rejects(requestCertificate(issuance.url, 'x.y.z', key), { name: 'CertificateRequestError', code: 'token.invalid', status: 401 });
  await t.rejects(requestCertificate('http://127.0.0.1:1', token, key), { code: 'server.unreachable' });
  await t.rejects(requestCertificate(idp.issuer, token, key), { code: 'server.response' }, 'not a pushgate server');
  const error = new CertificateRequestError('x', 'y');
  t.equal(error.status, undefined);
});

t.test('renewal is due when missing, foreign, or close to expiry', async (t) => {
  const ca = generatePrivateKey('ed25519');
  const user = generatePrivateKey('ed25519');
  const line = formatPublicKeyLine(user.publicKey);
  const cert = (validAfter: number, validBefore: number) => signCertificate({ publicKey: user.publicKey, keyId: 'k', principals: ['p'], validAfter: BigInt(validAfter), validBefore: BigInt(validBefore) }, ca);
  const at = (seconds: number) => new Date(seconds * 1000);
  t.ok(renewalDue(undefined, line));
  const quarter = cert(1000, 1000 + 960);
  t.notOk(renewalDue(quarter, line, at(1000 + 960 - 61)));
  t.ok(renewalDue(quarter, line, at(1000 + 960 - 59)), '60 s before expiry');
  const short = cert(1000, 1100);
  t.notOk(renewalDue(short, line, at(1079)));
  t.ok(renewalDue(short, line, at(1081)), '20% of a short lifetime');
  t.ok(renewalDue(quarter, formatPublicKeyLine(generatePrivateKey('ed25519').publicKey), at(1000)), 'another key');
  t.notOk(renewalDue(quarter, undefined, at(1000)));
});

t.test('the state directory', async (t) => {
  const dir = join(tempDir(t), 'state');
  const state = new AgentState(dir);
  t.equal(state.readSettings(), undefined);
  t.equal(state.readCertificate(), undefined);
  const line = state.ensureKey();
  t.equal(statSync(state.keyPath).mode & 0o777, 0o600);
  t.equal(statSync(dir).mode & 0o777, 0o700);
  t.equal(state.ensureKey(), line, 'the key is made once');
  chmodSync(state.keyPath, 0o644);
  t.equal(state.ensureKey(), line);
  t.equal(statSync(state.keyPath).mode & 0o777, 0o600, 'a readable key is made private again');
  writeFileSync(state.certificatePath, 'garbage');
  t.equal(state.readCertificate(), undefined);
  const settings: AgentSettings = { version: 1, flow: 'token-file', server: 'https://git.example.com', tokenFile: '/run/token', exchange: false };
  state.writeSettings(settings);
  t.same(state.readSettings(), settings);
  t.equal(statSync(state.settingsPath).mode & 0o777, 0o600);

  t.equal(defaultStateDir({ PUSHGATE_HOME: 'rel' }), join(process.cwd(), 'rel'));
  t.match(defaultStateDir({}), /\.pushgate$/);

  const order: string[] = [];
  await Promise.all([
    state.withLock(async () => { order.push('a+'); await new Promise((r) => setTimeout(r, 300)); order.push('a-'); }),
    new Promise((r) => setTimeout(r, 50)).then(() => state.withLock(async () => { order.push('b+'); order.push('b-'); })),
  ]);
  t.same(order, ['a+', 'a-', 'b+', 'b-'], 'one renewal at a time');
  writeFileSync(state.lockPath, '');
  utimesSync(state.lockPath, new Date(0), new Date(0));
  t.equal(await state.withLock(async () => 'taken over'), 'taken over', 'a stale lock is taken over');
  writeFileSync(state.lockPath, '');
  await t.rejects(state.withLock(async () => 'never', { waitMs: 200 }), /another pushgate is renewing/);
  t.ok(existsSync(state.lockPath));
});

t.test('remembered settings are read strictly', async (t) => {
  const good = { version: 1, flow: 'client-credentials', server: 'https://s', issuer: 'https://i', clientId: 'c', clientSecretFile: '/s', clientAuth: 'post', exchange: true };
  t.same(parseAgentSettings(JSON.stringify(good), 'f'), good);
  t.same(parseAgentSettings(formatAgentSettings(good as AgentSettings), 'f'), good);
  for (const bad of ['{', '[]', '{"version":2}', '{"version":1,"flow":"magic"}', '{"version":1,"flow":"device"}',
    '{"version":1,"flow":"device","server":"https://s","clientId":5}', '{"version":1,"flow":"device","server":"https://s","clientAuth":"jwt"}',
    '{"version":1,"flow":"device","server":"https://s","exchange":"yes"}']) {
    t.throws(() => parseAgentSettings(bad, 'f'), SettingsError, bad);
  }
});

t.test('login flags over remembered settings', async (t) => {
  const base = { format: 'text' };
  t.throws(() => loginSettings(undefined, { ...base, server: 'https://s' }), CliError, 'no flow');
  t.throws(() => loginSettings(undefined, { ...base, device: true, tokenFile: 't' }), /choose one way/);
  t.throws(() => loginSettings(undefined, { ...base, tokenFile: 't' }), /--server/);
  t.throws(() => loginSettings(undefined, { ...base, tokenFile: 't', server: 'http://git.example.com' }), /https/);
  t.throws(() => loginSettings(undefined, { ...base, tokenFile: 't', server: 'https://s', ttl: 'soon' }), /--ttl/);
  t.throws(() => loginSettings(undefined, { ...base, device: true, server: 'https://s' }), /--issuer/);
  t.throws(() => loginSettings(undefined, { ...base, tokenFile: 't', server: 'https://s', clientAuth: 'jwt' }), /basic or post/);
  t.throws(() => loginSettings(undefined, { ...base, tokenFile: 't', server: 'https://s', exchange: true }), /--issuer/, 'an exchange needs the issuer');

  const cc = loginSettings(undefined, { ...base, server: 'https://s', issuer: 'https://i', clientId: 'c', clientSecretFile: 'secret', scope: 'git:push', ttl: '10m' });
  t.match(cc, { version: 1, flow: 'client-credentials', clientSecretFile: join(process.cwd(), 'secret'), scope: 'git:push', ttl: '10m' });
  t.same(loginSettings(cc, base), cc, 'a bare login repeats the remembered one');
  t.match(loginSettings(cc, { ...base, scope: 'git:review' }), { flow: 'client-credentials', scope: 'git:review', clientId: 'c' });
  const switched = loginSettings(cc, { ...base, device: true, clientId: 'cli' });
  t.same(switched, { version: 1, flow: 'device', server: 'https://s', issuer: 'https://i', ttl: '10m', clientId: 'cli' }, 'switching flows forgets the secret file');
  t.match(loginSettings(cc, { ...base, actorTokenFile: 'human' }), { exchange: true, actorTokenFile: join(process.cwd(), 'human') });
});

t.test('renewing on behalf of pushgate ssh', async (t) => {
  const state = new AgentState(join(tempDir(t), 'state'));
  await t.rejects(ensureFreshCertificate(state), NotLoggedInError);
  const tokenFile = join(tempDir(t), 'token');
  writeFileSync(tokenFile, await idp.sign({ sub: 'renewer', scope: 'git:push' }));
  state.writeSettings({ version: 1, flow: 'token-file', server: issuance.url, tokenFile, ttl: '10m' });
  const [a, b] = await Promise.all([ensureFreshCertificate(state), ensureFreshCertificate(state)]);
  t.same([a.renewed, b.renewed].sort(), [false, true], 'concurrent callers renew once');
  t.same(await ensureFreshCertificate(state), { renewed: false });
  const cert = state.readCertificate()!;
  t.same(cert.principals, ['renewer']);
  t.equal(Number(cert.validBefore - cert.validAfter), 660, '10m as asked, plus the minute of back-dating');
  const issued = await renewCertificate(state, state.readSettings()!, { interactive: false });
  t.equal(parseCertificateText(readFileSync(state.certificatePath, 'utf8')).serial.toString(), issued.serial);
});

t.test('the ssh command line', async (t) => {
  const state = new AgentState('/home/a b/.pushgate');
  t.same(sshArguments(state, ['-p', '22', 'git@h', "git-upload-pack 'x'"], { PUSHGATE_SSH_OPTIONS: ' -o  A=b  -v ' }), [
    '-o', 'IdentitiesOnly=yes', '-o', 'IdentityFile="/home/a b/.pushgate/id_ed25519"', '-o', 'CertificateFile="/home/a b/.pushgate/id_ed25519-cert.pub"',
    '-o', 'A=b', '-v', '-p', '22', 'git@h', "git-upload-pack 'x'",
  ]);
  t.same(sshArguments(new AgentState('/s'), ['h'], {}).slice(-1), ['h']);
});

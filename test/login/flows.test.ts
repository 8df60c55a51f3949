import t from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseCertificateText } from '../../src/sshcert/index.js';
import { rolesFromExtensions, sponsorFromExtensions } from '../../src/identity/index.js';
import { TestIdp } from '../identity/idp.js';
import { Agent, sleep, startServe } from './harness.js';

const idp = await TestIdp.start(t);
const serve = await startServe(t, idp, {
  repos: ['team/app'],
  // A tight validity tolerance, so an expired certificate is refused within seconds.
  configure: (server) => server.setConfig(['ca', 'clockSkew'], '1s'),
});

function certOf(agent: Agent): ReturnType<typeof parseCertificateText> {
  return parseCertificateText(readFileSync(`${agent.stateDir}/id_ed25519-cert.pub`, 'utf8'));
}

function issuesFor(principal: string): number {
  return serve.audit().filter((l) => l.type === 'cert.issue' && l.identity?.principal === principal).length;
}

t.test('client credentials: login, then git push through pushgate ssh', async (t) => {
  const agent = new Agent(t, serve, 'ci');
  const login = await agent.loginAsClient(idp);
  t.equal(login.status, 0, login.stderr);
  t.match(login.stdout, `pushgate: logged in as ${idp.clients.agent.id}`);
  t.match(login.stdout, /roles +agent/);
  t.match(login.stdout, /valid until +\d{4}-\d\d-\d\dT/);
  t.match(login.stdout, 'git config core.sshCommand "pushgate ssh"');

  t.equal(statSync(`${agent.stateDir}/id_ed25519`).mode & 0o777, 0o600, 'the key is private');
  const settings = readFileSync(`${agent.stateDir}/login.json`, 'utf8');
  t.match(JSON.parse(settings), { flow: 'client-credentials', server: serve.httpUrl, issuer: idp.issuer, clientId: idp.clients.agent.id, clientSecretFile: `${agent.home}/client-secret`, scope: 'git:push' });
  t.notMatch(settings, idp.clients.agent.secret, 'the secret itself is not written');
  const cert = certOf(agent);
  t.same(cert.principals, [idp.clients.agent.id]);
  t.same(rolesFromExtensions(cert.extensions), ['agent']);

  agent.probe = true;
  const first = await agent.cloneCommitPush('team/app', 'feature-cc', 'feature-cc.txt', true);
  t.equal(first.push.status, 0, first.push.stderr);
  const pushedWith = serve.audit().filter((l) => l.type === 'ssh.auth' && l.identity?.certSerial === cert.serial.toString());
  t.ok(pushedWith.length > 0, 'the gateway authenticated the issued certificate');

  const second = await agent.cloneCommitPush('team/app', 'feature-cc', 'more.txt');
  t.equal(second.push.status, 0, second.push.stderr);
  t.equal(certOf(agent).serial, cert.serial, 'a fresh certificate is not renewed');
  t.equal(issuesFor(idp.clients.agent.id), 1);
});

t.test('device flow: the user step done at the IdP, then a push', async (t) => {
  const agent = new Agent(t, serve, 'reviewer');
  const login = agent.loginAsync(t, ['--server', serve.httpUrl, '--issuer', idp.issuer, '--client-id', idp.clients.device.id, '--device', '--scope', 'git:review']);
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (url === undefined && Date.now() < deadline) {
    url = /open (http:\/\/\S+user_code=\S+)/.exec(login.stderr())?.[1];
    if (url === undefined) await sleep(50);
  }
  t.ok(url, `the verification URL is printed:\n${login.stderr()}`);
  t.match(login.stderr(), /enter the code [A-Z]{4}-[A-Z]{4}/);
  await idp.approveDevice(url!, 'alice');
  const done = await login.done;
  t.equal(done.status, 0, done.stderr);
  t.match(done.stdout, 'logged in as alice');
  t.match(done.stdout, /roles +reviewer/);
  t.match(JSON.parse(readFileSync(`${agent.stateDir}/login.json`, 'utf8')), { flow: 'device', clientId: idp.clients.device.id });
  const { push } = await agent.cloneCommitPush('team/app', 'feature-device');
  t.equal(push.status, 0, push.stderr);
});

t.test('a device login cannot renew silently: pushgate ssh says what to do and exits 255', async (t) => {
  const agent = new Agent(t, serve, 'person');
  const login = agent.loginAsync(t, ['--server', serve.httpUrl, '--issuer', idp.issuer, '--client-id', idp.clients.device.id, '--device', '--scope', 'git:review', '--ttl', '5s']);
  let url: string | undefined;
  for (let i = 0; i < 600 && url === undefined; i += 1) {
    url = /open (http:\/\/\S+user_code=\S+)/.exec(login.stderr())?.[1];
    if (url === undefined) await sleep(50);
  }
  await idp.approveDevice(url!, 'bob');
  t.equal((await login.done).status, 0);
  // A 5 s certificate is due for renewal at once (the margin is 20% of its lifetime).
  const ssh = await agent.pushgate(['ssh', '-p', String(serve.sshPort), 'git@127.0.0.1', "git-upload-pack '/team/app.git'"]);
  t.equal(ssh.status, 255);
  t.match(ssh.stderr, 'run `pushgate login --device` again');
  const clone = await agent.git(['clone', '-q', serve.repoUrl('team/app'), `${agent.home}/clone`]);
  t.not(clone.status, 0);
  t.match(clone.stderr, 'pushgate login --device', 'git shows the message');
});

t.test('token file: a workload token on disk, re-read at every renewal', async (t) => {
  const agent = new Agent(t, serve, 'workload');
  const tokenFile = `${agent.home}/token`;
  writeFileSync(tokenFile, await idp.sign({ sub: 'system:serviceaccount:ci:builder', scope: 'git:push' }));
  const login = await agent.pushgate(['login', '--server', serve.httpUrl, '--token-file', tokenFile, '--format', 'json']);
  t.equal(login.status, 0, login.stderr);
  const summary = JSON.parse(login.stdout) as { principal: string; roles: string[]; sshCommand: string };
  t.equal(summary.principal, 'system:serviceaccount:ci:builder');
  t.same(summary.roles, ['agent']);
  t.equal(summary.sshCommand, 'pushgate ssh');
  const { push } = await agent.cloneCommitPush('team/app', 'feature-token-file');
  t.equal(push.status, 0, push.stderr);

  // The platform rotates the token; the next renewal presents the new one.
  writeFileSync(tokenFile, await idp.sign({ sub: 'system:serviceaccount:ci:deployer', scope: 'git:push' }));
  writeFileSync(`${agent.stateDir}/id_ed25519-cert.pub`, '');
  const again = await agent.cloneCommitPush('team/app', 'feature-token-file', 'second.txt');
  t.equal(again.push.status, 0, again.push.stderr);
  t.same(certOf(agent).principals, ['system:serviceaccount:ci:deployer']);
  t.notMatch(readFileSync(`${agent.stateDir}/login.json`, 'utf8'), /eyJ/, 'the token is not copied into the settings');
});

t.test('token exchange: the sponsoring human travels into the certificate', async (t) => {
  const agent = new Agent(t, serve, 'sponsored');
  const actorFile = `${agent.home}/human-token`;
  writeFileSync(actorFile, await idp.sign({ sub: 'alice@example.test', scope: 'git:review' }));
  const login = await agent.loginAsClient(idp, ['--actor-token-file', actorFile, '--format', 'json']);
  t.equal(login.status, 0, login.stderr);
  t.match(JSON.parse(login.stdout), { principal: idp.clients.agent.id, sponsor: 'alice@example.test' });
  t.equal(sponsorFromExtensions(certOf(agent).extensions), 'alice@example.test');
  const { push } = await agent.cloneCommitPush('team/app', 'feature-sponsored');
  t.equal(push.status, 0, push.stderr);
  const end = serve.audit().find((l) => l.type === 'ssh.session-end' && l.identity?.sponsor === 'alice@example.test');
  t.ok(end, 'the gateway records the sponsor with the push');
});

t.test('a certificate expires mid-task and pushgate ssh renews it transparently', async (t) => {
  const agent = new Agent(t, serve, 'short');
  const login = await agent.loginAsClient(idp, ['--ttl', '5s']);
  t.equal(login.status, 0, login.stderr);
  const expiring = certOf(agent);
  const before = issuesFor(idp.clients.agent.id);

  const waitMs = Number(expiring.validBefore) * 1000 + 2500 - Date.now();
  await sleep(Math.max(0, waitMs));
  const raw = await agent.git(['ls-remote', serve.repoUrl('team/app')], undefined, {
    GIT_SSH_COMMAND: `ssh ${agent.env().PUSHGATE_SSH_OPTIONS} -o IdentitiesOnly=yes -o IdentityFile=${agent.stateDir}/id_ed25519 -o CertificateFile=${agent.stateDir}/id_ed25519-cert.pub`,
  });
  t.not(raw.status, 0, 'plain ssh with the expired certificate is refused');

  const { push } = await agent.cloneCommitPush('team/app', 'feature-renewed');
  t.equal(push.status, 0, push.stderr);
  const renewed = certOf(agent);
  t.not(renewed.serial, expiring.serial, 'a new certificate');
  t.ok(renewed.validBefore > expiring.validBefore);
  t.ok(issuesFor(idp.clients.agent.id) > before, 'issued by the server');
  const usedBy = (serial: bigint): boolean => serve.audit().some((l) => l.type === 'ssh.auth' && l.result === 'ok' && l.identity?.certSerial === serial.toString());
  t.ok(usedBy(renewed.serial), 'the push logged in with the renewed certificate');
});

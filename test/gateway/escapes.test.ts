/**
 * Text that comes from a client or a certificate (key ids, login names,
 * command lines, principals) reaches no one with its control characters:
 * not the client's terminal, not the operator log, not the hooks' environment.
 */
import t from 'tap';
import { join } from 'node:path';
import { hasControl } from '../../src/text/index.js';
import { run, tempDir } from '../helpers/tools.js';
import { SshUser, startGateway } from './harness.js';

const ESC = '\u001b';
const OSC52 = `${ESC}]52;c;cHduZWQ=\u0007`;
const CSI_C1 = '\u009b2J';
const RLO = '\u202e';

const gateway = await startGateway(t, {
  repos: ['team/app'],
  configure(server) {
    server.setConfig(['log', 'level'], 'debug');
  },
});
gateway.seed('team/app');

t.test('a key id with escape sequences reaches the hooks escaped', async (t) => {
  const probe = gateway.createProbeRepo('team/probe');
  const keyId = `laptop${OSC52}${ESC}[8mhidden${CSI_C1}${RLO}`;
  const user = new SshUser(gateway, 'keyid').sign({ keyId });
  const work = join(tempDir(t), 'w');
  run('git', ['init', '-q', '--initial-branch=main', work]);
  run('git', ['-C', work, '-c', 'user.name=k', '-c', 'user.email=k@example.test', 'commit', '-q', '--allow-empty', '-m', 'x']);
  user.git(['push', gateway.url('team/probe'), 'HEAD:refs/heads/main'], { cwd: work });
  const env = probe.env();
  t.ok(env.PUSHGATE_KEY_ID, 'the hook saw the key id');
  t.notOk(hasControl(env.PUSHGATE_KEY_ID!), `no control character left: ${JSON.stringify(env.PUSHGATE_KEY_ID)}`);
  t.match(env.PUSHGATE_KEY_ID, '\\e]52;c;cHduZWQ=\\x07', 'shown as visible escapes');
  t.match(env.PUSHGATE_KEY_ID, '\\x9b2J');
  t.match(env.PUSHGATE_KEY_ID, '\\u{202e}');
});

t.test('a command line with reordering or C1 controls is refused without echoing them', async (t) => {
  const user = new SshUser(gateway, 'cmd').sign();
  for (const command of [`git-upload-pack 'team/app${RLO}ppa'`, `git-upload-pack 'team/${CSI_C1}app'`, `${ESC}]52;c;eA==\u0007 'x'`]) {
    const result = user.ssh([command]);
    t.equal(result.status, 1);
    t.match(result.stderr, /pushgate: the command contains control characters/);
    t.notOk(hasControl(result.stderr.replace(/\n$/, '')), `nothing raw reaches the client: ${JSON.stringify(result.stderr)}`);
  }
});

t.test('a login name with C1 and reordering controls is recorded escaped', async (t) => {
  // OpenSSH itself refuses C0 controls in a login name; C1 and bidi controls pass.
  const user = new SshUser(gateway, 'login').sign({ keyId: 'login-escape' });
  const result = user.ssh(['true'], { user: `x${CSI_C1}${RLO}y` });
  t.equal(result.status, 255);
  const refusal = await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.identity?.keyId === 'login-escape' && l.code === 'auth.user');
  t.notOk(hasControl(refusal.reason ?? ''), JSON.stringify(refusal.reason));
  t.match(refusal.reason, 'x\\x9b2J\\u{202e}y');
});

t.test('a principal with a bidi override or an invisible character is refused', async (t) => {
  for (const [index, principal] of [`adm${RLO}nimda`, 'al\u200bice'].entries()) {
    const user = new SshUser(gateway, `invisible${index}`).sign({ principals: [principal], keyId: `invisible-${index}` });
    const result = user.git(['ls-remote', gateway.url('team/app')]);
    t.not(result.status, 0);
    const refusal = await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.identity?.keyId === `invisible-${index}`);
    t.equal(refusal.code, 'cert.principal');
  }
});

t.test('the operator log (debug level) holds no raw control character', async (t) => {
  t.ok(gateway.stderr.length > 0, 'the operator log wrote something');
  const lines = gateway.stderr.split('\n');
  const raw = lines.filter((line) => hasControl(line.replace(/\r$/, '')));
  t.same(raw, [], 'every line is free of control characters');
});

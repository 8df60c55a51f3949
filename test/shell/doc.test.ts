import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseKey, clientAddressOf, publicKeysOf, queueInvocation } from '../../src/shell/index.js';
import { parseConfig } from '../../src/config/index.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { documentedSnippet, renderSnippet, SSHD } from './sshd.js';

t.test('docs/sshd.md carries every directive pushgate shell relies on', async (t) => {
  const lines = documentedSnippet().split('\n').map((l) => l.trim());
  for (const directive of [
    'PermitUserEnvironment no', 'Match User git', 'ExposeAuthInfo yes', 'PermitTTY no', 'AllowTcpForwarding no', 'X11Forwarding no',
    'AcceptEnv GIT_PROTOCOL', 'TrustedUserCAKeys /etc/pushgate/ca.pub', 'AuthorizedKeysFile none',
    'ForceCommand /usr/local/bin/pushgate shell --config /etc/pushgate/pushgate.yaml',
    'AuthorizedPrincipalsCommand /usr/local/bin/pushgate shell principals --config /etc/pushgate/pushgate.yaml %u %t %k',
  ]) {
    t.ok(lines.includes(directive), directive);
  }
  t.ok(lines.indexOf('PermitUserEnvironment no') < lines.indexOf('Match User git'), 'the global setting comes before the Match block');
});

t.test('sshd -t accepts the documented snippet as it stands', async (t) => {
  requireTool(SSHD, 'openssh-server');
  const dir = tempDir(t);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
  const config = join(dir, 'sshd_config');
  const text = renderSnippet({ user: 'root', pushgate: '/usr/local/bin/pushgate', config: '/etc/pushgate/pushgate.yaml', caPub: '/etc/pushgate/ca.pub' });
  writeFileSync(config, `HostKey ${join(dir, 'host')}\n${text}`);
  const checked = spawnSync(SSHD, ['-t', '-f', config], { encoding: 'utf8' });
  t.equal(checked.status, 0, checked.stderr);
  const effective = spawnSync(SSHD, ['-T', '-f', config, '-C', 'user=root,host=client,addr=127.0.0.1'], { encoding: 'utf8' });
  t.match(effective.stdout, /^forcecommand \/usr\/local\/bin\/pushgate shell --config \/etc\/pushgate\/pushgate\.yaml$/m);
  t.match(effective.stdout, /^exposeauthinfo yes$/m);
  t.match(effective.stdout, /^permittty no$/m);
  t.match(effective.stdout, /^acceptenv GIT_PROTOCOL$/m);
});

t.test('renderSnippet notices when the documentation drifts', async (t) => {
  const values = { user: 'x', pushgate: '/p', config: '/c', caPub: '/a' };
  t.throws(() => renderSnippet(values, 'Match User git\n    ForceCommand /usr/local/bin/pushgate shell\n'), /docs\/sshd\.md no longer matches/);
  t.match(renderSnippet(values), /^\s*ForceCommand \/p shell --config \/c$/m);
});

t.test('the pieces: auth info lines, client address, queue invocation', async (t) => {
  t.same(publicKeysOf('password\npublickey\npublickey ssh-ed25519\n\n'), []);
  t.match(chooseKey([]), { ok: false, code: 'shell.no-certificate' });
  t.equal(clientAddressOf('192.0.2.1 4 192.0.2.2 22'), '192.0.2.1');
  t.equal(clientAddressOf('2001:db8::1 4 2001:db8::2 22'), '2001:db8::1');
  t.equal(clientAddressOf(undefined), undefined);
  t.equal(clientAddressOf('  '), undefined);
  const config = parseConfig('ca:\n  trusted: [ca.pub]\n  key: null\n', { file: '/etc/pushgate/pushgate.yaml' });
  t.same(queueInvocation(['list'], config, '/bin/pushgate.js'), { command: process.execPath, args: ['/bin/pushgate.js', 'queue', 'list', '--config', '/etc/pushgate/pushgate.yaml'] });
});

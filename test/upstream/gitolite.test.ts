/**
 * Upstream mode in front of gitolite3 over SSH: pushgate forwards with its
 * deploy key (RW+ in gitolite.conf) against the upstream's pinned host key; a
 * gitolite VREF plays the upstream's own refusal; "directly upstream" is a
 * developer's push with a key of their own. Then `pushgate upstream check`
 * against the same server: it passes, and names a changed host key and a key
 * gitolite does not know as such.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { pushgateCli } from '../helpers/git-server.js';
import { run, tempDir } from '../helpers/tools.js';
import { startGitoliteUpstream } from '../helpers/upstream-gitolite.js';
import { SCENARIO_REPOS, upstreamScenarios } from '../helpers/upstream-scenarios.js';
import { serverFixture } from '../helpers/upstream-server.js';

const gitolite = await startGitoliteUpstream(t);
gitolite.createRepos(...SCENARIO_REPOS);
const gateway = await upstreamScenarios(t, serverFixture(t, 'gitolite', gitolite, { sshKeyFile: gitolite.sshKeyFile, knownHostsFile: gitolite.knownHostsFile }));

t.test('pushgate upstream check: passes against gitolite, and says what is wrong with a host key or a deploy key', async (t) => {
  const { server } = gateway;
  const check = (): { status: number; out: string } => {
    const ran = pushgateCli(['upstream', 'check', 'up', '--repo', 'team/clone', '--write', '--config', server.configPath]);
    return { status: ran.status, out: `${ran.stdout}${ran.stderr}` };
  };
  const good = check();
  t.equal(good.status, 0, good.out);
  t.match(good.out, /up: ok write: a dry-run push to team\/clone was accepted/);

  const dir = tempDir(t, 'pushgate-check-');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not-in-gitolite', '-f', join(dir, 'other')]);
  const [type, blob] = readFileSync(join(dir, 'other.pub'), 'utf8').trim().split(/\s+/);
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${gitolite.port} ${type} ${blob}\n`);
  server.setConfig(['upstreams', 0, 'knownHostsFile'], join(dir, 'known_hosts'));
  const impostor = check();
  t.equal(impostor.status, 1, impostor.out);
  t.match(impostor.out, /up: FAILED reach: the upstream's host key is not the one in knownHostsFile/);
  server.setConfig(['upstreams', 0, 'knownHostsFile'], gitolite.knownHostsFile);

  server.setConfig(['upstreams', 0, 'sshKeyFile'], join(dir, 'other'));
  const unknown = check();
  t.equal(unknown.status, 1, unknown.out);
  t.match(unknown.out, /up: FAILED reach: the upstream refused pushgate's credential/);
  server.setConfig(['upstreams', 0, 'sshKeyFile'], gitolite.sshKeyFile);
});

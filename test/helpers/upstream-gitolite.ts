/**
 * A real gitolite3 upstream for the tests: gitolite set up in a temporary
 * HOME (no system account), behind a throw-away OpenSSH sshd on a loopback
 * port. Login is the current user (the only one an unprivileged sshd can log
 * in, and root's own account when the tests run as root); sshd's `SetEnv HOME`
 * points gitolite at the temporary HOME, and the `command=` lines gitolite
 * itself writes into that HOME's authorized_keys (read through an absolute
 * `AuthorizedKeysFile`) decide who is who: `admin` (manages gitolite-admin),
 * `pushgate` (the deploy key handed to pushgate) and `direct` (someone pushing
 * straight to the upstream).
 *
 * Repositories are created the gitolite way, by the admin pushing
 * conf/gitolite.conf; each gets `RW+` for pushgate and direct, and a VREF
 * (`REFUSE`, gitolite's per-ref hook mechanism) that refuses with a text while
 * a file names one — so a test switches an upstream-side refusal on and off
 * without another admin push.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { Daemon, type Teardown } from './daemon.js';
import { freePort, requireTool, run, tempDir } from './tools.js';
import { DirectClone, type UpstreamServer } from './upstream-server.js';
import { UpstreamRepos } from './upstream-sshd.js';

export const SSHD = '/usr/sbin/sshd';

export interface GitoliteUpstream extends UpstreamServer {
  dir: string;
  port: number;
  /** The deploy key pushgate forwards with (private key file; `.pub` beside it). */
  sshKeyFile: string;
  /** One `[127.0.0.1]:PORT ssh-ed25519 …` line: the upstream's host key. */
  knownHostsFile: string;
  /** The OpenSSH command line (for GIT_SSH_COMMAND) that logs in with one of the keys. */
  sshCommand(key: 'admin' | 'pushgate' | 'direct'): string;
  /** The gitolite log (who pushed what, and what was denied). */
  log(): string;
}

/** The VREF: prints `VREF/REFUSE <text>` (a deny with that message) while $HOME/refuse/<repo> exists. */
const REFUSE_VREF = `#!/bin/sh
# gitolite VREF arguments: ref old new oldtree newtree access refex
f="$HOME/refuse/$GL_REPO"
if [ -f "$f" ]; then
  printf '%s %s\\n' "$7" "$(cat "$f")"
fi
exit 0
`;

function sshCommandFor(key: string, knownHosts: string): string {
  return ['ssh', '-F', '/dev/null', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR'].join(' ');
}

export async function startGitoliteUpstream(t: Teardown): Promise<GitoliteUpstream> {
  requireTool(SSHD, 'openssh-server');
  requireTool('ssh', 'openssh-client');
  requireTool('ssh-keygen', 'openssh-client');
  requireTool('gitolite', 'gitolite3');
  requireTool('git', 'git');
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = tempDir(t, 'pushgate-gitolite-');
  const home = join(dir, 'home');
  const keys = join(dir, 'keys');
  mkdirSync(home);
  mkdirSync(keys);
  for (const name of ['admin', 'pushgate', 'direct', 'host']) run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `gitolite-${name}`, '-f', join(keys, name)]);

  // gitolite's own environment: its HOME, nothing of the test's git settings.
  const glEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C' };
  run('gitolite', ['setup', '-pk', join(keys, 'admin.pub')], { env: glEnv });
  // After setup: gitolite-admin itself must stay on master, where gitolite reads it from.
  writeFileSync(join(home, '.gitconfig'), '[init]\n\tdefaultBranch = main\n');
  const rcFile = join(home, '.gitolite.rc');
  const rc = readFileSync(rcFile, 'utf8');
  const local = rc.replace(/^(\s*)# (LOCAL_CODE\s*=>\s*"\$ENV\{HOME\}\/local",)$/m, '$1$2');
  if (local === rc) throw new Error(`gitolite's .gitolite.rc has no commented LOCAL_CODE line to enable:\n${rc}`);
  writeFileSync(rcFile, local);
  mkdirSync(join(home, 'local', 'VREF'), { recursive: true });
  writeFileSync(join(home, 'local', 'VREF', 'REFUSE'), REFUSE_VREF, { mode: 0o755 });

  const port = await freePort();
  const user = userInfo().username;
  const sshdDir = join(dir, 'sshd');
  mkdirSync(sshdDir);
  const config = join(sshdDir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(keys, 'host')}`,
    `PidFile ${join(sshdDir, 'sshd.pid')}`,
    // gitolite maintains this file: one command="…gitolite-shell NAME" line per key.
    `AuthorizedKeysFile ${join(home, '.ssh', 'authorized_keys')}`,
    `SetEnv HOME=${home}`,
    `AllowUsers ${user}`,
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'DisableForwarding yes',
    'PermitTTY no',
    'PermitUserRC no',
    'LogLevel VERBOSE',
    '',
  ].join('\n'));
  run(SSHD, ['-t', '-f', config]);
  const sshd = new Daemon({
    name: 'sshd (gitolite upstream)',
    command: SSHD,
    args: ['-D', '-e', '-f', config],
    ready: (output) => output.includes(`Server listening on 127.0.0.1 port ${port}`),
  });
  t.teardown(() => sshd.stop());
  await sshd.start();

  const [type, blob] = readFileSync(join(keys, 'host.pub'), 'utf8').trim().split(/\s+/);
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${type} ${blob}\n`);
  const sshCommand = (key: 'admin' | 'pushgate' | 'direct'): string => sshCommandFor(join(keys, key), knownHostsFile);
  const urlTemplate = `ssh://${user}@127.0.0.1:${port}/{repo}.git`;
  const url = (repo: string): string => urlTemplate.replace('{repo}', repo);

  const admin = join(dir, 'gitolite-admin');
  const adminEnv = { ...process.env, GIT_SSH_COMMAND: sshCommand('admin') };
  run('git', ['clone', '--quiet', url('gitolite-admin'), admin], { env: adminEnv });
  run('git', ['-C', admin, 'config', 'user.name', 'Gitolite Admin']);
  run('git', ['-C', admin, 'config', 'user.email', 'admin@example.test']);
  for (const name of ['pushgate', 'direct']) writeFileSync(join(admin, 'keydir', `${name}.pub`), readFileSync(join(keys, `${name}.pub`)));

  return {
    repos: new UpstreamRepos(join(home, 'repositories')),
    dir,
    port,
    sshKeyFile: join(keys, 'pushgate'),
    knownHostsFile,
    urlTemplate,
    url,
    sshCommand,
    createRepos(...names: string[]): void {
      const conf = join(admin, 'conf', 'gitolite.conf');
      const stanzas = names.map((name) => `\nrepo ${name}\n    RW+ = pushgate direct\n    - VREF/REFUSE = @all\n`).join('');
      writeFileSync(conf, readFileSync(conf, 'utf8') + stanzas);
      run('git', ['-C', admin, 'add', '-A']);
      run('git', ['-C', admin, 'commit', '--quiet', '-m', `add ${names.join(', ')}`]);
      run('git', ['-C', admin, 'push', '--quiet', 'origin', 'HEAD'], { env: adminEnv });
    },
    setRefusingHook(repo: string, text: string | undefined): void {
      const file = join(home, 'refuse', repo);
      if (text === undefined) {
        rmSync(file, { force: true });
        return;
      }
      // gitolite passes a VREF's message on as the rest of one output line.
      if (/[\r\n]/.test(text)) throw new Error('a gitolite VREF refusal is one line');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    },
    directClone: (t: Teardown, repo: string) => DirectClone.cloneWith(t, url(repo), { GIT_SSH_COMMAND: sshCommand('direct') }),
    log(): string {
      const logs = join(home, '.gitolite', 'logs');
      return run('sh', ['-c', 'cat "$1"/*.log 2>/dev/null || true', 'sh', logs]);
    },
    stop: () => sshd.stop(),
    start: () => sshd.start(),
  };
}

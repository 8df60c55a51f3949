/**
 * Cases the gateway and sshd front ends are both held to, written once so
 * the two suites cannot drift apart.
 */
import type { Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushgateResult, type TestServer } from './git-server.js';
import type { CertifiedSshClient } from './ssh-client.js';
import { run, tempDir } from './tools.js';

/**
 * The server of the refusal suites: a KRL (ca.krl) revoking serial 999, and
 * access rules that let agents read and write team/** and only `boss` read
 * secret/**. Returns the KRL's path.
 */
export function configureRefusalCases(server: TestServer): string {
  const krl = join(server.dir, 'revoked.krl');
  writeFileSync(join(server.dir, 'revoked-serials'), 'serial: 999\n');
  run('ssh-keygen', ['-q', '-k', '-f', krl, '-s', join(server.dir, 'ca.pub'), join(server.dir, 'revoked-serials')]);
  server.setConfig(['ca', 'krl'], krl);
  server.setConfig(['access'], [
    { repos: ['team/**'], roles: ['agent'], permissions: ['read', 'write'] },
    { repos: ['secret/**'], principals: ['boss'], permissions: ['read'] },
  ]);
  return krl;
}

/** `user` force-pushes main of `url`: the hook denies it with ref.force-push, the client sees why, and main does not move. */
export function forcePushIsDenied(t: Test, user: CertifiedSshClient, url: string): void {
  const work = join(tempDir(t), 'work');
  t.equal(user.git(['clone', '-q', url, work]).status, 0);
  const before = user.git(['rev-parse', 'origin/main'], { cwd: work }).stdout.trim();
  user.git(['reset', '-q', '--hard', 'HEAD~1'], { cwd: work });
  user.git(['commit', '-q', '--allow-empty', '-m', 'rewrite'], { cwd: work });
  const pushed = user.git(['push', '--force', 'origin', 'HEAD:main'], { cwd: work });
  t.not(pushed.status, 0);
  const result = pushgateResult(pushed.stderr);
  t.ok(result, pushed.stderr);
  t.equal(result?.decision, 'deny');
  t.match(result?.findings, [{ rule: 'ref.force-push' }]);
  t.equal(user.git(['ls-remote', url, 'refs/heads/main']).stdout.split('\t')[0], before, 'main did not move');
}

import t, { type Test } from 'tap';
import { join } from 'node:path';
import { configureSigning } from '../../src/cli/signing.js';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

// Signed commits through real pushes: signatures made by git through ssh-keygen -Y sign (gpg.format=ssh), verified by the hook with ssh-keygen -Y verify.
requireTool('ssh-keygen', 'openssh-client');
const server = testServer(t);
const remote = server.createRepo('team/signed');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0, 'initial push allowed');
server.setConfig(['policy', 'commit', 'signature'], [{ refs: ['refs/heads/main'] }]);

const keys = tempDir(t, 'pushgate-signing-');
/** A key and a certificate for it, from `ca`, for `principal`, valid over `validity` (ssh-keygen -V). */
function certified(name: string, ca: string, principal: string, validity: string): string {
  const key = join(keys, name);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  run('ssh-keygen', ['-q', '-s', ca, '-I', `${name}-id`, '-n', principal, '-V', validity, `${key}.pub`]);
  return `${key}-cert.pub`;
}
const rogueCa = join(keys, 'rogue-ca');
run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', rogueCa]);
const serverCa = join(server.dir, 'ca');
const alice = certified('alice', serverCa, 'alice', '-5m:+1h');
const bob = certified('bob', serverCa, 'bob', '-5m:+1h');
const rogue = certified('rogue', rogueCa, 'alice', '-5m:+1h');
const expired = certified('expired', serverCa, 'alice', '20200101:20200102');
const asAlice = { PUSHGATE_PRINCIPAL: 'alice', PUSHGATE_ROLES: 'agent' };

function signedCommit(certificate: string | null, message: string): string {
  const sign = certificate === null ? ['-c', 'commit.gpgSign=false'] : ['-c', 'gpg.format=ssh', '-c', `user.signingKey=${certificate}`, '-c', 'commit.gpgSign=true'];
  work.git(...sign, 'commit', '--quiet', '--allow-empty', '-m', message);
  return work.git('rev-parse', 'HEAD').trim();
}
function refusedWith(t: Test, rule: string, commit: string): void {
  const pushed = work.push(['origin', 'main'], asAlice);
  t.equal(pushed.result?.decision, 'deny', pushed.output);
  t.same(pushed.result?.findings.map((f) => f.rule), [rule]);
  t.match(pushed.result?.findings, [{ commit, ref: 'refs/heads/main' }]);
  work.git('reset', '--quiet', '--hard', 'origin/main');
}

t.test('a commit signed with the pusher\'s certificate, as pushgate login --configure-signing sets it up, is accepted', async (t) => {
  const set = configureSigning(work.path, alice);
  t.match(set.join('\n'), /gpg\.format ssh[\s\S]*user\.signingKey [\s\S]*commit\.gpgSign true/);
  t.equal(work.git('config', 'user.signingKey').trim(), alice);
  work.commit('signed by alice');
  t.match(work.git('cat-file', 'commit', 'HEAD'), /^gpgsig -----BEGIN SSH SIGNATURE-----/m, 'git signed it through ssh-keygen');
  const pushed = work.push(['origin', 'main'], asAlice);
  t.equal(pushed.code, 0, pushed.output);
  t.same(pushed.result?.findings, []);
  work.git('config', '--unset', 'commit.gpgSign');
});

t.test('an unsigned commit is refused', async (t) => {
  refusedWith(t, 'commit.signature.missing', signedCommit(null, 'unsigned'));
});

t.test('a commit signed with a certificate from an untrusted CA is refused', async (t) => {
  refusedWith(t, 'commit.signature.untrusted', signedCommit(rogue, 'rogue CA'));
});

t.test('a commit signed with a plain key (no certificate) is refused as untrusted', async (t) => {
  refusedWith(t, 'commit.signature.untrusted', signedCommit(join(keys, 'alice.pub'), 'plain key'));
});

t.test('a commit signed with another principal\'s certificate is refused', async (t) => {
  refusedWith(t, 'commit.signature.other-principal', signedCommit(bob, 'signed by bob, pushed by alice'));
});

t.test('a commit made after its certificate expired is refused', async (t) => {
  refusedWith(t, 'commit.signature.expired', signedCommit(expired, 'signed with an expired certificate'));
});

t.test('a signed commit altered afterwards does not verify', async (t) => {
  signedCommit(alice, 'original message');
  const raw = work.git('cat-file', 'commit', 'HEAD').replace('original message', 'altered message');
  const forged = run('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: work.path, input: raw }).trim();
  work.git('reset', '--quiet', '--hard', forged);
  refusedWith(t, 'commit.signature.untrusted', forged);
});

t.test('audit mode and role scoping', async (t) => {
  server.setConfig(['policy', 'commit', 'signature'], [{ refs: ['refs/heads/main'], roles: ['agent'], mode: 'audit' }]);
  signedCommit(null, 'unsigned, audited');
  const audited = work.push(['origin', 'main'], asAlice);
  t.equal(audited.code, 0, audited.output);
  t.match(audited.result?.findings, [{ rule: 'commit.signature.missing', mode: 'audit' }]);
  server.setConfig(['policy', 'commit', 'signature'], [{ refs: ['refs/heads/main'], roles: ['agent'] }]);
  signedCommit(null, 'unsigned, by someone without the role');
  const person = work.push(['origin', 'main'], { PUSHGATE_PRINCIPAL: 'dana', PUSHGATE_ROLES: 'developer' });
  t.equal(person.code, 0, person.output);
  t.same(person.result?.findings, []);
});

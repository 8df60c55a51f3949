import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { pushgateCli, testServer, WorkTree } from '../helpers/git-server.js';
import { run } from '../helpers/tools.js';
import { awsKeyId, awsSecret, gh, jwt, npmToken, pemBegin, Rng, slackBot } from '../scan/fixtures.js';

/**
 * One function decides what a secret looks like when shown. Credentials of
 * many formats go through every path (deny, park, approve, reject, scan in
 * every format); the plaintext must appear nowhere a person or a file sees.
 */
const rng = new Rng(0x5ec2e7);
const credentials = {
  github: gh(rng),
  slack: slackBot(rng),
  awsId: awsKeyId(rng),
  awsSecret: awsSecret(rng),
  npm: npmToken(rng),
  jwt: jwt(rng, { alg: 'RS256', typ: 'JWT' }, { sub: 'svc', iat: 1700000000 }),
};
const secrets = Object.values(credentials);
const fileText = [
  `const github = "${credentials.github}";`,
  `SLACK_TOKEN=${credentials.slack}`,
  `aws_access_key_id = ${credentials.awsId}`,
  `aws_secret_access_key = ${credentials.awsSecret}`,
  `//registry.npmjs.org/:_authToken=${credentials.npm}`,
  `Authorization: Bearer ${credentials.jwt}`,
  pemBegin('RSA'),
].join('\n') + '\n';

const seen: { where: string; text: string }[] = [];
function shown(where: string, text: string): string {
  seen.push({ where, text });
  return text;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

const server = testServer(t);
const remote = server.createRepo('team/app');
const work = WorkTree.clone(t, remote);
work.commit('base', { 'README.md': 'base\n' });
t.equal(work.push(['origin', 'main']).code, 0);
const agent = { PUSHGATE_PRINCIPAL: 'agent-7', PUSHGATE_ROLES: 'agent' };

t.test('deny', async (t) => {
  work.commit('leak', { 'src/leak.ts': fileText });
  const pushed = work.push(['origin', 'HEAD:refs/heads/deny-me'], agent);
  t.equal(pushed.result?.decision, 'deny');
  t.ok((pushed.result?.findings.length ?? 0) >= secrets.length, 'every credential is a finding');
  shown('deny message', pushed.output);
});

function parkOne(branch: string): string {
  const pushed = work.push(['-o', 'review=fixture values', 'origin', `HEAD:refs/heads/${branch}`], agent);
  shown(`park message ${branch}`, pushed.output);
  const id = pushed.result?.queueId as string;
  if (!id) throw new Error(`push did not park: ${pushed.output}`);
  return id;
}

t.test('park, show, approve', async (t) => {
  const id = parkOne('park-approve');
  for (const format of ['text', 'json']) {
    const show = pushgateCli(['queue', 'show', id, '--format', format, '--config', server.configPath]);
    t.equal(show.status, 0, show.stderr);
    shown(`queue show ${format}`, show.stdout + show.stderr);
  }
  shown('queue list', pushgateCli(['queue', 'list', '--format', 'json', '--config', server.configPath]).stdout);
  const approved = pushgateCli(['queue', 'approve', id, '--comment', 'ok', '--config', server.configPath]);
  t.equal(approved.status, 0, approved.stderr);
  shown('queue approve', approved.stdout + approved.stderr);
});

t.test('park, reject', async (t) => {
  work.commit('leak again', { 'src/leak2.ts': fileText });
  const id = parkOne('park-reject');
  const rejected = pushgateCli(['queue', 'reject', id, '--reason', 'no', '--config', server.configPath]);
  t.equal(rejected.status, 0, rejected.stderr);
  shown('queue reject', rejected.stdout + rejected.stderr);
});

t.test('pushgate scan in every format, over history and files', async (t) => {
  for (const format of ['text', 'json', 'sarif']) {
    const history = pushgateCli(['scan', '--repo', work.path, '--format', format]);
    t.equal(history.status, 1);
    shown(`scan ${format}`, history.stdout + history.stderr);
    const files = pushgateCli(['scan', '--files', join(work.path, 'src'), '--format', format]);
    t.equal(files.status, 1);
    shown(`scan --files ${format}`, files.stdout + files.stderr);
  }
});

t.test('the plaintext appears in no message, no file under the state directory, no queue record', async (t) => {
  for (const { where, text } of seen) {
    for (const secret of secrets) t.notOk(text.includes(secret), `${where}: no plaintext`);
  }
  const stateFiles = filesUnder(join(server.dir, 'state'));
  t.ok(stateFiles.some((f) => f.includes('audit')), 'the audit log is among the files checked');
  for (const file of stateFiles) {
    const content = readFileSync(file, 'utf8');
    for (const secret of secrets) t.notOk(content.includes(secret), `${file}: no plaintext`);
  }
  // The queue's records are kept beside the repository, in <repo>/.pushgate/queue.git.
  const records = join(remote, '.pushgate', 'queue.git');
  const queueRefs = run('git', ['--git-dir', records, 'for-each-ref', '--format=%(refname)', 'refs/pushgate/queue/']).trim().split('\n').filter((r) => r !== '');
  t.ok(queueRefs.length >= 2, 'both parked pushes have records');
  for (const ref of queueRefs) {
    const history = run('git', ['--git-dir', records, 'log', '-p', ref]);
    t.match(history, /record\.json/);
    for (const secret of secrets) t.notOk(history.includes(secret), `${ref}: no plaintext in any version of the record`);
  }
  t.ok(statSync(join(server.dir, 'state')).isDirectory());
});

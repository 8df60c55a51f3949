/**
 * `pushgate dev`: the printed walkthrough, each command run exactly as printed
 * with `sh -c` in a shell where `pushgate` is not on the PATH, does what it
 * says; the hint `pushgate login` prints works where it is printed; the demo
 * serves GET /metrics as `pushgate serve` does; SIGINT stops the demo with exit 0.
 * The demo stands in front of an upstream (by default a bare repository under
 * the demo directory): the allowed push and the approved parked push land
 * there with the same ids, the denied one and the parked one before approval
 * do not. `--upstream URL` puts it in front of a repository of the user's.
 */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pushgateBin, requireTool, runAsync, tempDir, type Ran } from '../helpers/tools.js';
import { pushgateResult } from '../helpers/git-server.js';
import { pathWithoutPushgate } from '../helpers/user-shell.js';
import { startSshUpstream } from '../helpers/upstream-sshd.js';

/** The user's environment, minus anything pushgate or git would pick up from the test's own setup. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of Object.keys(env)) {
    if (name.startsWith('PUSHGATE_') || (name.startsWith('GIT_') && name !== 'GIT_EXEC_PATH')) delete env[name];
  }
  // A new user's shell: no pushgate on the PATH (npm puts node_modules/.bin there while it runs the tests).
  env.PATH = pathWithoutPushgate(env.PATH);
  return { ...env, ...extra };
}

function sh(command: string, extra: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return runAsync('sh', ['-c', command], { env: cleanEnv(extra) });
}

/** `pushgate dev ARGS` until its walkthrough is printed. */
async function startDev(t: { teardown(fn: () => void): void }, args: string[]): Promise<{ out: () => string; err: () => string; child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
  const child = spawn(process.execPath, [pushgateBin, 'dev', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const deadline = Date.now() + 90_000;
  while (!out.includes('Ctrl-C stops everything.')) {
    if (child.exitCode !== null) throw new Error(`pushgate dev exited ${child.exitCode}:\n${err}`);
    if (Date.now() > deadline) throw new Error(`no walkthrough:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { out: () => out, err: () => err, child, exited };
}

function gitOut(args: string[]): string {
  const ran = spawnSync('git', args, { encoding: 'utf8' });
  return ran.status === 0 ? ran.stdout.trim() : `(git ${args.join(' ')} failed: ${ran.stderr.trim()})`;
}

t.test('the walkthrough works as printed', { timeout: 240_000 }, async (t) => {
  requireTool('ssh', 'openssh-client');
  requireTool('git', 'git');
  const dir = join(tempDir(t, 'pushgate-dev-test-'), 'demo');
  const child = spawn(process.execPath, [pushgateBin, 'dev', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const deadline = Date.now() + 90_000;
  while (!out.includes('Ctrl-C stops everything.')) {
    if (child.exitCode !== null) throw new Error(`pushgate dev exited ${child.exitCode}:\n${err}`);
    if (Date.now() > deadline) throw new Error(`no walkthrough:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const info = JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as DevJson;
  t.match(info, { issuer: /^http:\/\/127\.0\.0\.1:\d+$/, httpUrl: /^http:\/\/127\.0\.0\.1:\d+$/, repoUrl: /^ssh:\/\/git@127\.0\.0\.1:\d+\/demo\/app\.git$/ });
  for (const client of [info.clients.agent, info.clients.reviewer]) {
    t.equal(statSync(client.secretFile).mode & 0o777, 0o600, `${client.id}'s secret file is private`);
    const secret = readFileSync(client.secretFile, 'utf8').trim();
    t.notOk(out.includes(secret) || err.includes(secret), `${client.id}'s secret is never printed`);
  }
  t.ok(existsSync(info.knownHosts));
  const upstream = info.upstream?.gitDir ?? '';
  t.equal(upstream, join(dir, 'upstream', 'demo', 'app.git'), 'by default the upstream is a bare repository under the demo directory');
  t.match(out, `upstream file://${upstream}`, 'the banner names the upstream');
  const upstreamRef = (ref: string): string => gitOut(['--git-dir', upstream, 'rev-parse', '--verify', '--quiet', ref]);

  const commands = out.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2));
  const find = (needle: string): string => {
    const found = commands.find((c) => c.includes(needle));
    if (found === undefined) throw new Error(`no command with ${needle} in:\n${out}`);
    return found;
  };
  t.equal(commands.length, 13, 'thirteen commands');
  const noPushgate = await sh('command -v pushgate');
  t.not(noPushgate.status, 0, `the commands run in a shell without pushgate on the PATH: ${noPushgate.stdout}`);
  const steps = {
    agentLogin: find('--client-id demo-agent'),
    clone: find('git clone'),
    branch: find('git push origin feature/hello'),
    secret: find('git push origin leak'),
    ci: find('git push origin main'),
    reviewerLogin: find('--client-id demo-reviewer'),
    list: find('queue list'),
    approve: find('queue approve'),
    fetch: find('git fetch'),
    upstreamBranch: find(`git --git-dir ${upstream} log --oneline -1 feature/hello`),
    upstreamMain: find(`git --git-dir ${upstream} log --oneline -2 main`),
    decisions: find('audit show --type push.decision'),
    queueStory: find('audit show --queue'),
  };
  t.same(new Set(Object.values(steps)).size, commands.length, 'every command is one step');

  const agentLogin = await sh(steps.agentLogin);
  t.equal(agentLogin.status, 0, `agent login: ${agentLogin.stderr}`);
  t.match(agentLogin.stdout, 'demo-agent');
  const hint = /^ {2}(git config core\.sshCommand .*)$/m.exec(agentLogin.stdout)?.[1];
  t.equal(hint, 'git config core.sshCommand "pushgate ssh"', 'the demo shell has pushgate on its PATH');

  const clone = await sh(steps.clone);
  t.equal(clone.status, 0, `clone: ${clone.stderr}`);

  const branch = await sh(steps.branch);
  t.equal(branch.status, 0, `feature branch push is allowed: ${branch.stderr}`);
  const featureHead = gitOut(['-C', info.workTree, 'rev-parse', 'feature/hello']);
  const upstreamBranch = await sh(steps.upstreamBranch);
  t.equal(upstreamBranch.status, 0, `the upstream step: ${upstreamBranch.stderr}`);
  t.match(upstreamBranch.stdout, 'Add hello.txt', 'the walkthrough shows the allowed push upstream');
  t.equal(upstreamRef('refs/heads/feature/hello'), featureHead, 'the allowed push landed upstream with the same commit id');

  const secret = await sh(steps.secret);
  t.not(secret.status, 0, 'the secret push is refused');
  const denied = pushgateResult(secret.stderr);
  t.equal(denied?.decision, 'deny', secret.stderr);
  t.ok(denied?.findings?.some((f) => f.rule === 'secret.github-token'), 'the token is the finding');
  t.notMatch(secret.stderr, /gh[p]_[A-Za-z0-9]{36}/, 'the token is masked');
  t.match(upstreamRef('refs/heads/leak'), /failed/, 'the denied push never reached the upstream');

  // git's ssh command as login printed it, in the demo's shell: without the env file's GIT_SSH_COMMAND, only core.sshCommand.
  const viaHint = await sh(`. ${info.envFiles.agent} && unset GIT_SSH_COMMAND && cd ${info.workTree} && ${hint} && git ls-remote origin main`);
  t.equal(viaHint.status, 0, `the printed git line works in the demo's shell: ${viaHint.stderr}`);
  t.match(viaHint.stdout, /^[0-9a-f]{40}\trefs\/heads\/main$/m);

  const ci = await sh(steps.ci);
  const parked = pushgateResult(ci.stdout);
  t.match(parked, { decision: 'park', queueId: String }, `the CI push parks: ${ci.stdout}${ci.stderr}`);
  const queueId = String(parked?.queueId);
  t.match(ci.stdout, `queue id: ${queueId}`);
  const kept = readFileSync(join(dir, 'agent', 'push-main.log'), 'utf8');
  t.equal(pushgateResult(kept)?.queueId, queueId, 'step 5 keeps its output for step 7');
  const parkedHead = gitOut(['-C', info.workTree, 'rev-parse', 'main']);
  t.not(upstreamRef('refs/heads/main'), parkedHead, 'the parked push is not upstream before approval');

  const reviewerLogin = await sh(steps.reviewerLogin);
  t.equal(reviewerLogin.status, 0, `reviewer login: ${reviewerLogin.stderr}`);
  t.match(reviewerLogin.stdout, 'reviewer');

  const list = await sh(steps.list);
  t.equal(list.status, 0, `queue list: ${list.stderr}`);
  t.match(list.stdout, queueId);

  const approve = await sh(steps.approve);
  t.equal(approve.status, 0, `approve, by the id step 5 printed: ${approve.stdout}${approve.stderr}`);
  t.match(approve.stdout, queueId);

  const fetch = await sh(steps.fetch);
  t.equal(fetch.status, 0, `fetch: ${fetch.stderr}`);
  t.match(fetch.stdout, 'Add CI workflow');
  const local = await sh(`git -C ${info.workTree} rev-parse main origin/main`);
  const [mainHead, originMain] = local.stdout.trim().split('\n');
  t.ok(mainHead !== undefined && mainHead.length === 40);
  t.equal(originMain, mainHead, 'main on the server is the parked commit');
  t.equal(mainHead, parkedHead);
  const upstreamMain = await sh(steps.upstreamMain);
  t.equal(upstreamMain.status, 0, `the upstream step: ${upstreamMain.stderr}`);
  t.match(upstreamMain.stdout, 'Add CI workflow', 'the walkthrough shows the approved push upstream');
  t.equal(upstreamRef('refs/heads/main'), mainHead, 'the approved push landed upstream with the same commit id');

  const decisions = await sh(steps.decisions);
  t.equal(decisions.status, 0, `audit show: ${decisions.stderr}`);
  for (const decision of ['allow', 'deny', 'park']) t.match(decisions.stdout, `decision=${decision}`, `the ${decision} is in the audit log`);
  t.notMatch(decisions.stdout, /gh[p]_[A-Za-z0-9]{36}/, 'the token is masked in the audit log');
  const story = await sh(steps.queueStory);
  t.equal(story.status, 0, `audit show --queue: ${story.stderr}`);
  for (const type of ['queue.park', 'queue.approve', 'queue.apply']) t.match(story.stdout, type);

  // GET /metrics as pushgate serve answers it; decisions are counted from the audit log as it is written.
  const parkCounted = /^pushgate_push_decisions_total\{decision="park"\} [1-9]/m;
  let metrics = '';
  let status = 0;
  for (const until = Date.now() + 30_000; !parkCounted.test(metrics) && Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
    const response = await globalThis.fetch(info.metricsUrl);
    status = response.status;
    metrics = await response.text();
    if (status !== 200) break;
  }
  t.equal(status, 200, 'the demo serves GET /metrics');
  t.match(metrics, parkCounted, `the parked push is counted:\n${metrics.slice(0, 2000)}`);
  t.equal((await globalThis.fetch(`${info.httpUrl}/healthz`)).status, 200);

  const started = Date.now();
  child.kill('SIGINT');
  const exit = await exited;
  t.same(exit, { code: 0, signal: null }, `pushgate dev stops cleanly on SIGINT: ${err}`);
  t.ok(Date.now() - started < 15_000, 'within a few seconds');
});

t.test('--upstream URL: the demo stands in front of that repository, served under its name', { timeout: 180_000 }, async (t) => {
  requireTool('ssh', 'openssh-client');
  requireTool('git', 'git');
  const root = tempDir(t, 'pushgate-dev-upstream-');
  const upstream = join(root, 'git', 'sandbox.git');
  // A repository of the user's with history of its own (not the demo's).
  const seed = join(root, 'seed');
  const env = cleanEnv({ GIT_AUTHOR_NAME: 'u', GIT_AUTHOR_EMAIL: 'u@example.test', GIT_COMMITTER_NAME: 'u', GIT_COMMITTER_EMAIL: 'u@example.test' });
  for (const args of [['init', '-q', '--initial-branch=main', seed], ['-C', seed, 'commit', '-q', '--allow-empty', '-m', 'The upstream\'s own commit'], ['clone', '-q', '--bare', seed, upstream]]) {
    const ran = spawnSync('git', args, { env, encoding: 'utf8' });
    t.equal(ran.status, 0, ran.stderr);
  }
  const upstreamMain = gitOut(['--git-dir', upstream, 'rev-parse', 'main']);
  const dir = join(root, 'demo');
  const dev = await startDev(t, ['--dir', dir, '--upstream', `file://${upstream}`]);
  const info = JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as DevJson;
  t.match(info.repoUrl, /\/sandbox\.git$/, 'served under the name the URL ends in');
  t.equal(info.upstream?.gitDir, upstream);
  t.match(dev.out(), `git --git-dir ${upstream} log`, 'the walkthrough looks at that upstream');
  const commands = dev.out().split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2));
  for (const needle of ['--client-id demo-agent', 'git clone']) {
    const ran = await sh(commands.find((c) => c.includes(needle)) ?? 'false');
    t.equal(ran.status, 0, `${needle}: ${ran.stderr}`);
  }
  t.equal(gitOut(['-C', info.workTree, 'rev-parse', 'origin/main']), upstreamMain, 'the clone through pushgate is the upstream\'s history');
  dev.child.kill('SIGINT');
  t.same(await dev.exited, { code: 0, signal: null }, dev.err());
  t.equal(gitOut(['--git-dir', upstream, 'rev-parse', 'main']), upstreamMain, 'the user\'s repository is left as it was');
});

t.test('--upstream ssh://… with a deploy key: the walkthrough shows the push upstream through pushgate\'s own credential', { timeout: 180_000 }, async (t) => {
  const upstream = await startSshUpstream(t);
  upstream.repos.create('demo/app');
  const dir = join(tempDir(t, 'pushgate-dev-ssh-'), 'demo');
  const dev = await startDev(t, ['--dir', dir, '--upstream', upstream.urlTemplate, '--upstream-ssh-key', upstream.deployKey, '--upstream-known-hosts', upstream.knownHosts]);
  const info = JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as DevJson;
  const envFile = info.upstream?.envFile ?? '';
  t.ok(existsSync(envFile), 'a remote upstream is looked at through an environment file');
  const privateKey = readFileSync(upstream.deployKey, 'utf8').split('\n').find((l) => l.length > 40) ?? '';
  t.notMatch(readFileSync(envFile, 'utf8'), privateKey, 'the file names the deploy key, it does not hold it');
  const commands = dev.out().split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2));
  for (const needle of ['--client-id demo-agent', 'git clone', 'git push origin feature/hello']) {
    const ran = await sh(commands.find((c) => c.includes(needle)) ?? 'false');
    t.equal(ran.status, 0, `${needle}: ${ran.stderr}`);
  }
  const look = await sh(commands.find((c) => c.includes('ls-remote') && c.includes('feature/hello')) ?? 'false');
  t.equal(look.status, 0, `the upstream step: ${look.stderr}`);
  const head = gitOut(['-C', info.workTree, 'rev-parse', 'feature/hello']);
  t.match(look.stdout, `${head}\trefs/heads/feature/hello`, 'the step shows the push upstream');
  t.equal(upstream.repos.refs('demo/app')['refs/heads/feature/hello'], head, 'and it is there');
  dev.child.kill('SIGINT');
  t.same(await dev.exited, { code: 0, signal: null }, dev.err());
});

t.test('--no-upstream: pushgate hosts the demo repository itself', { timeout: 120_000 }, async (t) => {
  const dir = join(tempDir(t, 'pushgate-dev-local-'), 'demo');
  const dev = await startDev(t, ['--dir', dir, '--no-upstream']);
  const info = JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as DevJson;
  t.equal(info.upstream, undefined);
  t.notOk(existsSync(join(dir, 'upstream')), 'no upstream repository');
  t.equal(dev.out().split('\n').filter((l) => l.startsWith('$ ')).length, 11, 'the walkthrough without the upstream steps');
  t.notMatch(dev.out(), /upstream/);
  dev.child.kill('SIGINT');
  t.same(await dev.exited, { code: 0, signal: null }, dev.err());
});

t.test('upstream options that cannot work are refused before anything starts, in the words of the options', async (t) => {
  const root = tempDir(t, 'pushgate-dev-refused-');
  const dev = (args: string[]) => spawnSync(process.execPath, [pushgateBin, 'dev', '--dir', join(root, 'demo'), ...args], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
  const noKey = dev(['--upstream', 'ssh://git@127.0.0.1:1/{repo}.git']);
  t.equal(noKey.status, 1, noKey.stderr);
  t.match(noKey.stderr, /--upstream-ssh-key: an ssh upstream needs/, `names the missing option: ${noKey.stderr}`);
  t.match(noKey.stderr, /--upstream-known-hosts: /, 'and every other problem');
  const token = ['tok', 'en', '-', 'value', '-1234'].join('');
  const inUrl = dev(['--upstream', `https://user:${token}@git.example.test/{repo}.git`]);
  t.equal(inUrl.status, 1, inUrl.stderr);
  t.notMatch(`${inUrl.stdout}${inUrl.stderr}`, token, 'a token in the URL is not repeated');
  const stray = dev(['--upstream-token-file', join(root, 'token')]);
  t.equal(stray.status, 1, stray.stderr);
  t.match(stray.stderr, /--upstream-token-file only go with --upstream/);
  const inside = dev(['--upstream', `file://${join(root, 'demo', 'up')}/{repo}.git`]);
  t.equal(inside.status, 1, inside.stderr);
  t.match(inside.stderr, /inside the demo directory/);
});

interface DevJson {
  issuer: string;
  envFiles: { agent: string; reviewer: string; operator: string };
  httpUrl: string;
  metricsUrl: string;
  repoUrl: string;
  knownHosts: string;
  workTree: string;
  clients: { agent: { id: string; secretFile: string }; reviewer: { id: string; secretFile: string } };
  upstream?: { name: string; url: string; gitDir?: string; envFile?: string };
}

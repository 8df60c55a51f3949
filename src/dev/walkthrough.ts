/** The files a demo user's shell needs, and the walkthrough printed at start. */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellWord } from '../self/index.js';
import type { DevUpstreamView } from './upstream.js';

export interface DevInfo {
  dir: string;
  issuer: string;
  sshPort: number;
  httpUrl: string;
  metricsUrl: string;
  repoUrl: string;
  knownHosts: string;
  /** The server's operator log. */
  logFile: string;
  clients: { agent: { id: string; secretFile: string; scope: string }; reviewer: { id: string; secretFile: string; scope: string } };
  envFiles: { agent: string; reviewer: string; operator: string };
  workTree: string;
  /** The review console and its demo accounts (passwords in files). */
  console?: { url: string; accounts: { username: string; passwordFile: string }[] };
  /** The Git server pushgate stands in front of; undefined when pushgate hosts the repository itself. */
  upstream?: DevUpstreamView;
}

const q = shellWord;

/**
 * DIR/bin: `pushgate` (this installation's entry point) and the `node` it runs
 * on, so that a shell with DIR/bin first on its PATH runs `pushgate …` as
 * printed, and so does whatever it starts (git's `core.sshCommand "pushgate ssh"`).
 */
export function writeBinDir(binDir: string, entry: string): void {
  mkdirSync(binDir, { recursive: true });
  for (const [name, target] of [['pushgate', entry], ['node', process.execPath]] as const) {
    rmSync(join(binDir, name), { force: true });
    symlinkSync(target, join(binDir, name));
  }
}

function pathLine(binDir: string): string {
  return `export PATH=${q(binDir)}:"$PATH"`;
}

/** A sourceable file: pushgate on the PATH, a pushgate state dir of the role's own, pinned host key, git through `pushgate ssh`. */
export function writeEnvFile(path: string, options: { binDir: string; home: string; name: string; knownHosts: string }): void {
  const { binDir, home, name, knownHosts } = options;
  const lines = [
    pathLine(binDir),
    `export PUSHGATE_HOME=${q(join(home, 'pushgate'))}`,
    `export PUSHGATE_SSH_OPTIONS=${q(`-F /dev/null -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR`)}`,
    // A clone has no repository config yet: git takes its ssh command from here.
    "export GIT_SSH_COMMAND='pushgate ssh'",
    'export GIT_SSH_VARIANT=ssh',
    'export GIT_TERMINAL_PROMPT=0',
    `export GIT_AUTHOR_NAME=${q(name)} GIT_AUTHOR_EMAIL=${q(`${name}@example.test`)}`,
    `export GIT_COMMITTER_NAME=${q(name)} GIT_COMMITTER_EMAIL=${q(`${name}@example.test`)}`,
    '',
  ];
  writeFileSync(path, lines.join('\n'), { mode: 0o644 });
}

/** The operator's shell on the demo server: pushgate on the PATH and the server's config. */
export function writeOperatorEnvFile(path: string, binDir: string, configPath: string): void {
  writeFileSync(path, [pathLine(binDir), `export PUSHGATE_CONFIG=${q(configPath)}`, ''].join('\n'), { mode: 0o644 });
}

/**
 * A command that shows `ref` upstream, read there and not through pushgate:
 * `git log` in a local upstream, otherwise `git ls-remote` with pushgate's
 * own credential environment for the upstream.
 */
function upstreamLook(upstream: DevUpstreamView, ref: string, count: number): string {
  if (upstream.gitDir !== undefined) return `git --git-dir ${q(upstream.gitDir)} log --oneline -${count} ${q(ref)}`;
  return `. ${q(upstream.envFile ?? '/dev/null')} && git ls-remote ${q(upstream.url)} ${q(`refs/heads/${ref}`)}`;
}

const CI_YAML = 'name: ci\\non: push\\njobs:\\n  test:\\n    runs-on: ubuntu-latest\\n    steps:\\n      - uses: actions/checkout@v4\\n      - run: node src/app.test.js\\n';

/** Lines starting with `$ ` are commands, each runnable on its own with `sh -c`, in order. */
export function walkthrough(info: DevInfo): string {
  const agent = `. ${q(info.envFiles.agent)} &&`;
  const reviewer = `. ${q(info.envFiles.reviewer)} &&`;
  const operator = `. ${q(info.envFiles.operator)} &&`;
  const inRepo = `${agent} cd ${q(info.workTree)} &&`;
  const ssh = `pushgate ssh -p ${info.sshPort} git@127.0.0.1`;
  const pushLog = join(info.dir, 'agent', 'push-main.log');
  // The id from the pushgate-result line of step 5's output.
  const queueId = `"$(sed -n 's/.*"queueId":"\\([^"]*\\)".*/\\1/p' ${q(pushLog)})"`;
  const login = (c: DevInfo['clients']['agent']): string =>
    `pushgate login --issuer ${q(info.issuer)} --server ${q(info.httpUrl)} --client-id ${q(c.id)} --client-secret-file ${q(c.secretFile)} --scope ${q(c.scope)}`;
  const up = info.upstream;
  return [
    '',
    `pushgate dev is running: identity provider, certificate service, SSH gateway${up !== undefined ? ' in front of an upstream Git server' : ''}.`,
    `  issuer  ${info.issuer}`,
    `  http    ${info.httpUrl}  (metrics: ${info.metricsUrl})`,
    `  ssh     127.0.0.1:${info.sshPort}`,
    ...(info.console ? [`  console ${info.console.url}  (log in as ${info.console.accounts.map((a) => `${a.username}, password in ${a.passwordFile}`).join('; ')})`] : []),
    `  repo    ${info.repoUrl}`,
    ...(up !== undefined ? [`  upstream ${up.url}  (pushgate forwards allowed and approved pushes there with its own credential, then applies them to its mirror)`] : []),
    `  log     ${info.logFile}`,
    `  details in ${join(info.dir, 'dev.json')}; client secrets are in files under ${join(info.dir, 'secrets')}`,
    '',
    'Walkthrough: run these in another shell, in order. Each line stands alone; state stays under the demo directory.',
    '',
    '# 1. The agent logs in (client credentials) and gets a short-lived SSH certificate',
    `$ ${agent} ${login(info.clients.agent)}`,
    '# 2. It clones through the gateway',
    `$ ${agent} git clone -q ${q(info.repoUrl)} ${q(info.workTree)}`,
    '# 3. A feature branch: allowed',
    `$ ${inRepo} git switch -q -c feature/hello && echo hello > hello.txt && git add hello.txt && git commit -qm 'Add hello.txt' && git push origin feature/hello`,
    ...(up !== undefined ? ['#    …and it landed upstream, with the same commit id: pushgate forwarded it before applying it here', `$ ${upstreamLook(up, 'feature/hello', 1)}`] : []),
    '# 4. A token committed by mistake: denied (the token is made up on the spot)',
    `$ ${inRepo} git switch -q -c leak main && echo "github_token: $(pushgate dev secret)" > deploy.yml && git add deploy.yml && git commit -qm 'Add deploy settings' && git push origin leak`,
    `# 5. A CI workflow change on main: parked for review, with a queue id (the output is kept in ${pushLog})`,
    `$ ${inRepo} git switch -q main && mkdir -p .github/workflows && printf '${CI_YAML}' > .github/workflows/ci.yml && git add .github && git commit -qm 'Add CI workflow' && git push origin main 2>&1 | tee ${q(pushLog)}`,
    '# 6. The reviewer logs in and looks at the queue',
    `$ ${reviewer} ${login(info.clients.reviewer)}`,
    `$ ${reviewer} ${ssh} queue list`,
    '# 7. …and approves the parked push, by the queue id step 5 printed',
    `$ ${reviewer} ${ssh} queue approve ${queueId}`,
    ...(info.console ? [`#    (or in a browser: open ${info.console.url}, log in as alice, open the entry, tick the statements and approve; bob is the second reviewer)`] : []),
    '# 8. main has moved to the CI commit',
    `$ ${inRepo} git fetch -q origin && git log --oneline -3 origin/main`,
    ...(up !== undefined ? ['#    …and upstream: the approval forwarded the parked push there before applying it here', `$ ${upstreamLook(up, 'main', 2)}`] : []),
    '# 9. On the server, the audit log: every push decision, then the parked push from park to apply',
    `$ ${operator} pushgate audit show --type push.decision`,
    `$ ${operator} pushgate audit show --queue ${queueId}`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

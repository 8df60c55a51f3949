/** The files a demo user's shell needs, and the walkthrough printed at start. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevInfo {
  dir: string;
  issuer: string;
  sshPort: number;
  httpUrl: string;
  repoUrl: string;
  knownHosts: string;
  clients: { agent: { id: string; secretFile: string; scope: string }; reviewer: { id: string; secretFile: string; scope: string } };
  envFiles: { agent: string; reviewer: string };
  workTree: string;
}

function q(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A sourceable file: a pushgate state dir of the role's own, pinned host key, git through `pushgate ssh`. */
export function writeEnvFile(path: string, home: string, name: string, knownHosts: string, bin: string): void {
  const node = process.execPath;
  const lines = [
    `export PUSHGATE_HOME=${q(join(home, 'pushgate'))}`,
    `export PUSHGATE_SSH_OPTIONS=${q(`-F /dev/null -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR`)}`,
    `export GIT_SSH_COMMAND=${q(`${q(node)} ${q(bin)} ssh`)}`,
    'export GIT_SSH_VARIANT=ssh',
    'export GIT_TERMINAL_PROMPT=0',
    `export GIT_AUTHOR_NAME=${q(name)} GIT_AUTHOR_EMAIL=${q(`${name}@example.test`)}`,
    `export GIT_COMMITTER_NAME=${q(name)} GIT_COMMITTER_EMAIL=${q(`${name}@example.test`)}`,
    `pushgate() { ${q(node)} ${q(bin)} "$@"; }`,
    '',
  ];
  writeFileSync(path, lines.join('\n'), { mode: 0o644 });
}

const CI_YAML = 'name: ci\\non: push\\njobs:\\n  test:\\n    runs-on: ubuntu-latest\\n    steps:\\n      - uses: actions/checkout@v4\\n      - run: node src/app.test.js\\n';

/** Lines starting with `$ ` are commands, each runnable on its own with `sh -c`. */
export function walkthrough(info: DevInfo): string {
  const agent = `. ${info.envFiles.agent} &&`;
  const reviewer = `. ${info.envFiles.reviewer} &&`;
  const inRepo = `${agent} cd ${info.workTree} &&`;
  const ssh = `pushgate ssh -p ${info.sshPort} git@127.0.0.1`;
  const login = (c: DevInfo['clients']['agent']): string =>
    `pushgate login --issuer ${info.issuer} --server ${info.httpUrl} --client-id ${c.id} --client-secret-file ${c.secretFile} --scope ${c.scope}`;
  return [
    '',
    'pushgate dev is running: identity provider, certificate service, SSH gateway.',
    `  issuer ${info.issuer}`,
    `  http   ${info.httpUrl}`,
    `  ssh    127.0.0.1:${info.sshPort}`,
    `  repo   ${info.repoUrl}`,
    `  details in ${join(info.dir, 'dev.json')}; client secrets are in files under ${join(info.dir, 'secrets')}`,
    '',
    'Walkthrough: run these in another shell. Each line stands alone; state stays under the demo directory.',
    '',
    '# 1. The agent logs in (client credentials) and gets a short-lived SSH certificate',
    `$ ${agent} ${login(info.clients.agent)}`,
    '# 2. It clones through the gateway',
    `$ ${agent} git clone -q ${info.repoUrl} ${info.workTree}`,
    '# 3. A feature branch: allowed',
    `$ ${inRepo} git switch -q -c feature/hello && echo hello > hello.txt && git add hello.txt && git commit -qm 'Add hello.txt' && git push origin feature/hello`,
    '# 4. A token committed by mistake: denied (the token is made up on the spot)',
    `$ ${inRepo} git switch -q -c leak main && echo "github_token: $(pushgate dev secret)" > deploy.yml && git add deploy.yml && git commit -qm 'Add deploy settings' && git push origin leak`,
    '# 5. A CI workflow change on main: parked for review; note the queue id it prints',
    `$ ${inRepo} git switch -q main && mkdir -p .github/workflows && printf '${CI_YAML}' > .github/workflows/ci.yml && git add .github && git commit -qm 'Add CI workflow' && git push origin main`,
    '# 6. The reviewer logs in and looks at the queue',
    `$ ${reviewer} ${login(info.clients.reviewer)}`,
    `$ ${reviewer} ${ssh} queue list`,
    '# 7. …and approves the parked push: first  export QUEUE_ID=<the queue id from step 5>',
    `$ ${reviewer} ${ssh} queue approve "$QUEUE_ID"`,
    '# 8. main has moved to the CI commit',
    `$ ${inRepo} git fetch -q origin && git log --oneline -3 origin/main`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

/**
 * The demo's server directory: `pushgate init` on loopback with free ports,
 * the demo IdP as the only issuer, and `demo/app` with a little history.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { initServerDir } from '../cli/init.js';
import { repoPathFor } from '../cli/repo.js';
import { runGitOrThrow } from '../git/index.js';
import { installHooks } from '../hook/install.js';

export const DEMO_REPO = 'demo/app';
export const DEV_AUDIENCE = 'pushgate';

export function issuerEntry(issuer: string): Record<string, unknown> {
  return {
    name: 'demo',
    issuer,
    audience: DEV_AUDIENCE,
    algorithms: ['ES256'],
    clockSkew: '5s',
    principal: '{{sub}}',
    rolesClaim: 'scope',
    roleMap: { 'git:push': ['agent'], 'git:review': ['reviewer'] },
  };
}

/** The review console of the demo: its client at the demo IdP and where it listens. */
export interface DevConsole {
  httpPort: number;
  clientId: string;
  clientSecretFile: string;
}

/** Creates DIR/server; returns its config path. `upstream`: the one `upstreams` entry, when pushgate stands in front of one. */
export function writeServerDir(serverDir: string, issuer: string, devConsole?: DevConsole, upstream?: Record<string, string>): string {
  initServerDir({ dir: serverDir, sshListen: '127.0.0.1:0', httpListen: `127.0.0.1:${devConsole?.httpPort ?? 0}` });
  const configPath = join(serverDir, 'pushgate.yaml');
  const doc = parseDocument(readFileSync(configPath, 'utf8'));
  doc.setIn(['identity', 'issuers'], doc.createNode([issuerEntry(issuer)]));
  if (devConsole !== undefined) {
    doc.setIn(['console'], doc.createNode({
      enabled: true, issuer, clientId: devConsole.clientId, clientSecretFile: devConsole.clientSecretFile,
      redirectUrl: `http://127.0.0.1:${devConsole.httpPort}/console/callback`,
      scopes: ['openid', 'git:push', 'git:review'], resource: 'urn:pushgate:api',
      attestations: ['I read every changed file', 'Nothing in it weakens CI or leaks a secret'],
    }));
  }
  if (upstream !== undefined) doc.setIn(['upstreams'], doc.createNode([upstream]));
  writeFileSync(configPath, doc.toString());
  return configPath;
}

const HISTORY: Array<[string, string, string]> = [
  ['README.md', '# demo/app\n\nA small application guarded by pushgate.\n', 'Start the project'],
  ['src/app.js', 'export function greet(name) {\n  return `hello, ${name}`;\n}\n', 'Add greet()'],
  ['src/app.test.js', "import { greet } from './app.js';\nif (greet('ci') !== 'hello, ci') throw new Error('greet');\n", 'Test greet()'],
];

/** A bare repository with a few commits on main, its hooks installed after the history is in. */
export async function createDemoRepo(reposRoot: string, configPath: string): Promise<string> {
  const bare = await seedDemoRepo(repoPathFor(reposRoot, DEMO_REPO));
  await installHooks(bare, { configPath, chain: false });
  return bare;
}

/** A new bare repository at `bare` with the demo's history on main (no hooks: also the demo's upstream). */
export async function seedDemoRepo(bare: string): Promise<string> {
  mkdirSync(dirname(bare), { recursive: true });
  await runGitOrThrow(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  const work = mkdtempSync(join(tmpdir(), 'pushgate-dev-seed-'));
  try {
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 'demo', GIT_AUTHOR_EMAIL: 'demo@example.test',
      GIT_COMMITTER_NAME: 'demo', GIT_COMMITTER_EMAIL: 'demo@example.test',
    };
    await runGitOrThrow(['init', '--quiet', '--initial-branch=main', work]);
    for (const [file, text, message] of HISTORY) {
      mkdirSync(dirname(join(work, file)), { recursive: true });
      writeFileSync(join(work, file), text);
      await runGitOrThrow(['-C', work, 'add', file], { env });
      await runGitOrThrow(['-C', work, 'commit', '--quiet', '-m', message], { env });
    }
    await runGitOrThrow(['-C', work, 'push', '--quiet', bare, 'main'], { env });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bare;
}

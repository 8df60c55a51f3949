/**
 * Runs the documentation. Each document's ```sh blocks run in order as one
 * scenario: one bash (`set -euo pipefail`), a fresh temporary directory as
 * working directory and HOME, the built `bin/pushgate.js` on PATH as
 * `pushgate`, real git and OpenSSH. Variables a block exports stay set for
 * the blocks after it; whatever a block starts in the background is stopped
 * when the document ends. SSH_PORT and HTTP_PORT hold free loopback ports
 * (the documents default them to 2222 and 8080).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { documentationFiles, examplesOf, readDoc } from './blocks.js';
import { freePort, pushgateBin, requireTool, tempDir } from '../helpers/tools.js';

const DOC_TIMEOUT_MS = 300_000;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

/** Runs the driver in a process group of its own, then ends whatever the document left running. */
function runScenario(driver: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn('bash', [driver], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, DOC_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const group = -child.pid!;
      try {
        process.kill(group, 'SIGTERM');
      } catch {
        // nothing left running
      }
      setTimeout(() => {
        try {
          process.kill(group, 'SIGKILL');
        } catch {
          // everything stopped on SIGTERM
        }
        resolve({ code, signal, output, timedOut });
      }, 1500);
    });
  });
}

requireTool('git', 'git');
requireTool('ssh', 'openssh-client');
requireTool('ssh-keygen', 'openssh-client');
requireTool('curl', 'curl');

const summary: string[] = [];

for (const doc of documentationFiles()) {
  const { examples, problems } = examplesOf(readDoc(doc));
  const runnable = examples.filter((e) => e.kind === 'run');
  const marked = examples.filter((e) => e.kind === 'norun');
  const reasons = [...new Set(marked.map((e) => e.reason))];
  summary.push(`${doc}: ${runnable.length} run, ${marked.length} norun${reasons.length ? ` (${reasons.join('; ')})` : ''}`);

  t.test(doc, async (t) => {
    t.same(problems, [], 'every shell example is tagged sh or sh norun: <reason>');
    if (runnable.length === 0) {
      t.pass(`${doc} has no runnable example`);
      return;
    }
    const home = tempDir(t, 'pushgate-doc-');
    const harness = tempDir(t, 'pushgate-doc-harness-');
    const bin = join(harness, 'bin');
    mkdirSync(bin);
    symlinkSync(pushgateBin, join(bin, 'pushgate'));
    const progress = join(harness, 'progress');
    writeFileSync(progress, '');
    const driver = ['set -euo pipefail'];
    runnable.forEach((example, i) => {
      const file = join(harness, `block-${i + 1}.sh`);
      writeFileSync(file, `${example.text}\n`);
      driver.push(`printf '\\n### ${doc}:${example.line}\\n' >&2`, `. ${JSON.stringify(file)}`, `echo ${example.line} >> ${JSON.stringify(progress)}`);
    });
    writeFileSync(join(harness, 'driver.sh'), `${driver.join('\n')}\n`);
    const env: NodeJS.ProcessEnv = {
      PATH: [bin, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'].join(':'),
      HOME: home,
      TMPDIR: process.env.TMPDIR ?? '/tmp',
      LANG: 'C.UTF-8',
      // What a configured git gives its user: a name for commits, and nothing from /etc.
      GIT_AUTHOR_NAME: 'Docs Reader', GIT_AUTHOR_EMAIL: 'reader@example.test',
      GIT_COMMITTER_NAME: 'Docs Reader', GIT_COMMITTER_EMAIL: 'reader@example.test',
      GIT_CONFIG_NOSYSTEM: '1',
      SSH_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
    };
    const outcome = await runScenario(join(harness, 'driver.sh'), home, env);
    const done = readFileSync(progress, 'utf8').split('\n').filter((l) => l !== '');
    const failedAt = runnable[done.length];
    const tail = outcome.output.slice(-6000);
    t.notOk(outcome.timedOut, `${doc} finished within ${DOC_TIMEOUT_MS / 1000}s`);
    t.equal(outcome.code, 0, failedAt === undefined ? `${doc}: the scenario exited ${outcome.code}\n${tail}` : `${doc}: the block at line ${failedAt.line} failed\n${tail}`);
    t.equal(done.length, runnable.length, `all ${runnable.length} runnable blocks of ${doc} ran`);
  });
}

t.test('summary', async (t) => {
  for (const line of summary) t.comment(line);
  t.ok(summary.length >= 7, 'README.md and the guides were all read');
});

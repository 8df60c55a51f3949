/**
 * Examples that start something in the background and wait for it must stop
 * waiting, and fail, when what they wait for has exited: a wait loop that
 * only polls a log or a file hangs for ever when `serve` dies on a port in use.
 *
 * Every wait loop in README.md and docs/*.md (run or not) also checks that the
 * process it waits for is alive; and each guide's first background start is run
 * as written, in order, with the real reason to die arranged beforehand (its
 * ports taken, its demo directory holding something else): the scenario must
 * end, failing at that block, instead of hanging.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import t from 'tap';
import { documentationFiles, examplesOf, readDoc, type Example } from './blocks.js';
import { pushgateBin, requireTool, tempDir } from '../helpers/tools.js';

/** Far longer than serve or dev take to fail; a loop that does not notice is still waiting then. */
const HANG_LIMIT_MS = 90_000;

/** Wait loops: `until …; do … sleep …; done` or `while …`, on one line or several. */
function waitLoops(text: string): string[] {
  const loops: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!/^\s*(until|while)\b/.test(line)) return;
    const end = lines.findIndex((l, j) => j >= i && /\bdone\b/.test(l));
    const loop = lines.slice(i, end < 0 ? lines.length : end + 1).join('\n');
    if (/\bsleep\b/.test(loop)) loops.push(loop);
  });
  return loops;
}

/** A command line started in the background (`… &`, not `&&`). */
const BACKGROUND = /(^|[^&])&\s*(#.*)?$/m;

t.test('every wait loop in the documentation checks that what it waits for is alive', async (t) => {
  let loops = 0;
  for (const doc of documentationFiles()) {
    for (const example of examplesOf(readDoc(doc)).examples) {
      for (const loop of waitLoops(example.text)) {
        loops++;
        t.match(loop, /kill -0 "\$[A-Z_]+"/, `${doc}:${example.line}: the loop stops when the process it waits for has exited:\n${loop}`);
      }
    }
  }
  t.ok(loops >= 4, `the guides' wait loops were found (${loops})`);
});

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function portOf(server: Server): number {
  return (server.address() as { port: number }).port;
}

interface Outcome {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** The blocks in one bash (`set -euo pipefail`), in a process group of its own that is ended afterwards. */
function runBlocks(blocks: Example[], home: string, harness: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const progress = join(harness, 'progress');
  writeFileSync(progress, '');
  const driver = ['set -euo pipefail'];
  blocks.forEach((block, i) => {
    const file = join(harness, `block-${i + 1}.sh`);
    writeFileSync(file, `${block.text}\n`);
    driver.push(`. ${JSON.stringify(file)}`, `echo ${block.line} >> ${JSON.stringify(progress)}`);
  });
  writeFileSync(join(harness, 'driver.sh'), `${driver.join('\n')}\n`);
  return new Promise((resolve) => {
    const child = spawn('bash', [join(harness, 'driver.sh')], { cwd: home, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, HANG_LIMIT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // nothing left running
      }
      resolve({ code, output, timedOut });
    });
  });
}

requireTool('git', 'git');
requireTool('ssh-keygen', 'openssh-client');

for (const doc of documentationFiles()) {
  const runnable = examplesOf(readDoc(doc)).examples.filter((e) => e.kind === 'run');
  const first = runnable.findIndex((e) => BACKGROUND.test(e.text) && waitLoops(e.text).length > 0);
  if (first < 0) continue;
  t.test(`${doc}:${runnable[first]!.line} fails instead of waiting for ever when what it started has died`, async (t) => {
    const home = tempDir(t, 'pushgate-doc-wait-');
    const harness = tempDir(t, 'pushgate-doc-wait-harness-');
    const bin = join(harness, 'bin');
    mkdirSync(bin);
    symlinkSync(pushgateBin, join(bin, 'pushgate'));
    // What makes serve and dev die at start: their ports are taken, the demo directory holds something else.
    const taken = await Promise.all([listen(0), listen(0)]);
    t.teardown(() => taken.forEach((server) => server.close()));
    mkdirSync(join(home, 'demo'));
    writeFileSync(join(home, 'demo', 'notes.txt'), 'not a pushgate demo\n');
    const env: NodeJS.ProcessEnv = {
      PATH: [bin, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'].join(':'),
      HOME: home,
      TMPDIR: process.env.TMPDIR ?? '/tmp',
      LANG: 'C.UTF-8',
      GIT_AUTHOR_NAME: 'Docs Reader', GIT_AUTHOR_EMAIL: 'reader@example.test',
      GIT_COMMITTER_NAME: 'Docs Reader', GIT_COMMITTER_EMAIL: 'reader@example.test',
      GIT_CONFIG_NOSYSTEM: '1',
      SSH_PORT: String(portOf(taken[0]!)),
      HTTP_PORT: String(portOf(taken[1]!)),
    };
    const outcome = await runBlocks(runnable.slice(0, first + 1), home, harness, env);
    const tail = outcome.output.slice(-3000);
    t.notOk(outcome.timedOut, `the example stopped waiting by itself\n${tail}`);
    t.not(outcome.code, 0, `and failed\n${tail}`);
    const done = readFileSync(join(harness, 'progress'), 'utf8').split('\n').filter((l) => l !== '');
    t.equal(done.length, first, `the blocks before it ran, and it is the one that failed\n${tail}`);
  });
}

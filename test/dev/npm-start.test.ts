/**
 * `npm start`, exactly as the README types it, in a copy of the source tree:
 * a signal sent to the process that was started (npm's own) stops the whole
 * demo — npm, the shell npm runs the script in, pushgate dev — and closes its
 * ports. A terminal's Ctrl-C signals the whole process group; a supervisor, an
 * IDE's stop button or `kill PID` signals only that one process.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { accepts, requireTool, tempDir } from '../helpers/tools.js';
import { asUser } from '../helpers/user-shell.js';

requireTool('npm', 'npm');
requireTool('git', 'git');
requireTool('ssh', 'openssh-client');

const checkout = new URL('../../../', import.meta.url).pathname;
/** What a fresh clone does not have: made by npm install, the build, the tests and the demo. */
const NOT_IN_A_CLONE = new Set(['node_modules', 'build', '.git', '.tap', 'coverage', '.pushgate-dev']);

/** The source tree as a clone has it, with this checkout's node_modules (npm install is not what is tested here). */
function copyOfTheSource(t: { teardown(fn: () => void): void }): string {
  const copy = join(tempDir(t, 'pushgate-npm-start-'), 'pushgate');
  cpSync(checkout, copy, {
    recursive: true,
    filter: (source) => {
      const path = relative(checkout, source);
      return path.includes(sep) || !NOT_IN_A_CLONE.has(path);
    },
  });
  symlinkSync(join(checkout, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

/** Every process whose process group is `group` (Linux: /proc/PID/stat, field 5). */
function processesIn(group: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === group && fields[0] !== 'Z') found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '(gone)';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  t.test(`${signal} to npm start's process stops the demo`, { timeout: 280_000 }, async (t) => {
    const copy = copyOfTheSource(t);
    // Its own process group, only so that the test can clean up whatever a failure leaves running.
    const { command, args, env } = asUser('npm', ['start']);
    const npm = spawn(command, args, { cwd: copy, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    const group = npm.pid!;
    t.teardown(() => {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // nothing left
      }
    });
    let output = '';
    npm.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
    npm.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    const npmExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once('exit', (code, sig) => resolve({ code, signal: sig })));

    for (const until = Date.now() + 220_000; !output.includes('Ctrl-C stops everything.');) {
      if (npm.exitCode !== null || npm.signalCode !== null) throw new Error(`npm start ended before the demo ran:\n${output}`);
      if (Date.now() > until) throw new Error(`npm start printed no walkthrough:\n${output}`);
      await sleep(200);
    }
    const info = JSON.parse(readFileSync(join(copy, '.pushgate-dev', 'dev.json'), 'utf8')) as { issuer: string; httpUrl: string; sshPort: number };
    const ports = [info.sshPort, Number(new URL(info.httpUrl).port), Number(new URL(info.issuer).port)];
    for (const port of ports) t.ok(await accepts(port), `port ${port} is open while the demo runs`);
    const running = processesIn(group);
    t.ok(running.some((pid) => commandOf(pid).includes('pushgate.js dev')), `pushgate dev runs under npm start: ${running.map(commandOf).join(' | ')}`);

    process.kill(group, signal);
    const ended = await Promise.race([npmExit, sleep(60_000).then(() => undefined)]);
    t.ok(ended !== undefined, `npm itself ends on ${signal}`);
    // What is still running once npm has ended: nothing of the demo may be.
    let left = processesIn(group);
    for (const until = Date.now() + 30_000; left.length > 0 && Date.now() < until; left = processesIn(group)) await sleep(200);
    t.same(left.map(commandOf), [], `no process of the demo survives ${signal} to npm`);
    for (const port of ports) t.notOk(await accepts(port), `port ${port} is closed`);
    t.match(output, `pushgate dev: ${signal}, stopping`, 'pushgate dev itself got the signal and stopped');
    t.ok(existsSync(join(copy, '.pushgate-dev', 'dev.json')), 'the demo ran in ./.pushgate-dev');
  });
}

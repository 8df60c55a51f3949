/**
 * A hard lifetime for the processes pushgate starts in the background (the
 * post-receive recorder, queue notifiers): whatever they wait on — a lock
 * held forever, a file that became a FIFO or sits on a dead mount, a peer
 * that never answers, a kept hook that never ends — they end within a
 * bounded time and say so in the operator log.
 *
 * A timer on the process's own event loop cannot do this: the loop does not
 * run while the main thread is blocked (a synchronous read, Atomics.wait).
 * The watchdog is a worker thread of its own, which kills the process and
 * every process it started (a kept hook, git) with SIGKILL when the time is
 * up. The worker is unreferenced: a process that finishes in time exits as
 * usual.
 *
 * SIGTERM must end such a process too: a listener for it (a preload such as
 * an instrumentation agent may add one) only runs on the main thread's event
 * loop, so a blocked process would ignore the signal. The listeners are
 * removed, which restores the default action: SIGTERM ends the process.
 *
 * CommonJS, like the hook entry: loaded without the ES module loader.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, fstatSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

export type OperatorLevel = 'error' | 'warn' | 'info';

/** Where a background process's operator log lines go: `log.file`, else syslog (logger), else stderr. */
export interface OperatorSink {
  /** `log.file` of the config; null or undefined when the config names none (or is not read yet). */
  logFile?: string | null;
}

/**
 * One operator log line in the form `pushgate serve` writes to `log.file`
 * (winston's JSON format: level, message, fields, timestamp). Only
 * pushgate's own words go in: no text of a pusher or a commit.
 */
export function operatorLine(level: OperatorLevel, message: string, fields: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ level, message, ...fields, timestamp: new Date().toISOString() })}\n`;
}

/** Whether fd 2 goes nowhere (/dev/null): a background hook's stderr does. */
function stderrIsNull(): boolean {
  try {
    const stat = fstatSync(2);
    return stat.isCharacterDevice() && stat.rdev === 259; // makedev(1, 3)
  } catch {
    return true;
  }
}

/**
 * Writes one operator log line from the main thread: appended to `log.file`
 * when the config names one; otherwise to stderr, and to syslog through
 * logger(1) when stderr goes nowhere (a background hook's does), where the
 * journal keeps it next to `serve`'s own stderr.
 */
export function writeOperatorLog(sink: OperatorSink, level: OperatorLevel, message: string, fields: Record<string, unknown> = {}): void {
  const line = operatorLine(level, message, fields);
  if (typeof sink.logFile === 'string') {
    try {
      appendFileSync(sink.logFile, line, { mode: 0o640 });
      return;
    } catch {
      // Fall through to stderr / syslog.
    }
  }
  try {
    writeSync(2, line);
  } catch {
    // Nothing else to tell.
  }
  if (stderrIsNull()) toSyslog(level, message);
}

function toSyslog(level: OperatorLevel, message: string): void {
  try {
    const child = spawn('logger', ['-t', 'pushgate', '-p', `daemon.${level === 'warn' ? 'warning' : level === 'error' ? 'err' : 'info'}`, '--', message], { stdio: 'ignore', detached: false });
    child.once('error', () => {});
    child.unref();
  } catch {
    // No logger: stderr was all there is.
  }
}

interface WatchdogState {
  pid: number;
  name: string;
  started: number;
  limitMs: number;
  logFile: string | null;
  phase: string;
  stderrIsNull: boolean;
}

/*
 * The watchdog thread, as source: it must not depend on any module that the
 * bundles or the build move around. It waits for the deadline (which the main
 * thread may move once it has read its config), writes one line, kills the
 * process's descendants (found in /proc), then the process. The line is written without
 * blocking this thread, and the kill follows within a second whether the
 * write finished or not: a log file on a dead mount cannot hold it up.
 */
const WATCHDOG_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const state = workerData;
let timer;
let fired = false;
function descendants(root) {
  const children = new Map();
  let names = [];
  try { names = fs.readdirSync('/proc'); } catch {}
  for (const name of names) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync('/proc/' + name + '/stat', 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {}
  }
  const found = [];
  const queue = [root];
  while (queue.length > 0) for (const pid of children.get(queue.shift()) || []) { found.push(pid); queue.push(pid); }
  return found;
}
let started = [];
function kill() {
  for (const pid of started) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  process.kill(state.pid, 'SIGKILL');
}
function fire() {
  if (fired) return;
  fired = true;
  const seconds = Math.round(state.limitMs / 100) / 10;
  started = descendants(state.pid);
  const message = state.name + ': gave up after ' + seconds + 's while ' + state.phase + '; ending it (pid ' + state.pid + ')' +
    (started.length > 0 ? ' and the processes it started (pid ' + started.join(', ') + ')' : '');
  const level = 'error';
  const line = JSON.stringify({ level, message, process: state.name, pid: state.pid, limitMs: state.limitMs, phase: state.phase, timestamp: new Date().toISOString() }) + '\\n';
  setTimeout(kill, 1000);
  const toStderr = () => {
    fs.write(2, line, () => {
      if (!state.stderrIsNull) return kill();
      try {
        const child = spawn('logger', ['-t', 'pushgate', '-p', 'daemon.err', '--', message], { stdio: 'ignore' });
        child.once('error', kill);
        child.once('exit', kill);
      } catch { kill(); }
    });
  };
  if (typeof state.logFile === 'string') fs.appendFile(state.logFile, line, (error) => (error ? toStderr() : kill()));
  else toStderr();
}
function arm() {
  clearTimeout(timer);
  timer = setTimeout(fire, Math.max(0, state.started + state.limitMs - Date.now()));
}
parentPort.on('message', (change) => {
  Object.assign(state, change);
  if ('limitMs' in change) arm();
});
arm();
`;

export interface LifetimeOptions {
  /** How the process is named in the log line: `pushgate hook post-receive`. */
  name: string;
  limitMs: number;
  logFile?: string | null;
}

/** The watchdog of one background process; see the top of this file. */
export class Lifetime {
  readonly #worker: Worker | undefined;

  constructor(options: LifetimeOptions) {
    process.removeAllListeners('SIGTERM');
    const state: WatchdogState = {
      pid: process.pid, name: options.name, started: Date.now(), limitMs: options.limitMs,
      logFile: options.logFile ?? null, phase: 'starting', stderrIsNull: stderrIsNull(),
    };
    try {
      // No preloads in the watchdog: it must start whatever NODE_OPTIONS holds.
      this.#worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: state, execArgv: [], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdout: false, stderr: false });
      this.#worker.unref();
      this.#worker.on('error', () => {});
    } catch {
      this.#worker = undefined;
    }
  }

  /** Once the config is read: the limit it sets (counted from the start) and where the line goes. */
  configure(change: { limitMs?: number; logFile?: string | null }): void {
    this.#worker?.postMessage(change);
  }

  /** What the process is doing now, for the line that says where it was stuck. */
  phase(text: string): void {
    this.#worker?.postMessage({ phase: text });
  }

  /** The work is done: the watchdog is not needed for the exit. */
  stop(): void {
    void this.#worker?.terminate();
  }
}

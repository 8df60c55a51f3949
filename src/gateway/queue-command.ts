/**
 * Reviewer commands over SSH. `queue wait` is served inside the gateway
 * process: one poller for every waiter (see WaitHub), at most
 * `queue.waits.perIdentity` waits per identity and `queue.waits.total` in
 * all, so waiting costs a timer and a channel rather than a process. Every
 * other `queue …` runs the pushgate CLI as a short-lived child, with the
 * caller's identity in the same PUSHGATE_* variables the hook reads, and
 * the server's config. The client's words are arguments, never shell text,
 * and cannot choose another config. What the child says on stderr is
 * stripped of server paths on the way out.
 */
import { spawn } from 'node:child_process';
import { Transform, type TransformCallback } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseDurationSeconds } from '../cli/duration.js';
import { loadConfig, type PushgateConfig } from '../config/index.js';
import type { Identity } from '../identity/index.js';
import { safeLine } from '../text/index.js';
import { jsonText, statusText, summarize } from '../queue/describe.js';
import {
  findVisibleEntry, isQueueError, normalizeQueueId, queueIdProblem, QueueError, requirementsFor, WaitHub, withoutServerPaths, type WaitResult,
} from '../queue/index.js';
import { permissionsFor } from './access.js';
import { gitChildEnv } from './git-env.js';
import type { CommandIO, QueueCommandHandler } from './session.js';

const PUSHGATE_ENTRY = fileURLToPath(new URL('../../../bin/pushgate.js', import.meta.url));

export interface QueueCommandOptions {
  /** The config file the server runs with. */
  configPath: string;
  /** The pushgate entry point; by default this installation's. */
  entry?: string;
  /** ms between looks at waited-on entries. */
  waitInterval?: number;
}

export function spawnQueueCommand(options: QueueCommandOptions): QueueCommandHandler {
  const waits = new InProcessWaits(options);
  return (argv, identity, io, session) => {
    if (argv.some((arg) => arg === '--config' || arg.startsWith('--config='))) {
      io.stderr.write('pushgate: --config cannot be given over SSH; the server\'s configuration applies\n');
      return Promise.resolve(1);
    }
    if (argv[0] === 'wait') {
      const parsed = parseWaitArgs(argv.slice(1));
      // Anything the in-process parser does not take (help, a mistake) gets the CLI's own answer.
      if (parsed !== undefined) return waits.run(parsed, identity, io);
    }
    return runChild(options, argv, identity, io, session);
  };
}

function runChild(options: QueueCommandOptions, argv: string[], identity: Identity, io: CommandIO, session: string): Promise<number> {
  const env = { ...gitChildEnv({ identity, session }), PUSHGATE_CONFIG: options.configPath };
  const child = spawn(process.execPath, [options.entry ?? PUSHGATE_ENTRY, 'queue', ...argv], { env, stdio: ['pipe', 'pipe', 'pipe'], signal: io.signal });
  io.stdin.pipe(child.stdin);
  child.stdin.on('error', () => {});
  child.stdout.pipe(io.stdout, { end: false });
  child.stderr.pipe(new WithoutServerPaths()).pipe(io.stderr, { end: false });
  return new Promise((resolve) => {
    child.once('error', (error) => {
      if (error.name !== 'AbortError') io.stderr.write('pushgate: the queue command could not be started\n');
    });
    child.once('close', (code) => {
      io.stdin.unpipe(child.stdin);
      resolve(code ?? 2);
    });
  });
}

/** Line by line, every absolute path replaced (a line longer than 64 KiB is passed on in pieces). */
class WithoutServerPaths extends Transform {
  #pending = '';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const text = this.#pending + chunk.toString('utf8');
    const cut = text.lastIndexOf('\n');
    if (cut < 0 && text.length < 65536) {
      this.#pending = text;
      return callback();
    }
    const whole = cut < 0 ? text : text.slice(0, cut + 1);
    this.#pending = cut < 0 ? '' : text.slice(cut + 1);
    callback(null, withoutServerPaths(whole));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.#pending === '' ? undefined : withoutServerPaths(this.#pending));
  }
}

interface WaitArgs {
  id: string;
  timeout: string;
  repo?: string;
  format: string;
}

/** `wait <id> [--timeout D] [--repo R] [--format F]` (also `--opt=value`), as the CLI takes it; undefined for anything else. */
export function parseWaitArgs(args: readonly string[]): WaitArgs | undefined {
  const out: Partial<WaitArgs> & { timeout: string; format: string } = { timeout: '10m', format: 'text' };
  let id: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '--timeout' || name === '--repo' || name === '--format') {
      const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) return undefined;
      out[name.slice(2) as 'timeout' | 'repo' | 'format'] = value;
    } else if (arg.startsWith('-') || id !== undefined) {
      return undefined;
    } else {
      id = arg;
    }
  }
  return id === undefined ? undefined : { ...out, id };
}

const EXIT_OK = 0;
const EXIT_REFUSED = 1;
const EXIT_ERROR = 2;

/** Waits served in this process, counted per identity and in all. */
class InProcessWaits {
  readonly #hub: WaitHub;
  readonly #perIdentity = new Map<string, number>();
  #total = 0;

  constructor(private readonly options: QueueCommandOptions) {
    this.#hub = new WaitHub(options.waitInterval ?? 500);
  }

  async run(args: WaitArgs, identity: Identity, io: CommandIO): Promise<number> {
    const say = (text: string): void => {
      io.stdout.write(text);
    };
    const fail = (error: QueueError, format: string): number => {
      const message = withoutServerPaths(error.message);
      if (format === 'json') say(jsonText({ ok: false, code: error.code, message }));
      io.stderr.write(`pushgate: ${error.code}: ${message}\n`);
      return error.refused ? EXIT_REFUSED : EXIT_ERROR;
    };
    if (args.format !== 'text' && args.format !== 'json') {
      io.stderr.write(`pushgate: --format ${safeLine(args.format)}: expected text or json\n`);
      return EXIT_REFUSED;
    }
    const seconds = parseDurationSeconds(args.timeout);
    if (seconds === undefined) {
      io.stderr.write(`pushgate: --timeout ${safeLine(args.timeout)}: expected a duration such as 90s, 10m or 1h\n`);
      return EXIT_REFUSED;
    }
    const id = normalizeQueueId(args.id);
    if (id === undefined) {
      io.stderr.write(`pushgate: ${safeLine(JSON.stringify(args.id))} is not a queue id: ${safeLine(queueIdProblem(args.id))}\n`);
      return EXIT_REFUSED;
    }
    let config: PushgateConfig;
    try {
      config = loadConfig(this.options.configPath);
    } catch {
      io.stderr.write('pushgate: the server\'s configuration could not be read; an administrator must fix it\n');
      return EXIT_ERROR;
    }
    const principal = identity.principal;
    const mine = this.#perIdentity.get(principal) ?? 0;
    if (mine >= config.queue.waits.perIdentity || this.#total >= config.queue.waits.total) {
      const why = mine >= config.queue.waits.perIdentity
        ? `${principal} already waits on ${mine} entr${mine === 1 ? 'y' : 'ies'} (at most ${config.queue.waits.perIdentity} at once)`
        : `the server already serves ${this.#total} waits (at most ${config.queue.waits.total} at once)`;
      return fail(new QueueError('queue.limit', `${why}; wait for one to end, or use queue status`), args.format);
    }
    this.#perIdentity.set(principal, mine + 1);
    this.#total++;
    try {
      const viewer = { principal, roles: identity.roles };
      const readable = (repository: string): boolean => permissionsFor(viewer, repository, config.access).has('read');
      let result: WaitResult;
      try {
        const found = await findVisibleEntry(config.reposRoot, config.queue, viewer, id, args.repo, readable);
        if (found.stored.legacy === true) throw new QueueError('queue.legacy', `queue entry ${id} is kept in the old layout; an administrator must run \`pushgate queue migrate\` first`);
        result = await this.#hub.wait(found.repository.gitDir, id, seconds * 1000, io.signal);
      } catch (error) {
        if (io.signal.aborted) return EXIT_ERROR;
        if (isQueueError(error)) return fail(error, args.format);
        io.stderr.write('pushgate: the queue command failed on the server; an administrator can find why in the server\'s logs\n');
        return EXIT_ERROR;
      }
      const now = new Date();
      const requirements = requirementsFor(result.record, config.queue);
      if (args.format === 'json') say(jsonText({ ...summarize(result.record, requirements, now), outcome: result.outcome, detail: result.record.events.at(-1)?.detail ?? null }));
      else say(statusText(result.record, requirements, now));
      if (result.outcome === 'timeout') {
        io.stderr.write(`pushgate: ${id} is still ${result.state} after ${args.timeout}\n`);
        return EXIT_ERROR;
      }
      return result.state === 'applied' ? EXIT_OK : EXIT_REFUSED;
    } finally {
      const left = (this.#perIdentity.get(principal) ?? 1) - 1;
      if (left <= 0) this.#perIdentity.delete(principal);
      else this.#perIdentity.set(principal, left);
      this.#total--;
    }
  }
}

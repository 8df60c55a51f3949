import { describeCommand, GitError } from './errors.js';
import { failure, spawnGit, type GitProcess } from './run.js';

export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';

export interface ObjectInfo {
  oid: string;
  type: ObjectType;
  size: number;
}

export interface GitObject extends ObjectInfo {
  data: Buffer;
}

interface Pending {
  /** A body follows the header (a `contents` request). */
  contents: boolean;
  resolve(value: GitObject | ObjectInfo | null): void;
  reject(error: unknown): void;
}

const LF = 0x0a;
const HEADER = /^([0-9a-f]{40}|[0-9a-f]{64}) (blob|tree|commit|tag) (\d+)$/;

/**
 * One `git cat-file --batch-command --buffer` process and the FIFO of
 * requests written to it: `info` (type and size) and `contents` share the
 * process, so a push's reads cost one git start-up. Responses arrive in
 * request order, so the head of the queue owns the next response.
 */
class BatchProcess {
  private readonly proc: GitProcess;
  private readonly queue: Pending[] = [];
  private header: Buffer[] = [];
  private body: Buffer | undefined;
  private bodyFilled = 0;
  private bodyInfo: ObjectInfo | undefined;
  /** Bytes still to skip: the LF after a body. */
  private skip = 0;
  private dead: GitError | undefined;
  private unsent: string[] = [];

  constructor(gitDir: string, env: NodeJS.ProcessEnv | undefined) {
    const args = ['cat-file', '--batch-command', '--buffer'];
    this.proc = spawnGit(args, { gitDir, env, stdin: true });
    this.proc.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.proc.exited.then(
      ({ code, stderr }) => this.fail(code === 0 ? new GitError('git.closed', `${describeCommand(args)} exited with requests outstanding`, { args, stderr }) : failure(args, code, stderr)),
      (error: GitError) => this.fail(error),
    );
  }

  request(name: string, contents: boolean): Promise<GitObject | ObjectInfo | null> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.queue.push({ contents, resolve, reject });
      // Requests made in the same turn go to git in one write, answered after one flush: one system call and one wake-up of git, not one per object.
      if (this.unsent.length === 0) queueMicrotask(() => this.send());
      this.unsent.push(`${contents ? 'contents' : 'info'} ${name}`);
    });
  }

  private send(): void {
    const commands = this.unsent;
    if (commands.length === 0) return;
    this.unsent = [];
    this.proc.child.stdin!.write(`${commands.join('\n')}\nflush\n`);
  }

  async close(): Promise<void> {
    this.send();
    this.proc.child.stdin!.end();
    await this.proc.exited.catch(() => undefined);
  }

  private fail(error: GitError): void {
    this.dead ??= error;
    for (const pending of this.queue.splice(0)) pending.reject(this.dead);
  }

  private onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
      } else if (this.body !== undefined) {
        const n = Math.min(this.body.length - this.bodyFilled, chunk.length - at);
        chunk.copy(this.body, this.bodyFilled, at, at + n);
        this.bodyFilled += n;
        at += n;
        if (this.bodyFilled === this.body.length) this.finishBody();
      } else {
        const nl = chunk.indexOf(LF, at);
        if (nl < 0) {
          this.header.push(chunk.subarray(at));
          return;
        }
        this.header.push(chunk.subarray(at, nl));
        at = nl + 1;
        const line = (this.header.length === 1 ? this.header[0]! : Buffer.concat(this.header)).toString('utf8');
        this.header = [];
        this.onHeader(line);
      }
    }
  }

  private onHeader(line: string): void {
    const match = HEADER.exec(line);
    if (match === null) {
      // "<name> missing" or "<name> ambiguous": no body follows.
      if (line.endsWith(' missing') || line.endsWith(' ambiguous')) this.settle(null);
      else this.fail(new GitError('git.protocol', `unexpected answer from git cat-file: ${JSON.stringify(line)}`));
      return;
    }
    const info: ObjectInfo = { oid: match[1]!, type: match[2] as ObjectType, size: Number(match[3]) };
    if (this.queue[0]?.contents !== true) {
      this.settle(info);
      return;
    }
    this.bodyInfo = info;
    this.body = Buffer.allocUnsafe(info.size);
    this.bodyFilled = 0;
    if (info.size === 0) this.finishBody();
  }

  private finishBody(): void {
    const object: GitObject = { ...this.bodyInfo!, data: this.body! };
    this.body = undefined;
    this.bodyInfo = undefined;
    this.skip = 1;
    this.settle(object);
  }

  private settle(value: GitObject | ObjectInfo | null): void {
    const pending = this.queue.shift();
    if (pending === undefined) this.fail(new GitError('git.protocol', 'git cat-file answered a request that was never made'));
    else pending.resolve(value);
  }
}

/**
 * A long-lived `git cat-file --batch-command` process for reading many
 * objects and their types and sizes, started on the first request.
 * Requests may be issued concurrently; they are pipelined. Call `close()`
 * when done.
 */
export class CatFileBatch {
  private process: BatchProcess | undefined;
  private closed = false;

  constructor(
    private readonly gitDir: string,
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  /** The object, or null when `name` does not name exactly one object. `name` is an oid or any revision expression. */
  read(name: string): Promise<GitObject | null> {
    const invalid = this.validate(name);
    if (invalid !== undefined) return Promise.reject(invalid);
    return this.started().request(name, true) as Promise<GitObject | null>;
  }

  /** Type and size without reading the content, or null when missing. */
  info(name: string): Promise<ObjectInfo | null> {
    const invalid = this.validate(name);
    if (invalid !== undefined) return Promise.reject(invalid);
    return this.started().request(name, false) as Promise<ObjectInfo | null>;
  }

  /** Starts git ahead of the first request, so that its start-up overlaps other work. */
  start(): void {
    if (this.closed) return;
    this.started();
  }

  /** Lets outstanding requests finish, then ends the process. */
  async close(): Promise<void> {
    this.closed = true;
    await this.process?.close();
  }

  private started(): BatchProcess {
    this.process ??= new BatchProcess(this.gitDir, this.env);
    return this.process;
  }

  private validate(name: string): GitError | undefined {
    if (this.closed) return new GitError('git.closed', 'this CatFileBatch is closed');
    // A newline would end the request early and desynchronise the answers.
    if (name === '' || /[\n\r\0]/.test(name)) return new GitError('git.invalid-argument', `not an object name: ${JSON.stringify(name)}`);
    return undefined;
  }
}

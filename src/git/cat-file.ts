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
  resolve(value: GitObject | ObjectInfo | null): void;
  reject(error: unknown): void;
}

const LF = 0x0a;
const HEADER = /^([0-9a-f]{40}|[0-9a-f]{64}) (blob|tree|commit|tag) (\d+)$/;

/**
 * One `git cat-file --batch` (or `--batch-check`) process and the FIFO of
 * requests written to it. Responses arrive in request order, so the head of
 * the queue owns the next response.
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

  constructor(
    gitDir: string,
    env: NodeJS.ProcessEnv | undefined,
    private readonly withContents: boolean,
  ) {
    const args = ['cat-file', withContents ? '--batch' : '--batch-check'];
    this.proc = spawnGit(args, { gitDir, env, stdin: true });
    this.proc.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.proc.exited.then(
      ({ code, stderr }) => this.fail(code === 0 ? new GitError('git.closed', `${describeCommand(args)} exited with requests outstanding`, { args, stderr }) : failure(args, code, stderr)),
      (error: GitError) => this.fail(error),
    );
  }

  request(name: string): Promise<GitObject | ObjectInfo | null> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      // Requests made in the same turn go to git in one write: one system call and one wake-up of git, not one per object.
      if (this.unsent.length === 0) queueMicrotask(() => this.send());
      this.unsent.push(name);
    });
  }

  private send(): void {
    const names = this.unsent;
    if (names.length === 0) return;
    this.unsent = [];
    this.proc.child.stdin!.write(`${names.join('\n')}\n`);
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
    if (!this.withContents) {
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
 * Long-lived `git cat-file` processes for reading many objects: one for
 * contents (`--batch`), started on the first read, and one for type and size
 * (`--batch-check`), started on the first info. Requests may be issued
 * concurrently; they are pipelined. Call `close()` when done.
 */
export class CatFileBatch {
  private contents: BatchProcess | undefined;
  private check: BatchProcess | undefined;
  private closed = false;

  constructor(
    private readonly gitDir: string,
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  /** The object, or null when `name` does not name exactly one object. `name` is an oid or any revision expression. */
  read(name: string): Promise<GitObject | null> {
    const invalid = this.validate(name);
    if (invalid !== undefined) return Promise.reject(invalid);
    this.contents ??= new BatchProcess(this.gitDir, this.env, true);
    return this.contents.request(name) as Promise<GitObject | null>;
  }

  /** Type and size without reading the content, or null when missing. */
  info(name: string): Promise<ObjectInfo | null> {
    const invalid = this.validate(name);
    if (invalid !== undefined) return Promise.reject(invalid);
    this.check ??= new BatchProcess(this.gitDir, this.env, false);
    return this.check.request(name) as Promise<ObjectInfo | null>;
  }

  /** Starts a process ahead of the first request, so that its start-up overlaps other work. */
  start(kind: 'contents' | 'check'): void {
    if (this.closed) return;
    if (kind === 'contents') this.contents ??= new BatchProcess(this.gitDir, this.env, true);
    else this.check ??= new BatchProcess(this.gitDir, this.env, false);
  }

  /** Lets outstanding requests finish, then ends the processes. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.contents?.close(), this.check?.close()]);
  }

  private validate(name: string): GitError | undefined {
    if (this.closed) return new GitError('git.closed', 'this CatFileBatch is closed');
    // A newline would end the request early and desynchronise the answers.
    if (name === '' || /[\n\r\0]/.test(name)) return new GitError('git.invalid-argument', `not an object name: ${JSON.stringify(name)}`);
    return undefined;
  }
}

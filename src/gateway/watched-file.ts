import { readFileSync, statSync } from 'node:fs';

export type Loaded<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * A file parsed once and parsed again when it changes (inode, size, mtime or
 * ctime), checked with one stat per `get()`. A file that cannot be read or
 * parsed yields an error until it is fixed; callers decide to fail closed.
 */
export class WatchedFile<T> {
  #stamp = '';
  #loaded: Loaded<T> = { ok: false, error: 'not loaded' };

  constructor(
    readonly path: string,
    private readonly parse: (bytes: Buffer) => T,
  ) {}

  get(): Loaded<T> {
    let stamp: string;
    try {
      const s = statSync(this.path, { bigint: true });
      stamp = `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (error) {
      this.#stamp = '';
      return { ok: false, error: `${this.path}: ${(error as Error).message}` };
    }
    if (stamp !== this.#stamp) {
      this.#stamp = stamp;
      try {
        this.#loaded = { ok: true, value: this.parse(readFileSync(this.path)) };
      } catch (error) {
        this.#loaded = { ok: false, error: `${this.path}: ${(error as Error).message}` };
      }
    }
    return this.#loaded;
  }

  /** Forgets the cached stat so the next `get()` reads the file. */
  invalidate(): void {
    this.#stamp = '';
  }
}

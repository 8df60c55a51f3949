/**
 * The agent's state directory (`~/.pushgate`, `$PUSHGATE_HOME`, or `--dir`):
 * its SSH key (made once, 0600), the current certificate, and the remembered
 * login settings.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatPrivateKey, formatPublicKeyLine, generatePrivateKey, parseCertificateText, parsePrivateKey, type Certificate } from '../sshcert/index.js';
import { formatAgentSettings, parseAgentSettings, type AgentSettings } from './agent-settings.js';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.PUSHGATE_HOME;
  return home !== undefined && home !== '' ? resolve(home) : join(homedir(), '.pushgate');
}

export class AgentState {
  readonly dir: string;
  readonly keyPath: string;
  readonly publicKeyPath: string;
  readonly certificatePath: string;
  readonly settingsPath: string;
  readonly lockPath: string;

  constructor(dir: string = defaultStateDir()) {
    this.dir = resolve(dir);
    this.keyPath = join(this.dir, 'id_ed25519');
    this.publicKeyPath = `${this.keyPath}.pub`;
    this.certificatePath = `${this.keyPath}-cert.pub`;
    this.settingsPath = join(this.dir, 'login.json');
    this.lockPath = join(this.dir, 'renew.lock');
  }

  ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The public key line, generating an ed25519 key pair first when there is none. */
  ensureKey(): string {
    this.ensureDir();
    if (!existsSync(this.keyPath)) {
      const key = generatePrivateKey('ed25519', { comment: 'pushgate' });
      writeFileSync(this.keyPath, formatPrivateKey(key), { mode: 0o600, flag: 'wx' });
      writeFileSync(this.publicKeyPath, `${formatPublicKeyLine(key.publicKey, key.comment)}\n`, { mode: 0o644 });
      return formatPublicKeyLine(key.publicKey, key.comment);
    }
    const mode = statSync(this.keyPath).mode & 0o777;
    // OpenSSH refuses a private key others can read; fix it rather than fail later inside git.
    if ((mode & 0o077) !== 0) chmodSync(this.keyPath, 0o600);
    const key = parsePrivateKey(readFileSync(this.keyPath), `key ${this.keyPath}`);
    const line = formatPublicKeyLine(key.publicKey, key.comment);
    if (!existsSync(this.publicKeyPath)) writeFileSync(this.publicKeyPath, `${line}\n`, { mode: 0o644 });
    return line;
  }

  readSettings(): AgentSettings | undefined {
    if (!existsSync(this.settingsPath)) return undefined;
    return parseAgentSettings(readFileSync(this.settingsPath, 'utf8'), this.settingsPath);
  }

  writeSettings(settings: AgentSettings): void {
    this.ensureDir();
    this.#replace(this.settingsPath, formatAgentSettings(settings), 0o600);
  }

  /** The stored certificate; undefined when there is none or it cannot be read. */
  readCertificate(): Certificate | undefined {
    try {
      return parseCertificateText(readFileSync(this.certificatePath, 'utf8'));
    } catch {
      return undefined;
    }
  }

  writeCertificate(line: string): void {
    this.ensureDir();
    this.#replace(this.certificatePath, `${line.trim()}\n`, 0o644);
  }

  /** Written aside and renamed, so a concurrent `pushgate ssh` never reads half a file. */
  #replace(path: string, text: string, mode: number): void {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, text, { mode });
    renameSync(temporary, path);
  }

  /**
   * Runs `fn` holding the renewal lock, so concurrent `pushgate ssh` runs
   * (git may start several) renew once. A lock older than `staleMs` is
   * taken over; waiting gives up after `waitMs`.
   */
  async withLock<T>(fn: () => Promise<T>, options: { waitMs?: number; staleMs?: number } = {}): Promise<T> {
    this.ensureDir();
    const waitMs = options.waitMs ?? 60_000;
    const staleMs = options.staleMs ?? 120_000;
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        closeSync(openSync(this.lockPath, 'wx', 0o600));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        try {
          if (Date.now() - statSync(this.lockPath).mtimeMs > staleMs) unlinkSync(this.lockPath);
        } catch {
          // Gone meanwhile: try again.
        }
        if (Date.now() > deadline) throw new Error(`another pushgate is renewing the certificate (${this.lockPath}); remove that file if nothing is`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    try {
      return await fn();
    } finally {
      try {
        unlinkSync(this.lockPath);
      } catch {
        // Taken over as stale: nothing to release.
      }
    }
  }
}

/**
 * An in-process setting for `runShell`: a server directory from
 * `pushgate init`, certificates made by ssh-keygen, and the file sshd would
 * write for `ExposeAuthInfo yes`.
 */
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEventInput, AuditSink } from '../../src/audit/index.js';
import { loadConfig, type PushgateConfig } from '../../src/config/index.js';
import { runShell, type ShellOptions } from '../../src/shell/index.js';
import { testServer, type TestServer } from '../helpers/git-server.js';
import { signWithSshKeygen, type SignOptions } from '../helpers/ssh-client.js';
import { run, tempDir } from '../helpers/tools.js';

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export type { SignOptions };

export interface Key {
  path: string;
  /** `TYPE BASE64` of the plain public key. */
  plain: string;
  /** `TYPE BASE64` of the certificate (after sign). */
  cert: string;
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  events: AuditEventInput[];
}

export class ShellFixture {
  readonly server: TestServer;
  readonly dir: string;
  #counter = 0;

  constructor(readonly t: Teardown) {
    this.server = testServer(t);
    this.server.setConfig(['access'], [
      { repos: ['team/**'], roles: ['agent'], permissions: ['read', 'write'] },
      { repos: ['secret/**'], principals: ['boss'], permissions: ['read'] },
    ]);
    this.server.createRepo('team/app');
    this.server.createRepo('secret/vault');
    this.dir = tempDir(t, 'pushgate-shell-');
  }

  config(): PushgateConfig {
    return loadConfig(this.server.configPath);
  }

  key(name: string, type: string[] = ['-t', 'ed25519']): Key {
    const path = join(this.dir, name);
    run('ssh-keygen', ['-q', ...type, '-N', '', '-C', name, '-f', path]);
    return { path, plain: firstTwo(readFileSync(`${path}.pub`, 'utf8')), cert: '' };
  }

  sign(key: Key, options: SignOptions = {}): Key {
    signWithSshKeygen(key.path, { ca: join(this.server.dir, 'ca'), principal: 'alice', keyId: 'test-key' }, options);
    return { ...key, cert: firstTwo(readFileSync(`${key.path}-cert.pub`, 'utf8')) };
  }

  /** Writes what sshd writes to $SSH_USER_AUTH. */
  authFile(lines: string[]): string {
    const path = join(this.dir, `auth-${++this.#counter}`);
    writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
    return path;
  }

  /** The environment sshd gives a session: the certificate's auth file, the connection, the command. */
  env(key: Key | string | undefined, command: string | undefined, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const auth = key === undefined ? undefined : typeof key === 'string' ? key : this.authFile([`publickey ${key.cert || key.plain}`]);
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(auth !== undefined ? { SSH_USER_AUTH: auth } : {}),
      SSH_CONNECTION: '127.0.0.1 50000 127.0.0.1 22',
      ...(command !== undefined ? { SSH_ORIGINAL_COMMAND: command } : {}),
      ...extra,
    };
  }

  /** Runs the shell in-process with files as the child's stdio. */
  async run(options: Partial<ShellOptions> & { env: NodeJS.ProcessEnv }, input = ''): Promise<Ran> {
    const n = ++this.#counter;
    const inPath = join(this.dir, `in-${n}`);
    const outPath = join(this.dir, `out-${n}`);
    const errPath = join(this.dir, `err-${n}`);
    writeFileSync(inPath, input);
    const fds = [openSync(inPath, 'r'), openSync(outPath, 'w'), openSync(errPath, 'w')];
    const events: AuditEventInput[] = [];
    const audit: AuditSink = {
      record: async (event) => {
        events.push(event);
      },
    };
    let said = '';
    let code: number;
    try {
      code = await runShell({
        config: this.config(),
        audit,
        user: 'git',
        stdio: fds,
        stderr: (text) => {
          said += text;
        },
        ...options,
      });
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    return { code, stdout: readFileSync(outPath, 'utf8'), stderr: said + readFileSync(errPath, 'utf8'), events };
  }
}

function firstTwo(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ');
}

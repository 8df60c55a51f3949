/**
 * A real smart-HTTP upstream for the tests: `git http-backend` run by
 * fcgiwrap behind nginx, on a loopback port, as the current user, everything
 * (config, pid file, logs, temp files, repositories) under one temporary
 * prefix. TLS with a server certificate from a throw-away CA made with
 * openssl at run time; HTTP basic auth against an htpasswd file written at run
 * time (the token hashed by `openssl passwd -stdin`, never on a command line);
 * every request must authenticate, and an authenticated user may push
 * (http-backend enables receive-pack when REMOTE_USER is set).
 *
 * Two users: `pushgate` (the credential handed to pushgate) and `developer`
 * (someone pushing straight to the upstream).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Daemon, type Teardown } from './daemon.js';
import { accepts, freePort, requireTool, run, tempDir } from './tools.js';
import { DirectClone, type UpstreamServer } from './upstream-server.js';
import { UpstreamRepos } from './upstream-sshd.js';

export interface HttpsUpstream extends UpstreamServer {
  dir: string;
  port: number;
  /** The test CA's certificate: what the client must trust. */
  caFile: string;
  username: string;
  /** pushgate's token, alone in the file. */
  tokenFile: string;
  /** The environment a plain git client needs to reach this server as `user`: the CA and a credential helper reading the user's token file. */
  clientEnv(user?: 'pushgate' | 'developer'): NodeJS.ProcessEnv;
  /** nginx's access and error logs. */
  log(): string;
}

export interface TestCa {
  cert: string;
  key: string;
}

/** A throw-away certificate authority (P-256, one day). */
export function makeTestCa(dir: string, name: string): TestCa {
  requireTool('openssl', 'openssl');
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert, key };
}

/** A server certificate for 127.0.0.1 and localhost, signed by `ca`. */
export function issueServerCertificate(ca: TestCa, dir: string): { cert: string; key: string } {
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1']);
  run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '1', '-out', cert, '-extfile', ext]);
  return { cert, key };
}

/** A git credential helper (for `credential.helper`) that answers `get` with `username` and the token in `tokenFile`. */
export function tokenFileHelper(username: string, tokenFile: string): string {
  return `!f() { test "$1" = get || exit 0; echo username=${username}; printf 'password=%s\\n' "$(cat '${tokenFile}')"; }; f`;
}

export async function startHttpsUpstream(t: Teardown): Promise<HttpsUpstream> {
  const nginx = requireTool('/usr/sbin/nginx', 'nginx');
  const fcgiwrap = requireTool('/usr/sbin/fcgiwrap', 'fcgiwrap');
  requireTool('openssl', 'openssl');
  requireTool('git', 'git');
  const backend = join(run('git', ['--exec-path']).trim(), 'git-http-backend');

  const dir = tempDir(t, 'pushgate-https-');
  for (const sub of ['logs', 'tmp', 'repos', 'home', 'tls', 'users']) mkdirSync(join(dir, sub));
  const repos = join(dir, 'repos');
  const ca = makeTestCa(join(dir, 'tls'), 'pushgate test upstream CA');
  const server = issueServerCertificate(ca, join(dir, 'tls'));

  const tokens = new Map<string, string>();
  const htpasswd: string[] = [];
  for (const user of ['pushgate', 'developer']) {
    const tokenFile = join(dir, 'users', `${user}.token`);
    writeFileSync(tokenFile, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    tokens.set(user, tokenFile);
    htpasswd.push(`${user}:${run('openssl', ['passwd', '-apr1', '-stdin'], { input: readFileSync(tokenFile, 'utf8').trim() }).trim()}`);
  }
  writeFileSync(join(dir, 'htpasswd'), `${htpasswd.join('\n')}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'home', '.gitconfig'), '[init]\n\tdefaultBranch = main\n');

  const socket = join(dir, 'fcgiwrap.sock');
  const fcgi = new Daemon({
    name: 'fcgiwrap (https upstream)',
    command: fcgiwrap,
    // Four workers: one request each at a time (two racing pushes and a fetch at once).
    args: ['-c', '4', '-s', `unix:${socket}`, '-p', backend],
    ready: () => statSync(socket, { throwIfNoEntry: false })?.isSocket() === true,
  });
  t.teardown(() => fcgi.stop());

  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const param = (name: string, value: string): string => `      fastcgi_param ${name} "${value}";`;
  writeFileSync(conf, [
    'daemon off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'logs', 'error.log')} info;`,
    // As root nginx would hand its workers to `nobody`, who cannot read this prefix.
    ...(process.getuid?.() === 0 ? [`user ${userInfo().username};`] : []),
    'events { worker_connections 64; }',
    'http {',
    `  access_log ${join(dir, 'logs', 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(dir, 'tmp', kind)};`),
    '  server {',
    `    listen 127.0.0.1:${port} ssl;`,
    `    ssl_certificate ${server.cert};`,
    `    ssl_certificate_key ${server.key};`,
    '    client_max_body_size 0;',
    '    location / {',
    '      auth_basic "git upstream";',
    `      auth_basic_user_file ${join(dir, 'htpasswd')};`,
    `      fastcgi_pass unix:${socket};`,
    param('SCRIPT_FILENAME', backend),
    param('GIT_PROJECT_ROOT', repos),
    param('GIT_HTTP_EXPORT_ALL', '1'),
    param('HOME', join(dir, 'home')),
    param('PATH', '/usr/local/bin:/usr/bin:/bin'),
    param('PATH_INFO', '$uri'),
    param('QUERY_STRING', '$query_string'),
    param('REQUEST_METHOD', '$request_method'),
    param('CONTENT_TYPE', '$content_type'),
    param('CONTENT_LENGTH', '$content_length'),
    param('REMOTE_USER', '$remote_user'),
    param('REMOTE_ADDR', '$remote_addr'),
    param('GIT_PROTOCOL', '$http_git_protocol'),
    '    }',
    '  }',
    '}',
    '',
  ].join('\n'));
  const nginxArgs = ['-p', dir, '-c', conf, '-e', join(dir, 'logs', 'error.log')];
  run(nginx, [...nginxArgs, '-t']);
  const web = new Daemon({ name: 'nginx (https upstream)', command: nginx, args: nginxArgs, ready: () => accepts(port) });
  t.teardown(() => web.stop());
  await fcgi.start();
  await web.start();

  const urlTemplate = `https://127.0.0.1:${port}/{repo}.git`;
  const url = (repo: string): string => urlTemplate.replace('{repo}', repo);
  const upstreamRepos = new UpstreamRepos(repos);
  const clientEnv = (user: 'pushgate' | 'developer' = 'pushgate'): NodeJS.ProcessEnv => ({
    // The variable, not http.sslCAInfo: a GIT_SSL_CAINFO in the environment overrides the config.
    GIT_SSL_CAINFO: ca.cert,
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: 'credential.helper',
    GIT_CONFIG_VALUE_0: '',
    GIT_CONFIG_KEY_1: 'credential.helper',
    GIT_CONFIG_VALUE_1: tokenFileHelper(user, tokens.get(user)!),
    GIT_TERMINAL_PROMPT: '0',
  });
  return {
    dir,
    port,
    caFile: ca.cert,
    username: 'pushgate',
    tokenFile: tokens.get('pushgate')!,
    urlTemplate,
    url,
    clientEnv,
    repos: upstreamRepos,
    createRepos(...names: string[]): void {
      for (const name of names) run('git', ['init', '--quiet', '--bare', '--initial-branch=main', upstreamRepos.path(name)]);
    },
    setRefusingHook(repo: string, text: string | undefined): void {
      if (text === undefined) upstreamRepos.acceptAll(repo);
      else upstreamRepos.refuseWith(repo, text);
    },
    directClone: (t: Teardown, repo: string) => DirectClone.cloneWith(t, url(repo), clientEnv('developer')),
    log(): string {
      return run('sh', ['-c', 'cat "$1"/access.log "$1"/error.log 2>/dev/null || true', 'sh', join(dir, 'logs')]);
    },
    stop: async () => {
      await web.stop();
    },
    start: async () => {
      await web.start();
    },
  };
}

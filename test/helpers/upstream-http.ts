/**
 * A smart-HTTP Git upstream on loopback with basic authentication: git's
 * own `git http-backend`, run as a CGI program per request by Node's HTTP
 * server (the CGI glue is a few lines; no web server is needed for a test
 * whose subject is where the token travels, not TLS). The token is checked
 * here and never passed to the backend.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requireTool } from './tools.js';
import type { Teardown, UpstreamRepos } from './upstream-sshd.js';

export interface HttpUpstream {
  /** `http://127.0.0.1:PORT/{repo}.git` */
  urlTemplate: string;
  /** Requests refused for a missing or wrong credential, and accepted ones. */
  counts: { refused: number; accepted: number };
  stop(): Promise<void>;
}

function cgi(req: IncomingMessage, res: ServerResponse, root: string, user: string): void {
  const url = new URL(req.url ?? '/', 'http://upstream');
  const backend = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1', REMOTE_USER: user, REMOTE_ADDR: '127.0.0.1',
      REQUEST_METHOD: req.method ?? 'GET', PATH_INFO: decodeURIComponent(url.pathname), QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-length'] !== undefined ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
      ...(req.headers['content-encoding'] !== undefined ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
      ...(req.headers['git-protocol'] !== undefined ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  req.pipe(backend.stdin);
  backend.stdin.on('error', () => undefined);
  let head = Buffer.alloc(0);
  let headersDone = false;
  backend.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (/^status$/i.test(name)) status = Number(value.split(' ')[0]);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  backend.stdout.on('end', () => res.end());
}

/** Serves the bare repositories of `repos` at `http://127.0.0.1:PORT/<name>.git` to the given [username, token] pairs only. */
export async function startHttpUpstream(t: Teardown, repos: UpstreamRepos, credentials: ReadonlyArray<readonly [string, string]>): Promise<HttpUpstream> {
  requireTool('git', 'git');
  const accepted = new Map(credentials.map(([user, token]) => [`Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`, user]));
  const counts = { refused: 0, accepted: 0 };
  const server = createServer((req, res) => {
    const username = accepted.get(req.headers.authorization ?? '');
    if (username === undefined) {
      counts.refused++;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="upstream"' }).end('authentication required\n');
      return;
    }
    counts.accepted++;
    cgi(req, res, repos.root, username);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const stop = (): Promise<void> => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  t.teardown(stop);
  return { urlTemplate: `http://127.0.0.1:${port}/{repo}.git`, counts, stop };
}

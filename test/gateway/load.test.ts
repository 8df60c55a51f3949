import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../helpers/tools.js';
import { sleep, SshUser, startGateway } from './harness.js';

const CONCURRENT = 200;
const SEQUENTIAL = 2000;
const WARM_UP = 200;
/** Parallel lanes for the sequential run: each lane opens one connection after another. */
const LANES = 4;

const gateway = await startGateway(t, {
  repos: ['team/app'],
  configure(server) {
    server.setConfig(['ssh', 'limits', 'maxConnections'], 1024);
    server.setConfig(['ssh', 'limits', 'maxConnectionsPerAddress'], 512);
    server.setConfig(['ssh', 'limits', 'maxSessionsPerIdentity'], 512);
    // The audit trail is written for every connection; keep it, but off the test's tmpfs budget concerns.
  },
});
const user = new SshUser(gateway, 'loader').sign({ validity: '+1h' });
gateway.seed('team/app');

/** One light session: connect, authenticate, run upload-pack, send a flush packet (no wants), disconnect. */
function lightSession(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('ssh', [...user.sshOptions(), 'git@127.0.0.1', "git-upload-pack 'team/app'"], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    child.stdin.end('0000');
    child.on('close', (code) => resolve(code === 0 && out.includes('refs/heads/main')));
  });
}

async function runSessions(count: number, lanes: number): Promise<number> {
  let next = 0;
  let failures = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < count) {
      next += 1;
      if (!(await lightSession())) failures += 1;
    }
  }));
  return failures;
}

/** Median of a few RSS readings once the server has no connections left. */
async function settledRssKb(): Promise<number> {
  await sleep(1000);
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(gateway.rssKb());
    await sleep(200);
  }
  return readings.sort((a, b) => a - b)[2]!;
}

t.test(`${CONCURRENT} concurrent git ls-remote sessions all succeed`, async (t) => {
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: CONCURRENT }, () => user.gitAsync(['ls-remote', gateway.url('team/app')])));
  const failed = results.filter((r) => r.status !== 0 || !r.stdout.includes('refs/heads/main'));
  t.equal(failed.length, 0, failed.slice(0, 3).map((r) => r.stderr).join('\n'));
  t.comment(`${CONCURRENT} concurrent ls-remote: ${Date.now() - started} ms`);
});

t.test(`memory after ${SEQUENTIAL} sessions is back within 10% of where it started`, async (t) => {
  t.equal(await runSessions(WARM_UP, LANES), 0, 'warm-up sessions succeed');
  const before = await settledRssKb();
  const started = Date.now();
  const failures = await runSessions(SEQUENTIAL, LANES);
  const elapsed = Date.now() - started;
  t.equal(failures, 0, `all ${SEQUENTIAL} sessions succeed`);
  const after = await settledRssKb();
  t.comment(`RSS ${before} kB after warm-up, ${after} kB after ${SEQUENTIAL} more sessions (${((after / before - 1) * 100).toFixed(1)}%); ${SEQUENTIAL} sessions in ${elapsed} ms`);
  t.ok(after <= before * 1.1, `RSS ${after} kB is within 10% of ${before} kB`);
});

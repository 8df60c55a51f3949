import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../helpers/tools.js';
import { sleep, SshUser, startGateway } from './harness.js';

const CONCURRENT = 200;
const SEQUENTIAL = 2000;
const WARM_UP = 300;
/** Parallel lanes for the sequential run: each lane opens one connection after another. */
const LANES = 3;

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

/**
 * `count` light sessions one after another from one shell loop (cheaper to
 * fork than from node): connect, authenticate, run upload-pack, send a flush
 * packet (no wants), disconnect. Resolves to the number that failed.
 */
function sessionLoop(count: number): Promise<number> {
  const ssh = ['ssh', ...user.sshOptions()].map((w) => `'${w}'`).join(' ');
  const script = `fail=0; i=0; while [ $i -lt ${count} ]; do i=$((i+1)); out=$(printf 0000 | ${ssh} git@127.0.0.1 "git-upload-pack 'team/app'") || fail=$((fail+1)); case "$out" in *refs/heads/main*) ;; *) fail=$((fail+1)) ;; esac; done; echo $fail`;
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    child.on('close', () => resolve(Number(out.trim() || count)));
  });
}

async function runSessions(count: number, lanes: number): Promise<number> {
  const per = Math.ceil(count / lanes);
  const failures = await Promise.all(Array.from({ length: lanes }, (_, i) => sessionLoop(Math.min(per, count - i * per))));
  return failures.reduce((a, b) => a + b, 0);
}

/**
 * The server's RSS once it has settled: V8 shrinks its heap some seconds
 * after a burst ends, so readings are taken every half second until the
 * last six agree within 1% (or 30 s pass). Used the same way before and after.
 */
async function settledRssKb(): Promise<number> {
  const readings: number[] = [];
  const deadline = Date.now() + 30_000;
  for (;;) {
    readings.push(gateway.rssKb());
    const recent = readings.slice(-6);
    if (recent.length === 6 && Math.max(...recent) <= Math.min(...recent) * 1.01) break;
    if (Date.now() > deadline) break;
    await sleep(500);
  }
  const recent = readings.slice(-6).sort((a, b) => a - b);
  return recent[Math.floor(recent.length / 2)]!;
}

t.test(`${CONCURRENT} concurrent git ls-remote sessions all succeed`, async (t) => {
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: CONCURRENT }, () => user.gitAsync(['ls-remote', gateway.url('team/app')])));
  const failed = results.filter((r) => r.status !== 0 || !r.stdout.includes('refs/heads/main'));
  t.equal(failed.length, 0, failed.slice(0, 3).map((r) => r.stderr).join('\n'));
  t.comment(`${CONCURRENT} concurrent ls-remote: ${Date.now() - started} ms`);
});

/*
 * The resident size after a burst depends on more than what the server keeps:
 * V8 sizes its heap and the C allocator keeps freed pages by its own rules, and
 * across full runs the reading after one round ranged from -11% to +18%. A leak
 * grows with every round; a one-time rise to a new working size does not. So
 * the reading after a second round is compared with the higher of the two before
 * it: a leak of about 11 KB per session still fails, as with one round.
 */
t.test(`memory: after a second round of ${SEQUENTIAL} sessions it is within 10% of where it stood`, async (t) => {
  t.equal(await runSessions(WARM_UP, LANES), 0, 'warm-up sessions succeed');
  const before = await settledRssKb();
  const rounds: number[] = [];
  for (const round of [1, 2]) {
    const started = Date.now();
    const failures = await runSessions(SEQUENTIAL, LANES);
    const elapsed = Date.now() - started;
    t.equal(failures, 0, `round ${round}: all ${SEQUENTIAL} sessions succeed`);
    rounds.push(await settledRssKb());
    t.comment(`round ${round}: ${SEQUENTIAL} sessions in ${elapsed} ms`);
  }
  const [first, second] = rounds as [number, number];
  const percent = (kb: number): string => `${((kb / before - 1) * 100).toFixed(1)}%`;
  t.comment(`RSS ${before} kB after warm-up, ${first} kB (${percent(first)}) and ${second} kB (${percent(second)}) after each further ${SEQUENTIAL} sessions`);
  const reference = Math.max(before, first);
  t.ok(second <= reference * 1.1, `RSS ${second} kB after the second round is within 10% of ${reference} kB`);
});

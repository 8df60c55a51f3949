import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { SshUser, startGateway } from '../gateway/harness.js';
import { runAsync } from '../helpers/tools.js';

/**
 * The review loop over SSH with OpenSSH and certificates: an agent parks a
 * push through the gateway, a reviewer approves with `ssh … queue approve`,
 * the agent's `ssh … queue wait` returns success, and a fetch shows the
 * branch moved.
 */
t.test('park over SSH, approve over SSH, wait over SSH', async (t) => {
  const gateway = await startGateway(t, { repos: ['team/app'] });
  const agent = new SshUser(gateway, 'agent-7').sign({ roles: ['agent'] });
  const reviewer = new SshUser(gateway, 'rita').sign({ roles: ['reviewer'] });
  const url = `ssh://git@127.0.0.1:${gateway.port}/team/app.git`;
  const work = join(gateway.dir, 'agent-work');

  t.equal(agent.git(['clone', '-q', url, work]).status, 0);
  agent.git(['checkout', '-q', '-b', 'main'], { cwd: work });
  agent.git(['commit', '-q', '--allow-empty', '-m', 'base'], { cwd: work });
  t.equal(agent.git(['push', '-q', 'origin', 'main'], { cwd: work }).status, 0, 'base push allowed');

  mkdirSync(join(work, '.github', 'workflows'), { recursive: true });
  writeFileSync(join(work, '.github', 'workflows', 'ci.yml'), 'on: push\n');
  agent.git(['add', '-A'], { cwd: work });
  agent.git(['commit', '-q', '-m', 'ci'], { cwd: work });
  const tip = agent.git(['rev-parse', 'HEAD'], { cwd: work }).stdout.trim();
  const parked = agent.git(['push', 'origin', 'main'], { cwd: work });
  t.not(parked.status, 0, 'the push is refused for now');
  const id = /"queueId":"([a-z0-9]+)"/.exec(parked.stderr)?.[1];
  t.ok(id, `a queue id in the refusal: ${parked.stderr.slice(0, 400)}`);

  const waiting = runAsync('ssh', [...agent.sshOptions(), 'git@127.0.0.1', 'queue', 'wait', id!, '--timeout', '2m'], { env: process.env });

  const ownApproval = agent.ssh(['queue', 'approve', id!]);
  t.equal(ownApproval.status, 1, 'the agent cannot approve its own push');

  const listed = reviewer.ssh(['queue', 'list', '--format', 'json']);
  t.equal(listed.status, 0, listed.stderr);
  t.match(listed.stdout, id!);
  const approved = reviewer.ssh(['queue', 'approve', id!, '--comment', 'reviewed']);
  t.equal(approved.status, 0, `approve: ${approved.stderr}`);

  const waited = await waiting;
  t.equal(waited.status, 0, `queue wait returns success: ${waited.stdout}${waited.stderr}`);
  t.equal(agent.git(['fetch', '-q', 'origin'], { cwd: work }).status, 0);
  t.equal(agent.git(['rev-parse', 'origin/main'], { cwd: work }).stdout.trim(), tip, 'main moved to the parked commit');
});

import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { ThreadedAudit } from '../../src/gateway/audit-thread.js';
import { tempDir } from '../helpers/tools.js';

t.test('records are appended by the thread, in order, before close resolves', async (t) => {
  const dir = tempDir(t);
  const config = parseConfig('stateDir: state\n', { baseDir: dir });
  const audit = new ThreadedAudit(config.audit);
  await audit.ready();
  await Promise.all([1, 2, 3].map((n) => audit.record({ type: 'ssh.connect', session: `s${n}` })));
  void audit.record({ type: 'ssh.disconnect', session: 'last' });
  await audit.close();
  const lines = readFileSync(join(dir, 'state', 'audit', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { session: string });
  t.same(lines.map((l) => l.session), ['s1', 's2', 's3', 'last'], 'a record sent before close is written');
  await t.rejects(audit.record({ type: 'ssh.connect' }), /closed/);
  await audit.close();
});

t.test('a record the log refuses rejects; a dead thread rejects everything', async (t) => {
  const dir = tempDir(t);
  const config = parseConfig('stateDir: state\naudit:\n  hmacKeyFile: missing.key\n', { baseDir: dir });
  const audit = new ThreadedAudit(config.audit);
  await t.rejects(audit.record({ type: 'ssh.connect' }), /missing\.key/);
  await audit.close();
  const bad = new ThreadedAudit({ ...config.audit, file: join(dir, 'x'), transports: [{ type: 'nonsense' } as never] });
  await t.rejects(Promise.all([bad.ready(), bad.record({ type: 'ssh.connect' })]));
  await bad.close();
});

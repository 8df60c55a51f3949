// A pre-receive hook for the quarantine test: inspects the push with the
// library while git still holds the objects in quarantine, parks it under
// refs/pushgate/pending/<name>, writes what it saw to argv[2], refuses the push.
import { readFileSync, writeFileSync } from 'node:fs';
import {
  CatFileBatch,
  createRef,
  diffEvents,
  isQuarantined,
  migrateObjects,
  newCommits,
  objectType,
  withoutQuarantine,
  type LineEvent,
} from '../../src/git/index.js';

async function main(reportPath: string): Promise<void> {
  const gitDir = process.cwd();
  const hookEnv = process.env;
  const updates = readFileSync(0, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [oldOid, newOid, ref] = line.split(' ');
      return { oldOid: oldOid!, newOid: newOid!, ref: ref! };
    });
  const tips = updates.map((u) => u.newOid);
  const tip = tips[0]!;

  const commits = await newCommits(gitDir, tips, hookEnv);
  const catFile = new CatFileBatch(gitDir, hookEnv);
  const tipCommit = await catFile.read(tip);
  await catFile.close();
  const added: LineEvent[] = [];
  for await (const batch of diffEvents(gitDir, commits, hookEnv)) for (const event of batch) if (event.kind === 'line') added.push(event);

  const visibleOutsideBefore = await objectType(gitDir, tip, withoutQuarantine(hookEnv));
  const refInsideQuarantine = await createRef(gitDir, 'refs/pushgate/pending/inside', tip, hookEnv);
  const migrated = await migrateObjects(gitDir, tips, true, hookEnv);
  const visibleOutsideAfter = await objectType(gitDir, tip, withoutQuarantine(hookEnv));
  const name = hookEnv.PUSHGATE_TEST_PENDING ?? 'test';
  const parked = await createRef(gitDir, `refs/pushgate/pending/${name}`, tip, withoutQuarantine(hookEnv));

  writeFileSync(
    reportPath,
    JSON.stringify({
      quarantined: isQuarantined(hookEnv),
      updates,
      commits,
      tipType: tipCommit?.type ?? null,
      added: added.map((l) => `${l.path}:${l.line}:${l.text}`),
      visibleOutsideBefore,
      refInsideQuarantine,
      migrated,
      visibleOutsideAfter,
      parked,
    }),
  );
  process.stderr.write(`parked as ${name}\n`);
  process.exit(1);
}

// Without a report path this is not running as the hook (e.g. a test runner loading every file): do nothing.
const reportPath = process.argv[2];
if (reportPath !== undefined) await main(reportPath);

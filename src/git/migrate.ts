import { pipeline } from 'node:stream/promises';
import { uniqueTips } from './commits.js';
import { withoutQuarantine } from './env.js';
import { failure, runGitOrThrow, spawnGit } from './run.js';

export interface MigrateResult {
  /** Objects copied into the repository. */
  objects: number;
  /** Name of the pack written under objects/pack, or null when nothing was new. */
  pack: string | null;
}

const PACK_HEADER = 12;

/**
 * Copies the objects a push brought (reachable from `tips`, and, with
 * `excludeAll`, from no existing ref) out of git's quarantine into the
 * repository, so refs can point at them after the push is refused and the
 * quarantine deleted. `pack-objects` runs with the hook's environment (it
 * must see the quarantine); `index-pack` runs without the quarantine
 * variables so the pack lands in the real objects/pack.
 */
export async function migrateObjects(gitDir: string, tips: readonly string[], excludeAll = true, hookEnv: NodeJS.ProcessEnv = process.env): Promise<MigrateResult> {
  const wanted = uniqueTips(tips);
  if (wanted.length === 0) return { objects: 0, pack: null };
  let input = wanted.map((tip) => `${tip}\n`).join('');
  if (excludeAll) {
    // pack-objects reads "--not" on stdin but not "--all", so the existing tips are listed.
    const { stdout } = await runGitOrThrow(['for-each-ref', '--format=%(objectname)'], { gitDir, env: hookEnv, maxBuffer: 1024 * 1024 * 1024 });
    const existing = [...new Set(stdout.split('\n').filter((line) => line !== ''))];
    input += '--not\n' + existing.map((oid) => `${oid}\n`).join('');
  }
  const packArgs = ['pack-objects', '--revs', '--stdout', '-q'];
  const packer = spawnGit(packArgs, { gitDir, env: hookEnv, stdin: true });
  packer.child.stdin!.end(input);
  const stream = packer.child.stdout![Symbol.asyncIterator]() as AsyncIterator<Buffer>;

  // The header ("PACK", version, object count) says whether there is anything to store.
  const head: Buffer[] = [];
  let headLength = 0;
  while (headLength < PACK_HEADER) {
    const next = await stream.next();
    if (next.done === true) break;
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = Buffer.concat(head);
  const objects = first.length >= PACK_HEADER ? first.readUInt32BE(8) : 0;
  if (objects === 0) {
    for (let next = await stream.next(); next.done !== true; next = await stream.next());
    const { code, stderr } = await packer.exited;
    if (code !== 0) throw failure(packArgs, code, stderr);
    return { objects: 0, pack: null };
  }

  const indexArgs = ['index-pack', '--stdin', '--fix-thin'];
  const indexer = spawnGit(indexArgs, { gitDir, env: withoutQuarantine(hookEnv), stdin: true });
  const output: Buffer[] = [];
  indexer.child.stdout!.on('data', (chunk: Buffer) => output.push(chunk));
  const rest = { [Symbol.asyncIterator]: () => stream };
  const copy = pipeline(async function* () {
    yield first;
    yield* rest;
  }, indexer.child.stdin!).catch(() => undefined);
  const [packed, indexed] = await Promise.all([packer.exited, indexer.exited, copy]);
  if (packed.code !== 0) throw failure(packArgs, packed.code, packed.stderr);
  if (indexed.code !== 0) throw failure(indexArgs, indexed.code, indexed.stderr);
  const pack = /^(?:pack|keep)\t([0-9a-f]+)/m.exec(Buffer.concat(output).toString('utf8'))?.[1] ?? null;
  return { objects, pack };
}

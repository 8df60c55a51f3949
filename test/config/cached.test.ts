import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig, loadConfigCached } from '../../src/config/index.js';
import { tempDir } from '../helpers/tools.js';

function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const cacheDir = join(dir, 'cache', 'config');
  mkdirSync(join(dir, 'cache'), { mode: 0o700 });
  const file = join(dir, 'pushgate.yaml');
  writeFileSync(file, 'reposRoot: repos\npolicy:\n  mode: audit\n  rules:\n    "secret.*": audit\n');
  return { dir, cacheDir, file };
}

t.test('a cached load equals a fresh load, and the next load is served from the cache', async (t) => {
  const { cacheDir, file } = setup(t);
  const fresh = loadConfig(file);
  const first = await loadConfigCached(file, { cacheDir });
  t.strictSame(first, fresh);
  const entries = readdirSync(cacheDir);
  t.equal(entries.length, 1);
  const entryPath = join(cacheDir, entries[0]!);
  const entry = JSON.parse(readFileSync(entryPath, 'utf8')) as { key: string; config: { serviceUser: string } };
  t.strictSame(entry.config, JSON.parse(JSON.stringify(fresh)), 'the entry is the config as JSON');

  entry.config.serviceUser = 'from-cache';
  writeFileSync(entryPath, JSON.stringify(entry));
  t.equal((await loadConfigCached(file, { cacheDir })).serviceUser, 'from-cache', 'a hit does not validate again');

  writeFileSync(file, 'reposRoot: repos\npolicy:\n  mode: enforce\n');
  const changed = await loadConfigCached(file, { cacheDir });
  t.equal(changed.policy.mode, 'enforce', 'new text, new validation');
  t.equal(changed.serviceUser, 'git');
  t.equal(readdirSync(cacheDir).length, 1, 'one entry per config file');

  writeFileSync(entryPath, '{ torn');
  t.equal((await loadConfigCached(file, { cacheDir })).policy.mode, 'enforce', 'a damaged entry is a miss');
});

t.test('invalid configs are refused every time and never cached', async (t) => {
  const { cacheDir, file } = setup(t);
  writeFileSync(file, 'policy:\n  mode: loud\n');
  await t.rejects(loadConfigCached(file, { cacheDir }), ConfigError);
  await t.rejects(loadConfigCached(file, { cacheDir }), { code: 'config.invalid' });
  t.equal(existsSync(cacheDir) ? readdirSync(cacheDir).length : 0, 0);
  await t.rejects(loadConfigCached(join(cacheDir, 'missing.yaml'), { cacheDir }), { code: 'config.not-found' });
});

t.test('nothing is cached in a directory others can write to', async (t) => {
  const { dir, file } = setup(t);
  const open = join(dir, 'open');
  mkdirSync(open, { mode: 0o777 });
  chmodSync(open, 0o777);
  const cacheDir = join(open, 'config');
  t.equal((await loadConfigCached(file, { cacheDir })).policy.mode, 'audit');
  t.same(readdirSync(cacheDir), [], 'not cached');
  t.equal((await loadConfigCached(file, { cacheDir: null })).policy.mode, 'audit', 'caching can be disabled');
  writeFileSync(join(dir, 'not-a-dir'), '');
  t.equal((await loadConfigCached(file, { cacheDir: join(dir, 'not-a-dir', 'x') })).policy.mode, 'audit', 'an unusable cache directory is ignored');
});

t.test('the default cache directory is private to the user', async (t) => {
  const { dir, file } = setup(t);
  const script = join(dir, 'load.mjs');
  const cachedModule = new URL('../../src/config/cached.js', import.meta.url).href;
  writeFileSync(script, `
    const t0 = performance.now();
    const { loadConfigCached } = await import(${JSON.stringify(cachedModule)});
    const config = await loadConfigCached(${JSON.stringify(file)});
    process.stdout.write(JSON.stringify({ mode: config.policy.mode, ms: performance.now() - t0 }));
  `);
  const env = { ...process.env, TMPDIR: join(dir, 'tmp') };
  mkdirSync(env.TMPDIR, { mode: 0o700 });
  const runs = [1, 2].map(() => {
    const result = spawnSync(process.execPath, [script], { env, encoding: 'utf8' });
    t.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout) as { mode: string; ms: number };
  });
  t.same(runs.map((run) => run.mode), ['audit', 'audit']);
  const uid = process.getuid?.();
  t.ok(existsSync(join(env.TMPDIR, `pushgate-${uid}`, 'config')), 'under TMPDIR, per user');
  t.comment(`load: ${runs[0]!.ms.toFixed(1)} ms validating, ${runs[1]!.ms.toFixed(1)} ms from the cache`);
});

/**
 * docs/config.md is written by hand and held to the schema: every key of the
 * schema has a row, every row names a key of the schema, and every default
 * written as code is the built-in default. Config fragments in the guides
 * (yaml blocks starting with `# pushgate.yaml`) must validate.
 */
import t from 'tap';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { codeBlocks, documentationFiles, readDoc } from './blocks.js';
import { configKeyPaths } from './schema-keys.js';

interface Row {
  key: string;
  defaultCell: string;
  line: number;
}

function rows(markdown: string): Row[] {
  const found: Row[] = [];
  markdown.split('\n').forEach((line, index) => {
    const cells = /^\| `([^`]+)` \|(.*?)\|/.exec(line);
    if (cells) found.push({ key: cells[1]!, defaultCell: cells[2]!.trim(), line: index + 1 });
  });
  return found;
}

const doc = readDoc('docs/config.md');
const documented = rows(doc);
const schemaKeys = configKeyPaths();

t.test('the schema walk sees the whole file', async (t) => {
  const paths = schemaKeys.map((k) => k.path);
  for (const expected of ['reposRoot', 'ssh.limits.drainTimeout', 'identity.issuers[].roleMap', 'policy.rules', 'queue.notify.webhook.secretFile', 'log.file']) {
    t.ok(paths.includes(expected), expected);
  }
  t.ok(paths.length > 100, `${paths.length} keys`);
});

t.test('every key of the schema is documented, and nothing else', async (t) => {
  const keys = new Set(documented.map((r) => r.key));
  const known = new Set(schemaKeys.map((k) => k.path));
  for (const { path } of schemaKeys) t.ok(keys.has(path), `${path} has a row in docs/config.md`);
  for (const row of documented) t.ok(known.has(row.key), `docs/config.md:${row.line}: ${row.key} is a key of the schema`);
  t.equal(keys.size, documented.length, 'each key has one row');
});

/** The smallest valid element of each list of mappings, to read the defaults of its keys. */
const MINIMAL: Record<string, unknown> = {
  'identity.issuers': { issuer: 'https://login.example.com', audience: 'pushgate' },
  'identity.roles': { principals: ['x'], roles: ['r'] },
  access: { repos: ['**'], principals: ['*'], roles: ['agent'], permissions: ['read'] },
  'policy.protect': { refs: ['refs/heads/main'], deny: ['delete'], park: ['update'] },
  'policy.paths': { name: 'x', patterns: ['x'] },
  'queue.rules': { approvals: 1 },
  'queue.notify.webhook': { url: 'https://hooks.example.com/pushgate' },
  'queue.notify.webhooks': { url: 'https://hooks.example.com/pushgate' },
  'queue.notify.command': { run: ['true'] },
  'policy.commands': { name: 'x', run: ['true'] },
};

/** A config with `value` at `path` (and whatever the path's lists and nullable sections need), as YAML. */
function configWith(path: string, value: unknown): { yaml: string; read: (config: unknown) => unknown } {
  const parts = path.split('.');
  const root: Record<string, unknown> = {};
  let node = root;
  const readers: ((v: unknown) => unknown)[] = [];
  let sofar = '';
  parts.forEach((part, i) => {
    const list = part.endsWith('[]');
    const key = list ? part.slice(0, -2) : part;
    sofar = sofar === '' ? key : `${sofar}.${key}`;
    if (i === parts.length - 1) {
      node[key] = value;
      readers.push((v) => (v as Record<string, unknown>)[key]);
      return;
    }
    const child: Record<string, unknown> = structuredClone((MINIMAL[sofar] as Record<string, unknown> | undefined) ?? {});
    node[key] = list ? [child] : child;
    readers.push((v) => (list ? ((v as Record<string, unknown>)[key] as unknown[])[0] : (v as Record<string, unknown>)[key]));
    node = child;
  });
  return { yaml: stringify(root), read: (config) => readers.reduce((v, r) => r(v), config) };
}

t.test('every default written as code is the built-in default', async (t) => {
  let checked = 0;
  for (const row of documented) {
    const code = /^`([^`]+)`$/.exec(row.defaultCell);
    if (!code) continue;
    if (code[1]!.includes('<')) continue; // a placeholder such as <ca.key>.pub, not a value
    const written = configWith(row.key, parse(code[1]!));
    const implied = configWith(row.key, undefined);
    const options = { baseDir: '/etc/pushgate' };
    const withValue = written.read(parseConfig(written.yaml, options));
    const withDefault = implied.read(parseConfig(implied.yaml, options));
    t.same(withValue, withDefault, `docs/config.md:${row.line}: ${row.key} defaults to ${code[1]}`);
    checked++;
  }
  t.ok(checked > 70, `${checked} defaults checked`);
});

t.test('config fragments in the documentation validate', async (t) => {
  let fragments = 0;
  for (const file of documentationFiles()) {
    for (const block of codeBlocks(readDoc(file)).blocks) {
      if (block.info !== 'yaml' || !block.text.startsWith('# pushgate.yaml')) continue;
      fragments++;
      t.doesNotThrow(() => parseConfig(block.text, { baseDir: '/etc/pushgate' }), `${file}:${block.line} is a valid pushgate.yaml`);
    }
  }
  t.ok(fragments >= 5, `${fragments} fragments checked`);
});

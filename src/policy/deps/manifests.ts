/**
 * Dependency manifests and lockfiles, read into one shape: the packages they
 * name (with versions and where each comes from) and the registries they
 * point at. Manifests come from a push and are hostile: every value is
 * checked for its type, every map is a Map (no object keyed by a package
 * name), and a file that does not parse is an error the caller turns into a
 * finding that parks, never a silent "no dependencies".
 *
 * Kept parsers do the parsing: JSON.parse, `yaml`, `smol-toml`,
 * `@yarnpkg/parsers` (both yarn.lock formats) and `fast-xml-parser` (which
 * refuses `__proto__`-like names itself). Formats that are lines of their
 * tool's own little language — requirements.txt, go.mod, Gemfile, Gradle
 * build scripts, .npmrc — have no parser a Node program can use that
 * understands them (Gemfile and build.gradle are Ruby and Groovy/Kotlin
 * programs; pip's and go's parsers are in Python and Go), so they are read
 * line by line here for the statements that declare dependencies and sources.
 */

export type ManifestKind =
  | 'package.json' | 'package-lock.json' | 'yarn.lock' | 'pnpm-lock.yaml' | '.npmrc' | '.yarnrc.yml' | '.yarnrc'
  | 'requirements.txt' | 'pyproject.toml' | 'poetry.lock' | 'uv.lock'
  | 'go.mod' | 'Cargo.toml' | 'pom.xml' | 'build.gradle' | 'Gemfile';

/** One package as a manifest names it. */
export interface Dependency {
  name: string;
  /** Every version (or range, in a manifest) it is named with, sorted, joined by ", ". */
  version: string;
  /**
   * Where it comes from when that is not a version: a resolved URL from a
   * lockfile, a git / URL / path spec, a `replace` target. The check decides
   * which of them are allowed (a URL under an allowed registry is).
   */
  sources: string[];
}

export interface Manifest {
  /** By package name (with its section where one manifest has several, `dev:` and the like). */
  packages: Map<string, Dependency>;
  /** Registry settings: setting name → URL (or a name such as `mavenLocal()` for a non-URL source). */
  registries: Map<string, string>;
}

/** A manifest that could not be read; the message says why and is shown (escaped) to the pusher. */
export class ManifestError extends Error {
  readonly code = 'deps.unreadable';
}

/** More packages than this in one file is not a manifest anyone reviews; it is refused as unreadable. */
const MAX_PACKAGES = 50_000;

/** The kind of a path by its file name, or undefined for files that are no manifest. */
export function manifestKind(path: string): ManifestKind | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  switch (name) {
    case 'package.json': case 'package-lock.json': case 'yarn.lock': case 'pnpm-lock.yaml': case '.npmrc': case '.yarnrc.yml': case '.yarnrc':
    case 'pyproject.toml': case 'poetry.lock': case 'uv.lock': case 'go.mod': case 'Cargo.toml': case 'pom.xml': case 'Gemfile':
      return name;
    case 'npm-shrinkwrap.json': return 'package-lock.json';
    case 'build.gradle': case 'build.gradle.kts': case 'settings.gradle': case 'settings.gradle.kts': return 'build.gradle';
    case 'gems.rb': return 'Gemfile';
    default:
      if (/^requirements[^/]*\.(?:txt|in)$/.test(name) || /^constraints[^/]*\.txt$/.test(name)) return 'requirements.txt';
      return undefined;
  }
}

// ── helpers over untrusted parsed data ──────────────────────────────────────

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An own property only: nothing inherited (`constructor`, `__proto__`) is ever read as data. */
function own(obj: unknown, key: string): unknown {
  return isObj(obj) && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

class Collector {
  readonly packages = new Map<string, { name: string; versions: Set<string>; sources: Set<string> }>();
  readonly registries = new Map<string, string>();

  add(key: string, name: string, version: string | undefined, source?: string): void {
    let entry = this.packages.get(key);
    if (entry === undefined) {
      if (this.packages.size >= MAX_PACKAGES) throw new ManifestError(`more than ${MAX_PACKAGES} packages`);
      entry = { name, versions: new Set(), sources: new Set() };
      this.packages.set(key, entry);
    }
    if (version !== undefined && version !== '') entry.versions.add(version);
    if (source !== undefined && source !== '') entry.sources.add(source);
  }

  registry(key: string, url: string): void {
    this.registries.set(key, url);
  }

  done(): Manifest {
    const packages = new Map<string, Dependency>();
    for (const [key, entry] of this.packages) {
      packages.set(key, { name: entry.name, version: [...entry.versions].sort().join(', '), sources: [...entry.sources].sort() });
    }
    return { packages, registries: this.registries };
  }
}

// ── npm, yarn, pnpm ─────────────────────────────────────────────────────────

const NPM_SECTIONS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;

/**
 * Whether an npm dependency spec names something other than a registry
 * version: git, a URL, a path, a GitHub shorthand (`user/repo`). `npm:`
 * aliases and `workspace:` come from the registry / the repository itself.
 */
export function npmSpecSource(spec: string): string | undefined {
  const s = spec.trim();
  if (/^(?:npm|workspace|catalog):/i.test(s)) return undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(s)) return s;
  if (/^(?:\.{1,2}\/|\/|~\/|\.{1,2}$)/.test(s)) return `path ${s}`;
  if (/^[^@\s/][^\s/]*\/[^\s/]+(?:#.*)?$/.test(s)) return `github ${s}`;
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`not JSON: ${(error as Error).message}`);
  }
}

function packageJson(text: string): Manifest {
  const data = parseJson(text);
  if (!isObj(data)) throw new ManifestError('expected a JSON object');
  const out = new Collector();
  for (const section of NPM_SECTIONS) {
    const deps = own(data, section);
    if (deps === undefined) continue;
    if (!isObj(deps)) throw new ManifestError(`${section} is not an object`);
    for (const [name, spec] of Object.entries(deps)) {
      const version = str(spec);
      if (version === undefined) throw new ManifestError(`${section}.${name} is not a string`);
      out.add(`${section}:${name}`, name, version, npmSpecSource(version));
    }
  }
  // overrides (npm) and resolutions (yarn) can send any package anywhere: each leaf is a dependency too.
  for (const section of ['overrides', 'resolutions', 'pnpm'] as const) {
    const walk = (value: unknown, path: string, depth: number): void => {
      if (depth > 32) throw new ManifestError(`${section} is nested too deeply`);
      if (typeof value === 'string') {
        const name = path.split('>').at(-1)!.replace(/^\./, '') || path;
        out.add(`${section}:${path}`, name, value, npmSpecSource(value));
      } else if (isObj(value)) {
        for (const [key, inner] of Object.entries(value)) walk(inner, path === '' ? key : `${path}>${key}`, depth + 1);
      }
    };
    const value = own(data, section);
    if (section === 'pnpm') walk(own(value, 'overrides'), '', 0);
    else walk(value, '', 0);
  }
  return out.done();
}

function packageLock(text: string): Manifest {
  const data = parseJson(text);
  if (!isObj(data)) throw new ManifestError('expected a JSON object');
  const out = new Collector();
  const packages = own(data, 'packages');
  if (isObj(packages)) {
    for (const [path, entry] of Object.entries(packages)) {
      if (path === '' || !isObj(entry)) continue;
      const at = path.lastIndexOf('node_modules/');
      const name = str(own(entry, 'name')) ?? (at < 0 ? path : path.slice(at + 'node_modules/'.length));
      const resolved = str(own(entry, 'resolved'));
      if (own(entry, 'link') === true) out.add(name, name, undefined, `path ${resolved ?? path}`);
      else if (at >= 0) out.add(name, name, str(own(entry, 'version')), resolved);
    }
  } else {
    // lockfileVersion 1: nested `dependencies`.
    const walk = (deps: unknown, depth: number): void => {
      if (!isObj(deps)) return;
      if (depth > 64) throw new ManifestError('dependencies are nested too deeply');
      for (const [name, entry] of Object.entries(deps)) {
        const version = str(own(entry, 'version'));
        const source = npmSpecSource(version ?? '') ?? str(own(entry, 'resolved'));
        out.add(name, name, version, source);
        walk(own(entry, 'dependencies'), depth + 1);
      }
    };
    walk(own(data, 'dependencies'), 0);
  }
  return out.done();
}

/** `@scope/name@range` → `@scope/name`. */
function nameOfDescriptor(descriptor: string): string {
  const at = descriptor.indexOf('@', 1);
  return at < 0 ? descriptor : descriptor.slice(0, at);
}

async function yarnLock(text: string): Promise<Manifest> {
  const { parseSyml } = await import('@yarnpkg/parsers');
  let data: unknown;
  try {
    data = parseSyml(text);
  } catch (error) {
    throw new ManifestError(`not a yarn lockfile: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isObj(data)) throw new ManifestError('expected a yarn lockfile');
  const out = new Collector();
  for (const [key, entry] of Object.entries(data)) {
    if (key === '__metadata' || !isObj(entry)) continue;
    const name = nameOfDescriptor(key.split(',')[0]!.trim().replace(/^"|"$/g, ''));
    const version = str(own(entry, 'version'));
    const resolved = str(own(entry, 'resolved'));
    const resolution = str(own(entry, 'resolution'));
    let source: string | undefined = resolved;
    if (resolution !== undefined) {
      const protocol = resolution.slice(nameOfDescriptor(resolution).length + 1);
      source = /^(?:npm|workspace):/.test(protocol) ? undefined : protocol;
    }
    out.add(name, name, version, source);
  }
  return out.done();
}

async function parseYaml(text: string): Promise<unknown> {
  const { parse } = await import('yaml');
  try {
    return parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new ManifestError(`not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

async function pnpmLock(text: string): Promise<Manifest> {
  const data = await parseYaml(text);
  if (!isObj(data)) throw new ManifestError('expected a pnpm lockfile');
  const out = new Collector();
  const packages = own(data, 'packages');
  if (isObj(packages)) {
    for (const [key, entry] of Object.entries(packages)) {
      // /name/1.0.0 (v5), /name@1.0.0 (v6), name@1.0.0(peer@1) (v9)
      const bare = key.replace(/^\//, '').replace(/\(.*$/, '');
      let name: string;
      let version: string | undefined;
      const at = bare.indexOf('@', 1);
      if (at > 0) {
        name = bare.slice(0, at);
        version = bare.slice(at + 1);
      } else {
        const slash = bare.lastIndexOf('/');
        name = slash > 0 ? bare.slice(0, slash) : bare;
        version = slash > 0 ? bare.slice(slash + 1) : undefined;
      }
      name = str(own(entry, 'name')) ?? name;
      version = str(own(entry, 'version')) ?? version;
      const resolution = own(entry, 'resolution');
      const source = str(own(resolution, 'tarball')) ?? str(own(resolution, 'repo')) ?? (own(resolution, 'directory') !== undefined ? `path ${str(own(resolution, 'directory'))}` : undefined);
      out.add(name, name, version, source);
    }
  }
  const importers = own(data, 'importers');
  if (isObj(importers)) {
    for (const [importer, sections] of Object.entries(importers)) {
      for (const section of ['dependencies', 'devDependencies', 'optionalDependencies']) {
        const deps = own(sections, section);
        if (!isObj(deps)) continue;
        for (const [name, entry] of Object.entries(deps)) {
          const version = str(own(entry, 'version')) ?? str(entry);
          if (version !== undefined && version.startsWith('link:')) out.add(`${importer}:${name}`, name, undefined, `path ${version.slice(5)}`);
        }
      }
    }
  }
  return out.done();
}

/** .npmrc is ini lines; the settings that matter are `registry` and `@scope:registry`. */
function npmrc(text: string): Manifest {
  const out = new Collector();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim().replace(/^["']|["']$/g, '');
    if (/^(?:@[^:]+:)?registry$/i.test(key) || /^(?:replace-registry-host)$/i.test(key)) out.registry(key.toLowerCase(), value);
  }
  return out.done();
}

async function yarnrcYml(text: string): Promise<Manifest> {
  const data = await parseYaml(text);
  const out = new Collector();
  const server = str(own(data, 'npmRegistryServer'));
  if (server !== undefined) out.registry('npmRegistryServer', server);
  const scopes = own(data, 'npmScopes');
  if (isObj(scopes)) {
    for (const [scope, settings] of Object.entries(scopes)) {
      const url = str(own(settings, 'npmRegistryServer'));
      if (url !== undefined) out.registry(`npmScopes.${scope}.npmRegistryServer`, url);
    }
  }
  return out.done();
}

/** yarn 1's .yarnrc: `registry "URL"` lines. */
function yarnrc(text: string): Manifest {
  const out = new Collector();
  for (const raw of text.split(/\r?\n/)) {
    const match = /^\s*(?:"?((?:@[^:\s"]+:)?registry)"?)\s+"?([^"\s]+)"?\s*$/.exec(raw);
    if (match !== null) out.registry(match[1]!, match[2]!);
  }
  return out.done();
}

// ── Python ──────────────────────────────────────────────────────────────────

/** PEP 503 normalisation: `Foo_Bar` and `foo-bar` are the same project. */
function pyName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const PEP508 = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$/;

/** One PEP 508 requirement string into the collector: `name[extra] >=1 ; marker` or `name @ URL`. */
function pep508(out: Collector, prefix: string, requirement: string): void {
  const match = PEP508.exec(requirement.trim());
  if (match === null) throw new ManifestError(`not a requirement: ${JSON.stringify(requirement.slice(0, 80))}`);
  const name = pyName(match[1]!);
  const rest = match[2]!.split(';')[0]!.trim();
  if (rest.startsWith('@')) out.add(`${prefix}${name}`, name, undefined, rest.slice(1).trim());
  else out.add(`${prefix}${name}`, name, rest === '' ? '*' : rest.replace(/\s+/g, ''));
}

/**
 * requirements.txt is pip's line format (pip's own parser is Python): one
 * requirement per line, `\` continuations, `#` comments, options such as
 * `--index-url`, and direct references (`-e git+…`, a URL, a path).
 */
function requirements(text: string): Manifest {
  const out = new Collector();
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const option = /^(-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host)(?:\s*=\s*|\s+)(\S+)/.exec(line);
    if (option !== null) {
      out.registry(`${option[1]} ${option[2]}`, option[2]!);
      continue;
    }
    if (/^(?:-r|--requirement|-c|--constraint)\b/.test(line) || /^--(?:hash|pre|no-binary|only-binary|prefer-binary|require-hashes|no-index)\b/.test(line)) continue;
    const editable = /^(?:-e|--editable)\s+(\S+)/.exec(line);
    const target = editable?.[1] ?? (/^(?:[a-z][a-z0-9+.-]*:\/\/|git\+|\.{0,2}\/)/i.test(line) ? line.split(/\s+/)[0]! : undefined);
    if (target !== undefined) {
      const egg = /[#&]egg=([A-Za-z0-9._-]+)/.exec(target)?.[1];
      const name = pyName(egg ?? target);
      out.add(name, name, undefined, target);
      continue;
    }
    pep508(out, '', line.split(/\s+--hash/)[0]!);
  }
  return out.done();
}

async function parseToml(text: string): Promise<Obj> {
  const { parse } = await import('smol-toml');
  try {
    return parse(text) as Obj;
  } catch (error) {
    throw new ManifestError(`not TOML: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** Poetry's and Cargo's table form: `name = "1.0"` or `name = { version = "1.0", git = "…", path = "…" }`. */
function tableDeps(out: Collector, prefix: string, deps: unknown, normalise: (name: string) => string): void {
  if (!isObj(deps)) return;
  for (const [rawName, spec] of Object.entries(deps)) {
    if (rawName === 'python') continue;
    const name = normalise(rawName);
    if (typeof spec === 'string') {
      out.add(`${prefix}${name}`, name, spec);
      continue;
    }
    const specs = Array.isArray(spec) ? spec : [spec];
    for (const one of specs) {
      const git = str(own(one, 'git'));
      const path = str(own(one, 'path'));
      const url = str(own(one, 'url'));
      const registry = str(own(one, 'registry')) ?? str(own(one, 'registry-index'));
      const rev = str(own(one, 'rev')) ?? str(own(one, 'tag')) ?? str(own(one, 'branch'));
      const source = git !== undefined ? `git ${git}${rev === undefined ? '' : `#${rev}`}` : path !== undefined ? `path ${path}` : url ?? (registry !== undefined ? `registry ${registry}` : undefined);
      out.add(`${prefix}${name}`, normalise(str(own(one, 'package')) ?? rawName), str(own(one, 'version')) ?? (source === undefined ? '*' : undefined), source);
    }
  }
}

async function pyproject(text: string): Promise<Manifest> {
  const data = await parseToml(text);
  const out = new Collector();
  const list = (prefix: string, value: unknown): void => {
    if (!Array.isArray(value)) return;
    for (const item of value) if (typeof item === 'string') pep508(out, prefix, item);
  };
  const project = own(data, 'project');
  list('', own(project, 'dependencies'));
  const optional = own(project, 'optional-dependencies');
  if (isObj(optional)) for (const [group, value] of Object.entries(optional)) list(`${group}:`, value);
  const groups = own(data, 'dependency-groups');
  if (isObj(groups)) for (const [group, value] of Object.entries(groups)) list(`${group}:`, value);
  const build = own(data, 'build-system');
  list('build:', own(build, 'requires'));
  const tool = own(data, 'tool');
  const poetry = own(tool, 'poetry');
  tableDeps(out, 'poetry:', own(poetry, 'dependencies'), pyName);
  tableDeps(out, 'poetry-dev:', own(poetry, 'dev-dependencies'), pyName);
  const poetryGroups = own(poetry, 'group');
  if (isObj(poetryGroups)) for (const [group, value] of Object.entries(poetryGroups)) tableDeps(out, `poetry-${group}:`, own(value, 'dependencies'), pyName);
  const poetrySources = own(poetry, 'source');
  if (Array.isArray(poetrySources)) for (const source of poetrySources) {
    const url = str(own(source, 'url'));
    if (url !== undefined) out.registry(`tool.poetry.source.${str(own(source, 'name')) ?? url}`, url);
  }
  const uv = own(tool, 'uv');
  for (const key of ['index-url', 'extra-index-url', 'find-links']) {
    const value = own(uv, key);
    for (const url of Array.isArray(value) ? value : [value]) if (typeof url === 'string') out.registry(`tool.uv.${key} ${url}`, url);
  }
  const indexes = own(uv, 'index');
  if (Array.isArray(indexes)) for (const index of indexes) {
    const url = str(own(index, 'url'));
    if (url !== undefined) out.registry(`tool.uv.index.${str(own(index, 'name')) ?? url}`, url);
  }
  const uvSources = own(uv, 'sources');
  if (isObj(uvSources)) for (const [rawName, spec] of Object.entries(uvSources)) {
    if (own(spec, 'workspace') === true) continue;
    const git = str(own(spec, 'git'));
    const path = str(own(spec, 'path'));
    const source = git !== undefined ? `git ${git}` : path !== undefined ? `path ${path}` : str(own(spec, 'url')) ?? (own(spec, 'index') !== undefined ? `index ${str(own(spec, 'index'))}` : undefined);
    if (source !== undefined) out.add(`uv-source:${pyName(rawName)}`, pyName(rawName), undefined, source);
  }
  return out.done();
}

/** poetry.lock and uv.lock: `[[package]]` tables with name, version and a source. */
async function pythonLock(text: string, kind: 'poetry.lock' | 'uv.lock'): Promise<Manifest> {
  const data = await parseToml(text);
  const out = new Collector();
  const packages = own(data, 'package');
  if (!Array.isArray(packages)) return out.done();
  for (const entry of packages) {
    const rawName = str(own(entry, 'name'));
    if (rawName === undefined) continue;
    const name = pyName(rawName);
    const source = own(entry, 'source');
    let where: string | undefined;
    if (kind === 'poetry.lock') {
      const type = str(own(source, 'type'));
      const url = str(own(source, 'url'));
      if (type === 'legacy') where = url;
      else if (type !== undefined) where = `${type} ${url ?? ''}${own(source, 'resolved_reference') !== undefined ? `#${str(own(source, 'resolved_reference'))}` : ''}`.trim();
    } else {
      const registry = str(own(source, 'registry'));
      if (registry !== undefined) where = registry;
      else if (own(source, 'virtual') === '.' || own(source, 'editable') === '.') continue;
      else if (isObj(source)) {
        const [type, value] = Object.entries(source)[0] ?? [];
        if (type !== undefined) where = `${type} ${str(value) ?? ''}`.trim();
      }
    }
    out.add(name, name, str(own(entry, 'version')), where);
  }
  return out.done();
}

// ── Go, Rust, Java, Ruby ────────────────────────────────────────────────────

/**
 * go.mod is Go's own line format (its parser, golang.org/x/mod/modfile, is
 * Go): `require` and `replace` statements, single or in ( … ) blocks.
 */
function goMod(text: string): Manifest {
  const out = new Collector();
  let block: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    if (block !== undefined && line === ')') {
      block = undefined;
      continue;
    }
    let verb: string | undefined = block;
    let rest = line;
    if (block === undefined) {
      const match = /^(require|replace|exclude|retract|module|go|toolchain|tool|godebug)\b\s*(.*)$/.exec(line);
      if (match === null) throw new ManifestError(`unknown go.mod statement: ${JSON.stringify(line.slice(0, 80))}`);
      verb = match[1]!;
      rest = match[2]!;
      if (rest === '(') {
        block = verb;
        continue;
      }
    }
    const words = rest.split(/\s+/).map((w) => w.replace(/^"|"$/g, ''));
    if (verb === 'require') out.add(words[0]!, words[0]!, words[1]);
    else if (verb === 'replace') {
      const arrow = words.indexOf('=>');
      if (arrow < 1) throw new ManifestError(`replace without =>: ${JSON.stringify(line.slice(0, 80))}`);
      const target = words.slice(arrow + 1).join(' ');
      out.add(`replace:${words.slice(0, arrow).join(' ')}`, words[0]!, undefined, `replace => ${target}`);
    }
  }
  return out.done();
}

async function cargoToml(text: string): Promise<Manifest> {
  const data = await parseToml(text);
  const out = new Collector();
  const same = (name: string): string => name;
  for (const section of ['dependencies', 'dev-dependencies', 'build-dependencies']) {
    tableDeps(out, `${section}:`, own(data, section), same);
    tableDeps(out, `workspace.${section}:`, own(own(data, 'workspace'), section), same);
    const targets = own(data, 'target');
    if (isObj(targets)) for (const [target, value] of Object.entries(targets)) tableDeps(out, `${target}.${section}:`, own(value, section), same);
  }
  const patches = own(data, 'patch');
  if (isObj(patches)) for (const [registry, deps] of Object.entries(patches)) tableDeps(out, `patch.${registry}:`, deps, same);
  const replace = own(data, 'replace');
  if (isObj(replace)) for (const [name, spec] of Object.entries(replace)) out.add(`replace:${name}`, name, undefined, `replace => ${JSON.stringify(spec)}`);
  return out.done();
}

async function pomXml(text: string): Promise<Manifest> {
  const { XMLParser } = await import('fast-xml-parser');
  let data: unknown;
  try {
    data = new XMLParser({ processEntities: false, ignoreDeclaration: true, ignoreAttributes: true, parseTagValue: false, isArray: (name) => ['dependency', 'plugin', 'repository', 'pluginRepository', 'extension'].includes(name) }).parse(text, true);
  } catch (error) {
    throw new ManifestError(`not XML: ${(error as Error).message.split('\n')[0]}`);
  }
  const project = own(data, 'project');
  if (!isObj(project)) throw new ManifestError('expected a <project> element');
  const out = new Collector();
  const deps = (prefix: string, list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const dep of list) {
      const name = `${str(own(dep, 'groupId')) ?? ''}:${str(own(dep, 'artifactId')) ?? ''}`;
      const systemPath = str(own(dep, 'systemPath'));
      out.add(`${prefix}${name}`, name, str(own(dep, 'version')), systemPath === undefined ? undefined : `path ${systemPath}`);
    }
  };
  const scopes: [string, unknown][] = [['', project]];
  const profiles = own(own(project, 'profiles'), 'profile');
  for (const profile of Array.isArray(profiles) ? profiles : profiles === undefined ? [] : [profiles]) scopes.push([`profile ${str(own(profile, 'id')) ?? ''}:`, profile]);
  for (const [prefix, scope] of scopes) {
    deps(prefix, own(own(scope, 'dependencies'), 'dependency'));
    deps(`${prefix}managed:`, own(own(own(scope, 'dependencyManagement'), 'dependencies'), 'dependency'));
    deps(`${prefix}plugin:`, own(own(own(scope, 'build'), 'plugins'), 'plugin'));
    deps(`${prefix}extension:`, own(own(own(scope, 'build'), 'extensions'), 'extension'));
    for (const [section, item] of [['repositories', 'repository'], ['pluginRepositories', 'pluginRepository']] as const) {
      const repos = own(own(scope, section), item);
      if (!Array.isArray(repos)) continue;
      for (const repo of repos) {
        const url = str(own(repo, 'url'));
        if (url !== undefined) out.registry(`${prefix}${section}.${str(own(repo, 'id')) ?? url}`, url.trim());
      }
    }
  }
  const parent = own(project, 'parent');
  if (isObj(parent)) deps('parent:', [parent]);
  return out.done();
}

const GRADLE_REPOSITORIES: Record<string, string> = {
  mavenCentral: 'https://repo.maven.apache.org/maven2/',
  google: 'https://dl.google.com/dl/android/maven2/',
  gradlePluginPortal: 'https://plugins.gradle.org/m2/',
};

/**
 * build.gradle(.kts) are Groovy and Kotlin programs; no JavaScript library
 * evaluates them. The statements read here are the declarative ones every
 * build uses: `<configuration> "group:name:version"` (with or without
 * parentheses), the map form, `files(…)`, and repositories.
 */
function gradle(text: string): Manifest {
  const out = new Collector();
  const source = text.replace(/\/\*[\s\S]*?\*\//g, '');
  for (const raw of source.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)\/\/.*$/, '').trim();
    if (line === '') continue;
    const known = /^(mavenCentral|google|gradlePluginPortal|mavenLocal|jcenter)\s*\(\s*\)/.exec(line);
    if (known !== null) {
      out.registry(`${known[1]}()`, GRADLE_REPOSITORIES[known[1]!] ?? `${known[1]}()`);
      continue;
    }
    const url = /\b(?:url|setUrl|uri)\s*(?:=\s*)?\(?\s*(?:uri\s*\(\s*)?["']([^"']+)["']/.exec(line);
    if (url !== null) {
      out.registry(`url ${url[1]}`, url[1]!);
      continue;
    }
    const dep = /^([A-Za-z][A-Za-z0-9]*)\s*\(?\s*(?:(?:platform|enforcedPlatform|kotlin)\s*\(\s*)?["']([^"'$]*(?:\$[^"']*)?)["']/.exec(line);
    if (dep !== null && /^(?:implementation|api|compile|compileOnly|runtimeOnly|runtime|testImplementation|testCompileOnly|testRuntimeOnly|androidTestImplementation|debugImplementation|releaseImplementation|annotationProcessor|kapt|ksp|classpath|developmentOnly|compileOnlyApi|id)$/.test(dep[1]!)) {
      const parts = dep[2]!.split(':');
      if (dep[1] === 'id') {
        const version = /\bversion\s*\(?\s*["']([^"']+)["']/.exec(line)?.[1];
        out.add(`plugin:${dep[2]}`, dep[2]!, version);
      } else if (parts.length >= 2) {
        const name = `${parts[0]}:${parts[1]}`;
        out.add(`${dep[1]}:${name}`, name, parts[2] ?? '*');
      }
      continue;
    }
    const map = /^([A-Za-z][A-Za-z0-9]*)\s*\(?\s*group\s*[:=]\s*["']([^"']+)["']\s*,\s*name\s*[:=]\s*["']([^"']+)["'](?:\s*,\s*version\s*[:=]\s*["']([^"']+)["'])?/.exec(line);
    if (map !== null) {
      const name = `${map[2]}:${map[3]}`;
      out.add(`${map[1]}:${name}`, name, map[4] ?? '*');
      continue;
    }
    const files = /^([A-Za-z][A-Za-z0-9]*)\s*\(?\s*(files|fileTree)\s*\(([^)]*)\)/.exec(line);
    if (files !== null) out.add(`${files[1]}:${files[2]}(${files[3]})`, `${files[2]}(${files[3]!.trim()})`, undefined, `path ${files[3]!.trim()}`);
  }
  return out.done();
}

/**
 * A Gemfile is a Ruby program (Bundler evaluates it). Read here: `gem`
 * lines with their version strings and their git / github / path / source
 * options, and `source` lines.
 */
function gemfile(text: string): Manifest {
  const out = new Collector();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    const source = /^source\s*\(?\s*["']([^"']+)["']/.exec(line);
    if (source !== null) {
      out.registry(`source ${source[1]}`, source[1]!);
      continue;
    }
    const gem = /^gem\s*\(?\s*["']([^"']+)["']\s*(.*)$/.exec(line);
    if (gem === null) continue;
    const name = gem[1]!;
    const rest = gem[2]!;
    const versions = [...rest.matchAll(/(?:^|,)\s*["']([^"']+)["']/g)].map((m) => m[1]!);
    const option = /\b(git|github|path|gist|bitbucket|source)\s*(?::|=>)\s*["']([^"']+)["']/.exec(rest);
    out.add(name, name, versions.length > 0 ? versions.join(' ') : '*', option === null ? undefined : `${option[1]} ${option[2]}`);
  }
  return out.done();
}

/** Reads one manifest; throws ManifestError when it cannot. */
export async function parseManifest(kind: ManifestKind, text: string): Promise<Manifest> {
  try {
    switch (kind) {
      case 'package.json': return packageJson(text);
      case 'package-lock.json': return packageLock(text);
      case 'yarn.lock': return await yarnLock(text);
      case 'pnpm-lock.yaml': return await pnpmLock(text);
      case '.npmrc': return npmrc(text);
      case '.yarnrc.yml': return await yarnrcYml(text);
      case '.yarnrc': return yarnrc(text);
      case 'requirements.txt': return requirements(text);
      case 'pyproject.toml': return await pyproject(text);
      case 'poetry.lock': case 'uv.lock': return await pythonLock(text, kind);
      case 'go.mod': return goMod(text);
      case 'Cargo.toml': return await cargoToml(text);
      case 'pom.xml': return await pomXml(text);
      case 'build.gradle': return gradle(text);
      case 'Gemfile': return gemfile(text);
    }
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    // A stack overflow on deep nesting, a parser's own TypeError: unreadable all the same.
    throw new ManifestError(`could not be read: ${(error as Error).message.split('\n')[0]}`);
  }
}

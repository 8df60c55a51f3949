/**
 * Bundles each git hook's entry module, as tsc compiled it, and what it
 * loads into one file of CommonJS (build/src/hook/bundle/). git starts a
 * hook process for every push; unbundled, Node resolves, reads and links
 * about ninety ES modules before the hook can decide. src/hook/entry.cts
 * runs a bundle only while it is at least as new as the module it was built
 * from, so a `tsc` run alone falls back to the fresh modules instead of
 * running an old bundle.
 *
 * Run after `tsc` (`npm run build`). Any esbuild warning fails the build.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildSrc = join(root, 'build', 'src');
const outDir = join(buildSrc, 'hook', 'bundle');

/** Hook name → the module bin/pushgate.js would otherwise import for it. */
const ENTRIES: Record<string, string> = {
  'pre-receive': join(buildSrc, 'hook', 'main.js'),
  'post-receive': join(buildSrc, 'hook', 'post-receive.js'),
};

/**
 * Loaded only on a path a push rarely takes (a config that changed, an
 * audit transport): a require() left in the bundle costs nothing until then.
 */
const EXTERNAL = ['zod', 'yaml', 'winston', 'smol-toml', 'fast-xml-parser', '@yarnpkg/parsers'];

const BUNDLE_URL = '__pushgate_bundle_url';

/**
 * Each module keeps its own import.meta.url, the place its unbundled file
 * has in the installed tree, so URLs relative to it (a child's entry
 * module, the config code the config cache is keyed on) still resolve.
 */
const moduleUrls: Plugin = {
  name: 'module-urls',
  setup(builder) {
    builder.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(buildSrc + sep)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const fromBundle = relative(outDir, args.path).split(sep).join('/');
      const url = `new URL(${JSON.stringify(fromBundle)}, ${BUNDLE_URL}).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

const result = await build({
  entryPoints: Object.entries(ENTRIES).map(([out, entry]) => ({ out, in: entry })),
  outdir: outDir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: EXTERNAL,
  // The bundle runs through vm.Script (src/hook/entry.cts), where import() needs an experimental loader option.
  supported: { 'dynamic-import': false },
  sourcemap: true,
  sourcesContent: false,
  // The file is the function Node wraps a CommonJS module in: the script V8
  // compiles is the file byte for byte, so positions in stack traces and in
  // the source map are the file's own, and no wrapped copy of it is made.
  banner: { js: `(function (exports, require, module, __filename, __dirname) {\n"use strict";\nconst ${BUNDLE_URL} = require('node:url').pathToFileURL(__filename).href;` },
  footer: { js: '})' },
  plugins: [moduleUrls],
  logLevel: 'silent',
});

const problems = [...result.errors, ...result.warnings];
if (problems.length > 0) {
  for (const problem of problems) {
    const at = problem.location ? `${problem.location.file}:${problem.location.line}: ` : '';
    process.stderr.write(`bundle-hooks: ${at}${problem.text}\n`);
  }
  process.exit(1);
}

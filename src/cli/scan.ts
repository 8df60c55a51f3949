import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { diffEvents, GitError, runGit } from '../git/index.js';
import { lineMayHoldSecret, SecretScanner } from '../scan/index.js';
import { CliError, EXIT_REFUSED } from './exit.js';
import type { CommandResult } from './main.js';
import { formatJson, formatSarif, formatText, type ScanResult } from './scan-report.js';
import { packageVersion } from './version.js';

/** Ranges of at least this many commits are diffed by two git processes when there are two CPUs (as the hook does). */
const SPLIT_FROM_COMMITS = 16;

/** Files larger than this are reported by name only, like the hook's size limit would. */
const MAX_FILE_BYTES = 20 * 1024 * 1024;

async function commitsToScan(repo: string, revs: readonly string[]): Promise<string[]> {
  for (const rev of revs) {
    if (rev.startsWith('-') || /[\s\0]/.test(rev)) throw new CliError(`${JSON.stringify(rev)} is not a revision or range`);
  }
  // Default: what this clone has that no remote-tracking ref has yet, i.e. what a push would send.
  const args = revs.length > 0 ? ['rev-list', '--end-of-options', ...revs] : ['rev-list', 'HEAD', '--not', '--remotes'];
  const listed = await runGit(args, { gitDir: repo });
  if (listed.code !== 0) throw new CliError(`git ${args.join(' ')} failed in ${repo}: ${listed.stderr.trim().split('\n').at(-1) ?? ''}`);
  return listed.stdout.split('\n').filter((l) => l !== '').reverse();
}

async function gitDirOf(repo: string): Promise<string> {
  const found = await runGit(['rev-parse', '--absolute-git-dir'], { cwd: repo });
  if (found.code !== 0) throw new CliError(`${repo} is not a git repository`);
  return found.stdout.trim();
}

async function scanHistory(scanner: SecretScanner, repo: string, revs: readonly string[]): Promise<ScanResult[]> {
  const gitDir = await gitDirOf(repo);
  const commits = await commitsToScan(gitDir, revs);
  const results: ScanResult[] = [];
  // As the hook reads a push: the cheap first look drops lines no rule can match, two git processes for long ranges.
  const processes = commits.length >= SPLIT_FROM_COMMITS && availableParallelism() >= 2 ? 2 : 1;
  for await (const batch of diffEvents(gitDir, commits, undefined, { lineFilter: lineMayHoldSecret, processes })) {
    for (const event of batch) {
      if (event.kind === 'file') {
        if (event.status === 'deleted') continue;
        const named = scanner.scanPath(event.path);
        // A name like `.env` counts only when the content could not be read as text; else the lines decide.
        if (named && (named.decides !== 'unreadable' || event.binary)) results.push({ ...named, commit: event.commit });
      } else {
        for (const found of scanner.scanLine(event.path, event.line, event.text)) results.push({ ...found, commit: event.commit });
      }
    }
  }
  return results;
}

function* walk(path: string): Generator<string> {
  const stat = statSync(path);
  if (stat.isFile()) {
    yield path;
    return;
  }
  if (!stat.isDirectory()) return;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === '.git' || entry.name === 'node_modules') continue;
    if (entry.isDirectory() || entry.isFile()) yield* walk(join(path, entry.name));
  }
}

function scanFiles(scanner: SecretScanner, paths: readonly string[]): ScanResult[] {
  const results: ScanResult[] = [];
  for (const given of paths) {
    let files: string[];
    try {
      files = [...walk(resolve(given))];
    } catch (error) {
      throw new CliError(`cannot read ${given}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message}`);
    }
    for (const file of files) {
      const shown = relative(process.cwd(), file) || file;
      const named = scanner.scanPath(shown);
      if (named?.decides === 'always') results.push(named);
      const content = statSync(file).size > MAX_FILE_BYTES ? null : readFileSync(file);
      if (content === null || content.subarray(0, 8000).includes(0)) {
        // A name like `.env` counts only when the content could not be read as text; else the lines decide.
        if (named?.decides === 'unreadable') results.push(named);
        continue;
      }
      results.push(...scanner.scanText(shown, content.toString('utf8')));
    }
  }
  return results;
}

interface ScanOptions {
  repo: string;
  format: string;
  files?: boolean;
}

export function registerScanCommand(program: Command, result: CommandResult): void {
  program.command('scan')
    .description('Scan commits (or files) for secrets with the same rules the server applies, before pushing.')
    .argument('[rev...]', 'revisions or ranges (default: commits on HEAD not yet on any remote-tracking ref)')
    .option('--repo <dir>', 'repository to scan', '.')
    .option('--files', 'treat the arguments as files and directories on disk instead of revisions')
    .option('--format <format>', 'text, json or sarif', 'text')
    .addHelpText('after', '\nExit status: 0 clean, 1 findings, 2 error.\n\nExamples:\n  pushgate scan                         # what `git push` would send\n  pushgate scan --repo . main..HEAD --format sarif > pushgate.sarif\n  pushgate scan --files src config')
    .action(async (args: string[], options: ScanOptions) => {
      if (!['text', 'json', 'sarif'].includes(options.format)) throw new CliError(`--format ${options.format}: expected text, json or sarif`);
      const scanner = new SecretScanner();
      let results: ScanResult[];
      if (options.files) {
        if (args.length === 0) throw new CliError('--files needs at least one file or directory');
        results = scanFiles(scanner, args);
      } else {
        try {
          results = await scanHistory(scanner, resolve(options.repo), args);
        } catch (error) {
          if (error instanceof GitError) throw new CliError(error.message);
          throw error;
        }
      }
      const output = options.format === 'json' ? formatJson(results) : options.format === 'sarif' ? formatSarif(results, packageVersion()) : formatText(results);
      process.stdout.write(output);
      result.code = results.length === 0 ? 0 : EXIT_REFUSED;
    });
}

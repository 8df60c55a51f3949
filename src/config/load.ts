import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './errors.js';
import { locate } from './locate.js';
import { errorMap } from './messages.js';
import { formatPath } from './paths.js';
import { resolveConfig } from './resolve.js';
import { findConfigPath } from './find.js';
import { readConfigText } from './read.js';
import { configSchema } from './schema.js';
import type { PushgateConfig } from './types.js';

/** Reads and validates a config file; throws ConfigError listing every problem. */
export function loadConfig(path: string = findConfigPath()): PushgateConfig {
  const file = resolve(path);
  const text = readConfigText(file);
  return parseConfig(text, { file });
}

export interface ParseOptions {
  /** Named in messages and kept as `configPath`. */
  file?: string;
  /** Relative paths resolve against this; defaults to the file's directory, else the working directory. */
  baseDir?: string;
}

/** Validates config text; throws ConfigError listing every problem. */
export function parseConfig(text: string, options: ParseOptions = {}): PushgateConfig {
  const file = options.file === undefined ? null : resolve(options.file);
  const baseDir = resolve(options.baseDir ?? (file === null ? '.' : dirname(file)));
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });

  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) {
    throw new ConfigError('config.syntax', file, syntax.map((problem) => {
      const { line, col } = lines.linePos(problem.pos[0]);
      const message = problem.code === 'MULTIPLE_DOCS' ? 'a config is a single YAML document: remove the `---` separator' : problem.message.split('\n')[0]!;
      return { path: '', message: `YAML: ${message}`, line, column: col };
    }));
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    throw new ConfigError('config.syntax', file, [{ path: '', message: `YAML: ${(error as Error).message}` }]);
  }

  const parsed = configSchema.safeParse(data, { error: errorMap });
  if (!parsed.success) {
    throw new ConfigError('config.invalid', file, toProblems(parsed.error.issues, doc, lines));
  }
  return resolveConfig(parsed.data, baseDir, file);
}

function toProblems(issues: readonly z.core.$ZodIssue[], doc: Document, lines: LineCounter): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: readonly PropertyKey[], message: string): void => {
    problems.push({ path: formatPath(path), message, ...locate(doc, path, lines) });
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      // section() wrote one message line per unknown key, in the order of `keys`
      const messages = issue.message.split('\n');
      issue.keys.forEach((key, index) => add([...issue.path, key], messages[index] ?? 'unknown key'));
    } else {
      add(issue.path, issue.message);
    }
  }
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => (a.problem.line ?? 0) - (b.problem.line ?? 0) || (a.problem.column ?? 0) - (b.problem.column ?? 0) || a.index - b.index)
    .map(({ problem }) => problem);
}

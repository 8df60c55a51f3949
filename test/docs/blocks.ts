/**
 * Reads the example commands out of the documentation. Every fenced block
 * whose info string starts with `sh` is an example: exactly `sh` runs in the
 * docs test, `sh norun: <reason>` is shown but not run. Anything else that
 * looks like a shell example is an error, so an example can never be
 * skipped by a typo in its tag.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  info: string;
  text: string;
}

export type Example =
  | { kind: 'run'; line: number; text: string }
  | { kind: 'norun'; line: number; text: string; reason: string };

export interface DocExamples {
  examples: Example[];
  /** Blocks that are not examples (yaml, text, …), for checks of their own. */
  others: CodeBlock[];
  problems: string[];
}

/** Info strings that name a shell but are not the agreed tags. */
const SHELLISH = /^(sh|bash|zsh|ksh|shell|shell-session|console-sh)\b|^sh/;
const NORUN = /^sh norun: (\S.*\S)$/;

export function codeBlocks(markdown: string): { blocks: CodeBlock[]; problems: string[] } {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  const problems: string[] = [];
  let open: { line: number; info: string; fence: string; body: string[] } | undefined;
  lines.forEach((line, index) => {
    if (open === undefined) {
      const start = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
      if (start) open = { line: index + 1, info: start[2]!.trim(), fence: start[1]!, body: [] };
      return;
    }
    const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
    if (close && close[1]![0] === open.fence[0] && close[1]!.length >= open.fence.length) {
      blocks.push({ line: open.line, info: open.info, text: open.body.join('\n') });
      open = undefined;
      return;
    }
    open.body.push(line);
  });
  if (open !== undefined) problems.push(`line ${open.line}: the code block is never closed`);
  return { blocks, problems };
}

export function examplesOf(markdown: string): DocExamples {
  const { blocks, problems } = codeBlocks(markdown);
  const examples: Example[] = [];
  const others: CodeBlock[] = [];
  for (const block of blocks) {
    if (block.info === 'sh') {
      examples.push({ kind: 'run', line: block.line, text: block.text });
      continue;
    }
    const norun = NORUN.exec(block.info);
    if (norun) {
      examples.push({ kind: 'norun', line: block.line, text: block.text, reason: norun[1]! });
      continue;
    }
    if (SHELLISH.test(block.info)) {
      problems.push(`line ${block.line}: \`\`\`${block.info} is not an example tag: use \`\`\`sh (run by the docs test) or \`\`\`sh norun: <reason>`);
      continue;
    }
    if (block.info === '') {
      problems.push(`line ${block.line}: a code block without an info string: tag it (sh, sh norun: <reason>, text, yaml, …)`);
      continue;
    }
    others.push(block);
  }
  return { examples, others, problems };
}

const ROOT = new URL('../../../', import.meta.url).pathname;

/** README.md and every docs/*.md, as paths relative to the repository root. */
export function documentationFiles(root = ROOT): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

export function readDoc(path: string, root = ROOT): string {
  return readFileSync(join(root, path), 'utf8');
}

export { ROOT as REPO_ROOT };

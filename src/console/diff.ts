/**
 * The diff of a parked push, file by file, as HTML for the entry page.
 * Read from the entry's store (its objects) with the repository's objects
 * as alternates, through the git binary; rendered by diff2html. Before any
 * of it is rendered, every secret the content rules find is masked
 * (maskText, the same masks as findings), and every line a secret finding
 * points at is replaced outright, whatever rule found it: the console never
 * sends a secret to a browser. Bidi and other invisible control characters
 * are shown as visible escapes, so the code reads as it runs.
 */
import { html as diffHtml, parse as parseDiff } from 'diff2html';
import { isZeroOid, runGit } from '../git/index.js';
import type { Finding } from '../policy/index.js';
import { entryStore, storeExists, type QueueRecord } from '../queue/index.js';
import { escapeControl, maskText } from '../text/index.js';

/** Bytes of diff text read per entry; the rest is cut off, and the page says so. */
export const MAX_DIFF_BYTES = 2 * 1024 * 1024;
const EMPTY_TREE = { sha1: '4b825dc642cb6eb9a060e54bf8d69288fbee4904', sha256: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321' };

export interface RenderedDiff {
  ref: string;
  html: string;
  truncated: boolean;
  note?: string;
}

function gitEnv(gitDir: string): NodeJS.ProcessEnv {
  // Only what git needs: no GIT_* of the server's own environment, no pager, no external diff.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C', GIT_CONFIG_NOSYSTEM: '1', GIT_ALTERNATE_OBJECT_DIRECTORIES: `${gitDir}/objects` };
  return env;
}

/** The commit the new commits of a created ref start from: the first parent of its oldest new commit. */
async function baseOf(store: string, gitDir: string, tip: string, sha256: boolean): Promise<string> {
  const listed = await runGit(['rev-list', '--reverse', '--topo-order', tip, '--not', '--all'], { gitDir, env: { ...gitEnv(gitDir), GIT_ALTERNATE_OBJECT_DIRECTORIES: `${store}/objects` }, maxBuffer: 16 * 1024 * 1024 });
  const first = listed.code === 0 ? listed.stdout.split('\n')[0] : undefined;
  if (first) {
    const parents = await runGit(['rev-parse', `${first}^@`], { gitDir: store, env: gitEnv(gitDir) });
    const parent = parents.code === 0 ? parents.stdout.split('\n')[0] : undefined;
    if (parent) return parent;
  }
  return sha256 ? EMPTY_TREE.sha256 : EMPTY_TREE.sha1;
}

/** Marks the table rows of new-side lines listed in `lines` (diff2html's line-num2 cell names them). */
function markLines(fileHtml: string, lines: Map<number, Finding[]>): string {
  if (lines.size === 0) return fileHtml;
  return fileHtml.replace(/<tr>((?:(?!<\/tr>)[\s\S])*?<div class="line-num2">(\d+)<\/div>(?:(?!<\/tr>)[\s\S])*?)<\/tr>/g, (row: string, inner: string, n: string) => {
    const found = lines.get(Number(n));
    if (found === undefined) return row;
    const title = found.map((f) => f.ruleId).join(', ').replace(/[^A-Za-z0-9._*, -]/g, '?');
    return `<tr class="pg-finding" data-finding-line="${Number(n)}" title="finding: ${title}">${inner}</tr>`;
  });
}

const SECRET_LINE = '[line hidden: a secret was found here]';

/** Diff text → the same text with every secret masked, finding lines of secret rules hidden, invisible characters shown. */
export function maskDiff(text: string, findings: readonly Finding[]): string {
  const secretLines = new Map<string, Set<number>>();
  for (const f of findings) {
    if (!f.ruleId.startsWith('secret.') || f.path === undefined || f.line === undefined) continue;
    const set = secretLines.get(f.path) ?? new Set<number>();
    set.add(f.line);
    secretLines.set(f.path, set);
  }
  let path: string | undefined;
  let newLine = 0;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) path = undefined;
    else if (line.startsWith('+++ ')) path = line === '+++ /dev/null' ? undefined : line.slice(4).replace(/^b\//, '').replace(/^"b\//, '"');
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (hunk) {
      newLine = Number(hunk[1]);
      out.push(escapeControl(maskText(line)));
      continue;
    }
    const kind = line[0];
    if ((kind === '+' || kind === ' ') && path !== undefined && secretLines.get(path)?.has(newLine) && !line.startsWith('+++ ')) {
      out.push(`${kind}${SECRET_LINE}`);
      newLine++;
      continue;
    }
    if ((kind === '+' || kind === ' ') && !line.startsWith('+++ ')) newLine++;
    // Tabs stay (code is indented with them); every other control or bidi character becomes visible.
    out.push(maskText(line).split('\t').map(escapeControl).join('\t'));
  }
  return out.join('\n');
}

/** The diff of each ref update of the entry, masked and rendered; a deletion has none. */
export async function renderEntryDiff(gitDir: string, record: QueueRecord): Promise<RenderedDiff[]> {
  const store = entryStore(gitDir, record.id);
  const out: RenderedDiff[] = [];
  for (const update of record.updates) {
    if (isZeroOid(update.new)) {
      out.push({ ref: update.ref, html: '', truncated: false, note: 'the push deletes this ref' });
      continue;
    }
    if (!storeExists(store)) {
      out.push({ ref: update.ref, html: '', truncated: false, note: 'the parked objects are gone (the entry is decided)' });
      continue;
    }
    const sha256 = update.new.length === 64;
    const base = isZeroOid(update.old) ? await baseOf(store, gitDir, update.new, sha256) : update.old;
    const diff = await runGit(['-c', 'core.quotePath=true', 'diff', '--no-color', '--no-ext-diff', '--no-textconv', '--find-renames', base, update.new, '--'], {
      gitDir: store, env: gitEnv(gitDir), maxBuffer: MAX_DIFF_BYTES * 4, timeoutMs: 30_000,
    }).catch((error: unknown) => ({ code: -1, stdout: '', stderr: (error as Error).message }));
    if (diff.code !== 0) {
      out.push({ ref: update.ref, html: '', truncated: false, note: 'the diff could not be read; fetch the entry to look at it' });
      continue;
    }
    let text = diff.stdout;
    let truncated = false;
    if (Buffer.byteLength(text) > MAX_DIFF_BYTES) {
      text = text.slice(0, MAX_DIFF_BYTES);
      text = text.slice(0, text.lastIndexOf('\ndiff --git ') + 1 || text.lastIndexOf('\n') + 1);
      truncated = true;
    }
    const masked = maskDiff(text, record.findings);
    const files = parseDiff(masked);
    const rendered = files.map((file) => {
      const lines = new Map<number, Finding[]>();
      for (const f of record.findings) {
        if (f.line === undefined || f.path === undefined) continue;
        if (f.path !== file.newName) continue;
        if (f.ref !== undefined && f.ref !== update.ref) continue;
        lines.set(f.line, [...(lines.get(f.line) ?? []), f]);
      }
      return markLines(diffHtml([file], { drawFileList: false, outputFormat: 'line-by-line', matching: 'none', renderNothingWhenEmpty: false }), lines);
    });
    out.push({ ref: update.ref, html: rendered.join('\n'), truncated });
  }
  return out;
}

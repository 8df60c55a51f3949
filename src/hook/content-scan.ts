import type { PolicyConfig } from '../config/index.js';
import { changedBlobs, diffEvents, runGit, type LineFilter } from '../git/index.js';
import {
  ContentChecker, EMPTY_ALLOWLIST, INCOMPLETE_RULE, mergeAllowlists, parseRepoAllowlist,
  type ClassifiedUpdate, type Finding, type RepoAllowlist,
} from '../policy/index.js';
import { lineMayHoldSecret, SecretScanner } from '../scan/index.js';

/** Thrown inside the scan when the budget runs out; becomes a scan.incomplete finding. */
class BudgetExceeded extends Error {}

/**
 * The allowlist file of each target branch as it was before the push (for a
 * new branch: the default branch). Never read from the pushed commits.
 */
async function repoAllowlist(gitDir: string, updates: readonly ClassifiedUpdate[], file: string | null, env: NodeJS.ProcessEnv): Promise<{ allowlist: RepoAllowlist; notes: string[] }> {
  if (file === null) return { allowlist: EMPTY_ALLOWLIST, notes: [] };
  const bases = [...new Set(updates.map((u) => (u.kind === 'create' ? 'HEAD' : u.oldOid)).filter((b) => !/^0+$/.test(b)))];
  const lists: RepoAllowlist[] = [];
  const notes: string[] = [];
  const shown = await Promise.all(bases.map((base) => runGit(['show', `${base}:${file}`], { gitDir, env })));
  for (const [i, result] of shown.entries()) {
    if (result.code !== 0) continue;
    const { allowlist, problem } = await parseRepoAllowlist(result.stdout);
    if (problem) notes.push(`${file} at ${bases[i]!.slice(0, 12)} ignored: ${problem}`);
    lists.push(allowlist);
  }
  return { allowlist: mergeAllowlists(lists), notes };
}

/** Compiles allowlist regexes; one that does not compile is skipped, never fatal. */
function compile(patterns: readonly string[]): RegExp[] {
  return patterns.flatMap((p) => {
    try {
      return [new RegExp(p)];
    } catch {
      return [];
    }
  });
}

/**
 * Checks the content of the new commits within the time budget and size cap.
 * Anything that stops the check short yields a scan.incomplete finding with
 * the configured failure action: what was not checked is never allowed.
 */
export interface ContentResult {
  findings: Finding[];
  /** Things the pusher should know that are not findings (an ignored allowlist file). */
  notes: string[];
}

export async function scanContent(gitDir: string, commits: readonly string[], updates: readonly ClassifiedUpdate[], policy: PolicyConfig, env: NodeJS.ProcessEnv): Promise<ContentResult> {
  const started = Date.now();
  const deadline = started + policy.scan.timeBudget;
  let checker: ContentChecker | undefined;
  let notes: string[] = [];
  const incomplete = (why: string): Finding => ({
    ruleId: INCOMPLETE_RULE.id, title: `the push could not be fully checked: ${why}`, action: policy.scan.onFailure, mode: 'enforce', fix: INCOMPLETE_RULE.fix,
  });
  const work = (async (): Promise<ContentResult> => {
    // git starts on the diff while the allowlist is read; nothing is scanned before both are there.
    const allowlisted = repoAllowlist(gitDir, updates, policy.allowlist.repoFile, env);
    const sizes = changedBlobs(gitDir, commits, env);
    sizes.catch(() => undefined);
    const progress = { addedBytes: 0 };
    const lineFilter: LineFilter = policy.secrets.enabled ? lineMayHoldSecret : () => false;
    const events = diffEvents(gitDir, commits, env, { lineFilter, progress })[Symbol.asyncIterator]();
    const first = events.next();
    first.catch(() => undefined);
    const found = await allowlisted;
    const allowlist = found.allowlist;
    notes = found.notes;
    const scanner = new SecretScanner({
      allowlist: {
        values: [...policy.allowlist.values, ...allowlist.values, ...compile(policy.allowlist.regexes)],
        fingerprints: [...policy.allowlist.fingerprints, ...allowlist.fingerprints],
      },
    });
    checker = new ContentChecker(policy, scanner, allowlist.paths);
    try {
      for (let next = await first; !next.done; next = await events.next()) {
        for (const event of next.value) {
          if (event.kind === 'file') checker.file(event);
          else checker.line(event);
        }
        if (progress.addedBytes > policy.scan.maxBytes) throw new BudgetExceeded(`more than ${policy.scan.maxBytes} bytes of changes`);
        if (Date.now() > deadline) throw new BudgetExceeded(`the time budget of ${policy.scan.timeBudget} ms ran out`);
      }
    } finally {
      // Stops git when the budget ran out mid-stream.
      await events.return?.(undefined);
    }
    for (const blob of await sizes) checker.blob(blob.path, blob.commit, blob.size);
    return { findings: checker.finish(), notes };
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetExceeded(`the time budget of ${policy.scan.timeBudget} ms ran out`)), policy.scan.timeBudget);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (error) {
    const partial = checker?.finish() ?? [];
    const why = error instanceof BudgetExceeded ? error.message : `the scan failed (${(error as Error).message.split('\n')[0]})`;
    return { findings: [...partial, incomplete(why)], notes };
  } finally {
    clearTimeout(timer);
  }
}

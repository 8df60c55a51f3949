import { availableParallelism } from 'node:os';
import type { PolicyConfig } from '../config/index.js';
import { StreamedBlobSizes } from '../git/blob-sizes.js';
import { CatFileBatch } from '../git/cat-file.js';
import type { NewCommitGraph } from '../git/commits.js';
import { defaultBranch } from '../git/default-branch.js';
import type { LineFilter } from '../git/diff-parser.js';
import { startDiff, type DiffRun } from '../git/diff-stream.js';
import { typeObjects, type ListedObject } from '../git/objects.js';
import type { ObjectCheck } from './object-scan.js';
import { runGit } from '../git/run.js';
import { ALLOWLIST_CHANGE_RULE, allowlistChangeFinding, chooseAllowlistSource, EMPTY_ALLOWLIST, isTrustedBranch, needsDefaultBranch, parseRepoAllowlist, trustedUpdates, type RepoAllowlist } from '../policy/allowlist.js';
import { INCOMPLETE_RULE } from '../policy/incomplete.js';
import type { Finding, RefUpdate } from '../policy/types.js';

/** Thrown inside the scan when the budget runs out; becomes a scan.incomplete finding. */
class BudgetExceeded extends Error {}

type DefaultBranch = { ref: string; commit: string } | null;

/**
 * The repository allowlist file, read only from a trusted branch as it was
 * before the push (see chooseAllowlistSource): never from the pushed
 * objects, never from a ref outside refs/heads/.
 */
async function repoAllowlist(catFile: CatFileBatch, gitDir: string, updates: readonly RefUpdate[], config: PolicyConfig['allowlist'], head: Promise<DefaultBranch>, env: NodeJS.ProcessEnv): Promise<{ allowlist: RepoAllowlist; notes: string[] }> {
  const file = config.repoFile;
  if (file === null) return { allowlist: EMPTY_ALLOWLIST, notes: [] };
  const source = chooseAllowlistSource(updates, await head, config.trustedRefs);
  const notes = source.note === undefined ? [] : [`${file} not used: ${source.note}`];
  if (source.commit === null) return { allowlist: EMPTY_ALLOWLIST, notes };
  const text = await fileAt(catFile, gitDir, `${source.commit}:${file}`, env);
  if (text === null) return { allowlist: EMPTY_ALLOWLIST, notes };
  const { allowlist, problem } = await parseRepoAllowlist(text);
  if (problem) notes.push(`${file} at ${source.commit.slice(0, 12)} ignored: ${problem}`);
  return { allowlist, notes };
}

/**
 * A trusted branch whose allowlist file the push changes, however the new
 * version arrives (see trustedUpdates): compared by object id, before and after.
 */
async function allowlistChanges(catFile: CatFileBatch, updates: readonly RefUpdate[], config: PolicyConfig['allowlist'], head: Promise<DefaultBranch>): Promise<Finding[]> {
  const file = config.repoFile;
  if (file === null || !updates.some((u) => isTrustedBranch(u.ref, config.trustedRefs))) return [];
  const at = async (commit: string | null): Promise<string | null> => (commit === null ? null : (await catFile.info(`${commit}:${file}`))?.oid ?? null);
  const compared = await Promise.all(trustedUpdates(updates, await head, config.trustedRefs).map(async (u) => {
    const [after, before] = await Promise.all([at(u.commit), at(u.base)]);
    return after !== null && after !== before ? [allowlistChangeFinding(u.ref, u.commit, file)] : [];
  }));
  return compared.flat();
}

/**
 * What `git show <rev>:<path>` prints, or null where it fails. Most
 * repositories have no allowlist file: one question to the cat-file process
 * that sizes the blobs says so, without a git process of its own.
 */
async function fileAt(catFile: CatFileBatch, gitDir: string, name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const show = async (): Promise<string | null> => {
    const result = await runGit(['show', name], { gitDir, env });
    return result.code === 0 ? result.stdout : null;
  };
  // cat-file reads one name per line; anything else is left to git show.
  if (/[\n\r\0]/.test(name)) return show();
  const info = await catFile.info(name);
  if (info === null) return null;
  if (info.type !== 'blob') return show();
  const object = await catFile.read(name);
  return object === null ? null : object.data.toString('utf8');
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

/** Pushes of at least this many commits are diffed by two git processes when there are two CPUs. */
const SPLIT_FROM_COMMITS = 16;

/** What the content check needs besides git: loaded while git starts, since they take longer to load than git to answer. */
function checkerModules() {
  return Promise.all([import('../policy/content.js'), import('../scan/scanner.js'), import('./object-scan.js')]);
}

/** Starts loading the checker's modules ahead of scanContent. */
export function preloadChecker(): void {
  checkerModules().catch(() => undefined);
}

export interface ContentResult {
  findings: Finding[];
  /** Things the pusher should know that are not findings (an ignored allowlist file). */
  notes: string[];
}

/**
 * Checks everything a push brings within the time budget and size cap: the
 * added lines of the new commits as their diff streams, and, whole, every
 * other new object (the new commits, and `listed` from listPush: blobs no diff showed
 * as text, trees' entry names, commit messages, annotated tags) and the
 * names of the updated refs; changes to the allowlist file of a trusted
 * branch. Anything that stops the check short yields a scan.incomplete
 * finding with the configured failure action: what was not checked is
 * never allowed.
 */
export async function scanContent(gitDir: string, listing: Promise<NewCommitGraph>, listed: Promise<ListedObject[]>, updates: readonly RefUpdate[], policy: PolicyConfig, env: NodeJS.ProcessEnv, shared?: CatFileBatch): Promise<ContentResult> {
  const started = Date.now();
  const deadline = started + policy.scan.timeBudget;
  const modules = checkerModules();
  modules.catch(() => undefined);
  let checker: { finish(): Finding[] } | undefined;
  let notes: string[] = [];
  const outOfTime = (): void => {
    if (Date.now() > deadline) throw new BudgetExceeded(`the time budget of ${policy.scan.timeBudget} ms ran out`);
  };
  const work = (async (): Promise<ContentResult> => {
    // Every git process starts before anything is scanned: the allowlist (with
    // the listings of new commits and objects), then the diff and the sizes of the blobs it names.
    // The caller's process when it has one (its other checks read through it too); closed by whoever started it.
    const catFile = shared ?? new CatFileBatch(gitDir, env);
    // The walk lists commits in the graph and everything else in `listed`; both are checked as objects.
    const objects = Promise.all([listing, listed]).then(([graph, list]) => typeObjects([...graph.commits.map((oid) => ({ oid, name: null })), ...list], catFile));
    objects.catch(() => undefined);
    const trusted = policy.allowlist.trustedRefs;
    const head = policy.allowlist.repoFile !== null && needsDefaultBranch(updates, trusted) ? defaultBranch(gitDir, (ref) => isTrustedBranch(ref, trusted), env) : Promise.resolve(null);
    head.catch(() => undefined);
    const allowlisted = repoAllowlist(catFile, gitDir, updates, policy.allowlist, head, env);
    allowlisted.catch(() => undefined);
    const allowlistChanged = allowlistChanges(catFile, updates, policy.allowlist, head);
    allowlistChanged.catch(() => undefined);
    let graph: NewCommitGraph;
    let diff: DiffRun;
    try {
      graph = await listing;
      const processes = graph.commits.length >= SPLIT_FROM_COMMITS && availableParallelism() > 1 ? 2 : 1;
      diff = startDiff(gitDir, graph.commits, env, { processes });
    } catch (error) {
      if (shared === undefined) await catFile.close();
      throw error;
    }
    const { commits, merges } = graph;
    const sizes = new StreamedBlobSizes(catFile, gitDir, env, merges, commits);
    try {
      const [[{ ContentChecker }, { lineMayHoldSecret, SecretScanner }, { checkObjectText, checkUnshownBlobs }], found] = await Promise.all([modules, allowlisted]);
      const progress = { addedBytes: 0 };
      const lineFilter: LineFilter = policy.secrets.enabled ? lineMayHoldSecret : () => false;
      const events = diff.events({ lineFilter, progress });
      const allowlist = found.allowlist;
      notes = found.notes;
      const scanner = new SecretScanner({
        allowlist: {
          values: [...policy.allowlist.values, ...allowlist.values, ...compile(policy.allowlist.regexes)],
          fingerprints: [...policy.allowlist.fingerprints, ...allowlist.fingerprints],
        },
      });
      const check = new ContentChecker(policy, scanner, allowlist.paths);
      checker = check;
      // Blobs whose new lines this diff scans need no second look; binary ones do.
      const scannedAsLines = new Set<string>();
      const diffedBinary = new Map<string, { commit: string; path: string }>();
      const objectCheck: ObjectCheck = {
        gitDir, env, catFile, check, secretsEnabled: policy.secrets.enabled, mayHold: lineFilter, scannedAsLines, diffedBinary, checkTime: outOfTime,
        spend: (bytes) => {
          progress.addedBytes += bytes;
          if (progress.addedBytes > policy.scan.maxBytes) throw new BudgetExceeded(`more than ${policy.scan.maxBytes} bytes of content`);
        },
      };
      // Commit messages, tag annotations and tree entry names, while the diff streams.
      const texts = objects.then((list) => checkObjectText(list, objectCheck));
      texts.catch(() => undefined);
      for await (const batch of events) {
        for (const event of batch) {
          if (event.kind === 'file') {
            const scans = check.file(event);
            sizes.file(event);
            if (event.oid !== null && !event.submodule) {
              if (event.binary) diffedBinary.set(event.oid, { commit: event.commit, path: event.path });
              else if (scans) scannedAsLines.add(event.oid);
            }
          } else check.line(event);
        }
        if (progress.addedBytes > policy.scan.maxBytes) throw new BudgetExceeded(`more than ${policy.scan.maxBytes} bytes of changes`);
        outOfTime();
      }
      for (const blob of await sizes.blobs(commits)) check.blob(blob.path, blob.commit, blob.size);
      for (const update of updates) {
        if (!/^0+$/.test(update.newOid)) check.text({ object: '', path: '(ref name)', pseudo: true }, 0, update.ref);
      }
      await texts;
      await checkUnshownBlobs(await objects, objectCheck);
      // One allowlist.changed finding is enough: the diff's names the commit and path, this one the branch.
      const findings = check.finish();
      const changed = findings.some((f) => f.ruleId === ALLOWLIST_CHANGE_RULE.id) ? [] : await allowlistChanged;
      return { findings: [...findings, ...changed], notes };
    } finally {
      // Stops git when the budget ran out mid-stream.
      diff.stop();
      if (shared === undefined) await catFile.close();
    }
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
    const incomplete: Finding = {
      ruleId: INCOMPLETE_RULE.id, title: `the push could not be fully checked: ${why}`, action: policy.scan.onFailure, mode: 'enforce', fix: INCOMPLETE_RULE.fix,
    };
    return { findings: [...partial, incomplete], notes };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The catalogue rules' part of the hook: gathers what the pure checks in
 * policy/commit.ts, policy/paths.ts and policy/signature.ts look at — the
 * commits each update brings to its ref, their headers (through the push's
 * one cat-file process, the content scan's), the paths they change (one diff-tree for all of
 * them), ssh-keygen's verdict on their signatures — and runs the checks.
 * Nothing is started when no rule applies to the push. Bounded by the scan
 * time budget; what cannot be checked is a scan.incomplete finding, never a pass.
 */
import type { PushgateConfig } from '../config/index.js';
import type { CatFileBatch } from '../git/cat-file.js';
import { parseCommitObject, type CommitObject } from '../git/commit-object.js';
import { checkAllDiffed, checkCommitIds } from '../git/commit-ids.js';
import { DEFAULT_EXCLUDED_REFS, type NewCommitGraph } from '../git/commits.js';
import { isFullOid } from '../git/oid.js';
import { runGitOrThrow } from '../git/run.js';
import { anyInScope, checkCommits, commitRuleEntries } from '../policy/commit.js';
import { INCOMPLETE_RULE } from '../policy/incomplete.js';
import { checkPaths, pathRulesInScope } from '../policy/paths.js';
import { checkSignatures, commitsToVerify } from '../policy/signature.js';
import type { ClassifiedUpdate, Finding, Pusher } from '../policy/types.js';

export interface CommitRulesInput {
  gitDir: string;
  env: NodeJS.ProcessEnv;
  listing: Promise<NewCommitGraph>;
  updates: readonly ClassifiedUpdate[];
  pusher: Pusher;
  config: PushgateConfig;
  /** The push's one cat-file process (the content scan's); its owner closes it. */
  catFile: CatFileBatch;
}

class OutOfTime extends Error {}

/** Commit objects larger than this are not read into memory: a finding, never a pass. */
const MAX_COMMIT_BYTES = 8 * 1024 * 1024;

/**
 * The commits each update adds to its ref. The usual push (one update, new
 * commits built on its old tip alone) is answered by the hook's listing; any
 * other update asks git for `<new> ^<old>` (or, for a created ref, what no
 * existing ref reaches), so a commit already in the repository under
 * another ref that moves onto a covered ref is checked too.
 */
async function broughtCommits(input: CommitRulesInput, relevant: readonly ClassifiedUpdate[], graph: NewCommitGraph): Promise<Map<string, string[]>> {
  const brought = new Map<string, string[]>();
  const moving = input.updates.filter((u) => u.kind !== 'delete');
  if (moving.length === 1 && relevant.length === 1 && (relevant[0]!.kind === 'create' || (graph.boundary.size === 1 && graph.boundary.has(relevant[0]!.oldOid)))) {
    brought.set(relevant[0]!.ref, graph.commits);
    return brought;
  }
  await Promise.all(relevant.map(async (update) => {
    const excluded = DEFAULT_EXCLUDED_REFS.map((pattern) => `--exclude=${pattern}`);
    const args = update.kind === 'create'
      ? ['rev-list', '--topo-order', '--reverse', '--stdin', '--not', ...excluded, '--all']
      : ['rev-list', '--topo-order', '--reverse', '--stdin'];
    const input2 = update.kind === 'create' ? `${update.newOid}\n` : `${update.newOid}\n^${update.oldOid}\n`;
    const { stdout } = await runGitOrThrow(args, { gitDir: input.gitDir, env: input.env, input: input2, maxBuffer: 1024 * 1024 * 1024 });
    const commits = stdout.split('\n').filter((line) => line !== '');
    if (!commits.every(isFullOid)) throw new Error('git rev-list printed something other than commit ids');
    brought.set(update.ref, commits);
  }));
  return brought;
}

/** Paths each commit adds or changes against its first parent (every path of a root commit), from one `git diff-tree --stdin`. */
async function changedPaths(input: CommitRulesInput, commits: readonly string[]): Promise<Map<string, string[]>> {
  checkCommitIds(commits);
  const paths = new Map<string, string[]>(commits.map((c) => [c, []]));
  if (commits.length === 0) return paths;
  const args = ['diff-tree', '--stdin', '-r', '-z', '--no-renames', '--name-status', '--diff-merges=first-parent', '--root', '--always', '--diff-filter=d'];
  const { stdout, stderr } = await runGitOrThrow(args, { gitDir: input.gitDir, env: input.env, input: commits.map((c) => `${c}\n`).join(''), maxBuffer: 1024 * 1024 * 1024 });
  const tokens = stdout.split('\0');
  let current: string[] | undefined;
  const seen: string[] = [];
  // Tokens are a commit id (every commit, --always), then status/path pairs; a status is one or a few capital letters and digits.
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!.replace(/^\n/, '');
    if (token === '') continue;
    if (/^[A-Z][0-9]*$/.test(token)) {
      if (current === undefined || i + 1 >= tokens.length) throw new Error('git diff-tree printed a status outside a commit');
      current.push(tokens[++i]!);
    } else if (isFullOid(token) && paths.has(token)) {
      current = paths.get(token);
      seen.push(token);
    } else throw new Error('unexpected output from git diff-tree');
  }
  // A commit diff-tree could not read is skipped silently: it would pass the path rules with no paths.
  checkAllDiffed(args, commits, seen, String(stderr));
  return paths;
}

async function readCommits(input: CommitRulesInput, oids: readonly string[], outOfTime: () => void): Promise<Map<string, CommitObject>> {
  const commits = new Map<string, CommitObject>();
  if (oids.length === 0) return commits;
  const catFile = input.catFile;
  const infos = await Promise.all(oids.map((oid) => catFile.info(oid)));
  infos.forEach((info, i) => {
    if (info === null || info.type !== 'commit') throw new Error(`commit ${oids[i]} could not be read`);
    if (info.size > MAX_COMMIT_BYTES) throw new Error(`commit ${oids[i]} is ${info.size} bytes, more than can be checked`);
  });
  // In windows, so that a push of many commits never holds them all in flight at once.
  for (let start = 0; start < oids.length; start += 1024) {
    outOfTime();
    const slice = oids.slice(start, start + 1024);
    const objects = await Promise.all(slice.map((oid) => catFile.read(oid)));
    objects.forEach((object, i) => {
      if (object === null) throw new Error(`commit ${slice[i]} could not be read`);
      commits.set(slice[i]!, parseCommitObject(slice[i]!, object.data));
    });
  }
  return commits;
}

async function gather(input: CommitRulesInput, deadline: number): Promise<Finding[]> {
  const { config, pusher } = input;
  const policy = config.policy;
  const outOfTime = (): void => {
    if (Date.now() > deadline) throw new OutOfTime(`the time budget of ${policy.scan.timeBudget} ms ran out`);
  };
  const entries = commitRuleEntries(policy);
  const relevant = input.updates.filter((u) => u.kind !== 'delete' && (anyInScope(entries, u.ref, pusher) || pathRulesInScope(policy, u.ref, pusher)));
  if (relevant.length === 0) return [];
  const graph = await input.listing;
  const brought = await broughtCommits(input, relevant, graph);
  outOfTime();
  const all = [...new Set([...brought.values()].flat())];
  const pathCommits = [...new Set(relevant.filter((u) => pathRulesInScope(policy, u.ref, pusher)).flatMap((u) => brought.get(u.ref) ?? []))];
  const [commits, paths] = await Promise.all([readCommits(input, all, outOfTime), changedPaths(input, pathCommits)]);
  outOfTime();
  const push = { updates: input.updates, pusher, brought, commits, paths };
  const findings = [...checkCommits(push, policy), ...checkPaths(push, policy)];
  const toVerify = commitsToVerify(push, policy);
  if (toVerify.size > 0) {
    const [{ verifySignatures }, { loadTrustedCAs }] = await Promise.all([import('./signatures.js'), import('../gateway/trust.js')]);
    const verdicts = await verifySignatures([...toVerify].map((oid) => commits.get(oid)!), {
      principal: pusher.principal, trustedCAs: loadTrustedCAs(config.ca.trusted), krlFile: config.ca.krl, deadline,
    });
    findings.push(...checkSignatures(push, policy, verdicts));
  }
  return findings;
}

/** The findings of the commit, path and signature rules for one push. */
export async function checkCommitRules(input: CommitRulesInput): Promise<Finding[]> {
  const policy = input.config.policy;
  const deadline = Date.now() + policy.scan.timeBudget;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OutOfTime(`the time budget of ${policy.scan.timeBudget} ms ran out`)), policy.scan.timeBudget);
  });
  try {
    return await Promise.race([gather(input, deadline), timeout]);
  } catch (error) {
    const why = error instanceof OutOfTime ? error.message : (error as Error).message.split('\n')[0];
    return [{ ruleId: INCOMPLETE_RULE.id, title: `the commit rules could not be checked: ${why}`, action: policy.scan.onFailure, mode: 'enforce', fix: INCOMPLETE_RULE.fix }];
  } finally {
    clearTimeout(timer);
  }
}

import type { PushgateConfig } from '../config/index.js';
import { CatFileBatch } from '../git/cat-file.js';
import type { NewCommitGraph } from '../git/commits.js';
import type { PushListing } from '../git/objects.js';
import { isZeroOid } from '../git/oid.js';
import { classifyUpdates } from '../policy/classify.js';
import type { Outcome } from '../policy/decide.js';
import { appliesToPusher, appliesToRef } from '../policy/scope.js';
import type { ClassifiedUpdate, Finding, PushOptions, Pusher, RefUpdate } from '../policy/types.js';
import { checkRepository } from '../policy/repository.js';
import type { RepositoryFacts } from './repository-facts.js';

/** A push to decide on: its updates, the walk listing what it brings, and where it goes. */
export interface PushToEvaluate {
  gitDir: string;
  /** The hook's environment (git's quarantine variables included). */
  env: NodeJS.ProcessEnv;
  config: PushgateConfig;
  repository: string;
  updates: RefUpdate[];
  /** listPush over the updates' new values, started as early as possible. */
  walk: PushListing;
  /** null: the repository's own settings are not checked (a dry run in a working clone). */
  facts: Promise<RepositoryFacts> | null;
  pusher: Pusher;
  pushOptions: PushOptions;
}

export interface Evaluation {
  outcome: Outcome;
  classified: ClassifiedUpdate[];
  commits: string[];
  /** Things the pusher should know that are not findings. */
  notes: string[];
}

/**
 * Whether `ancestor` is reachable from `descendant`. A push of one tip whose
 * new commits have `ancestor` as a parent answers it from the listing of new
 * commits (the usual fast-forward); otherwise git is asked.
 */
async function isAncestorOfPush(gitDir: string, updates: readonly RefUpdate[], listing: Promise<NewCommitGraph>, ancestor: string, descendant: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const tips = new Set(updates.map((u) => u.newOid).filter((oid) => !isZeroOid(oid)));
  if (tips.size === 1 && tips.has(descendant) && (await listing).boundary.has(ancestor)) return true;
  const { isAncestor } = await import('../git/repo.js');
  return isAncestor(gitDir, ancestor, descendant, env);
}

/**
 * list → check → decide for one push: the hook's path, and `pushgate policy
 * test`'s, so that a dry run decides exactly as a push would. Checks run in
 * parallel: the content scan (secrets, paths, limits), the ref and
 * repository checks, commit metadata, path and signature rules, dependency
 * changes and the administrator's external
 * checks, which share the content scan's cat-file process. Nothing here
 * parks, records or prints.
 */
export async function evaluatePush(push: PushToEvaluate): Promise<Evaluation> {
  const { gitDir, env, config, updates, walk, pusher } = push;
  const policy = config.policy;
  const listing = walk.graph;
  const { preloadChecker, scanContent } = await import('./content-scan.js');
  const catFile = new CatFileBatch(gitDir, env);
  try {
    const scanning = scanContent(gitDir, listing, walk.objects, updates, policy, env, catFile);
    scanning.catch(() => undefined);
    // Loaded while git works; the content checker's modules first.
    preloadChecker();
    const modules = { decide: import('../policy/decide.js'), refs: import('../policy/refs.js') };
    for (const loading of Object.values(modules)) loading.catch(() => undefined);
    const classifying = classifyUpdates(updates, (a, b) => isAncestorOfPush(gitDir, updates, listing, a, b, env));
    classifying.catch(() => undefined);
    const extra = extraChecks(push, catFile, classifying);
    extra.catch(() => undefined);
    const graph = await listing;
    const classified = await classifying;
    const { checkRefUpdates } = await modules.refs;
    // Commit metadata, path and signature rules: nothing starts unless one applies to this push.
    const commitRules = import('./commit-rules.js').then(({ checkCommitRules }) => checkCommitRules({ gitDir, env, listing, updates: classified, pusher, config, catFile }));
    commitRules.catch(() => undefined);
    const repo = push.facts === null ? null : await push.facts;
    const findings: Finding[] = [...checkRefUpdates(classified, pusher, policy, repo?.existingRefs), ...(repo === null ? [] : checkRepository(repo.fsck))];
    const content = await scanning;
    findings.push(...content.findings, ...(await extra), ...(await commitRules));
    const { decide } = await modules.decide;
    const outcome = decide(findings, policy, pusher, push.pushOptions);
    return { outcome, classified, commits: graph.commits, notes: content.notes };
  } finally {
    await catFile.close();
  }
}

/**
 * Dependency changes and external checks, over what each in-scope update
 * changes tip to tip. Nothing runs (no git, no program) when neither applies.
 */
async function extraChecks(push: PushToEvaluate, catFile: CatFileBatch, classifying: Promise<ClassifiedUpdate[]>): Promise<Finding[]> {
  const { config, pusher } = push;
  const deps = config.policy.deps;
  const commands = config.policy.commands.filter((c) => appliesToPusher(c, pusher) && push.updates.some((u) => appliesToRef(c, u.ref)));
  const depsApply = deps.enabled && appliesToPusher(deps, pusher) && push.updates.some((u) => !isZeroOid(u.newOid) && appliesToRef(deps, u.ref));
  if (!depsApply && commands.length === 0) return [];
  const classified = await classifying;
  const { readUpdateChanges, readManifestComparisons } = await import('./push-changes.js');
  let defaultCommit: Promise<string | null> | undefined;
  const baseOf = async (): Promise<string | null> => {
    const graph = await push.walk.graph;
    if (graph.boundary.size === 1) return [...graph.boundary][0]!;
    defaultCommit ??= import('../git/default-branch.js').then(({ defaultBranch }) => defaultBranch(push.gitDir, () => true, push.env)).then((b) => b?.commit ?? null);
    return defaultCommit;
  };
  const wanted = classified.filter((u) => (depsApply && appliesToRef(deps, u.ref)) || commands.some((c) => appliesToRef(c, u.ref)));
  const changes = await readUpdateChanges(catFile, wanted, baseOf);
  const running: Promise<Finding[]>[] = [];
  if (commands.length > 0) {
    const [{ runCommand, commandInput }, graph] = await Promise.all([import('./commands.js'), push.walk.graph]);
    for (const command of commands) {
      const scoped = changes.filter((c) => appliesToRef(command, c.update.ref));
      const input = commandInput(push.repository, push.gitDir, push.env, pusher, classified.filter((u) => appliesToRef(command, u.ref)), graph.commits, scoped, push.pushOptions.raw);
      running.push(runCommand(command, input, push.env));
    }
  }
  if (depsApply) {
    running.push((async () => {
      const { checkDeps } = await import('../policy/deps/check.js');
      const comparisons = await readManifestComparisons(catFile, changes.filter((c) => appliesToRef(deps, c.update.ref)), deps);
      return checkDeps(comparisons, deps);
    })());
  }
  return (await Promise.all(running)).flat();
}

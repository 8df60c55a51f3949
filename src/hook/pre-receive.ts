import { isConfigError } from '../config/errors.js';
import type { PushgateConfig } from '../config/index.js';
import { listPush } from '../git/objects.js';
import { isMirror } from '../upstream/marker.js';
import { parseRefUpdates } from '../policy/classify.js';
import type { Outcome } from '../policy/decide.js';
import type { Finding, RefUpdate } from '../policy/types.js';
import { formatNotes, formatReport, type ResultReport } from './message.js';
import { readRepositoryFacts } from './repository-facts.js';
import { repositoryName } from './repository-name.js';

export interface HookRun {
  /** 0 lets git apply the push; anything else refuses it. */
  exitCode: number;
  /** Everything the pusher sees. */
  output: string;
  outcome?: Outcome;
}

export interface PreReceiveInput {
  stdin: string;
  env: NodeJS.ProcessEnv;
  configPath: string;
  /** The repository; hooks run inside it. */
  gitDir: string;
}

function refused(repository: string, error: string, ruleId: string, fix: string): HookRun {
  const finding: Finding = { ruleId, title: error, action: 'deny', mode: 'enforce', fix };
  return { exitCode: 1, output: formatReport({ decision: 'deny', repository, findings: [finding], error }) };
}

/**
 * Names what is wrong without quoting values: the pusher may not be someone
 * who should read the server's configuration.
 */
function describeConfigFailure(error: unknown): string {
  if (!isConfigError(error)) return 'it could not be read';
  const where = error.problems.slice(0, 5).map((p) => `${p.path || 'file'}${p.line === undefined ? '' : ` (line ${p.line})`}`);
  return `${error.code} at ${where.join(', ')}`;
}

/**
 * The pre-receive decision for one push. Fails closed: a config that does
 * not load, input that does not parse, or an error anywhere denies the push.
 */
export async function runPreReceive(input: PreReceiveInput): Promise<HookRun> {
  const started = Date.now();
  // The listing of new commits needs neither the configuration nor most of
  // the modules, so git starts on it first; everything else loads meanwhile.
  let updates: RefUpdate[] | undefined;
  let badInput: unknown;
  try {
    updates = parseRefUpdates(input.stdin);
  } catch (error) {
    badInput = error;
  }
  // The new commits, and every other object the push makes reachable (of any type, under any ref), from one walk.
  const walk = updates === undefined ? undefined : listPush(input.gitDir, updates.map((u) => u.newOid), input.env);
  const listing = walk?.graph;
  listing?.catch(() => undefined);
  const objects = walk?.objects;
  const facts = updates === undefined ? undefined : readRepositoryFacts(input.gitDir, updates, input.env);
  facts?.catch(() => undefined);
  const evaluating = import('./evaluate.js');
  evaluating.catch(() => undefined);
  let config: PushgateConfig;
  try {
    const { loadConfigCached } = await import('../config/cached.js');
    config = await loadConfigCached(input.configPath);
  } catch (error) {
    const problem = describeConfigFailure(error);
    return refused(repositoryName(input.gitDir), `the pushgate configuration ${input.configPath} does not load, so every push is refused: ${problem}`, 'config.invalid', 'An administrator must fix the configuration (`pushgate config check`); push again afterwards.');
  }
  const repository = repositoryName(input.gitDir, config);
  try {
    if (updates === undefined || listing === undefined || objects === undefined || facts === undefined) {
      return refused(repository, (badInput as Error).message, 'hook.bad-input', 'Push with a git client; the hook reads only git\'s own ref update lines.');
    }
    const modules = { pusher: import('./pusher.js'), audit: import('./audit-decision.js'), decide: import('../policy/decide.js') };
    for (const loading of Object.values(modules)) loading.catch(() => undefined);
    const pusher = (await modules.pusher).pusherFromEnv(input.env, config);
    const { evaluatePush } = await evaluating;
    const pushOptions = (await modules.decide).pushOptionsFromEnv(input.env);
    const { outcome, classified, commits, notes: contentNotes } = await evaluatePush({
      gitDir: input.gitDir, env: input.env, config, repository, updates, walk: { graph: listing, objects }, facts, pusher, pushOptions,
    });
    // A park keeps the push in the queue; if it cannot be kept, the push is denied.
    const parked = outcome.decision === 'park'
      ? await (await import('../queue/hook.js')).parkForReview({
        gitDir: input.gitDir, env: input.env, configPath: input.configPath, config, repository, updates: classified, pusher, findings: outcome.findings, commits,
        reviewRequested: outcome.reviewRequested, ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
      })
      : undefined;
    // Upstream mode: an allowed push is applied here only once the upstream has taken it.
    const refusedUpstream = outcome.decision === 'allow' && (config.upstreams.length > 0 || isMirror(input.gitDir))
      ? await (await import('./upstream-forward.js')).forwardFromHook({ gitDir: input.gitDir, env: input.env, config, repository, updates: classified, pusher })
      : undefined;
    const decision = refusedUpstream !== undefined ? 'deny' : parked?.decision ?? outcome.decision;
    const extra = [...(parked?.decision === 'deny' ? [parked.finding] : []), ...(refusedUpstream !== undefined ? [refusedUpstream.finding] : [])];
    const report: ResultReport = {
      decision, repository, findings: [...outcome.findings, ...extra],
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
      ...(parked?.decision === 'park' ? { queueId: parked.queueId, waitCommand: parked.waitCommand } : {}),
      ...(parked?.decision === 'deny' ? { error: parked.error } : {}),
    };
    const { recordDecision } = await modules.audit;
    if (!(await recordDecision(config, report, pusher, classified, Date.now() - started)) && decision === 'allow') {
      return refused(repository, 'the decision could not be written to the audit log, so the push is refused', 'audit.unavailable', 'An administrator must check the audit log\'s disk and permissions; push again afterwards.');
    }
    const notes = formatNotes(contentNotes) + (refusedUpstream?.said ?? []).map((line) => `pushgate: upstream says: ${line}\n`).join('');
    return { exitCode: decision === 'allow' ? 0 : 1, output: notes + formatReport(report), outcome: { ...outcome, decision } };
  } catch (error) {
    return refused(repository, `the push could not be checked (${(error as Error).message.split('\n')[0]})`, 'hook.error', 'Try again; if it persists an administrator should look at the server log.');
  }
}

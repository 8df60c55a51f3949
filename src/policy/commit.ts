import type { PolicyConfig, PusherRule, RuleScope } from '../config/index.js';
import type { CommitObject } from '../git/commit-object.js';
import { excerptOf, FindingSet, inScope, Patterns, ruleFinding, textProblem } from './scope.js';
import type { ClassifiedUpdate, Finding, Pusher } from './types.js';

export const COMMIT_RULES = {
  message: { id: 'commit.message', fix: 'Reword the commit message (git commit --amend for the last commit, git rebase -i for older ones) and push again.' },
  authorEmail: { id: 'commit.author-email', fix: 'Set user.email to an allowed address and rewrite the author of the commits (git commit --amend --no-edit --reset-author; for several: git rebase -r --exec "git commit --amend --no-edit --reset-author" <base>), then push again.' },
  committerEmail: { id: 'commit.committer-email', fix: 'Set user.email to an allowed address and recommit (git commit --amend --no-edit; for several: git rebase -r --exec "git commit --amend --no-edit" <base>), then push again.' },
  pusher: { id: 'commit.pusher', fix: 'Commit as the identity you push with: git config user.email <the expected address>, rewrite the commits (git rebase -r --exec "git commit --amend --no-edit --reset-author" <base>) and push again.' },
  linear: { id: 'commit.merge', fix: 'This ref requires linear history: rebase onto its tip instead of merging (git pull --rebase, or git rebase <upstream>) and push again.' },
} as const;

/**
 * What the commit and path rules look at, for one push. `brought` holds,
 * for every updated ref (deletions aside), the commits the update adds to
 * that ref (`git rev-list <old>..<new>`; for a created ref, the commits no
 * existing ref had): so a commit made elsewhere in the repository and then
 * moved onto a protected ref is checked too.
 */
export interface CommitPush {
  readonly updates: readonly ClassifiedUpdate[];
  readonly pusher: Pusher;
  readonly brought: ReadonlyMap<string, readonly string[]>;
  readonly commits: ReadonlyMap<string, CommitObject>;
}

/** Whether any entry of `rules` applies to `ref` for this pusher: no commit needs reading otherwise. */
export function anyInScope(rules: readonly RuleScope[], ref: string, pusher: Pusher): boolean {
  return rules.some((rule) => inScope(rule, ref, pusher));
}

/** Every rule entry that looks at commits, from `policy.commit` (signature rules included). */
export function commitRuleEntries(policy: PolicyConfig): RuleScope[] {
  const c = policy.commit;
  return [...c.message, ...c.authorEmail, ...c.committerEmail, ...c.pusher, ...c.linear, ...c.signature];
}

/** The address a pusher template names for this pusher. */
export function pusherAddress(template: string, pusher: Pusher): string {
  return template.replace(/\{\{\s*principal\s*\}\}/g, pusher.principal);
}

function pusherProblem(rule: PusherRule, commit: CommitObject, pusher: Pusher): string | undefined {
  const expected = pusherAddress(rule.email, pusher).toLowerCase();
  const author = (commit.author?.email ?? '').toLowerCase() === expected;
  const committer = (commit.committer?.email ?? '').toLowerCase() === expected;
  const ok = rule.match === 'author' ? author : rule.match === 'committer' ? committer : rule.match === 'both' ? author && committer : author || committer;
  if (ok) return undefined;
  const who = rule.match === 'either' ? 'neither the author nor the committer' : rule.match === 'both' ? 'the author and the committer are not both' : `the ${rule.match} is not`;
  return `${who} ${pusherAddress(rule.email, pusher)}, the identity pushing`;
}

/**
 * The commit metadata rules (`policy.commit`, signatures aside): message
 * patterns, author and committer addresses, authorship by the pusher,
 * linear history. Pure: every commit it needs is in `push.commits`; one
 * that is missing is a finding of its own, never a pass.
 */
export function checkCommits(push: CommitPush, policy: PolicyConfig): Finding[] {
  const c = policy.commit;
  const messages = new Patterns('mu');
  const patterns = new Patterns();
  const out = new FindingSet();
  for (const update of push.updates) {
    if (update.kind === 'delete') continue;
    const scoped = <T extends RuleScope>(rules: readonly T[]): [T, number][] => rules.map((rule, i) => [rule, i] as [T, number]).filter(([rule]) => inScope(rule, update.ref, push.pusher));
    const message = scoped(c.message);
    const author = scoped(c.authorEmail);
    const committer = scoped(c.committerEmail);
    const pusher = scoped(c.pusher);
    const linear = scoped(c.linear);
    if (message.length + author.length + committer.length + pusher.length + linear.length === 0) continue;
    for (const oid of push.brought.get(update.ref) ?? []) {
      const commit = push.commits.get(oid);
      const base = { ref: update.ref, commit: oid };
      if (commit === undefined) throw new Error(`commit ${oid} was not read`);
      for (const [rule, i] of message) {
        const problem = textProblem(rule, commit.message, messages, 'the commit message');
        if (problem !== undefined) out.add(`m${i}`, ruleFinding(rule, { ...base, ruleId: COMMIT_RULES.message.id, title: problem, excerpt: excerptOf(commit.message), fix: COMMIT_RULES.message.fix }));
      }
      for (const [rule, i] of author) {
        const problem = textProblem(rule, commit.author?.email ?? '', patterns, 'the author\'s email address');
        if (problem !== undefined) out.add(`a${i}`, ruleFinding(rule, { ...base, ruleId: COMMIT_RULES.authorEmail.id, title: problem, excerpt: excerptOf(commit.author?.email ?? '(none)'), fix: COMMIT_RULES.authorEmail.fix }));
      }
      for (const [rule, i] of committer) {
        const problem = textProblem(rule, commit.committer?.email ?? '', patterns, 'the committer\'s email address');
        if (problem !== undefined) out.add(`c${i}`, ruleFinding(rule, { ...base, ruleId: COMMIT_RULES.committerEmail.id, title: problem, excerpt: excerptOf(commit.committer?.email ?? '(none)'), fix: COMMIT_RULES.committerEmail.fix }));
      }
      for (const [rule, i] of pusher) {
        const problem = pusherProblem(rule, commit, push.pusher);
        if (problem !== undefined) out.add(`p${i}`, ruleFinding(rule, { ...base, ruleId: COMMIT_RULES.pusher.id, title: `commit not made by the pusher: ${problem}`, excerpt: `author ${commit.author?.email ?? '(none)'}, committer ${commit.committer?.email ?? '(none)'}`, fix: COMMIT_RULES.pusher.fix }));
      }
      for (const [rule, i] of linear) {
        if (commit.parents.length > 1) out.add(`l${i}`, ruleFinding(rule, { ...base, ruleId: COMMIT_RULES.linear.id, title: `a merge commit (${commit.parents.length} parents) on a ref that requires linear history`, fix: COMMIT_RULES.linear.fix }));
      }
    }
  }
  return out.findings;
}

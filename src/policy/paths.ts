import type { PolicyConfig } from '../config/index.js';
import { FindingSet, inScope, Patterns, ruleFinding, textProblem } from './scope.js';
import type { ClassifiedUpdate, Finding, Pusher } from './types.js';

export const PATH_RULES = {
  maxLength: { id: 'path.too-long', fix: 'Shorten the path (rename the file or its directories) in the commits that add it, and push again.' },
  extensions: { id: 'path.extension', fix: 'Leave files of this type out of the repository (an artifact store, a release asset, Git LFS where allowed): remove them from the commits (git rm --cached, rewrite the unpushed commits) and push again.' },
  names: { id: 'path.forbidden', fix: 'Rename or remove the file in the commits that add it (git mv / git rm --cached, rewrite the unpushed commits) and push again.' },
} as const;

/** Ids path groups may not take (`path.<name>`): the path rules' own. */
export const RESERVED_PATH_GROUP_NAMES = Object.values(PATH_RULES).map((rule) => rule.id.slice('path.'.length));

export interface PathPush {
  readonly updates: readonly ClassifiedUpdate[];
  readonly pusher: Pusher;
  readonly brought: ReadonlyMap<string, readonly string[]>;
  /** Paths each commit adds or changes (compared with its first parent; a root commit's every path). */
  readonly paths: ReadonlyMap<string, readonly string[]>;
}

/** Whether any path rule applies to this ref and pusher: the paths need listing only then. */
export function pathRulesInScope(policy: PolicyConfig, ref: string, pusher: Pusher): boolean {
  const p = policy.path;
  return [...p.maxLength, ...p.extensions, ...p.names].some((rule) => inScope(rule, ref, pusher));
}

function lastPart(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).toLowerCase();
}

/**
 * Path length, forbidden extensions and path patterns (`policy.path`) over
 * every path the commits an update brings add or change, as GitHub's
 * rulesets and GitLab's push rules check them. Lengths are in UTF-8 bytes,
 * extensions compare without letter case (`.EXE` is `.exe`) and match
 * multi-part extensions (`tar.gz`).
 */
export function checkPaths(push: PathPush, policy: PolicyConfig): Finding[] {
  const patterns = new Patterns();
  const out = new FindingSet();
  const { maxLength, extensions, names } = policy.path;
  for (const update of push.updates) {
    if (update.kind === 'delete') continue;
    const pick = <T extends { refs: string[]; roles: string[] }>(rules: readonly T[]): [T, number][] => rules.map((rule, i) => [rule, i] as [T, number]).filter(([rule]) => inScope(rule as never, update.ref, push.pusher));
    const lengths = pick(maxLength);
    const types = pick(extensions);
    const named = pick(names);
    if (lengths.length + types.length + named.length === 0) continue;
    for (const commit of push.brought.get(update.ref) ?? []) {
      const paths = push.paths.get(commit);
      if (paths === undefined) throw new Error(`the paths of commit ${commit} were not listed`);
      for (const path of paths) {
        const base = { ref: update.ref, commit, path };
        for (const [rule, i] of lengths) {
          const bytes = Buffer.byteLength(path, 'utf8');
          if (bytes > rule.max) out.add(`l${i}`, ruleFinding(rule, { ...base, ruleId: PATH_RULES.maxLength.id, title: `path longer than ${rule.max} bytes (${bytes})`, fix: PATH_RULES.maxLength.fix }));
        }
        for (const [rule, i] of types) {
          const name = lastPart(path);
          const hit = rule.forbid.find((ext) => name.endsWith(`.${ext}`));
          if (hit !== undefined) out.add(`e${i}`, ruleFinding(rule, { ...base, ruleId: PATH_RULES.extensions.id, title: `file type .${hit} is not allowed here`, fix: PATH_RULES.extensions.fix }));
        }
        for (const [rule, i] of named) {
          const problem = textProblem(rule, path, patterns, 'the path');
          if (problem !== undefined) out.add(`n${i}`, ruleFinding(rule, { ...base, ruleId: PATH_RULES.names.id, title: problem, fix: PATH_RULES.names.fix }));
        }
      }
    }
  }
  return out.findings;
}

import { minimatch } from 'minimatch';
import type { PolicyConfig, RefAction } from '../config/index.js';
import { maskText } from '../text/index.js';
import { inScope, Patterns, ruleFinding, textProblem } from './scope.js';
import type { ClassifiedUpdate, Finding, Pusher } from './types.js';

export const RESERVED_NAMESPACE = 'refs/pushgate/';

interface RefRule {
  readonly id: string;
  readonly title: string;
  readonly fix: string;
}

type NameRule = 'reserved' | 'reserved-name' | 'name' | 'case-conflict';

const RULES: Record<NameRule | RefAction | 'tag-move', RefRule> = {
  reserved: { id: 'ref.reserved-namespace', title: 'refs/pushgate/ is reserved for the review queue (in any spelling)', fix: 'Push to a branch or tag; pending pushes are created by the server only.' },
  'reserved-name': { id: 'ref.reserved-name', title: 'a ref named like HEAD or @ would shadow what git and every clone mean by that name', fix: 'Choose another name: no ref may end in HEAD (or FETCH_HEAD, ORIG_HEAD, …) or have @ as a part.' },
  name: { id: 'ref.name', title: 'a ref name that tools or readers would misread', fix: 'Choose a plain name: no part starting with "-", no 40/64-hex names, no branch or tag named refs/…, no invisible or control characters, Unicode in NFC form, no credentials.' },
  'case-conflict': { id: 'ref.case-conflict', title: 'a new ref differs only in letter case (or Unicode form) from another ref', fix: 'On case-insensitive file systems (macOS, Windows clones, mirrors) both names would be one ref: use the existing spelling or another name.' },
  delete: { id: 'ref.delete', title: 'deleting a protected ref', fix: 'Do not delete this ref; ask an administrator if it really must go.' },
  'force-push': { id: 'ref.force-push', title: 'non-fast-forward update (force push) of a protected ref', fix: 'Fetch, rebase or merge onto the current tip, and push again without --force.' },
  'tag-move': { id: 'ref.tag-move', title: 'moving an existing protected tag', fix: 'Tags are immutable here: create a new tag instead of moving this one.' },
  update: { id: 'ref.update', title: 'update of a protected ref', fix: 'Changes to this ref are reviewed: wait for a reviewer, or push to another branch and open a review.' },
  create: { id: 'ref.create', title: 'creating a protected ref', fix: 'Creating refs matching this pattern is restricted; use another name.' },
};

const CONFIGURED_NAME_FIX = 'Push under a name the repository allows (git push origin HEAD:refs/heads/<allowed name>); the allowed names are in the server\'s policy.refNames.';

export const REF_RULE_IDS = Object.values(RULES).map((r) => r.id);

// ── Names ───────────────────────────────────────────────────────────────────
//
// git's own check (check-ref-format, applied by receive-pack) already refuses
// control characters, spaces, `..`, `~^:?*[\`, `@{`, `.lock` and one-level
// names. What it lets through and what is refused here: names that alias
// another name on the file systems of clones and mirrors, names that mean
// something else to git or to a shell, and names a reader cannot see.

/**
 * Characters a reader cannot see or that file systems drop or fold: controls,
 * format characters (bidi marks, zero-width joiners, BOM), default-ignorable
 * code points (which HFS+ ignores, so `.g\u200cit` is `.git` there), all
 * separators but nothing else, private use, unassigned, and U+FFFD (what
 * bytes that are not UTF-8 became when the hook read them).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}\p{Default_Ignorable_Code_Point}\uFFFD]/u;
const IGNORABLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/**
 * The name as a case-insensitive, Unicode-normalising file system sees it:
 * compatibility forms folded (fullwidth letters, ligatures), letter case
 * folded, ignorable code points dropped.
 */
export function foldRefName(ref: string): string {
  // Most names are printable ASCII, which only case folds.
  if (PRINTABLE_ASCII.test(ref)) return ref.toLowerCase();
  // Upper then lower: also folds letters whose upper case is plain ASCII (ı, ſ), as NTFS's table does.
  return ref.normalize('NFKC').replace(IGNORABLE, '').toUpperCase().toLowerCase();
}

/** A branch, tag or remote-tracking ref's name as people type it: `refs/heads/x/y` → `x/y`. */
const SHORT_PREFIX = /^refs\/(?:heads\/|tags\/|remotes\/)?/;

function inNamespace(folded: string): boolean {
  return folded === 'refs/pushgate' || folded.startsWith(RESERVED_NAMESPACE);
}

/**
 * Whether `ref` is in the queue's namespace in any spelling a file system or
 * a mirror would treat as the same, or is a branch or tag typed as that
 * namespace (`git push origin HEAD:REFS/pushgate/x` makes
 * `refs/heads/REFS/pushgate/x`).
 */
export function isReservedRef(ref: string): boolean {
  const folded = foldRefName(ref);
  return inNamespace(folded) || inNamespace(folded.replace(SHORT_PREFIX, ''));
}

/**
 * Git's pseudo-refs: a last part named like one makes `HEAD` (or `@`)
 * ambiguous in every clone; `refs/heads/HEAD` arrives in clones as
 * `refs/remotes/origin/HEAD`, the remote's default branch.
 */
const PSEUDO_REFS = new Set(['head', 'fetch_head', 'orig_head', 'merge_head', 'cherry_pick_head', 'revert_head', 'bisect_head', 'rebase_head', 'auto_merge', 'merge_autostash']);

function reservedNameProblem(ref: string): string | undefined {
  const parts = foldRefName(ref).split('/');
  const last = parts.at(-1)!;
  if (PSEUDO_REFS.has(last)) return `"${last}" names a git pseudo-ref`;
  if (parts.includes('@')) return '"@" is git\'s shorthand for HEAD';
  return undefined;
}

const FULL_OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

function nameProblem(ref: string): string | undefined {
  if (INVISIBLE.test(ref)) return 'it holds an invisible, control or non-UTF-8 character';
  if (ref !== ref.normalize('NFC')) return 'it is not in Unicode NFC form (macOS would store another name)';
  if (ref.split('/').some((part) => part.startsWith('-'))) return 'a part starts with "-", which commands read as an option';
  const short = ref.replace(SHORT_PREFIX, '');
  if (FULL_OID.test(short)) return 'it looks like an object id, which git resolves before any ref';
  if (foldRefName(short).startsWith('refs/')) return 'the name after refs/heads/ or refs/tags/ starts with "refs/", which reads as a full ref name';
  if (maskText(ref) !== ref) return 'it holds a credential';
  return undefined;
}

// ── Case conflicts ──────────────────────────────────────────────────────────

/** Several spellings fold to the same name. */
const MIXED = Symbol('mixed');
type Spelling = string | typeof MIXED;

interface FoldIndex {
  /** Folded name → how the refs with that folded name are spelled. */
  names: Map<string, Spelling>;
  /** Folded directory (a proper prefix ending before a slash) → how that directory is spelled in the refs under it. */
  dirs: Map<string, Spelling>;
}

function note(map: Map<string, Spelling>, key: string, spelling: string): void {
  const seen = map.get(key);
  if (seen === undefined) map.set(key, spelling);
  else if (seen !== spelling) map.set(key, MIXED);
}

/** A ref's parts, as spelled and folded (part by part: a folded character never becomes a separator). */
function foldParts(ref: string): { parts: string[]; folded: string[] } {
  const parts = ref.split('/');
  return { parts, folded: PRINTABLE_ASCII.test(ref) ? ref.toLowerCase().split('/') : parts.map(foldRefName) };
}

/**
 * Indexes only what the created refs could collide with: refs whose folded
 * name is a created ref's folded name or one of its folded directories, and
 * refs under a created ref's folded name. Each ref of the repository (there
 * may be a hundred thousand) costs one fold and a few set lookups unless it
 * is one of those.
 */
function foldIndex(created: readonly string[], refs: Iterable<string>): FoldIndex {
  const names = new Set<string>();
  const dirs = new Set<string>();
  for (const ref of created) {
    const { folded } = foldParts(ref);
    for (let i = 2; i <= folded.length; i++) names.add(folded.slice(0, i).join('/'));
    dirs.add(folded.join('/'));
  }
  const index: FoldIndex = { names: new Map(), dirs: new Map() };
  for (const ref of refs) {
    const ascii = PRINTABLE_ASCII.test(ref);
    const whole = ascii ? ref.toLowerCase() : foldParts(ref).folded.join('/');
    if (names.has(whole)) note(index.names, whole, ref);
    for (let i = whole.indexOf('/'); i > 0; i = whole.indexOf('/', i + 1)) {
      const dir = whole.slice(0, i);
      if (!dirs.has(dir) || index.dirs.get(dir) === MIXED) continue;
      // ASCII folds keep lengths; otherwise count parts.
      note(index.dirs, dir, ascii ? ref.slice(0, i) : ref.split('/').slice(0, dir.split('/').length).join('/'));
    }
  }
  return index;
}

/**
 * Whether `ref` would collide with another ref on a case-insensitive or
 * normalising file system: the same folded name spelled otherwise, or a
 * folded directory of one being the other's folded name spelled otherwise
 * (a file and a directory of one name). Exact-spelling directory clashes are
 * git's own refusal and are not reported here.
 */
function caseConflict(ref: string, index: FoldIndex): boolean {
  const { parts, folded } = foldParts(ref);
  const clash = (seen: Spelling | undefined, spelling: string): boolean => seen !== undefined && seen !== spelling;
  if (clash(index.names.get(folded.join('/')), ref) || clash(index.dirs.get(folded.join('/')), ref)) return true;
  for (let i = 2; i < parts.length; i++) {
    if (clash(index.names.get(folded.slice(0, i).join('/')), parts.slice(0, i).join('/'))) return true;
  }
  return false;
}

// ── The check ───────────────────────────────────────────────────────────────

/** The protect-rule actions an update performs; a moved tag counts as a force push. */
function actionsOf(update: ClassifiedUpdate): RefAction[] {
  switch (update.kind) {
    case 'create': return ['create'];
    case 'delete': return ['delete'];
    case 'fast-forward': return update.isTag ? ['force-push', 'update'] : ['update'];
    case 'non-fast-forward': return ['force-push', 'update'];
  }
}

function ruleFor(update: ClassifiedUpdate, action: RefAction): RefRule {
  return action === 'force-push' && update.isTag ? RULES['tag-move'] : RULES[action];
}

/**
 * Ref checks over the classified updates of one push. `existingRefs` (every
 * ref the repository has, as `git for-each-ref` lists them) enables the
 * case-conflict check for created refs; without it that check is skipped.
 */
export function checkRefUpdates(updates: readonly ClassifiedUpdate[], pusher: Pusher, policy: PolicyConfig, existingRefs?: Iterable<string>): Finding[] {
  const findings: Finding[] = [];
  const namePatterns = new Patterns();
  const deleted = new Set(updates.filter((u) => u.kind === 'delete').map((u) => u.ref));
  const created = updates.filter((u) => u.kind === 'create').map((u) => u.ref);
  const index = existingRefs === undefined || created.length === 0 ? undefined : foldIndex(created, [...[...existingRefs].filter((r) => !deleted.has(r)), ...created]);
  for (const update of updates) {
    const base = { ref: update.ref, mode: 'enforce' as const, ...(update.kind !== 'delete' ? { commit: update.newOid } : {}) };
    const named = (rule: RefRule, problem?: string): Finding => ({ ...base, ruleId: rule.id, title: problem === undefined ? rule.title : `${rule.title}: ${problem}`, fix: rule.fix, action: 'deny' });
    if (isReservedRef(update.ref)) {
      findings.push(named(RULES.reserved));
      continue;
    }
    // A bad name already in the repository may be deleted; it may not be made or moved.
    if (update.kind !== 'delete') {
      const reserved = reservedNameProblem(update.ref);
      if (reserved !== undefined) findings.push(named(RULES['reserved-name'], reserved));
      const problem = nameProblem(update.ref);
      if (problem !== undefined) findings.push(named(RULES.name, problem));
    }
    // The administrator's name patterns (policy.refNames): for creation, as GitHub's and GitLab's branch name rules.
    if (update.kind === 'create') {
      for (const rule of policy.refNames) {
        if (!inScope(rule, update.ref, pusher)) continue;
        const problem = textProblem(rule, update.ref, namePatterns, 'the name');
        if (problem !== undefined) findings.push(ruleFinding(rule, { ...base, ruleId: RULES.name.id, title: `a new ref not named as this repository requires: ${problem}`, fix: CONFIGURED_NAME_FIX }));
      }
    }
    if (update.kind === 'create' && index !== undefined) {
      // The other ref is not named: it may be one the pusher cannot see (a hidden ref).
      if (caseConflict(update.ref, index)) findings.push(named(RULES['case-conflict']));
    }
    const applicable = policy.protect.filter((rule) =>
      rule.refs.some((pattern) => minimatch(update.ref, pattern, { dot: true })) &&
      (rule.roles.length === 0 || rule.roles.some((r) => pusher.roles.includes(r))));
    let strongest: Finding | undefined;
    for (const action of actionsOf(update)) {
      for (const rule of applicable) {
        const verdict = rule.deny.includes(action) ? 'deny' : rule.park.includes(action) ? 'park' : undefined;
        if (verdict === undefined || (strongest !== undefined && (strongest.action === 'deny' || verdict === 'park'))) continue;
        const r = ruleFor(update, action);
        strongest = { ...base, ruleId: r.id, title: r.title, fix: r.fix, action: verdict };
      }
    }
    if (strongest) findings.push(strongest);
  }
  return findings;
}

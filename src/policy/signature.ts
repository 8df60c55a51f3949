import type { PolicyConfig } from '../config/index.js';
import { FindingSet, inScope, ruleFinding } from './scope.js';
import type { ClassifiedUpdate, Finding, Pusher } from './types.js';

export const SIGNATURE_RULES = {
  missing: {
    id: 'commit.signature.missing', title: 'unsigned commit on a ref that requires signed commits',
    fix: 'Sign your commits with your pushgate certificate (pushgate login --configure-signing sets gpg.format=ssh, user.signingKey and commit.gpgSign in the repository), re-sign the commits (git rebase -r --exec "git commit --amend --no-edit -S" <base>) and push again.',
  },
  untrusted: {
    id: 'commit.signature.untrusted', title: 'commit signature not made with a certificate from a trusted CA',
    fix: 'Sign with the certificate pushgate login issued you (gpg.format=ssh, user.signingKey = its -cert.pub file: pushgate login --configure-signing), not with a plain key or another CA\'s certificate; re-sign the commits and push again.',
  },
  otherPrincipal: {
    id: 'commit.signature.other-principal', title: 'commit signed with a certificate of another principal than the pusher',
    fix: 'Each commit must be signed by the identity that pushes it: re-sign the commits with your own certificate (pushgate login --configure-signing) and push again, or let their signer push them.',
  },
  expired: {
    id: 'commit.signature.expired', title: 'commit signed with a certificate that was not valid at the commit\'s time',
    fix: 'Renew the certificate (pushgate login), re-sign the commits (git rebase -r --exec "git commit --amend --no-edit -S" <base>) and push again.',
  },
} as const;

/** What verifying one commit's signature found (hook/signatures.ts). */
export type SignatureVerdict =
  | { kind: 'valid' }
  | { kind: 'missing' }
  | { kind: 'untrusted' | 'other-principal' | 'expired'; detail: string };

export interface SignaturePush {
  readonly updates: readonly ClassifiedUpdate[];
  readonly pusher: Pusher;
  readonly brought: ReadonlyMap<string, readonly string[]>;
}

/** The commits whose signatures the policy asks about: those brought to a ref a signature rule covers for this pusher. */
export function commitsToVerify(push: SignaturePush, policy: PolicyConfig): Set<string> {
  const wanted = new Set<string>();
  for (const update of push.updates) {
    if (update.kind === 'delete' || !policy.commit.signature.some((rule) => inScope(rule, update.ref, push.pusher))) continue;
    for (const commit of push.brought.get(update.ref) ?? []) wanted.add(commit);
  }
  return wanted;
}

const BY_KIND = { missing: SIGNATURE_RULES.missing, untrusted: SIGNATURE_RULES.untrusted, 'other-principal': SIGNATURE_RULES.otherPrincipal, expired: SIGNATURE_RULES.expired } as const;

/**
 * `policy.commit.signature`: every commit brought to a covered ref carries
 * an SSH signature that ssh-keygen verified against the trusted CAs, for
 * the pusher's principal, at the commit's time. A commit without a verdict
 * is never passed.
 */
export function checkSignatures(push: SignaturePush, policy: PolicyConfig, verdicts: ReadonlyMap<string, SignatureVerdict>): Finding[] {
  const out = new FindingSet();
  for (const update of push.updates) {
    if (update.kind === 'delete') continue;
    const rules = policy.commit.signature.map((rule, i) => [rule, i] as const).filter(([rule]) => inScope(rule, update.ref, push.pusher));
    if (rules.length === 0) continue;
    for (const commit of push.brought.get(update.ref) ?? []) {
      const verdict = verdicts.get(commit);
      if (verdict === undefined) throw new Error(`the signature of commit ${commit} was not verified`);
      if (verdict.kind === 'valid') continue;
      const rule = BY_KIND[verdict.kind];
      for (const [entry, i] of rules) {
        out.add(`s${i}`, ruleFinding(entry, {
          ref: update.ref, commit, ruleId: rule.id, fix: rule.fix,
          title: verdict.kind === 'missing' ? rule.title : `${rule.title}: ${verdict.detail}`,
        }));
      }
    }
  }
  return out.findings;
}

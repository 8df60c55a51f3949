import { normalisePath } from './allowlist.js';
import type { Confidence } from './types.js';

/**
 * Files whose name says they hold a secret. Content is scanned separately:
 * a `.npmrc` is only a problem when it has an auth line, which the
 * `secret.npmrc-auth` content rule reports; a `prod.env` of bucket names
 * and regions is no problem at all (see `decides`).
 */
export interface FileRule {
  readonly id: string;
  readonly title: string;
  /** Tested against the lower-cased path with `/` separators. */
  readonly path: RegExp;
  /** Names that match `path` but are public or templates. */
  readonly except?: RegExp;
  readonly confidence: Confidence;
  /**
   * `always`: the name is a key format (the file is the secret: `id_rsa`,
   * `*.p12`, a password database). `unreadable`: a text format whose
   * content the content rules judge; the name alone decides only when the
   * content cannot be read (binary, too large), and is reported otherwise.
   */
  readonly decides: 'always' | 'unreadable';
  readonly fix: string;
}

const REMOVE = 'Remove the file from the commits (amend or rebase; it stays in history otherwise), add it to .gitignore, and rotate what it contains.';

/** `.env.example` and friends are templates, `.env.ts` is code. */
const ENV_TEMPLATE = /(?:^|[./_-])(?:example|examples|sample|samples|template|templates|tmpl|tpl|dist|default|defaults|schema|test|testing|spec|ci|doc|docs|keep|vault|enc|encrypted|gpg|age|sops|ts|tsx|js|jsx|mjs|cjs|py|rb|go|rs|java|kt|md|rst|html)(?:$|[./_-])/;

export const fileRules: readonly FileRule[] = [
  {
    id: 'secret.file-ssh-private-key',
    title: 'SSH private key file',
    path: /(?:^|\/)(?:id_(?:rsa|dsa|ecdsa|ed25519|ecdsa_sk|ed25519_sk)|[^/]+\.ppk)$/,
    confidence: 'high',
    decides: 'always',
    fix: `${REMOVE} Generate a new key pair and remove the old public key wherever it is authorised.`,
  },
  {
    id: 'secret.file-private-key',
    title: 'Private key file',
    path: /\.(?:pem|key|p8)$/,
    // Certificates, chains and public keys share the extension; a name with "key" in it is a key.
    except: /^(?!.*key).*(?:cert|chain|bundle|crt)|pub|^ca\.pem$/,
    confidence: 'medium',
    decides: 'always',
    fix: `${REMOVE} Issue a new key and revoke the old one (and its certificate).`,
  },
  {
    id: 'secret.file-keystore',
    title: 'Key store (PKCS#12, Java)',
    path: /\.(?:p12|pfx|jks|keystore|jceks|bks)$/,
    confidence: 'high',
    decides: 'always',
    fix: `${REMOVE} Re-issue the keys it holds.`,
  },
  {
    id: 'secret.file-password-database',
    title: 'Password manager database',
    path: /\.(?:kdbx|kdb|psafe3|opvault|agilekeychain)$/,
    confidence: 'high',
    decides: 'always',
    fix: `${REMOVE} Change the master password and the passwords it stores.`,
  },
  {
    id: 'secret.file-env',
    title: 'Environment file (.env)',
    path: /(?:^|\/)(?:\.env(?:\.[^/]+)?|[^/]+\.env)$/,
    except: ENV_TEMPLATE,
    confidence: 'medium',
    decides: 'unreadable',
    fix: `${REMOVE} Commit a \`.env.example\` with placeholders instead.`,
  },
  {
    id: 'secret.file-aws-credentials',
    title: 'AWS credentials file',
    path: /(?:^|\/)(?:\.aws\/)?credentials$/,
    confidence: 'high',
    decides: 'unreadable',
    fix: `${REMOVE} Deactivate the access keys it holds in IAM.`,
  },
  {
    id: 'secret.file-credential-store',
    title: 'Credential store (.git-credentials, .netrc, .pgpass, .s3cfg, .dockercfg, .vault-token)',
    path: /(?:^|\/)(?:\.git-credentials|[._]netrc|\.pgpass|\.s3cfg|\.dockercfg|\.vault-token)$/,
    confidence: 'high',
    decides: 'always',
    fix: `${REMOVE} Rotate every password and token it lists.`,
  },
  {
    id: 'secret.file-htpasswd',
    title: 'Apache password file (.htpasswd)',
    path: /(?:^|\/)\.htpasswd$/,
    confidence: 'high',
    decides: 'always',
    fix: `${REMOVE} Reset the passwords it lists.`,
  },
  {
    id: 'secret.file-terraform-state',
    title: 'Terraform state (holds resource secrets in clear text)',
    path: /\.tfstate(?:\.backup)?$/,
    confidence: 'high',
    decides: 'always',
    fix: `${REMOVE} Keep state in a remote backend with encryption, and rotate the secrets it recorded.`,
  },
  {
    id: 'secret.file-pgp-secret-keyring',
    title: 'PGP secret keyring',
    path: /(?:^|\/)secring\.(?:gpg|pgp|skr)$/,
    confidence: 'high',
    decides: 'always',
    fix: `${REMOVE} Revoke the keys it holds.`,
  },
  {
    id: 'secret.file-crypto-wallet',
    title: 'Cryptocurrency wallet',
    path: /(?:^|\/)wallet\.dat$/,
    confidence: 'high',
    decides: 'always',
    fix: `${REMOVE} Move the funds to a new wallet.`,
  },
];

export function matchFileRule(path: string): FileRule | null {
  const lower = normalisePath(path).toLowerCase();
  const base = lower.slice(lower.lastIndexOf('/') + 1);
  for (const rule of fileRules) {
    if (rule.path.test(lower) && !(rule.except?.test(base) ?? false)) return rule;
  }
  return null;
}

import type { SecretRule } from './types.js';
import { azureSas, basicCredentials, cliCredential, discordBotToken, twilioPair, genericAssignment, namedValue, privateKey, signedJwt, tokenChecksum, urlPassword } from './validators.js';

/*
 * The rules are data: one object per credential format. Order matters: when
 * two rules match the same characters, the earlier one wins, so specific
 * formats come first and the context-based and generic rules last.
 *
 * Patterns are written so that this file never contains a string one of them
 * would match (the private-key marker is assembled from parts), and every
 * quantifier is bounded so no pattern can backtrack catastrophically.
 */

const AFTER = String.raw`(?![A-Za-z0-9_-])`;

function revoke(where: string): string {
  return `Treat it as leaked: revoke or rotate it (${where}), remove it from the commits (amend or rebase, or it stays in history), and load it at run time from the environment or a secret store.`;
}

/** `name … = value`: a value recognised by the name it is assigned to. */
function inContext(names: string, value: string): RegExp {
  return new RegExp(String.raw`(?:${names})[\w.-]{0,30}?["']?\s{0,5}(?:=>|:=|[:=])\s{0,5}["'\x60]?(?<secret>${value})${AFTER}`, 'i');
}

const separators = ['', '_', '-', '.'];
const withSeparators = (left: string, right: string): string[] => separators.map((sep) => left + sep + right);

const KEY_QUALIFIERS = ['api', 'private', 'access', 'encryption', 'signing', 'master', 'session', 'client', 'app', 'account'];
const GENERIC_NAME = String.raw`(?:pass|pwd|secret|token|auth|credential|passwort|kennwort|senha|(?:${KEY_QUALIFIERS.join('|')})[_.-]?key)`;
const GENERIC_KEYWORDS = [
  'pass', 'pwd', 'secret', 'token', 'auth', 'credential', 'passwort', 'kennwort', 'senha',
  ...KEY_QUALIFIERS.flatMap((qualifier) => withSeparators(qualifier, 'key')),
];

/*
 * The generic model: a name that means secret, an assignment or argument
 * form, a value. The forms are written once here for every language and
 * format; the name and the value are judged by the same validators
 * (namesSecret, plausibleValue) and look-alike filters for all of them.
 *
 * Assignment operators: = == === := ::= :::= ?= += .= ||= ??= => <- : and
 * the element form `>` of `<password>…</password>`. An annotation may sit
 * between the name and `=`: `: string`, `: &str`, Go's `var pw string =`.
 */
const GENERIC_OPERATOR = String.raw`(?:={1,3}|:{1,3}=|[?+.]=|\|\|=|\?\?=|=>|<-|:|>)`;
const TYPE_ANNOTATION = String.raw`(?:\s{0,3}:\s{0,3}&?'?[A-Za-z][\w.<>\[\]?]{0,30}\s{0,3}(?==)|\s{1,3}[A-Za-z][\w.\[\]]{0,20}\s{0,3}(?==))?`;
/** A value's opening: a quote, optionally with a string prefix (`r"`, `b'`, `@"`, `$"`), or nothing. */
const VALUE_OPEN = String.raw`(?:[rRbBuUfF@$]{0,2}["'\x60])?`;
/** A bare or quoted value: no quotes, spaces, backslashes, `;` (which ends a value in connection strings) or `<` (which ends an element). */
const VALUE = String.raw`[!#-&(-:=-\[\]-_a-~]{8,200}`;

const PEM_MARK = '-'.repeat(5);
const PRIVATE_KEY_HEADER = `${PEM_MARK}BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?${PEM_MARK}`;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

export const rules: readonly SecretRule[] = [
  // Private keys
  {
    id: 'secret.private-key',
    title: 'Private key',
    regex: new RegExp(`(?<secret>${PRIVATE_KEY_HEADER}(?:\\\\{1,2}[rn]|[A-Za-z0-9+/=]){0,8000})`),
    keywords: ['private key'],
    entropy: 0,
    validate: privateKey,
    fix: 'Remove the key from the commits (amend or rebase, or it stays in history), generate a new key pair and revoke the old one wherever it is trusted. Keep keys out of the repository (deploy them from a secret store).',
  },
  {
    id: 'secret.private-key',
    title: 'Private key (unencrypted OpenSSH key body)',
    // base64 of "openssh-key-v1", NUL, cipher "none", kdf "none": the first body line of every unencrypted key.
    regex: /(?<secret>b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ[A-Za-z0-9+/]{20,400}={0,2})/,
    keywords: ['b3blbnnzac1rzxktdjeaaaaabg5vbmuaaaaebm9uzq'],
    entropy: 0,
    fix: 'Remove the key from the commits (amend or rebase, or it stays in history), generate a new key pair and revoke the old one wherever it is trusted. Keep keys out of the repository (deploy them from a secret store).',
  },
  {
    id: 'secret.putty-private-key',
    title: 'PuTTY private key file',
    regex: /(?<secret>PuTTY-User-Key-File-[23]: [a-z0-9-]{3,40})/,
    keywords: ['putty-user-key-file-'],
    entropy: 0,
    fix: 'Remove the .ppk content from the commits, generate a new key pair and revoke the old public key wherever it is authorised.',
  },
  {
    id: 'secret.age-secret-key',
    title: 'age secret key',
    regex: /(?<secret>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})/,
    keywords: ['age-secret-key-1'],
    fix: 'Remove the identity from the commits, generate a new age identity and re-encrypt what the old one protected.',
  },

  // Cloud providers
  {
    id: 'secret.aws-access-key',
    title: 'AWS access key id',
    regex: /\b(?<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b/,
    keywords: ['akia', 'asia', 'abia', 'acca', 'a3t'],
    fix: revoke('IAM console → Users → Security credentials, or `aws iam delete-access-key`'),
  },
  {
    id: 'secret.aws-secret-key',
    title: 'AWS secret access key',
    regex: inContext(String.raw`aws[\w.-]{0,20}secret|secret[_.-]?access[_.-]?key`, '[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])'),
    keywords: ['aws', ...withSeparators('secret', 'access')],
    entropy: 4,
    loose: true,
    fix: revoke('IAM console → Users → Security credentials, or `aws iam delete-access-key`'),
  },
  {
    id: 'secret.aws-session-token',
    title: 'AWS STS session token',
    // Current (IQoJb3JpZ2luX2Vj…) and older (FwoGZXIvYXdzE…, FQoGZXIvYXdzE…, FQoDYXdzE…, AQoDYXdzE…) prefixes.
    regex: /(?<![A-Za-z0-9+/])(?<secret>(?:IQoJb3JpZ2luX2Vj|AgoJb3JpZ2luX2Vj|FwoGZXIvYXdzE|FQoGZXIvYXdzE|FQoDYXdzE|AQoDYXdzE)[A-Za-z0-9+/]{80,2000}={0,2})(?![A-Za-z0-9+/=])/,
    keywords: ['iqojb3jpz2lux2vj', 'agojb3jpz2lux2vj', 'fwogzxivyxdze', 'fqogzxivyxdze', 'fqodyxdze', 'aqodyxdze'],
    fix: revoke('revoke the role session (IAM → Roles → Revoke active sessions) and rotate the credentials that issued it'),
  },
  {
    id: 'secret.gcp-service-account',
    title: 'GCP service-account key (JSON key file)',
    regex: /"private_key_id"\s{0,5}:\s{0,5}"(?<secret>[a-f0-9]{40})"/,
    keywords: ['private_key_id'],
    fix: revoke('GCP console → IAM → Service accounts → Keys; prefer workload identity over key files'),
  },
  {
    id: 'secret.gcp-api-key',
    title: 'Google API key (Google Cloud, Firebase, Google AI)',
    regex: new RegExp(String.raw`\b(?<secret>AIza[0-9A-Za-z_-]{35})${AFTER}`),
    keywords: ['aiza'],
    fix: revoke('Google Cloud console → APIs & Services → Credentials, or Google AI Studio'),
  },
  {
    id: 'secret.gcp-oauth-client-secret',
    title: 'Google OAuth client secret',
    regex: new RegExp(String.raw`\b(?<secret>GOCSPX-[A-Za-z0-9_-]{28})${AFTER}`),
    keywords: ['gocspx-'],
    fix: revoke('Google Cloud console → APIs & Services → Credentials → reset secret'),
  },
  {
    id: 'secret.google-oauth-token',
    title: 'Google OAuth access token',
    regex: new RegExp(String.raw`\b(?<secret>ya29\.[0-9A-Za-z_-]{30,300})${AFTER}`),
    keywords: ['ya29.'],
    fix: revoke('https://oauth2.googleapis.com/revoke'),
  },
  {
    id: 'secret.azure-storage-key',
    title: 'Azure storage account key',
    regex: /AccountKey=(?<secret>[A-Za-z0-9+/]{86}==)/i,
    keywords: ['accountkey='],
    fix: revoke('Azure portal → Storage account → Access keys → rotate; prefer managed identities'),
  },
  {
    id: 'secret.azure-shared-access-key',
    title: 'Azure Service Bus / Event Hubs / IoT shared access key',
    regex: /SharedAccessKey=(?<secret>[A-Za-z0-9+/]{43}=)/i,
    keywords: ['sharedaccesskey='],
    fix: revoke('Azure portal → Shared access policies → regenerate'),
  },
  {
    id: 'secret.azure-sas-token',
    title: 'Azure shared access signature',
    regex: /[?&]sig=(?<secret>[A-Za-z0-9%+/]{40,120})(?![A-Za-z0-9%+/=])/,
    keywords: ['sig='],
    entropy: 3.5,
    validate: azureSas,
    fix: revoke('rotate the account key or revoke the stored access policy that signed it'),
  },
  {
    id: 'secret.azure-ad-client-secret',
    title: 'Microsoft Entra ID (Azure AD) client secret',
    regex: /(?<![A-Za-z0-9_~.-])(?<secret>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])/,
    keywords: ['q~'],
    fix: revoke('Entra admin center → App registrations → Certificates & secrets'),
  },
  {
    id: 'secret.digitalocean-token',
    title: 'DigitalOcean token',
    regex: /\b(?<secret>do[opr]_v1_[a-f0-9]{64})\b/,
    keywords: ['dop_v1_', 'doo_v1_', 'dor_v1_'],
    fix: revoke('DigitalOcean control panel → API → Tokens'),
  },
  {
    id: 'secret.alibaba-access-key-id',
    title: 'Alibaba Cloud AccessKey id',
    regex: /\b(?<secret>LTAI[A-Za-z0-9]{12,20})\b/,
    keywords: ['ltai'],
    fix: revoke('Alibaba Cloud RAM console → AccessKey management'),
  },
  {
    id: 'secret.alibaba-secret-key',
    title: 'Alibaba Cloud AccessKey secret',
    regex: inContext(String.raw`(?:alibaba|aliyun|alicloud)[\w.-]{0,20}secret`, '[A-Za-z0-9]{30}'),
    keywords: ['alibaba', 'aliyun', 'alicloud'],
    entropy: 3.5,
    loose: true,
    fix: revoke('Alibaba Cloud RAM console → AccessKey management'),
  },
  {
    id: 'secret.tencent-secret-id',
    title: 'Tencent Cloud SecretId',
    regex: /\b(?<secret>AKID[A-Za-z0-9]{32})\b/,
    keywords: ['akid'],
    fix: revoke('Tencent Cloud CAM console → API keys'),
  },
  {
    id: 'secret.ibm-cloud-api-key',
    title: 'IBM Cloud API key',
    regex: inContext(String.raw`ibm[\w.-]{0,20}(?:api[_.-]?key|apikey|key)`, '[A-Za-z0-9_-]{44}'),
    keywords: ['ibm'],
    entropy: 3.5,
    loose: true,
    fix: revoke('IBM Cloud console → Manage → Access (IAM) → API keys'),
  },
  {
    id: 'secret.cloudflare-api-token',
    title: 'Cloudflare API token',
    regex: inContext('cloudflare|cf[_-]api|cf[_-]token', '[A-Za-z0-9_-]{40}'),
    keywords: ['cloudflare', 'cf_api', 'cf-api', 'cf_token', 'cf-token'],
    entropy: 3.5,
    loose: true,
    fix: revoke('Cloudflare dashboard → My Profile → API Tokens'),
  },
  {
    id: 'secret.cloudflare-global-api-key',
    title: 'Cloudflare global API key',
    regex: inContext('cloudflare|cf[_-]api|cf[_-]auth|cf[_-]key|x-auth-key', '[a-f0-9]{37}'),
    keywords: ['cloudflare', 'cf_api', 'cf-api', 'cf_auth', 'cf-auth', 'cf_key', 'cf-key', 'x-auth-key'],
    fix: revoke('Cloudflare dashboard → My Profile → API Tokens → Global API Key → change; prefer scoped API tokens'),
  },
  {
    id: 'secret.cloudflare-origin-ca-key',
    title: 'Cloudflare Origin CA key',
    regex: /\b(?<secret>v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b/,
    keywords: ['v1.0-'],
    fix: revoke('Cloudflare dashboard → My Profile → API Tokens → Origin CA Key'),
  },
  {
    id: 'secret.heroku-api-key',
    title: 'Heroku API key',
    regex: new RegExp(String.raw`\b(?<secret>HRKU-[A-Za-z0-9_-]{60})${AFTER}`),
    keywords: ['hrku-'],
    fix: revoke('Heroku dashboard → Account settings → API key, or `heroku authorizations:revoke`'),
  },
  {
    id: 'secret.heroku-api-key-legacy',
    title: 'Heroku API key (UUID format)',
    regex: inContext(String.raw`heroku[\w.-]{0,20}(?:key|token|secret)`, UUID),
    keywords: ['heroku'],
    fix: revoke('Heroku dashboard → Account settings → API key, or `heroku authorizations:revoke`'),
  },
  {
    id: 'secret.fly-io-token',
    title: 'Fly.io token',
    regex: new RegExp(String.raw`\b(?<secret>fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,3000}={0,3})(?![A-Za-z0-9_+/=-])`),
    keywords: ['fo1_', 'fm1_', 'fm1a_', 'fm1r_', 'fm2_', 'fm2a_', 'fm2r_'],
    fix: revoke('`fly tokens revoke`'),
  },
  {
    id: 'secret.1password-service-account-token',
    title: '1Password service-account token',
    regex: /\b(?<secret>ops_eyJ[A-Za-z0-9+/]{250,4000}={0,3})(?![A-Za-z0-9+/=])/,
    keywords: ['ops_eyj'],
    fix: revoke('1Password → Developer → Service accounts → revoke token'),
  },
  {
    id: 'secret.1password-secret-key',
    title: '1Password account secret key',
    regex: /\b(?<secret>A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b/,
    keywords: ['a3-'],
    fix: 'Regenerate the Secret Key in 1Password (Profile → Regenerate Secret Key) and change the account password.',
  },
  {
    id: 'secret.supabase-token',
    title: 'Supabase access token',
    regex: /\b(?<secret>sbp_[a-f0-9]{40})\b/,
    keywords: ['sbp_'],
    fix: revoke('Supabase dashboard → Account → Access tokens'),
  },
  {
    id: 'secret.planetscale-token',
    title: 'PlanetScale token or password',
    regex: /\b(?<secret>pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64})(?![A-Za-z0-9_.-])/,
    keywords: ['pscale_'],
    fix: revoke('PlanetScale dashboard → Settings → Service tokens / Passwords'),
  },
  {
    id: 'secret.vercel-token',
    title: 'Vercel token',
    regex: inContext('vercel', '[A-Za-z0-9]{24}'),
    keywords: ['vercel'],
    entropy: 3.5,
    loose: true,
    fix: revoke('Vercel dashboard → Account settings → Tokens'),
  },
  {
    id: 'secret.netlify-token',
    title: 'Netlify access token',
    regex: inContext('netlify', '[A-Za-z0-9_-]{40,46}'),
    keywords: ['netlify'],
    entropy: 3.5,
    loose: true,
    fix: revoke('Netlify → User settings → Applications → Personal access tokens'),
  },
  {
    id: 'secret.openshift-token',
    title: 'OpenShift user token',
    regex: new RegExp(String.raw`\b(?<secret>sha256~[A-Za-z0-9_-]{43})${AFTER}`),
    keywords: ['sha256~'],
    fix: revoke('`oc delete oauthaccesstoken`'),
  },
  {
    id: 'secret.terraform-cloud-token',
    title: 'Terraform Cloud / Enterprise API token',
    regex: /\b(?<secret>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?![A-Za-z0-9_=-])/,
    keywords: ['.atlasv1.'],
    fix: revoke('HCP Terraform → User settings → Tokens'),
  },
  {
    id: 'secret.pulumi-token',
    title: 'Pulumi access token',
    regex: /\b(?<secret>pul-[a-f0-9]{40})\b/,
    keywords: ['pul-'],
    fix: revoke('Pulumi Cloud → Personal access tokens'),
  },
  {
    id: 'secret.databricks-token',
    title: 'Databricks personal access token',
    regex: /\b(?<secret>dapi[a-f0-9]{32}(?:-\d)?)\b/,
    keywords: ['dapi'],
    fix: revoke('Databricks workspace → User settings → Access tokens'),
  },
  {
    id: 'secret.doppler-token',
    title: 'Doppler token',
    regex: /\b(?<secret>dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b/,
    keywords: ['dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.'],
    fix: revoke('Doppler dashboard → Tokens'),
  },
  {
    id: 'secret.vault-token',
    title: 'HashiCorp Vault token',
    regex: new RegExp(String.raw`\b(?<secret>hv[sbr]\.[A-Za-z0-9_-]{24,250})${AFTER}`),
    keywords: ['hvs.', 'hvb.', 'hvr.'],
    fix: revoke('`vault token revoke`'),
  },

  // Version control
  {
    id: 'secret.github-token',
    title: 'GitHub token (personal, OAuth, app user / installation, refresh)',
    regex: /\b(?<secret>gh[pousr]_[A-Za-z0-9]{36})\b/,
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    validate: tokenChecksum,
    fix: revoke('https://github.com/settings/tokens, or the app / OAuth app settings'),
  },
  {
    id: 'secret.github-fine-grained-token',
    title: 'GitHub fine-grained personal access token',
    regex: /\b(?<secret>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b/,
    keywords: ['github_pat_'],
    fix: revoke('https://github.com/settings/personal-access-tokens'),
  },
  {
    id: 'secret.sourcegraph-token',
    title: 'Sourcegraph access token',
    regex: /\b(?<secret>sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}|sgp_[a-fA-F0-9]{40})\b/,
    keywords: ['sgp_'],
    fix: revoke('Sourcegraph → Settings → Access tokens'),
  },
  {
    id: 'secret.gitlab-token',
    title: 'GitLab token',
    regex: /\b(?<secret>gl(?:pat|dt|rt|ptt|soat|oas|cbt|imt|ft|ffct|agent)-[A-Za-z0-9_.-]{20,80})(?![A-Za-z0-9_.-])/,
    keywords: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glsoat-', 'gloas-', 'glcbt-', 'glimt-', 'glft-', 'glffct-', 'glagent-'],
    fix: revoke('GitLab → Preferences → Access tokens, or the project / group token settings'),
  },
  {
    id: 'secret.gitlab-runner-registration-token',
    title: 'GitLab runner registration token',
    regex: new RegExp(String.raw`\b(?<secret>GR1348941[A-Za-z0-9_-]{20})${AFTER}`),
    keywords: ['gr1348941'],
    fix: revoke('GitLab → CI/CD settings → Runners → reset registration token'),
  },
  {
    id: 'secret.bitbucket-app-password',
    title: 'Bitbucket app password',
    regex: /\b(?<secret>ATBB[A-Za-z0-9_=.-]{32})(?![A-Za-z0-9_=.-])/,
    keywords: ['atbb'],
    fix: revoke('Bitbucket → Personal settings → App passwords'),
  },
  {
    id: 'secret.atlassian-api-token',
    title: 'Atlassian API token',
    regex: /\b(?<secret>ATATT3[A-Za-z0-9_=-]{180,200})(?![A-Za-z0-9_=-])/,
    keywords: ['atatt3'],
    fix: revoke('https://id.atlassian.com/manage-profile/security/api-tokens'),
  },

  // Chat
  {
    id: 'secret.slack-bot-token',
    title: 'Slack bot token',
    // Current (xoxb-<team>-<bot>-<24+>) and legacy (xoxb-<id>-<18..26>) forms.
    regex: /\b(?<secret>xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,34}|xoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26})\b/,
    keywords: ['xoxb-'],
    fix: revoke('Slack app settings → OAuth & Permissions → revoke / reinstall'),
  },
  {
    id: 'secret.slack-user-token',
    title: 'Slack user token',
    regex: /\b(?<secret>xox[pe]-(?:[0-9]{10,13}-){3}[A-Za-z0-9]{28,34})\b/,
    keywords: ['xoxp-', 'xoxe-'],
    fix: revoke('Slack app settings → OAuth & Permissions, or `auth.revoke`'),
  },
  {
    id: 'secret.slack-legacy-token',
    title: 'Slack legacy workspace, user or bot token',
    regex: /\b(?<secret>xox[os]-[0-9]{1,20}-[0-9]{1,20}-[0-9]{1,20}-[a-fA-F0-9]{8,64}|xox[ar]-(?:[0-9]-)?[0-9A-Za-z]{8,48})\b/,
    keywords: ['xoxo-', 'xoxs-', 'xoxa-', 'xoxr-'],
    fix: revoke('Slack → revoke the legacy token (api.slack.com/legacy) or `auth.revoke`'),
  },
  {
    id: 'secret.slack-config-token',
    title: 'Slack configuration access or refresh token',
    regex: /\b(?<secret>xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{163,166}|xoxe-[0-9]-[A-Za-z0-9]{146})\b/,
    keywords: ['xoxe.xoxb-', 'xoxe.xoxp-', 'xoxe-'],
    fix: revoke('Slack → `tooling.tokens.rotate`, or regenerate the app configuration token'),
  },
  {
    id: 'secret.slack-app-token',
    title: 'Slack app-level token',
    regex: /\b(?<secret>xapp-\d-[A-Z0-9]{9,12}-\d{10,13}-[a-f0-9]{64})\b/,
    keywords: ['xapp-'],
    fix: revoke('Slack app settings → Basic information → App-level tokens'),
  },
  {
    id: 'secret.slack-webhook',
    title: 'Slack incoming webhook URL',
    regex: /(?<secret>(?:https?:\/\/)?hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/_-]{30,160})/,
    keywords: ['hooks.slack.com'],
    entropy: 3.5,
    fix: revoke('Slack app settings → Incoming Webhooks → remove and recreate'),
  },
  {
    id: 'secret.discord-bot-token',
    title: 'Discord bot token',
    regex: inContext('discord', String.raw`[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}`),
    keywords: ['discord'],
    fix: revoke('Discord developer portal → Bot → Reset token'),
  },
  {
    id: 'secret.discord-bot-token',
    title: 'Discord bot token',
    // No keyword needed: the first part must decode to a user id (see discordBotToken).
    regex: /(?<![A-Za-z0-9_.-])(?<secret>[MNO][A-Za-z0-9_-]{22,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})(?![A-Za-z0-9_.-])/,
    keywords: [],
    onEncodedRun: true,
    requires: ['.'],
    validate: discordBotToken,
    fix: revoke('Discord developer portal → Bot → Reset token'),
  },
  {
    id: 'secret.discord-webhook',
    title: 'Discord webhook URL',
    regex: new RegExp(String.raw`(?<secret>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_-]{60,68})${AFTER}`),
    keywords: ['discord.com/api/webhooks', 'discordapp.com/api/webhooks'],
    fix: revoke('Discord channel settings → Integrations → Webhooks → delete'),
  },
  {
    id: 'secret.telegram-bot-token',
    title: 'Telegram bot token',
    regex: new RegExp(String.raw`(?<![0-9])(?<secret>[0-9]{8,10}:AA[A-Za-z0-9_-]{33})${AFTER}`),
    keywords: [':aa'],
    fix: revoke('@BotFather → /revoke'),
  },
  {
    id: 'secret.teams-webhook',
    title: 'Microsoft Teams incoming webhook URL',
    regex: new RegExp(String.raw`(?<secret>https://[a-z0-9-]{1,60}\.webhook\.office\.com/webhookb2/[a-f0-9-]{36}@[a-f0-9-]{36}/IncomingWebhook/[a-f0-9]{32}/[a-f0-9-]{36}(?:/[A-Za-z0-9_-]{20,80})?)${AFTER}`),
    keywords: ['webhook.office.com'],
    fix: revoke('Teams channel → Connectors → Incoming Webhook → remove'),
  },
  {
    id: 'secret.twitter-bearer-token',
    title: 'X (Twitter) bearer token',
    regex: /\b(?<secret>A{22}[A-Za-z0-9%]{80,120})(?![A-Za-z0-9%])/,
    keywords: ['a'.repeat(22)],
    fix: revoke('X developer portal → Keys and tokens → regenerate'),
  },
  {
    id: 'secret.facebook-app-secret',
    title: 'Facebook / Meta app secret',
    regex: inContext(String.raw`(?:facebook|fb[_.-]?app|fb)[\w.-]{0,20}(?:secret|token)`, '[a-f0-9]{32}'),
    keywords: ['facebook', 'fb_', 'fb-', 'fb.', 'fbapp', 'fbsecret'],
    loose: true,
    fix: revoke('Meta for Developers → App settings → Basic → reset app secret'),
  },

  {
    id: 'secret.facebook-access-token',
    title: 'Facebook / Meta app, user or page access token',
    regex: /\b(?<secret>EAA[MCGI][A-Za-z0-9]{90,400})(?![A-Za-z0-9_-])/,
    keywords: ['eaam', 'eaac', 'eaag', 'eaai'],
    fix: revoke('Meta for Developers → App settings, or the Graph API token debugger → invalidate'),
  },
  {
    id: 'secret.facebook-access-token',
    title: 'Facebook / Meta app access token (app id|app secret)',
    regex: /(?<![0-9])(?<secret>[0-9]{15,16}(?:\||%7C)[A-Za-z0-9_-]{27,40})(?![A-Za-z0-9_-])/,
    keywords: [],
    onEncodedRun: true,
    requires: ['|', '%7C', '%7c'],
    fix: revoke('Meta for Developers → App settings → Basic → reset app secret'),
  },

  // Payment
  {
    id: 'secret.stripe-secret-key',
    title: 'Stripe live secret key',
    regex: /\b(?<secret>sk_(?:live|prod)_[A-Za-z0-9]{24,99})\b/,
    keywords: ['sk_live_', 'sk_prod_'],
    fix: revoke('Stripe dashboard → Developers → API keys → roll key'),
  },
  {
    id: 'secret.stripe-restricted-key',
    title: 'Stripe live restricted key',
    regex: /\b(?<secret>rk_(?:live|prod)_[A-Za-z0-9]{24,99})\b/,
    keywords: ['rk_live_', 'rk_prod_'],
    fix: revoke('Stripe dashboard → Developers → API keys → roll key'),
  },
  {
    id: 'secret.stripe-webhook-secret',
    title: 'Stripe webhook signing secret',
    regex: /\b(?<secret>whsec_[A-Za-z0-9+/]{32,64}={0,2})(?![A-Za-z0-9+/=])/,
    keywords: ['whsec_'],
    fix: revoke('Stripe dashboard → Developers → Webhooks → roll secret'),
  },
  {
    id: 'secret.square-access-token',
    title: 'Square access token',
    regex: new RegExp(String.raw`\b(?<secret>(?:EAAA|sq0atp-)[A-Za-z0-9_-]{22,60})${AFTER}`),
    keywords: ['eaaa', 'sq0atp-'],
    fix: revoke('Square developer dashboard → Credentials → replace'),
  },
  {
    id: 'secret.square-oauth-secret',
    title: 'Square OAuth application secret',
    regex: new RegExp(String.raw`\b(?<secret>sq0csp-[A-Za-z0-9_-]{43})${AFTER}`),
    keywords: ['sq0csp-'],
    fix: revoke('Square developer dashboard → OAuth → replace secret'),
  },
  {
    id: 'secret.braintree-access-token',
    title: 'PayPal Braintree access token',
    regex: /(?<secret>access_token\$production\$[a-z0-9]{16}\$[a-f0-9]{32})/,
    keywords: ['access_token$production$'],
    fix: revoke('Braintree control panel → API → revoke'),
  },
  {
    id: 'secret.paypal-client-secret',
    title: 'PayPal REST client secret',
    regex: inContext(String.raw`paypal[\w.-]{0,20}secret`, '[A-Za-z0-9_-]{60,90}'),
    keywords: ['paypal'],
    entropy: 3.5,
    loose: true,
    fix: revoke('PayPal developer dashboard → Apps & Credentials'),
  },
  {
    id: 'secret.adyen-api-key',
    title: 'Adyen API key',
    regex: /\b(?<secret>AQE[A-Za-z0-9+/]{40,200}={0,2}-[A-Za-z0-9+/]{40,60}={0,2}-[^\s"'`]{8,20})/,
    keywords: ['aqe'],
    fix: revoke('Adyen Customer Area → Developers → API credentials → generate new key'),
  },
  {
    id: 'secret.shopify-token',
    title: 'Shopify access token or shared secret',
    regex: /\b(?<secret>shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b/,
    keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
    fix: revoke('Shopify admin → Apps → Develop apps → API credentials'),
  },
  {
    id: 'secret.flutterwave-secret-key',
    title: 'Flutterwave secret key',
    regex: /\b(?<secret>FLWSECK-[a-f0-9]{32}-X)/,
    keywords: ['flwseck-'],
    fix: revoke('Flutterwave dashboard → Settings → API keys'),
  },
  {
    id: 'secret.razorpay-key',
    title: 'Razorpay live key id',
    regex: /\b(?<secret>rzp_live_[A-Za-z0-9]{14})\b/,
    keywords: ['rzp_live_'],
    fix: revoke('Razorpay dashboard → Settings → API keys → regenerate'),
  },
  {
    id: 'secret.shippo-token',
    title: 'Shippo live API token',
    regex: /\b(?<secret>shippo_live_[a-f0-9]{40})\b/,
    keywords: ['shippo_live_'],
    fix: revoke('Shippo → Settings → API'),
  },
  {
    id: 'secret.easypost-api-key',
    title: 'EasyPost API key',
    regex: /\b(?<secret>EZAK[A-Za-z0-9]{54})\b/,
    keywords: ['ezak'],
    fix: revoke('EasyPost dashboard → API keys'),
  },

  // Package registries and build tools
  {
    id: 'secret.npm-token',
    title: 'npm access token',
    regex: /\b(?<secret>npm_[A-Za-z0-9]{36})\b/,
    keywords: ['npm_'],
    validate: tokenChecksum,
    fix: revoke('npmjs.com → Access Tokens, or `npm token revoke`'),
  },
  {
    id: 'secret.npmrc-auth',
    title: 'Registry credential in .npmrc / .yarnrc',
    regex: /(?<![A-Za-z0-9])(?:_authToken|_auth|_password|npmAuthToken)\s{0,5}[=:]\s{0,5}["']?(?<secret>[^\s"']{16,400})/i,
    keywords: ['_authtoken', '_auth', '_password', 'npmauthtoken'],
    entropy: 3.5,
    loose: true,
    fix: revoke("the registry's token settings; reference it as ${NPM_TOKEN} in .npmrc instead"),
  },
  {
    id: 'secret.pypi-token',
    title: 'PyPI upload token',
    regex: new RegExp(String.raw`\b(?<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,300})${AFTER}`),
    keywords: ['pypi-ageichlwas5vcmc'],
    fix: revoke('pypi.org → Account settings → API tokens; prefer trusted publishing'),
  },
  {
    id: 'secret.rubygems-api-key',
    title: 'RubyGems API key',
    regex: /\b(?<secret>rubygems_[a-f0-9]{48})\b/,
    keywords: ['rubygems_'],
    fix: revoke('rubygems.org → Settings → API keys'),
  },
  {
    id: 'secret.nuget-api-key',
    title: 'NuGet API key',
    regex: /\b(?<secret>oy2[a-z0-9]{43})\b/,
    keywords: ['oy2'],
    fix: revoke('nuget.org → API keys'),
  },
  {
    id: 'secret.dockerhub-token',
    title: 'Docker Hub access token',
    regex: new RegExp(String.raw`\b(?<secret>dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,32})${AFTER}`),
    keywords: ['dckr_pat_', 'dckr_oat_'],
    fix: revoke('Docker Hub → Account settings → Personal access tokens'),
  },
  {
    id: 'secret.docker-config-auth',
    title: 'Registry credential in a docker config.json',
    regex: /"auth"\s{0,5}:\s{0,5}"(?<secret>[A-Za-z0-9+/]{12,400}={0,2})"/,
    keywords: ['"auth"'],
    validate: basicCredentials,
    fix: revoke("the registry's token settings; use a credential helper instead of a stored `auth` value"),
  },
  {
    id: 'secret.crates-io-token',
    title: 'crates.io API token',
    regex: /\b(?<secret>cio[A-Za-z0-9]{32})\b/,
    keywords: ['cio'],
    entropy: 3.5,
    fix: revoke('crates.io → Account settings → API tokens'),
  },
  {
    id: 'secret.artifactory-token',
    title: 'JFrog Artifactory API key',
    regex: /\b(?<secret>AKCp[A-Za-z0-9]{69})\b/,
    keywords: ['akcp'],
    fix: revoke('JFrog platform → Edit profile → API key / access tokens'),
  },

  // AI providers
  {
    id: 'secret.openai-api-key',
    title: 'OpenAI API key',
    regex: new RegExp(String.raw`\b(?<secret>sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,200}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))${AFTER}`),
    keywords: ['t3blbkfj', 'sk-proj-', 'sk-svcacct-', 'sk-admin-'],
    fix: revoke('platform.openai.com → API keys'),
  },
  {
    id: 'secret.anthropic-api-key',
    title: 'Anthropic API key',
    regex: new RegExp(String.raw`\b(?<secret>sk-ant-[a-z]{3,8}\d{2}-[A-Za-z0-9_-]{80,110})${AFTER}`),
    keywords: ['sk-ant-'],
    fix: revoke('console.anthropic.com → API keys'),
  },
  {
    id: 'secret.huggingface-token',
    title: 'Hugging Face access token',
    regex: /\b(?<secret>(?:hf_|api_org_)[A-Za-z0-9]{34})\b/,
    keywords: ['hf_', 'api_org_'],
    entropy: 3.5,
    fix: revoke('huggingface.co → Settings → Access tokens'),
  },
  {
    id: 'secret.cohere-api-key',
    title: 'Cohere API key',
    regex: inContext('cohere|co_api', '[A-Za-z0-9]{40}'),
    keywords: ['cohere', 'co_api'],
    entropy: 3.5,
    loose: true,
    fix: revoke('dashboard.cohere.com → API keys'),
  },
  {
    id: 'secret.replicate-token',
    title: 'Replicate API token',
    regex: /\b(?<secret>r8_[A-Za-z0-9]{37})\b/,
    keywords: ['r8_'],
    entropy: 3.5,
    fix: revoke('replicate.com → Account → API tokens'),
  },
  {
    id: 'secret.groq-api-key',
    title: 'Groq API key',
    regex: /\b(?<secret>gsk_[A-Za-z0-9]{52})\b/,
    keywords: ['gsk_'],
    fix: revoke('console.groq.com → API keys'),
  },
  {
    id: 'secret.perplexity-api-key',
    title: 'Perplexity API key',
    regex: /\b(?<secret>pplx-[A-Za-z0-9]{48})\b/,
    keywords: ['pplx-'],
    fix: revoke('perplexity.ai → Settings → API'),
  },
  {
    id: 'secret.xai-api-key',
    title: 'xAI API key',
    regex: /\b(?<secret>xai-[A-Za-z0-9]{80})\b/,
    keywords: ['xai-'],
    fix: revoke('console.x.ai → API keys'),
  },
  {
    id: 'secret.mistral-api-key',
    title: 'Mistral AI API key',
    regex: inContext('mistral', '[A-Za-z0-9]{32}'),
    keywords: ['mistral'],
    entropy: 3.5,
    loose: true,
    fix: revoke('console.mistral.ai → API keys'),
  },
  {
    id: 'secret.deepseek-api-key',
    title: 'DeepSeek API key',
    regex: inContext('deepseek', 'sk-[a-f0-9]{32}'),
    keywords: ['deepseek'],
    fix: revoke('platform.deepseek.com → API keys'),
  },
  {
    id: 'secret.langsmith-api-key',
    title: 'LangSmith API key',
    regex: /\b(?<secret>lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})\b/,
    keywords: ['lsv2_'],
    fix: revoke('smith.langchain.com → Settings → API keys'),
  },

  // Messaging and e-mail
  {
    id: 'secret.sendgrid-api-key',
    title: 'SendGrid API key',
    regex: new RegExp(String.raw`\b(?<secret>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})${AFTER}`),
    keywords: ['sg.'],
    fix: revoke('SendGrid → Settings → API keys'),
  },
  {
    id: 'secret.mailgun-api-key',
    title: 'Mailgun API key',
    regex: /\b(?<secret>key-[0-9a-f]{32})\b/,
    keywords: ['key-'],
    fix: revoke('Mailgun → Account → API security'),
  },
  {
    id: 'secret.mailchimp-api-key',
    title: 'Mailchimp API key',
    regex: /\b(?<secret>[0-9a-f]{32}-us[0-9]{1,2})\b/,
    keywords: ['-us'],
    fix: revoke('Mailchimp → Account → Extras → API keys'),
  },
  {
    id: 'secret.brevo-api-key',
    title: 'Brevo (Sendinblue) API key',
    regex: /\b(?<secret>xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})\b/,
    keywords: ['xkeysib-'],
    fix: revoke('Brevo → SMTP & API → API keys'),
  },
  {
    id: 'secret.twilio-credential',
    title: 'Twilio auth token or API key',
    regex: inContext(String.raw`twilio[\w.-]{0,20}(?:token|secret|key)`, '(?:SK)?[0-9a-f]{32}'),
    keywords: ['twilio'],
    loose: true,
    fix: revoke('Twilio console → Account → API keys & tokens'),
  },
  {
    id: 'secret.twilio-credential',
    title: 'Twilio auth token or API key secret (next to its SID)',
    regex: /\b(?:AC|SK)[a-f0-9]{32}\b["'\x60]?[^A-Za-z0-9\n]{1,12}(?:[\w.-]{1,40}[^A-Za-z0-9\n]{1,8})?["'\x60]?(?<secret>[a-f0-9]{32})\b/,
    keywords: [],
    onEncodedRun: true,
    requires: ['AC', 'SK'],
    validate: twilioPair,
    fix: revoke('Twilio console → Account → API keys & tokens'),
  },
  {
    id: 'secret.postmark-token',
    title: 'Postmark server token',
    regex: inContext('postmark', UUID),
    keywords: ['postmark'],
    fix: revoke('Postmark → Server → API tokens'),
  },

  // Identity, operations, productivity
  {
    id: 'secret.okta-api-token',
    title: 'Okta API token',
    regex: inContext('okta', '00[A-Za-z0-9_-]{40}'),
    keywords: ['okta'],
    entropy: 3.5,
    fix: revoke('Okta admin console → Security → API → Tokens'),
  },
  {
    id: 'secret.sentry-token',
    title: 'Sentry auth token',
    regex: /\b(?<secret>sntry[su]_[A-Za-z0-9+/=_-]{64,400})(?![A-Za-z0-9+/=_-])/,
    keywords: ['sntrys_', 'sntryu_'],
    fix: revoke('Sentry → Settings → Auth tokens'),
  },
  {
    id: 'secret.datadog-api-key',
    title: 'Datadog API or application key',
    regex: inContext(String.raw`datadog[\w.-]{0,20}(?:key|token)|dd[_-]?(?:api|app|application)[_-]?key`, '[a-f0-9]{32}(?:[a-f0-9]{8})?'),
    keywords: ['datadog', ...withSeparators('dd', 'api'), ...withSeparators('dd', 'app')],
    fix: revoke('Datadog → Organization settings → API / Application keys'),
  },
  {
    id: 'secret.newrelic-key',
    title: 'New Relic API or license key',
    regex: /\b(?<secret>NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9_-]{32}|[a-f0-9]{36}NRAL|NRJS-[a-f0-9]{19})(?![A-Za-z0-9_-])/,
    keywords: ['nrak-', 'nrii-', 'nral', 'nrjs-'],
    fix: revoke('New Relic → API keys'),
  },
  {
    id: 'secret.dynatrace-token',
    title: 'Dynatrace API token',
    regex: /\b(?<secret>dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b/,
    keywords: ['dt0c01.'],
    fix: revoke('Dynatrace → Access tokens'),
  },
  {
    id: 'secret.grafana-token',
    title: 'Grafana Cloud or service-account token',
    regex: /\b(?<secret>glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[a-f0-9]{8})(?![A-Za-z0-9+/=_])/,
    keywords: ['glc_', 'glsa_'],
    fix: revoke('Grafana → Administration → Service accounts, or Grafana Cloud → Access policies'),
  },
  {
    id: 'secret.linear-api-key',
    title: 'Linear API key',
    regex: /\b(?<secret>lin_(?:api|oauth)_[A-Za-z0-9]{40})\b/,
    keywords: ['lin_api_', 'lin_oauth_'],
    fix: revoke('Linear → Settings → Security & access → API keys'),
  },
  {
    id: 'secret.notion-token',
    title: 'Notion integration token',
    regex: /\b(?<secret>secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35})\b/,
    keywords: ['secret_', 'ntn_'],
    entropy: 3.5,
    fix: revoke('notion.so/my-integrations → Secrets → refresh'),
  },
  {
    id: 'secret.postman-api-key',
    title: 'Postman API key',
    regex: /\b(?<secret>PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b/,
    keywords: ['pmak-'],
    fix: revoke('Postman → Settings → API keys'),
  },
  {
    id: 'secret.figma-token',
    title: 'Figma personal access token',
    regex: new RegExp(String.raw`\b(?<secret>figd_[A-Za-z0-9_-]{40})${AFTER}`),
    keywords: ['figd_'],
    fix: revoke('Figma → Settings → Security → Personal access tokens'),
  },
  {
    id: 'secret.mapbox-secret-token',
    title: 'Mapbox secret token',
    regex: new RegExp(String.raw`\b(?<secret>sk\.eyJ[A-Za-z0-9_-]{50,300}\.[A-Za-z0-9_-]{20,100})${AFTER}`),
    keywords: ['sk.eyj'],
    fix: revoke('Mapbox account → Tokens'),
  },
  {
    id: 'secret.prefect-api-key',
    title: 'Prefect API key',
    regex: /\b(?<secret>pnu_[A-Za-z0-9]{36})\b/,
    keywords: ['pnu_'],
    fix: revoke('Prefect Cloud → Profile → API keys'),
  },
  {
    id: 'secret.readme-api-key',
    title: 'ReadMe API key',
    regex: /\b(?<secret>rdme_[a-z0-9]{70})\b/,
    keywords: ['rdme_'],
    fix: revoke('ReadMe dashboard → API keys'),
  },
  {
    id: 'secret.infracost-api-key',
    title: 'Infracost API key',
    regex: /\b(?<secret>ico-[A-Za-z0-9]{32})\b/,
    keywords: ['ico-'],
    fix: revoke('Infracost Cloud → Org settings → API key'),
  },
  {
    id: 'secret.snyk-token',
    title: 'Snyk API token',
    regex: inContext(String.raw`snyk[\w.-]{0,20}(?:token|key)`, UUID),
    keywords: ['snyk'],
    fix: revoke('Snyk → Account settings → API token → revoke & regenerate'),
  },

  // Credentials in URLs, headers and tokens
  {
    id: 'secret.database-url',
    title: 'Database or broker URL with a password',
    regex: /\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse|cockroachdb|couchdb|neo4j(?:\+s)?|jdbc:[a-z]{2,12}):\/\/(?<user>[^\s:/@'"`]{0,100}):(?<secret>[^\s:/@'"`]{3,200})@/i,
    keywords: ['postgres', 'mysql', 'mariadb', 'mongodb', 'redis', 'amqp', 'mssql', 'sqlserver', 'clickhouse', 'cockroachdb', 'couchdb', 'neo4j', 'jdbc:'],
    entropy: 0,
    validate: urlPassword,
    fix: 'Rotate the database password, remove the URL from the commits, and build the URL at run time from an environment variable or secret store.',
  },
  {
    id: 'secret.url-credentials',
    title: 'URL with embedded credentials',
    regex: /\b[a-z][a-z0-9+.-]{1,20}:\/\/(?<user>[^\s:/@'"`]{1,100}):(?<secret>[^\s:/@'"`]{3,200})@/i,
    keywords: ['://'],
    entropy: 0,
    validate: urlPassword,
    fix: 'Rotate the password or token, remove the URL from the commits, and pass credentials through a credential helper or environment variable instead of the URL.',
  },
  {
    id: 'secret.jwt',
    title: 'Signed JSON Web Token',
    regex: new RegExp(String.raw`\b(?<secret>eyJ[A-Za-z0-9_-]{10,2000}\.eyJ[A-Za-z0-9_-]{10,8000}\.[A-Za-z0-9_-]{16,1000})${AFTER}`),
    keywords: ['eyj'],
    validate: signedJwt,
    fix: 'Treat the token as leaked: revoke the session or rotate the signing key if it is long-lived, remove it from the commits, and generate test tokens at run time.',
  },
  {
    id: 'secret.http-basic-auth',
    title: 'HTTP Basic credentials',
    regex: /\bbasic\s{1,5}(?<secret>[A-Za-z0-9+/]{12,400}={0,2})(?![A-Za-z0-9+/=])/i,
    keywords: ['basic'],
    validate: basicCredentials,
    fix: 'Rotate the password, remove the header from the commits, and build it at run time from an environment variable or secret store.',
  },
  {
    id: 'secret.bearer-token',
    title: 'Bearer token',
    regex: /\bbearer\s{1,5}(?<secret>[A-Za-z0-9_.~+/-]{20,2000}={0,2})(?![A-Za-z0-9_.~+/=-])/i,
    keywords: ['bearer'],
    entropy: 3.5,
    loose: true,
    confidence: 'medium',
    fix: revoke("the service that issued it"),
  },

  // Anything else named like a secret: the generic model (see GENERIC_OPERATOR)
  {
    id: 'secret.authorization-header',
    title: 'Credential in an Authorization or API-key header',
    regex: /\b(?:authorization|proxy-authorization)["']?\s{0,3}[:=,]\s{0,3}["']?(?:(?:token|bot|apikey|api-key|key|ssws|oauth|jwt|genie-?key|sso-key|sharedkey|digest)\s{1,3})?(?<secret>[A-Za-z0-9_.~+/:=-]{16,2000})(?![A-Za-z0-9_.~+/:=-])/i,
    keywords: ['authorization'],
    entropy: 3.3,
    loose: true,
    confidence: 'medium',
    fix: revoke('the service that issued it'),
  },
  {
    id: 'secret.cli-credential',
    title: 'Credential passed on a command line',
    regex: new RegExp(String.raw`(?:^|[\s"'(\[,])(?:--?(?<flag>[A-Za-z][\w-]{0,40}${GENERIC_NAME}[\w-]{0,20}|${GENERIC_NAME}[\w-]{0,30})(?:=|\s{1,3})|(?:-u|--user|--proxy-user|-U)\s{1,3}["']?(?<user>[^\s:"'@]{1,64}):|\bsshpass\s{1,3}-p\s{0,3}|\b(?:mysql(?:dump|admin|import|check|sh|slap)?|mariadb(?:-dump|-admin)?)\b[^|;&\n]{0,120}?\s-p(?=[^\s-])|\bredis-cli\b[^|;&\n]{0,120}?\s-a\s{1,3}|\b(?:docker|podman|buildah|nerdctl|skopeo)\s{1,3}login\b[^|;&\n]{0,160}?\s-p\s{1,3})${VALUE_OPEN}(?<secret>${VALUE})`, 'i'),
    keywords: [...GENERIC_KEYWORDS, '-u ', '--user', '--proxy-user', 'sshpass', 'mysql', 'mariadb', 'redis-cli', ' login '],
    validate: cliCredential,
    loose: true,
    confidence: 'medium',
    fix: 'Do not put credentials on command lines (they land in shell history, process lists and logs): read them from the environment, a file or a prompt, and rotate this one since it was committed.',
  },
  {
    id: 'secret.generic-call',
    title: 'Hard-coded secret passed with its name (define, setProperty, env default, key/value pair, `${VAR:-default}`)',
    regex: new RegExp(String.raw`(?:["'\x60](?<key>[\w.-]{0,40}${GENERIC_NAME}[\w.-]{0,40})["'\x60]\s{0,5}[,=]\s{0,5}|(?:\benv|\bENV|environ|getenv)[.\[]?["']?(?<key3>[\w.-]{0,40}${GENERIC_NAME}[\w.-]{0,40})["'\]]?\s{0,3}(?:\|\||\?\?|\bor\b|:?-|\?:)\s{0,3}|\b(?:key|name)\s{0,2}=\s{0,2}["'](?<key2>[\w.:-]{0,40}${GENERIC_NAME}[\w.:-]{0,40})["']\s{1,5}value\s{0,2}=\s{0,2})${VALUE_OPEN}(?<secret>${VALUE})`, 'i'),
    keywords: GENERIC_KEYWORDS,
    validate: namedValue,
    loose: true,
    confidence: 'medium',
    fix: 'Move the value out of the code: read it from the environment or a secret store (without a hard-coded default), rotate it since it was committed, and remove it from the commits.',
  },
  {
    id: 'secret.generic-call',
    title: 'Hard-coded secret as the default of a secret-named variable (`${VAR:-default}`)',
    regex: new RegExp(String.raw`\$\{(?<key>[\w.-]{0,40}${GENERIC_NAME}[\w.-]{0,40}):?[-=](?<secret>[^\s"'\x60{}$]{8,200})\}`, 'i'),
    keywords: GENERIC_KEYWORDS,
    validate: namedValue,
    loose: true,
    confidence: 'medium',
    fix: 'Drop the hard-coded default: require the variable to be set from a secret store, rotate the value since it was committed, and remove it from the commits.',
  },
  {
    id: 'secret.generic-assignment',
    title: 'Hard-coded secret assigned to a secret-named variable',
    regex: new RegExp(
      String.raw`(?<key>${GENERIC_NAME}[\w.-]{0,30})(?<lead>["'\]]?${TYPE_ANNOTATION}\s{0,5}${GENERIC_OPERATOR}\s{0,5}${VALUE_OPEN})(?<secret>${VALUE})`,
      'i',
    ),
    keywords: GENERIC_KEYWORDS,
    validate: genericAssignment,
    loose: true,
    confidence: 'medium',
    fix: 'Move the value out of the code: read it from the environment or a secret store, rotate it since it was committed, and remove it from the commits.',
  },
  {
    id: 'secret.generic-assignment',
    title: 'Hard-coded secret assigned to a secret-named variable',
    // Directives whose operator is white space: Dockerfile ENV/ARG, C #define, csh setenv, Apache SetEnv, .netrc.
    regex: new RegExp(String.raw`(?:^\s{0,20}(?:ENV|ARG|#\s{0,3}define|setenv|SetEnv|set)\s{1,5}|\b(?:login|user)\s{1,3}[^\s]{1,64}\s{1,3})(?<key>[\w.-]{0,30}${GENERIC_NAME}[\w.-]{0,30})(?<lead>\s{1,5}${VALUE_OPEN})(?<secret>${VALUE})`, 'i'),
    keywords: GENERIC_KEYWORDS,
    validate: genericAssignment,
    loose: true,
    confidence: 'medium',
    fix: 'Move the value out of the code: read it from the environment or a secret store, rotate it since it was committed, and remove it from the commits.',
  },
];

/**
 * Rules whose values are found by the lines around them (see multiline.ts),
 * not by their own pattern: their keywords only make sure the lines that
 * open them reach the scanner.
 */
export const contextRules: readonly SecretRule[] = [
  {
    id: 'secret.kubernetes-secret',
    title: 'Value in a Kubernetes Secret (data / stringData)',
    regex: /^(\s*)(?:data|stringData)\s*:\s*$/,
    keywords: ['data:', 'stringdata:'],
    loose: true,
    confidence: 'medium',
    fix: 'Keep Secret manifests out of the repository (base64 is no encryption): create them from a secret store at deploy time, or commit them encrypted (Sealed Secrets, SOPS); rotate the values.',
  },
];

import t from 'tap';
import { fileRules, SecretScanner } from '../../src/scan/index.js';

const scanner = new SecretScanner();
const rule = (path: string): string | null => scanner.scanPath(path)?.ruleId ?? null;

t.test('secret file names are findings', async (t) => {
  const flagged: [string, string][] = [
    ['id_rsa', 'secret.file-ssh-private-key'],
    ['home/.ssh/id_ed25519', 'secret.file-ssh-private-key'],
    ['keys/server.ppk', 'secret.file-ssh-private-key'],
    ['certs/server.key', 'secret.file-private-key'],
    ['certs/privkey.pem', 'secret.file-private-key'],
    ['pki/ca-key.pem', 'secret.file-private-key'],
    ['AuthKey_ABC123.p8', 'secret.file-private-key'],
    ['release/app.p12', 'secret.file-keystore'],
    ['cert.PFX', 'secret.file-keystore'],
    ['android/release.jks', 'secret.file-keystore'],
    ['android/app.keystore', 'secret.file-keystore'],
    ['vault.kdbx', 'secret.file-password-database'],
    ['.env', 'secret.file-env'],
    ['app/.env.local', 'secret.file-env'],
    ['.env.production', 'secret.file-env'],
    ['deploy/prod.env', 'secret.file-env'],
    ['.aws/credentials', 'secret.file-aws-credentials'],
    ['credentials', 'secret.file-aws-credentials'],
    ['.git-credentials', 'secret.file-credential-store'],
    ['home/.netrc', 'secret.file-credential-store'],
    ['.pgpass', 'secret.file-credential-store'],
    ['web/.htpasswd', 'secret.file-htpasswd'],
    ['infra/terraform.tfstate', 'secret.file-terraform-state'],
    ['infra/terraform.tfstate.backup', 'secret.file-terraform-state'],
    ['secring.gpg', 'secret.file-pgp-secret-keyring'],
    ['wallet.dat', 'secret.file-crypto-wallet'],
    ['.\\config\\.env', 'secret.file-env'],
  ];
  for (const [path, id] of flagged) t.equal(rule(path), id, path);
});

t.test('public, template and ordinary files are not', async (t) => {
  const quiet = [
    'id_rsa.pub', 'home/.ssh/id_ed25519.pub', 'certs/cert.pem', 'certs/fullchain.pem', 'certs/chain.pem', 'ca.pem', 'keys/public.pem',
    'keys/pubkey.pem', 'server.crt', '.env.example', '.env.sample', '.env.template', 'config/.env.dist', '.env.test', 'src/env.ts', 'src/.env.d.ts',
    'src/credentials/index.ts', 'docs/credentials.md', '.npmrc', 'README.md', 'src/keys.ts', 'package-lock.json', 'infra/main.tf', 'environment.yml',
    'sample.env', 'keyboard.js', 'src/.envrc.ts',
  ];
  for (const path of quiet) t.equal(rule(path), null, path);
});

t.test('file findings have the common shape and honour allowlists', async (t) => {
  const finding = scanner.scanPath('deploy/id_rsa');
  t.match(finding, { ruleId: 'secret.file-ssh-private-key', path: 'deploy/id_rsa', line: 0, column: 0, masked: '', inlineAllow: false, confidence: 'high' });
  t.match(finding!.fingerprint, /^[0-9a-f]{16}$/);
  t.equal(new SecretScanner({ allowlist: { paths: ['deploy/**'] } }).scanPath('deploy/id_rsa'), null);
  t.equal(new SecretScanner({ allowlist: { fingerprints: [finding!.fingerprint] } }).scanPath('deploy/id_rsa'), null);
  t.ok(new SecretScanner({ allowlist: { fingerprints: [finding!.fingerprint] } }).scanPath('other/id_rsa'));
  t.ok(fileRules.length >= 10);
});

t.test('a name decides alone only when it is a key format; text formats are reported for the content to decide', async (t) => {
  const decides = (path: string): string | undefined => scanner.scanPath(path)?.decides;
  for (const path of ['id_rsa', 'keys/server.ppk', 'certs/server.key', 'release/app.p12', 'cert.pfx', 'android/app.keystore', 'vault.kdbx', '.git-credentials', '.pgpass', 'wallet.dat']) {
    t.equal(decides(path), 'always', path);
  }
  for (const path of ['.env', 'config/prod.env', '.env.production', '.aws/credentials']) t.equal(decides(path), 'unreadable', path);
  t.ok(fileRules.every((rule) => rule.decides === 'always' || rule.decides === 'unreadable'));
});

import { ALNUM, B64, B64URL, checksummedToken, DIGITS, pemBegin, pemLine, Rng, UPPER } from './fixtures.js';

/**
 * A generalisation grid, written from the credential formats as their
 * issuers document them and from how the common languages and formats
 * assign values — not from the scanner's rules: nothing here reads
 * src/scan. Credentials of every kind and look-alikes are placed into
 * the same contexts; a context is a file type and a form of assignment.
 */

export interface Credential {
  kind: string;
  /** A name a developer would give it, in words (`db password`), cased per context. */
  words: string[];
  value: string;
  /** A look-alike only because of the name it has: meaningless where a context puts every value in a credential's place. */
  byName?: boolean;
}

export interface Context {
  name: string;
  path: string;
  /** The form itself says the value is a credential (`Password=`, `curl -u`, `Authorization:`), whatever the name. */
  fixedName?: boolean;
  /** The lines of a file that hold `value` under `name` (words, to be cased by the context). */
  render(words: string[], value: string, rng: Rng): string[] | null;
}

const SYMBOLS = '!#%&*+-.:=?@^_~';

const snake = (w: string[]): string => w.join('_');
const upper = (w: string[]): string => w.join('_').toUpperCase();
const camel = (w: string[]): string => w.map((x, i) => (i === 0 ? x : x[0]!.toUpperCase() + x.slice(1))).join('');
const pascal = (w: string[]): string => w.map((x) => x[0]!.toUpperCase() + x.slice(1)).join('');
const kebab = (w: string[]): string => w.join('-');
const dotted = (w: string[]): string => w.join('.');

/** Values that need no quoting in shell, YAML, INI and the like. */
const plain = (value: string): boolean => /^[A-Za-z0-9+/=_.:-]+$/.test(value) && !/^[-:]/.test(value);

const sq = (value: string): string | null => (value.includes("'") ? null : `'${value}'`);
const dq = (value: string): string | null => (/["\\$`]/.test(value) ? null : `"${value}"`);

function ctx(name: string, path: string, render: (w: string[], v: string, rng: Rng) => string | string[] | null, fixedName = false): Context {
  return {
    name,
    path,
    fixedName,
    render: (w, v, rng) => {
      const out = render(w, v, rng);
      return out === null ? null : Array.isArray(out) ? out : [out];
    },
  };
}

const q = (f: (v: string) => string | null, tpl: (quoted: string) => string) => (v: string): string | null => {
  const quoted = f(v);
  return quoted === null ? null : tpl(quoted);
};

export const contexts: Context[] = [
  ctx('shell export', 'deploy/run.sh', (w, v) => q(sq, (x) => `export ${upper(w)}=${x}`)(v)),
  ctx('dotenv', 'config/app.env', (w, v) => (plain(v) ? `${upper(w)}=${v}` : q(dq, (x) => `${upper(w)}=${x}`)(v))),
  ctx('python assignment', 'app/settings.py', (w, v) => q(dq, (x) => `${upper(w)} = ${x}`)(v)),
  ctx('python getenv default', 'app/config.py', (w, v) => q(sq, (x) => `${snake(w)} = os.getenv("${upper(w)}", ${x})`)(v)),
  ctx('python environ.get default', 'app/db.py', (w, v) => q(dq, (x) => `    ${snake(w)} = os.environ.get("${upper(w)}", ${x})`)(v)),
  ctx('python dict', 'app/clients.py', (w, v) => q(dq, (x) => `    "${snake(w)}": ${x},`)(v)),
  ctx('javascript const', 'src/config.js', (w, v) => q(sq, (x) => `const ${camel(w)} = ${x};`)(v)),
  ctx('typescript annotated', 'src/env.ts', (w, v) => q(dq, (x) => `export const ${camel(w)}: string = ${x};`)(v)),
  ctx('javascript object', 'src/client.js', (w, v) => q(sq, (x) => `  ${camel(w)}: ${x},`)(v)),
  ctx('javascript env fallback', 'src/server.js', (w, v) => q(sq, (x) => `const ${camel(w)} = process.env.${upper(w)} || ${x};`)(v)),
  ctx('go var typed', 'internal/db.go', (w, v) => q(dq, (x) => `var ${camel(w)} string = ${x}`)(v)),
  ctx('go const', 'internal/keys.go', (w, v) => q(dq, (x) => `const ${pascal(w)} = ${x}`)(v)),
  ctx('go short assignment', 'cmd/main.go', (w, v) => q(dq, (x) => `\t${camel(w)} := ${x}`)(v)),
  ctx('java field', 'src/main/java/App.java', (w, v) => q(dq, (x) => `    private static final String ${upper(w)} = ${x};`)(v)),
  ctx('java setProperty', 'src/main/java/Boot.java', (w, v) => q(dq, (x) => `        System.setProperty("${dotted(w)}", ${x});`)(v)),
  ctx('java getOrDefault', 'src/main/java/Cfg.java', (w, v) => q(dq, (x) => `        String ${camel(w)} = env.getOrDefault("${upper(w)}", ${x});`)(v)),
  ctx('csharp var', 'src/Program.cs', (w, v) => q(dq, (x) => `        var ${camel(w)} = ${x};`)(v)),
  ctx('dotnet appSettings', 'Web.config', (w, v) => q(dq, (x) => `    <add key="${pascal(w)}" value=${x} />`)(v)),
  ctx('connection string', 'appsettings.json', (w, v) => (/[;"'\s\\]/.test(v) || !w.includes('password') ? null : `    "Default": "Server=db.corp.internal;Database=app;User Id=svc_app;Password=${v};"`), true),
  ctx('php define', 'wp-config.php', (w, v) => q(sq, (x) => `define('${upper(w)}', ${x});`)(v)),
  ctx('php variable', 'lib/db.php', (w, v) => q(sq, (x) => `$${camel(w)} = ${x};`)(v)),
  ctx('php append', 'lib/conn.php', (w, v) => q(sq, (x) => `$${camel(w)} .= ${x};`)(v)),
  ctx('php array', 'config/services.php', (w, v) => q(sq, (x) => `        '${snake(w)}' => ${x},`)(v)),
  ctx('laravel env default', 'config/app.php', (w, v) => q(sq, (x) => `    '${snake(w)}' => env('${upper(w)}', ${x}),`)(v)),
  ctx('ruby constant', 'config/initializers/keys.rb', (w, v) => q(dq, (x) => `${upper(w)} = ${x}`)(v)),
  ctx('ruby hash', 'config/secrets.rb', (w, v) => q(dq, (x) => `  ${snake(w)}: ${x},`)(v)),
  ctx('ruby ENV.fetch default', 'config/boot.rb', (w, v) => q(sq, (x) => `${snake(w)} = ENV.fetch("${upper(w)}", ${x})`)(v)),
  ctx('rust const', 'src/main.rs', (w, v) => q(dq, (x) => `const ${upper(w)}: &str = ${x};`)(v)),
  ctx('kotlin val', 'app/src/Api.kt', (w, v) => q(dq, (x) => `    val ${camel(w)}: String = ${x}`)(v)),
  ctx('yaml plain', 'config/app.yaml', (w, v) => (plain(v) ? `  ${snake(w)}: ${v}` : null)),
  ctx('yaml quoted', 'deploy/values.yaml', (w, v) => q(dq, (x) => `    ${camel(w)}: ${x}`)(v)),
  ctx('yaml block scalar', 'deploy/chart.yaml', (w, v) => [`  ${snake(w)}: |`, `    ${v}`]),
  ctx('json', 'config/settings.json', (w, v) => q(dq, (x) => `  "${camel(w)}": ${x},`)(v)),
  ctx('toml', 'config.toml', (w, v) => q(dq, (x) => `${snake(w)} = ${x}`)(v)),
  ctx('ini', 'settings.ini', (w, v) => (plain(v) ? `${snake(w)} = ${v}` : null)),
  ctx('java properties', 'src/main/resources/application.properties', (w, v) => (plain(v) ? `spring.datasource.${dotted(w)}=${v}` : null)),
  ctx('xml element', 'pom-settings.xml', (w, v) => (/[<&]/.test(v) ? null : `      <${camel(w)}>${v}</${camel(w)}>`)),
  ctx('xml element, value on next line', 'conf/server.xml', (w, v) => (/[<&]/.test(v) ? null : [`  <${camel(w)}>`, `    ${v}`, `  </${camel(w)}>`])),
  ctx('xml property', 'spring/beans.xml', (w, v) => q(dq, (x) => `    <property name="${camel(w)}" value=${x}/>`)(v)),
  ctx('makefile ?=', 'Makefile', (w, v) => (plain(v) ? `${upper(w)} ?= ${v}` : null)),
  ctx('makefile ::=', 'build.mk', (w, v) => (plain(v) ? `${upper(w)} ::= ${v}` : null)),
  ctx('makefile :::=', 'rules.mk', (w, v) => (plain(v) ? `${upper(w)} :::= ${v}` : null)),
  ctx('makefile +=', 'flags.mk', (w, v) => (plain(v) ? `${upper(w)} += ${v}` : null)),
  ctx('dockerfile ENV', 'Dockerfile', (w, v) => (plain(v) ? `ENV ${upper(w)}=${v}` : null)),
  ctx('dockerfile ENV with space', 'docker/Dockerfile', (w, v) => (plain(v) ? `ENV ${upper(w)} ${v}` : null)),
  ctx('cli long flag', 'scripts/deploy.sh', (w, v) => q(sq, (x) => `./bin/tool deploy --${kebab(w)} ${x} --region eu-west-1`)(v)),
  ctx('cli long flag with =', 'scripts/ci.sh', (w, v) => (plain(v) ? `tool sync --${kebab(w)}=${v}` : null)),
  ctx('curl -u', 'scripts/api.sh', (w, v) => (/[:'\s]/.test(v) || !w.some((x) => /pass|pwd/.test(x)) ? null : `curl -fsS -u deploy:${v} https://ci.corp.internal/api/json`), true),
  ctx('sshpass -p', 'scripts/remote.sh', (w, v) => (/['\s]/.test(v) || !w.some((x) => /pass|pwd/.test(x)) ? null : `sshpass -p '${v}' ssh deploy@10.20.0.5 uptime`), true),
  ctx('mysql -p', 'scripts/backup.sh', (w, v) => (/['\s;&|]/.test(v) || !w.some((x) => /pass|pwd/.test(x)) ? null : `mysqldump -h db.corp.internal -u backup -p${v} app > app.sql`), true),
  ctx('curl Authorization header', 'scripts/call.sh', (w, v, rng) => (/['\s]/.test(v) || !w.some((x) => /token|key|secret/.test(x)) ? null : `curl -H 'Authorization: ${rng.pick(['Bearer', 'Token', 'token'])} ${v}' https://api.corp.internal/v1/me`), true),
  ctx('curl api-key header', 'scripts/search.sh', (w, v) => (/['\s]/.test(v) || !w.some((x) => /key|token/.test(x)) ? null : `curl -H 'X-Api-Key: ${v}' https://search.corp.internal/q`), true),
  ctx('url userinfo', 'config/remote.txt', (w, v) => (/[@:/\s'"#?]/.test(v) || !w.some((x) => /pass|pwd|token/.test(x)) ? null : `upstream = https://svc-sync:${v}@git.corp.internal/team/app.git`), true),
  ctx('kubernetes stringData', 'k8s/secret.yaml', (w, v) => (plain(v) ? ['apiVersion: v1', 'kind: Secret', 'stringData:', `  ${kebab(w)}: ${v}`] : null)),
  ctx('kubernetes data', 'k8s/secret-data.yaml', (w, v) => ['apiVersion: v1', 'data:', `  ${kebab(w)}: ${Buffer.from(v).toString('base64')}`, 'kind: Secret']),
  ctx('powershell', 'scripts/setup.ps1', (w, v) => q(sq, (x) => `$${pascal(w)} = ${x}`)(v)),
  ctx('powershell env', 'scripts/env.ps1', (w, v) => q(dq, (x) => `$env:${upper(w)} = ${x}`)(v)),
  ctx('windows set', 'scripts/run.cmd', (w, v) => (plain(v) ? `set ${upper(w)}=${v}` : null)),
  ctx('perl', 'lib/Config.pm', (w, v) => q(sq, (x) => `my $${snake(w)} = ${x};`)(v)),
  ctx('perl hash', 'lib/Db.pm', (w, v) => q(sq, (x) => `    ${snake(w)} => ${x},`)(v)),
  ctx('lua', 'conf/init.lua', (w, v) => q(dq, (x) => `local ${snake(w)} = ${x}`)(v)),
  ctx('swift', 'App/Keys.swift', (w, v) => q(dq, (x) => `let ${camel(w)} = ${x}`)(v)),
  ctx('c define', 'src/config.h', (w, v) => q(dq, (x) => `#define ${upper(w)} ${x}`)(v)),
  ctx('r assignment', 'analysis/load.R', (w, v) => q(dq, (x) => `${snake(w)} <- ${x}`)(v)),
  ctx('elixir keyword', 'config/prod.exs', (w, v) => q(dq, (x) => `  ${snake(w)}: ${x},`)(v)),
  ctx('groovy', 'Jenkinsfile', (w, v) => q(sq, (x) => `def ${camel(w)} = ${x}`)(v)),
  ctx('terraform', 'infra/main.tf', (w, v) => q(dq, (x) => `  ${snake(w)} = ${x}`)(v)),
  ctx('docker run -e', 'scripts/start.sh', (w, v) => (plain(v) ? `docker run -d -e ${upper(w)}=${v} registry.corp.internal/app:1.4` : null)),
  ctx('compose list', 'docker-compose.yml', (w, v) => (plain(v) ? `      - ${upper(w)}=${v}` : null)),
  ctx('github actions env', '.github/workflows/ci.yml', (w, v) => (plain(v) ? `      ${upper(w)}: ${v}` : null)),
  ctx('shell default expansion', 'bin/entry.sh', (w, v) => (plain(v) ? `: "\${${upper(w)}:=${v}}"` : null)),
  ctx('shell :- default', 'bin/start.sh', (w, v) => (plain(v) ? `PW="\${${upper(w)}:-${v}}"` : null)),
  ctx('python keyword argument', 'app/mail.py', (w, v) => q(sq, (x) => `client = Client(host="smtp.corp.internal", ${snake(w)}=${x})`)(v)),
  ctx('javascript call option', 'src/mail.js', (w, v) => q(sq, (x) => `const client = createClient({ host: 'smtp.corp.internal', ${camel(w)}: ${x} });`)(v)),
  ctx('netrc', '.netrc-ci', (w, v) => (plain(v) && w.some((x) => /pass/.test(x)) ? `machine git.corp.internal login deploy password ${v}` : null), true),
  ctx('markdown example command', 'docs/setup.md', (w, v) => (plain(v) ? `    ${upper(w)}=${v} npm start` : null)),
];

/** A random password: letters of both cases, digits and a few symbols, as a password manager makes them. */
function password(rng: Rng, length: number): string {
  for (;;) {
    const value = rng.str(length, ALNUM + ALNUM + SYMBOLS);
    if (/[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value)) return value;
  }
}

const b64 = (value: string): string => Buffer.from(value).toString('base64url');

/** Credentials of every kind the scanner supports, from their documented formats. */
export function credentials(rng: Rng): Credential[] {
  const names = {
    password: [['db', 'password'], ['admin', 'password'], ['smtp', 'pass'], ['mysql', 'pwd'], ['redis', 'password'], ['ldap', 'bind', 'password']],
    secret: [['client', 'secret'], ['api', 'secret'], ['app', 'secret'], ['jwt', 'secret'], ['session', 'secret'], ['webhook', 'secret']],
    key: [['api', 'key'], ['access', 'key'], ['signing', 'key'], ['encryption', 'key'], ['private', 'key'], ['master', 'key']],
    token: [['auth', 'token'], ['access', 'token'], ['api', 'token'], ['bot', 'token'], ['deploy', 'token'], ['refresh', 'token']],
  };
  const pick = (group: keyof typeof names): string[] => rng.pick(names[group]);
  const out: Credential[] = [
    { kind: 'password 12', words: pick('password'), value: password(rng, 12) },
    { kind: 'password 20', words: pick('password'), value: password(rng, 20) },
    { kind: 'alnum secret 32', words: pick('secret'), value: rng.str(32) },
    { kind: 'hex key 32', words: pick('key'), value: rng.hex(32) },
    { kind: 'hex secret 64', words: pick('secret'), value: rng.hex(64) },
    { kind: 'base64 key 44', words: pick('key'), value: Buffer.from(rng.bytes(32)).toString('base64') },
    { kind: 'url-safe token 43', words: pick('token'), value: rng.str(43, B64URL) },
    { kind: 'github token', words: ['github', 'token'], value: checksummedToken(rng, 'gh' + 'p_') },
    { kind: 'github fine-grained token', words: ['gh', 'token'], value: `github_${'pat'}_${rng.str(22)}_${rng.str(59)}` },
    { kind: 'gitlab token', words: ['gitlab', 'token'], value: `gl${'pat'}-${rng.str(20, ALNUM + '_-')}` },
    { kind: 'aws access key id', words: ['aws', 'access', 'key', 'id'], value: 'AK' + 'IA' + rng.str(16, UPPER + '234567') },
    { kind: 'aws secret key', words: ['aws', 'secret', 'access', 'key'], value: rng.str(40, B64) },
    { kind: 'aws session token', words: ['aws', 'session', 'token'], value: 'IQoJb3JpZ2lu' + 'X2Vj' + rng.str(300, B64) },
    { kind: 'aws session token (older)', words: ['aws', 'session', 'token'], value: 'FwoGZXIvYXdz' + 'E' + rng.str(250, B64) },
    { kind: 'google api key', words: ['google', 'api', 'key'], value: 'AI' + 'za' + rng.str(35, B64URL) },
    { kind: 'slack bot token', words: ['slack', 'bot', 'token'], value: `xo${'xb'}-${rng.digits(12)}-${rng.digits(13)}-${rng.str(24)}` },
    { kind: 'slack legacy bot token', words: ['slack', 'token'], value: `xo${'xb'}-${rng.digits(11)}-${rng.str(24)}` },
    { kind: 'slack webhook', words: ['slack', 'webhook', 'secret'], value: `https://hooks.${'slack'}.com/services/T${rng.str(8, UPPER + DIGITS)}/B${rng.str(10, UPPER + DIGITS)}/${rng.str(24)}` },
    { kind: 'slack workflow webhook', words: ['slack', 'webhook', 'secret'], value: `https://hooks.${'slack'}.com/workflows/T${rng.str(10, UPPER + DIGITS)}/A${rng.str(10, UPPER + DIGITS)}/${rng.digits(18)}/${rng.str(24)}` },
    { kind: 'stripe secret key', words: ['stripe', 'secret', 'key'], value: `sk_${'live'}_${rng.str(99)}` },
    { kind: 'stripe restricted key (prod)', words: ['stripe', 'key'], value: `rk_${'prod'}_${rng.str(40)}` },
    { kind: 'openai key', words: ['openai', 'api', 'key'], value: `sk-${'proj'}-${rng.str(120, ALNUM + '_-')}` },
    { kind: 'anthropic key', words: ['anthropic', 'api', 'key'], value: `sk-${'ant'}-api03-${rng.str(93, ALNUM + '_-')}AA` },
    { kind: 'npm token', words: ['npm', 'token'], value: checksummedToken(rng, 'np' + 'm_') },
    { kind: 'sendgrid key', words: ['sendgrid', 'api', 'key'], value: `SG.${rng.str(22, B64URL)}.${rng.str(43, B64URL)}` },
    { kind: 'discord bot token', words: ['bot', 'token'], value: `${b64(rng.digits(18)).replace(/=+$/, '')}.${rng.str(6, B64URL)}.${rng.str(38, B64URL)}` },
    { kind: 'sourcegraph token', words: ['src', 'access', 'token'], value: `sg${'p_'}${rng.hex(16)}_${rng.hex(40)}` },
    { kind: 'fly.io token', words: ['fly', 'api', 'token'], value: `FlyV1 fm${'2_'}${rng.str(200, B64)}` },
    { kind: '1password service account', words: ['op', 'service', 'account', 'token'], value: `op${'s_'}eyJ${rng.str(400, B64)}` },
    { kind: 'cloudflare global key', words: ['cloudflare', 'api', 'key'], value: rng.hex(37) },
    { kind: 'facebook page token', words: ['facebook', 'page', 'token'], value: `EA${'AC'}${rng.str(160)}` },
    { kind: 'twilio auth token', words: ['twilio', 'auth', 'token'], value: rng.hex(32) },
    { kind: 'signed jwt', words: ['id', 'token'], value: `${b64('{"alg":"RS256","typ":"JWT"}')}.${b64(`{"sub":"svc-${rng.hex(6)}","iss":"https://id.corp.internal","exp":${1900000000 + rng.int(1e8)}}`)}.${rng.str(86, B64URL)}` },
    { kind: 'huggingface token', words: ['hf', 'token'], value: `hf_${rng.str(34)}` },
    { kind: 'digitalocean token', words: ['do', 'token'], value: `do${'p'}_v1_${rng.hex(64)}` },
    { kind: 'vault token', words: ['vault', 'token'], value: `hv${'s'}.${rng.str(90, B64URL)}` },
  ];
  return out;
}

/** Values that look like credentials and are not, under the same names. */
export function lookalikes(rng: Rng): Credential[] {
  const words = [['db', 'password'], ['api', 'key'], ['client', 'secret'], ['auth', 'token'], ['access', 'token'], ['smtp', 'pass']];
  const w = (): string[] => rng.pick(words);
  const seq = (): string => rng.pick(['abc123xyz789', 'AbC123dEf456GhI789', 'abcdef123456', 'qwerty123456', '123456abcdef', 'Abcd1234Efgh5678', 'asdfgh12345']);
  return [
    { kind: 'changeme', words: w(), value: 'changeme' },
    { kind: 'placeholder angle', words: w(), value: `<your-${rng.pick(['token', 'api-key', 'password', 'secret'])}>` },
    { kind: 'placeholder your_..._here', words: w(), value: `your_${rng.pick(['api_key', 'token', 'secret'])}_here` },
    { kind: 'env reference ${VAR}', words: w(), value: `\${${rng.pick(['DB_PASSWORD', 'API_KEY', 'TOKEN'])}}` },
    { kind: 'template {{ }}', words: w(), value: `{{.Values.${rng.pick(['password', 'apiKey'])}}}` },
    { kind: 'sequential', words: w(), value: seq() },
    { kind: 'sequential prefixed', words: w(), value: `sk_live_${'abc123xyz'}${'456def789'}` },
    { kind: 'sdk example key', words: ['api', 'key'], value: `AI${'za'}SyD${'OCAbC123dEf456GhI789jKl012'}-MnO` },
    { kind: 'aws documentation key', words: ['aws', 'access', 'key', 'id'], value: `AK${'IA'}IOSFODNN7${'EXAMPLE'}` },
    { kind: 'masked', words: w(), value: '********' },
    { kind: 'xxx', words: w(), value: 'x'.repeat(24) },
    { kind: 'redacted', words: w(), value: 'REDACTED' },
    { kind: 'word', words: ['token'], value: rng.pick(['identifier', 'keyword', 'punctuation', 'whitespace', 'operator']) },
    { kind: 'hyphenated words', words: ['token'], value: rng.pick(['keyword-operator', 'variable-2', 'string-quoted-double', 'comment-block', 'entity-name-tag']) },
    { kind: 'dotted scope', words: ['token'], value: rng.pick(['keyword.operator.assignment', 'string.quoted.double', 'meta.tag.sgml']) },
    { kind: 'default password', words: ['db', 'password'], value: rng.pick(['password', 'postgres', 'secret', 'admin', 'root']) },
    { kind: 'weak word with digits', words: ['admin', 'password'], value: rng.pick(['password123', 'Password1', 'admin1234', 'letmein1']) },
    { kind: 'test marker', words: w(), value: rng.pick(['test-secret', 'dummy-token-value', 'fake_api_key', 'example-password']) + rng.hex(4) },
    { kind: 'file path', words: w(), value: rng.pick(['/run/secrets/db_password', './certs/client.key', '/etc/app/token.txt', 'secrets/api_key.txt']) },
    { kind: 'secret manager reference', words: w(), value: rng.pick(['vault:secret/data/app#password', 'op://Infra/db/password', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db']) },
    { kind: 'lower-case words', words: w(), value: rng.pick(['correcthorsebattery', 'notasecretatall', 'mysqlrootaccess']) },
    { kind: 'cache-busting asset name', byName: true, words: ['icon'], value: `ico-${rng.hex(32)}.png` },
    { kind: 'hash under a non-secret name', byName: true, words: ['commit', 'sha'], value: rng.hex(40) },
    { kind: 'uuid under a non-secret name', byName: true, words: ['request', 'id'], value: rng.uuid() },
    { kind: 'bcrypt hash', words: ['admin', 'password'], value: `$2b$12$${rng.str(53, ALNUM + './')}` },
    { kind: 'digest under a hash name', byName: true, words: ['password', 'sha256'], value: rng.hex(64) },
    { kind: 'token type', byName: true, words: ['token', 'type'], value: rng.pick(['Bearer', 'bearer', 'refresh_token', 'urn:ietf:params:oauth:token-type:jwt']) },
    { kind: 'secret name, not value', byName: true, words: ['secret', 'name'], value: rng.pick(['db-credentials-prod', 'app-tls-cert', 'registry-pull-secret']) },
    { kind: 'key id under a non-secret name', byName: true, words: ['key', 'id'], value: rng.hex(16) },
    { kind: 'public key', words: ['public', 'key'], value: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${rng.str(43, B64)}` },
    { kind: 'pem header only', words: ['private', 'key', 'header'], value: pemBegin('RSA') },
    { kind: 'pem block without body', words: ['key', 'marker'], value: `${pemBegin('')}${pemLine('END', 'PRIV' + 'ATE KEY')}` },
  ];
}

/** Lines of code and prose that only name a PEM private-key header: never a finding. */
export function pemMentions(): { path: string; lines: string[] }[] {
  return [
    { path: 'lib/parse.js', lines: [`if (line.startsWith('${pemBegin('RSA')}')) {`, '  return parseRsa(lines);', '}'] },
    { path: 'lib/keys.py', lines: [`HEADER = "${pemBegin('OPENSSH')}"`, `FOOTER = "${pemLine('END', 'OPENSSH PRIV' + 'ATE KEY')}"`] },
    { path: 'docs/keys.md', lines: ['The file starts with', '', `    ${pemBegin('')}`, '', 'followed by the base64 body.'] },
    { path: 'docs/format.md', lines: ['```', pemBegin('EC'), '...', pemLine('END', 'EC PRIV' + 'ATE KEY'), '```'] },
    { path: 'src/pem.ts', lines: [`const re = /${pemBegin('(RSA|EC)')}\\n([A-Za-z0-9+/=\\n]+)\\n/;`] },
  ];
}

/** A real key body after its header, as a key file and inside a YAML block scalar. */
export function pemKeys(rng: Rng): { path: string; lines: string[] }[] {
  const body = (): string[] => Array.from({ length: 4 }, () => rng.str(64, B64));
  return [
    { path: 'deploy/id_deploy', lines: [pemBegin('OPENSSH'), ...body(), pemLine('END', 'OPENSSH PRIV' + 'ATE KEY')] },
    { path: 'certs/server.txt', lines: [pemBegin('RSA'), ...body(), pemLine('END', 'RSA PRIV' + 'ATE KEY')] },
    { path: 'k8s/tls.yaml', lines: ['  tls.key: |', `    ${pemBegin('')}`, ...body().map((l) => `    ${l}`), `    ${pemLine('END', 'PRIV' + 'ATE KEY')}`] },
    { path: 'docs/ops.md', lines: ['```', pemBegin('EC'), ...body(), pemLine('END', 'EC PRIV' + 'ATE KEY'), '```'] },
    { path: 'keys/ci.key', lines: ['b3BlbnNzaC1rZXktdjEAAAAABG5vbm' + 'UAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW' + rng.str(30, B64), rng.str(70, B64)] },
  ];
}


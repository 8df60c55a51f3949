import {
  ALNUM, awsKeyId, awsSecret, B64, B64URL, BASE32, DIGITS, gh, HEX, jwt, LOWER, npmToken, pemBegin, pemLine, Rng, slackBot, UPPER,
  breakChecksum,
} from './fixtures.js';

export interface Sample {
  path: string;
  line: string;
  /** The rule that must fire; undefined for look-alikes that must not fire. */
  ruleId?: string;
  note?: string;
}

const b64 = (value: string): string => Buffer.from(value).toString('base64');

/**
 * A labelled corpus, generated from a seed: real-looking credentials in the
 * syntaxes they turn up in, and look-alikes that must stay quiet.
 */
export function buildCorpus(seed = 20240611): { positives: Sample[]; negatives: Sample[] } {
  const r = new Rng(seed);
  const positives: Sample[] = [];
  const negatives: Sample[] = [];
  const pos = (ruleId: string, path: string, line: string): void => {
    positives.push({ ruleId, path, line });
  };
  const neg = (path: string, line: string, note = ''): void => {
    negatives.push({ path, line, note });
  };

  // ---------------------------------------------------------------- positives
  // A header needs its body: inline here (one line each); next-line bodies are in the generalisation grid.
  pos('secret.private-key', 'deploy/key.json', `{"key": "${pemBegin('RSA')}\\nMIIEowIBAAKCAQEA${r.str(64, B64)}\\n"}`);
  pos('secret.private-key', 'home/.ssh/deploy', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbm' + 'UAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW' + r.str(30, B64));
  pos('secret.private-key', 'k8s/tls.yaml', `    key: "${pemBegin('EC')}\\nMHcCAQEEI${r.str(60, B64)}\\n"`);
  pos('secret.private-key', 'sa.json', `  "private_key": "${pemBegin('')}\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC${r.str(80, B64)}\\n",`);
  pos('secret.private-key', 'keys/signing.json', `"${pemLine('BEGIN', 'PGP PRIV' + 'ATE KEY BLOCK')}\\n\\nlQOYBF${r.str(70, B64)}"`);
  pos('secret.private-key', 'config.py', `KEY = """${pemBegin('DSA')}\\nMIIBuwIBAAKBgQ${r.str(60, B64)}`);
  pos('secret.putty-private-key', 'keys/server.txt', 'PuTTY-User-Key-' + 'File-3: ssh-ed25519');
  pos('secret.age-secret-key', 'keys.txt', 'AGE-SECRET-' + 'KEY-1' + r.str(58, 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L'));

  pos('secret.aws-access-key', '.aws/config.ini', `aws_access_key_id = ${awsKeyId(r)}`);
  pos('secret.aws-access-key', 'creds.json', `  "AccessKeyId": "${awsKeyId(r, 'AS' + 'IA')}",`);
  pos('secret.aws-access-key', 'src/s3.ts', `const s3 = new S3Client({ credentials: { accessKeyId: '${awsKeyId(r)}', secretAccessKey } });`);
  pos('secret.aws-secret-key', 'settings.ini', `aws_secret_access_key = ${awsSecret(r)}`);
  pos('secret.aws-secret-key', 'creds.json', `  "SecretAccessKey": "${awsSecret(r)}",`);
  pos('secret.aws-secret-key', 'ci.yml', `      AWS_SECRET_ACCESS_KEY: ${awsSecret(r)}`);
  pos('secret.gcp-service-account', 'sa.json', `  "private_key_id": "${r.hex(40)}",`);
  pos('secret.gcp-api-key', 'web/firebase.js', `  apiKey: "AI${'za'}${r.str(35, B64URL)}",`);
  pos('secret.gcp-api-key', '.env', `GEMINI_API_KEY=AI${'za'}${r.str(35, ALNUM)}`);
  pos('secret.gcp-oauth-client-secret', 'client.json', `{"client_secret":"GOC${'SPX'}-${r.str(28, B64URL)}"}`);
  pos('secret.google-oauth-token', 'notes.sh', `curl -H "Authorization: Bearer ya${'29'}.${r.str(120, B64URL)}" https://www.googleapis.com/drive/v3/files`);
  pos('secret.azure-storage-key', 'appsettings.json', `"Storage": "DefaultEndpointsProtocol=https;AccountName=prodacct;AccountKey=${r.str(86, B64)}==;EndpointSuffix=core.windows.net"`);
  pos('secret.azure-shared-access-key', 'local.settings.json', `"ServiceBus": "Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${r.str(43, B64)}="`);
  pos('secret.azure-sas-token', 'upload.sh', `az storage blob upload --sas "https://acct.blob.core.windows.net/c/b.tgz?sv=2022-11-02&ss=b&srt=co&sp=rwdlac&se=2030-01-01T00:00:00Z&st=2024-01-01T00:00:00Z&spr=https&sig=${r.str(40, ALNUM)}%2B${r.str(3)}%3D"`);
  pos('secret.azure-ad-client-secret', '.env', `AZURE_CLIENT_SECRET=${r.str(3)}${r.digits(1)}Q~${r.str(34, ALNUM + '_~.-')}`);
  pos('secret.digitalocean-token', 'terraform.tfvars', `do_token = "do${'p'}_v1_${r.hex(64)}"`);
  pos('secret.alibaba-access-key-id', '.env', `ALIBABA_CLOUD_ACCESS_KEY_ID=LT${'AI'}${r.str(20)}`);
  pos('secret.alibaba-secret-key', 'config.yaml', `alibaba_cloud_access_key_secret: ${r.str(30)}`);
  pos('secret.tencent-secret-id', '.env', `TENCENTCLOUD_SECRET_ID=AK${'ID'}${r.str(32)}`);
  pos('secret.ibm-cloud-api-key', '.env', `IBM_CLOUD_API_KEY=${r.str(44, B64URL)}`);
  pos('secret.cloudflare-api-token', '.env', `CLOUDFLARE_API_TOKEN=${r.str(40, B64URL)}`);
  pos('secret.cloudflare-origin-ca-key', 'origin.txt', `origin_ca_key = "v1.0-${r.hex(24)}-${r.hex(146)}"`);
  pos('secret.heroku-api-key', '.env', `HEROKU_API_KEY=HR${'KU'}-${r.str(60, B64URL)}`);
  pos('secret.heroku-api-key-legacy', 'deploy.yml', `  heroku_api_key: ${r.uuid()}`);
  pos('secret.fly-io-token', '.env', `FLY_API_TOKEN=fo${'1'}_${r.str(43, B64URL)}`);
  pos('secret.supabase-token', '.env', `SUPABASE_ACCESS_TOKEN=sb${'p'}_${r.hex(40)}`);
  pos('secret.planetscale-token', '.env', `PLANETSCALE_TOKEN=psc${'ale'}_tkn_${r.str(43)}`);
  pos('secret.vercel-token', '.github/workflows/deploy.yml', `          VERCEL_TOKEN: ${r.str(24)}`);
  pos('secret.netlify-token', '.env', `NETLIFY_AUTH_TOKEN=${r.str(43, B64URL)}`);
  pos('secret.openshift-token', 'login.sh', `oc login --token=sha${'256'}~${r.str(43, B64URL)} --server=https://api.cluster:6443`);
  pos('secret.terraform-cloud-token', '.terraformrc', `  token = "${r.str(14)}.atl${'asv1'}.${r.str(67, ALNUM)}"`);
  pos('secret.pulumi-token', '.env', `PULUMI_ACCESS_TOKEN=pu${'l'}-${r.hex(40)}`);
  pos('secret.databricks-token', 'notebook.py', `token = "da${'pi'}${r.hex(32)}"`);
  pos('secret.doppler-token', '.env', `DOPPLER_TOKEN=dp.${'st'}.${r.str(43)}`);
  pos('secret.vault-token', 'vault.sh', `export VAULT_TOKEN=hv${'s'}.${r.str(90, B64URL)}`);

  pos('secret.github-token', 'src/client.ts', `const octokit = new Octokit({ auth: '${gh(r)}' });`);
  pos('secret.github-token', '.env', `GITHUB_TOKEN=${gh(r)}`);
  pos('secret.github-token', 'ci.yml', `        token: ${gh(r, 's')}`);
  pos('secret.github-token', 'oauth.json', `{"access_token":"${gh(r, 'o')}","token_type":"bearer"}`);
  pos('secret.github-token', 'remote.sh', `git remote set-url origin https://x-access-token:${gh(r, 'u')}@github.com/org/repo.git`);
  pos('secret.github-fine-grained-token', '.env', `GH_TOKEN=github${'_pat'}_${r.str(22)}_${r.str(59)}`);
  pos('secret.gitlab-token', '.gitlab-ci.yml', `    GITLAB_TOKEN: gl${'pat'}-${r.str(20, B64URL)}`);
  pos('secret.gitlab-token', 'register.sh', `gitlab-runner register --token gl${'rt'}-${r.str(20, B64URL)}`);
  pos('secret.gitlab-runner-registration-token', 'register.sh', `--registration-token GR13${'48941'}${r.str(20, B64URL)}`);
  pos('secret.bitbucket-app-password', '.env', `BITBUCKET_APP_PASSWORD=AT${'BB'}${r.str(32)}`);
  pos('secret.atlassian-api-token', '.env', `JIRA_API_TOKEN=ATA${'TT3'}${r.str(186, B64URL)}`);

  pos('secret.slack-bot-token', 'bot.py', `client = WebClient(token="${slackBot(r)}")`);
  pos('secret.slack-bot-token', '.env', `SLACK_BOT_TOKEN=${slackBot(r)}`);
  pos('secret.slack-user-token', '.env', `SLACK_USER_TOKEN=xox${'p'}-${r.digits(12)}-${r.digits(12)}-${r.digits(13)}-${r.hex(32)}`);
  pos('secret.slack-app-token', '.env', `SLACK_APP_TOKEN=xa${'pp'}-1-A${r.str(10, UPPER + DIGITS)}-${r.digits(13)}-${r.hex(64)}`);
  pos('secret.slack-webhook', 'alert.sh', `curl -X POST https://hooks.${'slack'}.com/services/T${r.str(10, UPPER + DIGITS)}/B${r.str(10, UPPER + DIGITS)}/${r.str(24)} -d @msg.json`);
  pos('secret.discord-bot-token', '.env', `DISCORD_TOKEN=M${r.str(25, B64URL)}.${r.str(6, B64URL)}.${r.str(38, B64URL)}`);
  pos('secret.discord-webhook', 'notify.py', `WEBHOOK = "https://discord.com/api/web${'hooks'}/${r.digits(18)}/${r.str(68, B64URL)}"`);
  pos('secret.telegram-bot-token', 'bot.py', `bot = Bot(token="${r.digits(10)}:A${'A'}${r.str(33, B64URL)}")`);
  pos('secret.teams-webhook', 'notify.ps1', `$hook = "https://contoso.webhook.office.com/webhookb2/${r.uuid()}@${r.uuid()}/IncomingWebhook/${r.hex(32)}/${r.uuid()}"`);
  pos('secret.twitter-bearer-token', '.env', `TWITTER_BEARER_TOKEN=${'A'.repeat(22)}${r.str(90, ALNUM + '%')}`);
  pos('secret.facebook-app-secret', '.env', `FACEBOOK_APP_SECRET=${r.hex(32)}`);

  pos('secret.stripe-secret-key', 'billing.rb', `Stripe.api_key = "sk_${'live'}_${r.str(99)}"`);
  pos('secret.stripe-secret-key', '.env', `STRIPE_SECRET_KEY=sk_${'live'}_${r.str(24)}`);
  pos('secret.stripe-restricted-key', '.env', `STRIPE_KEY=rk_${'live'}_${r.str(24)}`);
  pos('secret.stripe-webhook-secret', '.env', `STRIPE_WEBHOOK_SECRET=wh${'sec'}_${r.str(32)}`);
  pos('secret.square-access-token', '.env', `SQUARE_ACCESS_TOKEN=EA${'AA'}${r.str(60, B64URL)}`);
  pos('secret.square-oauth-secret', '.env', `SQUARE_APP_SECRET=sq0${'csp'}-${r.str(43, B64URL)}`);
  pos('secret.braintree-access-token', 'pay.js', `const gateway = new braintree.BraintreeGateway({ accessToken: "access_token$pro${'duction'}$${r.str(16, LOWER + DIGITS)}$${r.hex(32)}" });`);
  pos('secret.paypal-client-secret', '.env', `PAYPAL_CLIENT_SECRET=E${r.str(79, B64URL)}`);
  pos('secret.adyen-api-key', '.env', `ADYEN_API_KEY=AQ${'E'}${r.str(100, B64)}=-${r.str(43, B64)}=-${r.str(16, ALNUM + ';%}=+')}`);
  pos('secret.shopify-token', '.env', `SHOPIFY_ACCESS_TOKEN=shp${'at'}_${r.hex(32)}`);
  pos('secret.flutterwave-secret-key', '.env', `FLW_SECRET_KEY=FLW${'SECK'}-${r.hex(32)}-X`);
  pos('secret.razorpay-key', 'config.js', `key_id: 'rzp_${'live'}_${r.str(14)}',`);
  pos('secret.shippo-token', '.env', `SHIPPO_TOKEN=shippo_${'live'}_${r.hex(40)}`);
  pos('secret.easypost-api-key', '.env', `EASYPOST_API_KEY=EZ${'AK'}${r.str(54)}`);

  pos('secret.npm-token', '.npmrc', `//registry.npmjs.org/:_authToken=${npmToken(r)}`);
  pos('secret.npm-token', 'publish.yml', `          NODE_AUTH_TOKEN: ${npmToken(r)}`);
  pos('secret.npmrc-auth', '.npmrc', `//npm.pkg.corp.internal/:_authToken=${r.str(40, B64)}`);
  pos('secret.npmrc-auth', '.npmrc', `_auth=${b64(`deploy:${r.str(20)}`)}`);
  pos('secret.pypi-token', '.pypirc', `password = pypi-AgEIcHl${'waS5vcmc'}${r.str(120, B64URL)}`);
  pos('secret.rubygems-api-key', '.gem/credentials', `:rubygems_api_key: rubygems_${r.hex(48)}`);
  pos('secret.nuget-api-key', 'publish.ps1', `dotnet nuget push pkg.nupkg --api-key oy${'2'}${r.str(43, LOWER + DIGITS)} --source https://api.nuget.org/v3/index.json`);
  pos('secret.dockerhub-token', 'login.sh', `echo dckr_${'pat'}_${r.str(27, B64URL)} | docker login -u ci --password-stdin`);
  pos('secret.docker-config-auth', '.docker/config.json', `      "auth": "${b64(`robot$ci:${r.str(32)}`)}"`);
  pos('secret.crates-io-token', '.env', `CARGO_REGISTRY_TOKEN=ci${'o'}${r.str(32)}`);
  pos('secret.artifactory-token', 'gradle.properties', `artifactory_apikey=AK${'Cp'}${r.str(69)}`);

  pos('secret.openai-api-key', '.env', `OPENAI_API_KEY=sk-${'proj'}-${r.str(100, B64URL)}`);
  pos('secret.openai-api-key', 'app.py', `client = OpenAI(api_key="sk-${r.str(20)}T3Blbk${'FJ'}${r.str(20)}")`);
  pos('secret.anthropic-api-key', '.env', `ANTHROPIC_API_KEY=sk-${'ant'}-api03-${r.str(93, B64URL)}AA`);
  pos('secret.huggingface-token', 'train.py', `login(token="h${'f'}_${r.str(34)}")`);
  pos('secret.cohere-api-key', '.env', `COHERE_API_KEY=${r.str(40)}`);
  pos('secret.replicate-token', '.env', `REPLICATE_API_TOKEN=r${'8'}_${r.str(37)}`);
  pos('secret.groq-api-key', '.env', `GROQ_API_KEY=gs${'k'}_${r.str(52)}`);
  pos('secret.perplexity-api-key', '.env', `PPLX_API_KEY=ppl${'x'}-${r.str(48)}`);
  pos('secret.xai-api-key', '.env', `XAI_API_KEY=xa${'i'}-${r.str(80)}`);
  pos('secret.mistral-api-key', '.env', `MISTRAL_API_KEY=${r.str(32)}`);
  pos('secret.deepseek-api-key', '.env', `DEEPSEEK_API_KEY=sk-${r.hex(32)}`);
  pos('secret.langsmith-api-key', '.env', `LANGSMITH_API_KEY=lsv${'2'}_pt_${r.hex(32)}_${r.hex(10)}`);

  pos('secret.sendgrid-api-key', 'mail.js', `sgMail.setApiKey('S${'G'}.${r.str(22, B64URL)}.${r.str(43, B64URL)}');`);
  pos('secret.mailgun-api-key', 'mail.py', `auth=("api", "ke${'y'}-${r.hex(32)}")`);
  pos('secret.mailchimp-api-key', 'newsletter.php', `$api = new MailchimpMarketing('${r.hex(32)}-us${1 + r.int(20)}');`);
  pos('secret.brevo-api-key', '.env', `BREVO_API_KEY=xkey${'sib'}-${r.hex(64)}-${r.str(16)}`);
  pos('secret.twilio-credential', '.env', `TWILIO_AUTH_TOKEN=${r.hex(32)}`);
  pos('secret.postmark-token', '.env', `POSTMARK_SERVER_TOKEN=${r.uuid()}`);

  pos('secret.okta-api-token', '.env', `OKTA_API_TOKEN=0${'0'}${r.str(40, B64URL)}`);
  pos('secret.sentry-token', '.sentryclirc', `token=sntr${'ys'}_eyJ${r.str(120, B64)}`);
  pos('secret.datadog-api-key', '.env', `DD_API_KEY=${r.hex(32)}`);
  pos('secret.datadog-api-key', 'datadog.yaml', `datadog_app_key: ${r.hex(40)}`);
  pos('secret.newrelic-key', '.env', `NEW_RELIC_API_KEY=NR${'AK'}-${r.str(27, UPPER + DIGITS)}`);
  pos('secret.newrelic-key', 'newrelic.yml', `  license_key: ${r.hex(36)}NR${'AL'}`);
  pos('secret.dynatrace-token', '.env', `DT_API_TOKEN=dt0${'c01'}.${r.str(24, UPPER + DIGITS)}.${r.str(64, UPPER + DIGITS)}`);
  pos('secret.grafana-token', '.env', `GRAFANA_TOKEN=gl${'sa'}_${r.str(32)}_${r.hex(8)}`);
  pos('secret.grafana-token', '.env', `GRAFANA_CLOUD_TOKEN=gl${'c'}_${r.str(120, B64)}`);
  pos('secret.linear-api-key', '.env', `LINEAR_API_KEY=lin_${'api'}_${r.str(40)}`);
  pos('secret.notion-token', '.env', `NOTION_TOKEN=nt${'n'}_${r.digits(11)}${r.str(35)}`);
  pos('secret.notion-token', 'sync.js', `const notion = new Client({ auth: "sec${'ret'}_${r.str(43)}" });`);
  pos('secret.postman-api-key', '.env', `POSTMAN_API_KEY=PM${'AK'}-${r.hex(24)}-${r.hex(34)}`);
  pos('secret.figma-token', '.env', `FIGMA_TOKEN=fig${'d'}_${r.str(40, B64URL)}`);
  pos('secret.mapbox-secret-token', '.env', `MAPBOX_DOWNLOADS_TOKEN=s${'k'}.eyJ${r.str(80, B64URL)}.${r.str(22, B64URL)}`);
  pos('secret.prefect-api-key', '.env', `PREFECT_API_KEY=pn${'u'}_${r.str(36)}`);
  pos('secret.readme-api-key', '.env', `README_API_KEY=rdm${'e'}_${r.str(70, LOWER + DIGITS)}`);
  pos('secret.infracost-api-key', '.env', `INFRACOST_API_KEY=ic${'o'}-${r.str(32)}`);
  pos('secret.snyk-token', '.env', `SNYK_TOKEN=${r.uuid()}`);

  pos('secret.database-url', '.env', `DATABASE_URL=postgres://app:${r.str(16)}@db.prod.internal:5432/app`);
  pos('secret.database-url', 'settings.py', `MONGO_URI = "mongodb+srv://svc:${r.str(20)}@cluster0.ab1cd.mongodb.net/prod?retryWrites=true"`);
  pos('secret.database-url', 'docker-compose.yml', `      REDIS_URL: redis://:${r.str(24)}@cache:6379/0`);
  pos('secret.database-url', 'celery.py', `broker_url = 'amqps://worker:${r.str(18)}@mq.internal:5671/vhost'`);
  pos('secret.database-url', 'app.properties', `spring.datasource.url=jdbc:mysql://report:${r.str(14)}@mysql.internal:3306/reports`);
  pos('secret.url-credentials', 'deploy.sh', `git push https://deploy:${r.str(24)}@git.corp.internal/team/app.git main`);
  pos('secret.url-credentials', 'pip.conf', `index-url = https://pypi-user:${r.str(20)}@pypi.corp.internal/simple`);
  pos('secret.url-credentials', 'sync.sh', `lftp ftp://backup:${r.str(12)}@ftp.corp.internal/`);
  pos('secret.jwt', 'test/api.http', `Authorization: Bearer ${jwt(r, { alg: 'HS256', typ: 'JWT' }, { sub: 'svc-billing', iat: 1710000000, exp: 1900000000, scope: 'admin' })}`);
  pos('secret.jwt', 'src/token.ts', `const serviceToken = '${jwt(r, { alg: 'RS256', kid: r.hex(8) }, { iss: 'https://auth.corp.internal', sub: r.uuid(), aud: 'api' })}';`);
  pos('secret.jwt', 'config.yaml', `  supabase_service_role: ${jwt(r, { alg: 'HS256', typ: 'JWT' }, { role: 'service_role', iss: 'supabase', iat: 1700000000 })}`);
  pos('secret.http-basic-auth', 'client.sh', `curl -H "Authorization: Basic ${b64(`admin:${r.str(16)}`)}" https://api.corp.internal/`);
  pos('secret.http-basic-auth', 'nginx.conf', `    proxy_set_header Authorization "Basic ${b64(`svc:${r.str(20)}`)}";`);
  pos('secret.bearer-token', 'client.sh', `curl -H "Authorization: Bearer ${r.str(48, B64URL)}" https://api.corp.internal/v1/items`);
  pos('secret.bearer-token', 'api.http', `Authorization: Bearer ${r.str(64, ALNUM)}`);

  const generic: [string, string][] = [
    ['src/config.ts', `export const config = { apiKey: "${r.str(32)}" };`],
    ['src/db.js', `const password = '${r.str(18, ALNUM + '!@#%^&*')}';`],
    ['app/settings.py', `SECRET_KEY = "${r.str(50, ALNUM + '!@#%^&*(-_=+)')}"`],
    ['app/settings.py', `DATABASES = {"default": {"PASSWORD": "${r.str(20)}"}}`],
    ['config/database.yml', `  password: ${r.str(24)}`],
    ['config/app.yaml', `client_secret: "${r.str(40, B64URL)}"`],
    ['.env', `DB_PASSWORD=${r.str(20)}`],
    ['.env.production', `JWT_SECRET=${r.str(64, HEX)}`],
    ['.env', `API_KEY="${r.str(32)}"`],
    ['deploy.sh', `export REGISTRY_PASSWORD='${r.str(24)}'`],
    ['main.go', `	Password: "${r.str(22)}",`],
    ['config.php', `    'password' => '${r.str(16)}',`],
    ['config.rb', `  config.secret_key_base = "${r.hex(128)}"`],
    ['config.toml', `api_token = "${r.str(40)}"`],
    ['app.properties', `mail.smtp.password=${r.str(16)}`],
    ['settings.json', `{ "authToken": "${r.str(36)}", "timeout": 30 }`],
    ['Dockerfile', `ENV ADMIN_PASSWORD=${r.str(18)}`],
    ['docker-compose.yml', `      - MYSQL_ROOT_PASSWORD=${r.str(20)}`],
    ['src/Main.java', `    private static final String DB_PASSWORD = "${r.str(20)}";`],
    ['src/Program.cs', `var clientSecret = "${r.str(34, ALNUM + '~._-')}";`],
    ['lib/auth.rb', `ENCRYPTION_KEY = '${r.str(32, B64)}'`],
    ['values.yaml', `  accessKey: "${r.str(20, UPPER + DIGITS)}"`],
    ['app.ini', `secret = ${r.str(30)}`],
    ['src/api.py', `requests.get(url, headers={"X-API-Key": "${r.hex(40)}"})`],
    ['src/client.kt', `val token = "${r.str(40)}"`],
    ['src/index.ts', `const SIGNING_KEY = \`${r.str(44, B64)}\`;`],
    ['ansible/vars.yml', `ansible_become_pass: ${r.str(16)}`],
    ['config.json', `  "privateKey": "${r.str(64, HEX)}",`],
    ['app.cfg', `session_secret=${r.str(32, ALNUM + '-_')}`],
  ];
  for (const [path, line] of generic) pos('secret.generic-assignment', path, line);
  pos('secret.cli-credential', 'run.sh', `./server --db-password=${r.str(20)}`);
  pos('secret.cli-credential', 'ops.sh', `sshpass -p '${r.str(14)}' ssh deploy@10.0.0.5`);
  pos('secret.cli-credential', 'ops.sh', `curl -u admin:${r.str(16)} https://ci.corp.internal/api`);
  pos('secret.generic-call', 'wp-config.php', `define('DB_PASSWORD', '${r.str(18)}');`);
  pos('secret.generic-call', 'Main.java', `System.setProperty("javax.net.ssl.trustStorePassword", "${r.str(16)}");`);
  pos('secret.generic-call', 'Web.config', `  <add key="ApiSecret" value="${r.str(24)}" />`);
  pos('secret.authorization-header', 'call.sh', `curl -H 'Authorization: Token ${r.hex(40)}' https://api.corp.internal`);

  // Vendor formats
  pos('secret.aws-session-token', 'creds.sh', `export AWS_SESSION_TOKEN=FwoGZXIvY${'XdzE'}${r.str(200, B64)}`);
  pos('secret.cloudflare-global-api-key', '.env', `CLOUDFLARE_API_KEY=${r.hex(37)}`);
  pos('secret.1password-service-account-token', '.env', `OP_SERVICE_ACCOUNT_TOKEN=op${'s_'}eyJ${r.str(300, B64)}`);
  pos('secret.1password-secret-key', 'notes.txt', `A${'3'}-${r.str(6, UPPER + DIGITS)}-${r.str(11, UPPER + DIGITS)}-${r.str(5, UPPER + DIGITS)}-${r.str(5, UPPER + DIGITS)}-${r.str(5, UPPER + DIGITS)}`);
  pos('secret.sourcegraph-token', 'src.sh', `export SRC_ACCESS_TOKEN=sg${'p_'}${r.hex(16)}_${r.hex(40)}`);
  pos('secret.slack-legacy-token', 'bot.py', `client = Slack("xo${'xs'}-${r.digits(10)}-${r.digits(11)}-${r.digits(12)}-${r.hex(64)}")`);
  pos('secret.slack-config-token', 'ci.yml', `  SLACK_CONFIG_REFRESH_TOKEN: xo${'xe'}-1-${r.str(146, UPPER + DIGITS)}`);
  const snowflake = Buffer.from(r.digits(18)).toString('base64').replace(/=+$/, '');
  pos('secret.discord-bot-token', 'bot.js', `client.login('${snowflake}.${r.str(6, B64URL)}.${r.str(38, B64URL)}');`);
  pos('secret.facebook-access-token', 'fb.py', `graph = GraphAPI("EA${'AC'}${r.str(150)}")`);
  pos('secret.facebook-access-token', 'fb.py', `APP_TOKEN = "${r.digits(15)}|${r.str(27, B64URL)}"`);
  pos('secret.twilio-credential', 'sms.py', `client = Client("A${'C'}${r.hex(32)}", "${r.hex(32)}")`);
  pos('secret.stripe-restricted-key', 'pay.js', `const stripe = Stripe('rk_${'prod'}_${r.str(40)}');`);

  // ---------------------------------------------------------------- look-alikes
  // Placeholders and templates
  const placeholders = [
    'password = "changeme"', 'api_key = "<your-api-key>"', 'token: ${GITHUB_TOKEN}', 'secret: "xxxxxxxxxxxxxxxx"',
    'password: "********"', 'API_KEY=your_api_key_here', 'token = "TODO"', 'aws_secret_access_key = YOUR_SECRET_ACCESS_KEY',
    'SECRET_KEY=dummy-secret-key-for-local-dev', 'password = "example-password-123"', 'client_secret: "REPLACE_ME"',
    'token = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"', `GITHUB_TOKEN=gh${'p'}_${'x'.repeat(36)}`, `STRIPE_KEY=sk_${'live'}_${'0'.repeat(24)}`,
    'DB_PASSWORD=<insert password here>', 'password: "{{ db_password }}"', 'api_key: "%(api_key)s"', 'token = "${TOKEN:-}"',
    'SLACK_WEBHOOK=https://hooks.slack.com/services/XXXXXXXXX/XXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX',
    `OPENAI_API_KEY=sk-${'proj'}-...`, 'password = "$PASSWORD"', 'auth_token: __AUTH_TOKEN__', 'secret = "[secret]"',
    'API_KEY=1234567890abcdef1234567890abcdef', 'PASSWORD=abcdefgh12345678', 'jwt_secret: "your-256-bit-secret"',
    'apiKey: "sample-key-not-real-0001"', 'password: "P@ssw0rd"', 'token = "<token>"', 'secret: !vault |',
    'password = "fake_password_for_tests_1"', 'api_key = "test_api_key_123456"', 'DB_PASSWORD=${{ secrets.DB_PASSWORD }}',
  ];
  for (const line of placeholders) neg('config/example.yml', line, 'placeholder');

  // Hashes, digests, ids
  for (let i = 0; i < 6; i++) neg('CHANGELOG.md', `- fix parser crash (${r.hex(40)})`, 'git sha');
  neg('notes.md', `commit ${r.hex(40)}`, 'git sha');
  neg('Dockerfile', `FROM node:20-alpine@sha256:${r.hex(64)}`, 'image digest');
  neg('index.html', `<script src="https://cdn.example.org/lib.js" integrity="sha384-${r.str(64, B64)}" crossorigin="anonymous"></script>`, 'SRI');
  neg('checksums.txt', `${r.hex(64)}  pushgate-linux-amd64.tar.gz`, 'sha256sum');
  neg('checksums.txt', `${r.hex(32)}  pushgate.zip`, 'md5sum');
  neg('src/cache.ts', `const ETAG = '"${r.hex(32)}"';`, 'etag');
  neg('src/ids.ts', `const DEFAULT_TENANT = '${r.uuid()}';`, 'uuid');
  neg('fixtures/user.json', `  "id": "${r.uuid()}",`, 'uuid');
  neg('fixtures/req.json', `{"requestId":"${r.uuid()}","status":"ok"}`, 'uuid');
  neg('config.yaml', `api_key_id: ${r.uuid()}`, 'uuid key id');
  neg('config.yaml', `token: ${r.uuid()}`, 'uuid token');
  neg('schema.sql', `INSERT INTO users (id, password_hash) VALUES (1, '$2b$12$${r.str(53, ALNUM + './')}');`, 'bcrypt');
  neg('src/user.py', `password_hash = "$argon2id$v=19$m=65536,t=3,p=4$${r.str(22, B64)}$${r.str(43, B64)}"`, 'argon2');
  neg('src/hash.ts', `const EMPTY_SHA256 = '${r.hex(64)}';`, 'hash const');
  neg('src/hash.ts', `expect(sha1(input)).toBe('${r.hex(40)}');`, 'hash');
  neg('go.mod', `	github.com/pkg/errors v0.9.1 // indirect`, 'go.mod');
  neg('src/colors.css', `.btn-primary { background: #${r.hex(6)}; }`, 'css');
  neg('src/api.ts', `const TOKEN_SHA = "${r.hex(40)}";`, 'hash named token');
  neg('src/api.ts', `const secretHash = "${r.hex(64)}";`, 'hash named secret');

  // Public keys and certificates
  neg('authorized_keys', `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${r.str(43, B64)} alice@laptop`, 'ssh public key');
  neg('authorized_keys', `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ${r.str(300, B64)} bob@ci`, 'ssh public key');
  neg('keys/pub.pem', pemLine('BEGIN', 'PUBLIC KEY'), 'public key');
  neg('certs/ca.pem', pemLine('BEGIN', 'CERTIFICATE'), 'certificate');
  neg('keys/pub.pem', `MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA${r.bytes(24).toString('base64')}`, 'public key body');
  neg('certs/ca.pem', r.bytes(48).toString('base64'), 'certificate body');
  neg('config.yaml', `public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${r.str(43, B64)}"`, 'public key value');
  neg('known_hosts', `github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBB${r.str(88, B64)}=`, 'known_hosts');
  neg('.sops.yaml', `  - age: age1${r.str(58, 'qpzry9x8gf2tvdw0s3jn54khce6mua7l')}`, 'age recipient');
  neg('src/publishable.ts', `const stripe = Stripe('pk_${'live'}_${r.str(24)}');`, 'stripe publishable');
  neg('deploy/gpg.txt', pemLine('BEGIN', 'PGP PUBLIC KEY BLOCK'), 'pgp public');

  // Documented example keys
  const exampleKeyId = 'AKIA' + 'IOSFODNN7' + 'EXAMPLE';
  const exampleSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfi' + 'CY' + 'EXAMPLEKEY';
  neg('docs/aws.md', `aws_access_key_id = ${exampleKeyId}`, 'AWS example id');
  neg('docs/aws.md', `aws_secret_access_key = ${exampleSecret}`, 'AWS example secret');
  neg('docs/aws.md', `export AWS_ACCESS_KEY_ID=${exampleKeyId}`, 'AWS example id');
  neg('src/s3.test.ts', `accessKeyId: '${exampleKeyId}', secretAccessKey: '${exampleSecret}',`, 'AWS example pair');
  const jwtExample = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"1234567890","name":"John Doe","iat":1516239022}').toString('base64url')}.${r.str(43, B64URL)}`;
  neg('docs/auth.md', `Authorization: Bearer ${jwtExample}`, 'jwt.io example');
  neg('docs/stripe.md', `Stripe.api_key = "sk_${'test'}_${r.str(24)}"`, 'stripe test key');

  // Unsigned or broken tokens
  neg('test/jwt.test.ts', `const unsigned = '${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x","admin":true}').toString('base64url')}.${r.str(20, B64URL)}';`, 'alg none');
  neg('test/jwt.test.ts', `const bad = 'eyJ${r.str(30, B64URL)}.eyJ${r.str(40, B64URL)}.${r.str(43, B64URL)}';`, 'undecodable jwt');
  neg('test/gh.test.ts', `const revoked = '${breakChecksum(gh(r))}';`, 'bad checksum');
  neg('test/gh.test.ts', `GITHUB_TOKEN=${breakChecksum(gh(r, 's'))}`, 'bad checksum');
  neg('test/npm.test.ts', `//registry.npmjs.org/:_authToken=${breakChecksum(npmToken(r))}`, 'bad checksum');

  // References to secrets kept elsewhere
  const references = [
    'const token = process.env.GITHUB_TOKEN;', 'api_key = os.environ["OPENAI_API_KEY"]', 'password = os.getenv("DB_PASSWORD")',
    '          token: ${{ secrets.NPM_TOKEN }}', '  password: "{{ .Values.db.password }}"', 'secret = "vault:secret/data/app#token"',
    'db_password: arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
    '            secretKeyRef:', 'String pw = System.getenv("DB_PASSWORD");', "secret_key_base = ENV['SECRET_KEY_BASE']",
    'const apiKey = config.apiKey;', 'password := os.Getenv("PGPASSWORD")', '"password": "${DB_PASSWORD}",',
    'DATABASE_URL=postgres://${DB_USER}:${DB_PASS}@db:5432/app', 'token = import.meta.env.VITE_API_TOKEN',
    'client_secret: !Ref ClientSecretParameter', 'password = ssm:/prod/db/password', 'API_KEY=op://vault/item/credential',
    'auth_token = settings.AUTH_TOKEN', 'secret: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]',
    '//registry.npmjs.org/:_authToken=${NPM_TOKEN}', 'password: !env_var DB_PASSWORD',
    'const secret = await secretsManager.getSecretValue({ SecretId: "prod/app" });',
    'token=$(vault kv get -field=token secret/ci)', 'export GITHUB_TOKEN="$(gh auth token)"',
  ];
  for (const line of references) neg('deploy/config.yml', line, 'reference');

  // Short or low-entropy values
  const weak = [
    'password = "hunter2"', 'token = "abc"', 'pwd = "12345"', 'secret = "aaaabbbb"', 'api_key = "test"', 'password: password123',
    'password = ""', 'token: null', 'auth: true', 'secret: false', 'password = None', 'token = undefined',
    'password: admin', 'auth_token: ~', 'api_key = 0', 'credentials: {}', 'password: "aaaaaaaaaa"', 'token: 111111111111',
  ];
  for (const line of weak) neg('src/settings.py', line, 'weak');

  // Lock files
  neg('package-lock.json', `      "integrity": "sha512-${r.str(86, B64)}==",`, 'lockfile');
  neg('package-lock.json', '      "resolved": "https://registry.npmjs.org/js-tokens/-/js-tokens-4.0.0.tgz",', 'lockfile');
  neg('package-lock.json', '    "node_modules/@auth0/auth0-spa-js": {', 'lockfile');
  neg('package-lock.json', '        "jsonwebtoken": "^9.0.0",', 'lockfile');
  neg('yarn.lock', `  integrity sha512-${r.str(86, B64)}==`, 'lockfile');
  neg('yarn.lock', `  resolved "https://registry.yarnpkg.com/secret-handshake/-/secret-handshake-1.1.20.tgz#${r.hex(40)}"`, 'lockfile');
  neg('pnpm-lock.yaml', `    resolution: {integrity: sha512-${r.str(86, B64)}==}`, 'lockfile');
  neg('Cargo.lock', `checksum = "${r.hex(64)}"`, 'lockfile');
  neg('go.sum', `github.com/golang-jwt/jwt/v5 v5.2.1 h1:${r.str(43, B64)}=`, 'lockfile');
  neg('go.sum', `golang.org/x/crypto v0.21.0/go.mod h1:${r.str(43, B64)}=`, 'lockfile');
  neg('poetry.lock', `    {file = "cryptography-42.0.5-cp39-abi3-manylinux_2_28_x86_64.whl", hash = "sha256:${r.hex(64)}"},`, 'lockfile');
  neg('Gemfile.lock', '    devise-token_auth (1.2.2)', 'lockfile');
  neg('composer.lock', `            "shasum": "${r.hex(40)}"`, 'lockfile');
  neg('Pipfile.lock', `                "sha256:${r.hex(64)}",`, 'lockfile');
  neg('package-lock.json', `      "integrity": "sha1-${r.str(27, B64)}=",`, 'lockfile');
  neg('uv.lock', `sdist = { url = "https://files.pythonhosted.org/packages/${r.hex(2)}/${r.hex(2)}/${r.hex(60)}/keyring-25.0.0.tar.gz", hash = "sha256:${r.hex(64)}" }`, 'lockfile');

  // Prose
  const prose = [
    'Set the password in the admin panel before the first login.', 'The token expires after 24 hours; request a new one with `login`.',
    'Rotate your API key regularly.', '- password: must be at least 12 characters long', '# Secret management is done through Vault.',
    'Never commit your secret key to the repository.', 'The `auth` module issues and verifies tokens.',
    'If you forgot your password, click "Reset password".', 'Tokens: bearer tokens are accepted in the Authorization header.',
    'Note: the credentials file lives in ~/.aws/credentials', 'password reset emails are rate limited', 'See docs/secrets.md for how secrets are provisioned.',
    'The API key is shown only once, so copy it somewhere safe.', 'auth: see the section on OIDC below',
  ];
  for (const line of prose) neg('README.md', line, 'prose');

  // Ordinary code that talks about secrets
  const code = [
    'const token = await getToken(user);', "password = request.form['password']", 'if (password.length < 8) throw new Error("too short");',
    'tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")', "const passwordInput = document.querySelector('#password');",
    'def verify_password(plain: str, hashed: str) -> bool:', 'secret_name = "prod/app/db-credentials"', 'token_url = "https://oauth2.googleapis.com/token"',
    'auth_method: "client_secret_post"', 'api_key_header = "X-API-Key"', 'TOKEN_EXPIRY_SECONDS = 3600', 'const secretKey = generateSecretKey();',
    "passwordField: 'passwordConfirmationField',", 'tokens = tokenize(text)', 'AUTH_PROVIDER=keycloak', 'secret = base64.b64decode(encoded)',
    '"token_type": "bearer",', 'let apiKey: string | undefined;', '<input type="password" name="password" autocomplete="current-password">',
    'export function maskToken(token: string): string {', 'password_file: /run/secrets/db_password', 'secretsmanager = boto3.client("secretsmanager")',
    'private_key_path = "~/.ssh/id_ed25519"', 'credentials = service_account.Credentials.from_service_account_file(path)',
    "const auth = useAuth();", 'passport.use(new LocalStrategy(verify));', 'bypassCache = true', 'tokenCount: 4096,',
    'const { token } = req.body;', 'password: hashedPassword,', 'secret: process.env.SESSION_SECRET!,', 'auth.token = newToken',
    'access_key_id_env = "AWS_ACCESS_KEY_ID"', 'export const PASSWORD_MIN_LENGTH = 12;', 'api_key_name: "x-goog-api-key"',
    'this.token = this.tokenService.issue(user.id);', 'password = getpass.getpass("Password: ")', 'token: string = "";',
    'const TOKEN_PATTERN = /^ghp_[A-Za-z0-9]{36}$/;', 'secretKeyRef: { name: "db", key: "password" }', 'auth_url: https://auth.corp.internal/oauth/authorize',
    '    "passwordless": true,', 'ssh_key_fingerprint: "SHA256:' + r.str(43, B64) + '"', 'token_endpoint_auth_method = client_secret_basic',
    'client.auth = HTTPBasicAuth(user, password)', 'apiKeyHeaderName = "Ocp-Apim-Subscription-Key"',
  ];
  for (const line of code) neg('src/app.ts', line, 'code');

  // URLs without secrets
  const urls = [
    'https://github.com/org/repo', 'git@github.com:org/repo.git', 'ssh://git@git.corp.internal:2222/team/app.git', 'http://localhost:8080/api',
    'MONGO_URL=mongodb://localhost:27017/test', 'DATABASE_URL=postgres://postgres:postgres@localhost:5432/dev', 'REDIS_URL=redis://localhost:6379',
    'BROKER=amqp://guest:guest@localhost:5672/', 'url: https://user@bitbucket.org/team/repo.git', 'DATABASE_URL=mysql://root:root@127.0.0.1:3306/app',
    'https://registry.npmjs.org/@scope%2fpkg', 'jdbc:postgresql://db:5432/app?user=app&password=${DB_PASSWORD}', 'mailto:security@corp.internal',
    'postgresql://user:password@localhost/mydb', 'https://api.corp.internal/v1/items?page=2&limit=50',
  ];
  for (const line of urls) neg('docs/setup.md', line, 'url');

  // Encoded and random-looking data that is not a secret
  neg('assets/icon.ts', `export const icon = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA${r.bytes(90).toString('base64')}";`, 'binary base64');
  neg('fixtures/blob.json', `  "payload": "${r.bytes(120).toString('base64')}",`, 'binary base64');
  neg('fixtures/blob.json', `  "nonce": "${r.bytes(32).toString('hex')}",`, 'binary hex');
  neg('src/i18n.ts', `const greeting = "${b64('Hello, welcome to the dashboard of our product!')}";`, 'benign base64 text');
  neg('src/styles.ts', `const cls = "styles_module__${r.str(6, LOWER + DIGITS)} button_primary__${r.str(5, LOWER + DIGITS)}";`, 'css module class');
  neg('src/chunks.js', `__webpack_require__.u = (id) => "static/js/" + id + "." + "${r.hex(8)}" + ".chunk.js";`, 'chunk hash');
  neg('src/contract.sol', `address constant OWNER = 0x${r.hex(40)};`, 'eth address');
  neg('src/components/very/long/path/to/SomeComponentWithAVeryLongName.tsx', "import { SomeComponentWithAVeryLongName } from './components/very/long/path/to/SomeComponentWithAVeryLongName';", 'long identifiers');
  neg('src/const.ts', 'export const VERY_LONG_CONSTANT_NAME_FOR_A_FEATURE_FLAG_THAT_NOBODY_READS = true;', 'long identifier');
  neg('src/regex.ts', "const B64 = /^[A-Za-z0-9+/]{40,}={0,2}$/;", 'regex');
  neg('test/snap.ts', `expect(hash).toMatchInlineSnapshot(\`"${r.hex(64)}"\`);`, 'snapshot hash');
  neg('src/keys.ts', `const PUBLIC_VAPID_KEY = "B${r.str(86, B64URL)}";`, 'vapid public key');
  neg('src/recaptcha.ts', `const SITE_KEY = "6L${r.str(38, B64URL)}";`, 'recaptcha site key');
  neg('src/analytics.ts', `gtag('config', 'G-${r.str(10, UPPER + DIGITS)}');`, 'analytics id');
  neg('src/i18n.json', '  "auth.password.forgot": "Forgot your password?",', 'i18n');
  neg('src/i18n.json', '  "auth.token.expired": "Your session has expired. Please sign in again.",', 'i18n');
  neg('Makefile', 'test: ; go test ./... -run TestTokenRefresh -count=1', 'make');
  neg('.github/workflows/ci.yml', '      - uses: actions/checkout@' + r.hex(40), 'pinned action');
  neg('src/base.ts', `const encoded = "${b64('{"type":"event","name":"page_view","ts":1700000000}')}";`, 'benign base64 json');

  return { positives, negatives };
}

/** Every character class used above, for tests that want one. */
export const ALPHABETS = { ALNUM, B64, B64URL, BASE32, HEX, LOWER, UPPER, DIGITS };

/**
 * The review console in real headless Chromium against a real `pushgate
 * serve`, with oidc-provider as the identity provider: pushes parked by real
 * pushes through the gateway (OpenSSH + certificates), reviewers logging in
 * on the provider's login page, approvals and rejections through the
 * console, `queue wait` over SSH returning when the console applied the
 * push, and the attacks a browser makes possible: hostile text from a push,
 * cross-site POSTs, an agent's session, a logged-out session.
 */
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import type { Browser } from 'puppeteer-core';
import { startDevIdp, type DevIdp } from '../../src/dev/idp.js';
import { withoutProviderWarnings } from '../../src/dev/quiet.js';
import { issuerEntry } from '../../src/dev/setup.js';
import { SshUser, startGateway, type Gateway } from '../gateway/harness.js';
import { freePort, runAsync } from '../helpers/tools.js';
import { gh, Rng } from '../scan/fixtures.js';
import { flash, launchChromium, login, newSeen, watchedPage, type Seen } from './browser.js';

const DOCS_IMAGES = new URL('../../../docs/images/', import.meta.url).pathname;

interface Setup {
  gateway: Gateway;
  idp: DevIdp;
  base: string;
  browser: Browser;
  seen: Seen;
  secrets: string[];
  agent: SshUser;
  alice: SshUser;
  work: string;
  url: string;
}

function parkedId(output: string): string {
  const id = /"queueId":"([a-z0-9]+)"/.exec(output)?.[1];
  if (id === undefined) throw new Error(`no queue id in: ${output.slice(0, 2000)}`);
  return id;
}

t.test('the review console in a real browser', async (t) => {
  const started = Date.now();
  const httpPort = await freePort();
  const base = `http://127.0.0.1:${httpPort}/console/`;
  const idp = await withoutProviderWarnings(() => startDevIdp({ consoleRedirectUrl: `${base}callback` }));
  t.teardown(() => idp.close());
  const gateway = await startGateway(t, {
    repos: ['team/app'],
    configure: (server) => {
      const secretFile = join(server.dir, 'console-client.secret');
      writeFileSync(secretFile, `${idp.clients.console!.secret}\n`, { mode: 0o600 });
      server.setConfig(['http', 'listen'], `127.0.0.1:${httpPort}`);
      server.setConfig(['identity', 'issuers'], [issuerEntry(idp.issuer)]);
      server.setConfig(['queue', 'approvals'], 2);
      server.setConfig(['policy', 'secrets', 'action'], 'park');
      server.setConfig(['console'], {
        enabled: true, issuer: idp.issuer, clientId: idp.clients.console!.id, clientSecretFile: secretFile,
        redirectUrl: `${base}callback`, scopes: ['openid', 'git:push', 'git:review'], resource: 'urn:pushgate:api',
        attestations: ['I read every changed file', 'The change does not weaken CI'],
      });
    },
  });
  const browser = await launchChromium(t);
  const seen = newSeen();
  const rng = new Rng(16);
  const secrets = [gh(rng), gh(rng), gh(rng)];
  const agent = new SshUser(gateway, 'demo-agent').sign({ roles: ['agent'] });
  const alice = new SshUser(gateway, 'alice').sign({ roles: ['reviewer'] });
  const url = `ssh://git@127.0.0.1:${gateway.port}/team/app.git`;
  const work = join(gateway.dir, 'agent-work');
  const setup: Setup = { gateway, idp, base, browser, seen, secrets, agent, alice, work, url };

  // The pushes: a secret on main (parked), alice's own CI change, a hostile branch.
  t.equal(agent.git(['clone', '-q', url, work]).status, 0);
  agent.git(['checkout', '-q', '-b', 'main'], { cwd: work });
  writeFileSync(join(work, 'README.md'), '# app\n');
  agent.git(['add', '-A'], { cwd: work });
  agent.git(['commit', '-q', '-m', 'base'], { cwd: work });
  t.equal(agent.git(['push', '-q', 'origin', 'main'], { cwd: work }).status, 0, 'base push allowed');

  writeFileSync(join(work, 'deploy.env'), `REGION=eu\nMODE=prod\nGITHUB_TOKEN=${secrets[0]}\n`);
  agent.git(['add', '-A'], { cwd: work });
  agent.git(['commit', '-q', '-m', 'Add deploy settings'], { cwd: work });
  const tipA = agent.git(['rev-parse', 'HEAD'], { cwd: work }).stdout.trim();
  const pushedA = agent.git(['push', 'origin', 'main'], { cwd: work });
  const idA = parkedId(pushedA.stderr);

  const aliceWork = join(gateway.dir, 'alice-work');
  alice.git(['clone', '-q', url, aliceWork]);
  mkdirSync(join(aliceWork, '.github', 'workflows'), { recursive: true });
  writeFileSync(join(aliceWork, '.github', 'workflows', 'ci.yml'), 'on: push\n');
  alice.git(['add', '-A'], { cwd: aliceWork });
  alice.git(['-c', 'user.name=alice', '-c', 'user.email=alice@example.test', 'commit', '-q', '-m', 'CI'], { cwd: aliceWork });
  const idB = parkedId(alice.git(['push', 'origin', 'HEAD:main'], { cwd: aliceWork }).stderr);

  const hostileBranch = 'x<svg/onload=alert(1)>';
  agent.git(['checkout', '-q', '-b', hostileBranch, tipA + '~1'], { cwd: work });
  const hostileFile = '<img src=x onerror=alert(3)>.txt';
  writeFileSync(join(work, hostileFile), `<script>alert(4)</script>\nif (admin) { /* \u202e } \u2066 */ grant(); }\ntoken=${secrets[1]}\n`);
  agent.git(['add', '-A'], { cwd: work });
  agent.git(['commit', '-q', '-m', `<script>alert(2)</script> javascript:alert(5) <a href="javascript:alert(6)">x</a> \u202eevil ${secrets[2]}`], { cwd: work });
  const idC = parkedId(agent.git(['push', 'origin', hostileBranch], { cwd: work }).stderr);

  const waiting = runAsync('ssh', [...agent.sshOptions(), 'git@127.0.0.1', 'queue', 'wait', idA, '--timeout', '5m'], { env: process.env });

  const aliceContext = await browser.createBrowserContext();
  const alicePage = await login(aliceContext, setup, 'alice');

  await t.test('the queue lists the parked pushes, with findings and approvals', async (t) => {
    await alicePage.waitForSelector(`tr[data-id="${idA}"]`);
    const row = await alicePage.$eval(`tr[data-id="${idA}"]`, (el) => el.textContent ?? '');
    t.match(row, 'team/app');
    t.match(row, 'refs/heads/main');
    t.match(row, 'demo-agent');
    t.match(row, 'secret.github-token');
    t.match(row, '0/2');
    mkdirSync(DOCS_IMAGES, { recursive: true });
    await alicePage.setViewport({ width: 1280, height: 720 });
    await alicePage.screenshot({ path: join(DOCS_IMAGES, 'console-queue.png') });
  });

  await t.test('an entry shows the diff with the finding marked and the secret masked', async (t) => {
    await Promise.all([alicePage.waitForNavigation(), alicePage.click(`tr[data-id="${idA}"] a.entry-link`)]);
    await alicePage.waitForSelector('tr.pg-finding');
    const marked = await alicePage.$eval('tr.pg-finding', (el) => el.getAttribute('data-finding-line'));
    t.equal(marked, '3', 'the line of the finding is marked');
    const html = await alicePage.content();
    t.notOk(html.includes(secrets[0]!), 'the secret is not on the page');
    t.match(html, 'deploy.env');
    t.match(html, 'REGION=eu', 'the diff is there');
    const timeline = await alicePage.$eval('#timeline', (el) => el.textContent ?? '');
    t.match(timeline, 'park');
    await alicePage.setViewport({ width: 1280, height: 1400 });
    await alicePage.screenshot({ path: join(DOCS_IMAGES, 'console-entry.png'), fullPage: false });
  });

  await t.test('approve: every attestation must be ticked; a second approval by the same person is refused', async (t) => {
    // Without the boxes (the browser enforces `required`; the server checks too).
    const token = await alicePage.$eval('#approve-form input[name=csrf]', (el) => (el as unknown as { value: string }).value);
    const unticked = await alicePage.evaluate(async (action: string, csrf: string) => {
      const response = await fetch(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf }).toString() });
      return { url: response.url, body: await response.text() };
    }, await alicePage.$eval('#approve-form', (el) => (el as unknown as { action: string }).action), token);
    t.match(unticked.url, `/console/entry/${idA}`);
    t.match(unticked.body, 'tick every statement', 'refused without the attestations');

    for (const box of await alicePage.$$('#approve-form input[name=attest]')) await box.click();
    await alicePage.type('#approve-form textarea[name=comment]', 'read it <b>closely</b>');
    await Promise.all([alicePage.waitForNavigation(), alicePage.click('#approve')]);
    t.match(await flash(alicePage), 'approved (1/2)');
    for (const box of await alicePage.$$('#approve-form input[name=attest]')) await box.click();
    await Promise.all([alicePage.waitForNavigation(), alicePage.click('#approve')]);
    const second = await flash(alicePage);
    t.match(second, /refused/, `a second approval by alice is refused: ${second}`);
    t.match(await alicePage.$eval('#approvals', (el) => el.textContent ?? ''), '1/2');
  });

  await t.test('the pusher cannot approve its own push', async (t) => {
    const page = await watchedPage(aliceContext, seen);
    await page.goto(`${base}entry/${idB}?repo=team/app`);
    for (const box of await page.$$('#approve-form input[name=attest]')) await box.click();
    await Promise.all([page.waitForNavigation(), page.click('#approve')]);
    const message = await flash(page);
    t.match(message, /refused/, `own approval refused: ${message}`);
    t.match(await page.$eval('#approvals', (el) => el.textContent ?? ''), '0/2');
    await page.close();
  });

  await t.test('an agent\'s session cannot approve, not even its own push', async (t) => {
    const context = await browser.createBrowserContext();
    const page = await login(context, setup, 'demo-agent');
    await page.goto(`${base}entry/${idC}?repo=team/app`);
    for (const box of await page.$$('#approve-form input[name=attest]')) await box.click();
    await Promise.all([page.waitForNavigation(), page.click('#approve')]);
    t.match(await flash(page), /refused/);
    t.match(await page.$eval('#approvals', (el) => el.textContent ?? ''), '0/2');
    const other = await page.goto(`${base}entry/${idB}?repo=team/app`);
    t.equal(other?.status(), 404, 'another identity\'s entry does not exist for the agent');
    await context.close();
  });

  await t.test('a second reviewer approves: the push is applied and queue wait returns 0', async (t) => {
    const context = await browser.createBrowserContext();
    const page = await login(context, setup, 'bob');
    await page.goto(`${base}entry/${idA}?repo=team/app`);
    for (const box of await page.$$('#approve-form input[name=attest]')) await box.click();
    await Promise.all([page.waitForNavigation(), page.click('#approve')]);
    t.match(await flash(page), 'approved and applied (2/2)');
    const waited = await waiting;
    t.equal(waited.status, 0, `queue wait returns success: ${waited.stdout}${waited.stderr}`);
    t.equal(agent.git(['fetch', '-q', 'origin'], { cwd: work }).status, 0);
    t.equal(agent.git(['rev-parse', 'origin/main'], { cwd: work }).stdout.trim(), tipA, 'main moved to the approved commit');

    // The hostile entry: rendered inert, then rejected with a reason.
    await page.goto(`${base}entry/${idC}?repo=team/app`);
    await page.waitForSelector('#reject-form');
    const html = await page.content();
    t.notOk(html.includes('<svg/onload'), 'the branch name is escaped');
    t.notOk(html.includes('<img src=x'), 'the file name is escaped');
    t.notOk(html.includes('<script>alert'), 'the commit message is escaped');
    t.equal(await page.$$eval('a[href]', (els) => els.filter((a) => !/^https?:/.test((a as unknown as { href: string }).href)).length), 0, 'no javascript: (or other scheme) link');
    t.notOk(html.includes('\u202e'), 'no bidi override reaches the page');
    t.equal(await page.$$eval('script', (els) => els.filter((s) => (s as unknown as { src: string }).src !== `${(globalThis as unknown as { location: { origin: string } }).location.origin}/console/static/app.js`).length), 0, 'no script but the console\'s own');
    t.equal(await page.$$eval('*', (els) => els.filter((el) => [...el.getAttributeNames()].some((n) => n.startsWith('on'))).length), 0, 'no event handler attribute');
    t.equal(await page.$$eval('img, iframe, object, embed', (els) => els.length), 0, 'no element from a push');
    await page.click('#reject');
    t.ok(await page.$eval('#reject-form textarea', (el) => !(el as unknown as { checkValidity(): boolean }).checkValidity()), 'a reason is required');
    await page.type('#reject-form textarea[name=reason]', 'hostile names; secret in the message');
    await Promise.all([page.waitForNavigation(), page.click('#reject')]);
    t.match(await flash(page), 'rejected');
    t.match(await page.$eval('#entry-state', (el) => el.textContent ?? ''), 'rejected');
    const status = agent.ssh(['queue', 'status', idC]);
    t.match(status.stdout, 'rejected');
    await context.close();
  });

  await t.test('a cross-site POST is refused, with or without a token', async (t) => {
    const attacker = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<form id="f" method="post" action="${base}entry/${idB}/reject?repo=team/app"><input name="reason" value="csrf"><input name="csrf" value="guess"></form><button id="go" form="f">go</button>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => attacker.close(() => resolve())));
    const page = await watchedPage(aliceContext, newSeen());
    await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    const [answer] = await Promise.all([page.waitForNavigation(), page.click('#go')]);
    t.equal(answer?.status(), 403, 'refused');
    // From the console's own origin but without the token: refused as well.
    await page.goto(`${base}`);
    const noToken = await page.evaluate(async (action: string) => (await fetch(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'reason=x', redirect: 'manual' })).status, `${base}entry/${idB}/reject?repo=team/app`);
    t.equal(noToken, 403, 'no token, no decision');
    t.match(agent.ssh(['queue', 'status', idB]).stdout + alice.ssh(['queue', 'status', idB]).stdout, 'pending', 'the entry is untouched');
    await page.close();
  });

  await t.test('after logout the session cannot read an entry', async (t) => {
    const cookies = await aliceContext.cookies();
    const session = cookies.find((c) => c.name === 'pushgate_console');
    t.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    t.equal(session?.sameSite, 'Lax');
    await Promise.all([alicePage.waitForNavigation(), alicePage.click('header button[type=submit]')]);
    const direct = await fetch(`${base}entry/${idB}?repo=team/app`, { headers: { cookie: `pushgate_console=${session!.value}` }, redirect: 'manual' });
    t.equal(direct.status, 303, 'the old session id leads to the login page');
    t.equal(direct.headers.get('location'), '/console/login');
    const page = await watchedPage(aliceContext, seen);
    await page.goto(`${base}entry/${idB}?repo=team/app`);
    t.match(page.url(), /\/console\/login$|\/session\/end|127\.0\.0\.1/);
    t.notOk((await page.content()).includes('.github/workflows'), 'no entry content');
    const login = await gateway.waitForAudit((r) => r.type === 'console.login' && r.identity?.principal === 'alice', 60_000);
    t.equal(login.result, 'ok', 'the login is in the audit log, with who');
    const logout = await gateway.waitForAudit((r) => r.type === 'console.logout' && r.identity?.principal === 'alice', 60_000);
    t.equal(logout.result, 'ok', 'so is the logout');
  });

  await t.test('nothing a push carried did anything, and no secret reached the browser', async (t) => {
    t.same(seen.dialogs, [], 'no dialog opened');
    const allowed = new Set([new URL(base).origin, new URL(idp.issuer).origin]);
    t.same([...seen.origins].filter((o) => !allowed.has(o) && o !== 'null'), [], 'no request to another origin');
    t.ok(seen.bodies.length > 10, `responses recorded: ${seen.bodies.length}`);
    for (const secret of secrets) t.notOk(seen.bodies.some((b) => b.body.includes(secret)), 'no response carried the secret');
    const headers = await fetch(`${base}login`);
    const csp = headers.headers.get('content-security-policy') ?? '';
    t.match(csp, "frame-ancestors 'none'");
    t.match(csp, "script-src 'self'");
    t.notMatch(csp, 'unsafe-inline');
    t.comment(`console browser test ran ${Math.round((Date.now() - started) / 1000)}s`);
  });
});

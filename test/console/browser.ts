/**
 * Headless Chromium (Debian's package) driven by puppeteer-core, for the
 * console's browser tests: a fresh profile per launch, every response the
 * browser receives kept (to assert no secret ever reached it), every
 * request's origin, every dialog.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import type { DevIdp } from '../../src/dev/idp.js';
import { requireTool } from '../helpers/tools.js';

export interface Seen {
  /** url → body text of every response with a body. */
  bodies: { url: string; status: number; body: string }[];
  origins: Set<string>;
  dialogs: string[];
}

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchChromium(t: { teardown(fn: () => void | Promise<void>): void }): Promise<Browser> {
  const executablePath = requireTool('chromium', 'chromium');
  const profile = mkdtempSync(join(tmpdir(), 'pushgate-chromium-'));
  const browser = await puppeteer.launch({ executablePath, headless: true, args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`], userDataDir: profile, timeout: 120_000 });
  t.teardown(async () => {
    await browser.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  });
  return browser;
}

/** A page that records what it sees into `seen`. */
export async function watchedPage(context: BrowserContext | Browser, seen: Seen): Promise<Page> {
  const page = await context.newPage();
  // Waits bound a hang; on a loaded two-core machine an approval that forwards upstream can take seconds.
  page.setDefaultTimeout(90_000);
  page.setDefaultNavigationTimeout(90_000);
  page.on('dialog', (dialog) => {
    seen.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('request', (request) => {
    try {
      seen.origins.add(new URL(request.url()).origin);
    } catch {
      seen.origins.add(request.url().slice(0, 40));
    }
  });
  page.on('response', (response) => {
    const status = response.status();
    if (status >= 300 && status < 400) return;
    response.text().then((body) => seen.bodies.push({ url: response.url(), status, body }), () => undefined);
  });
  return page;
}

export function newSeen(): Seen {
  return { bodies: [], origins: new Set(), dialogs: [] };
}

function password(idp: DevIdp, user: string): string {
  return idp.accounts.find((a) => a.username === user)!.password;
}

/** Logs `user` in to the console at `setup.base` on the demo IdP's login page. */
export async function login(context: BrowserContext, setup: { base: string; idp: DevIdp; seen: Seen }, user: string): Promise<Page> {
  const page = await watchedPage(context, setup.seen);
  await page.goto(setup.base);
  await page.waitForSelector('#login');
  await page.click('#login');
  await page.waitForSelector('#username').catch(async (error: unknown) => {
    throw new Error(`no login form at ${page.url()}: ${(await page.content()).slice(0, 1500)} (${String(error)})`);
  });
  await page.type('#username', user);
  await page.type('#password', password(setup.idp, user));
  await page.click('#sign-in');
  await page.waitForSelector('#current-user').catch(async (error: unknown) => {
    throw new Error(`not logged in at ${page.url()}: ${(await page.content()).slice(0, 1500)} (${String(error)})`);
  });
  return page;
}

/**
 * The console's message after a form was sent. An approval forwards to the
 * upstream before the page answers, so the wait is long: it bounds a hang, it
 * does not time the console.
 */
export async function flash(page: Page): Promise<string> {
  await page.waitForSelector('#flash', { timeout: 60_000 }).catch(async (error: unknown) => {
    const html = await page.content();
    throw new Error(`no message at ${page.url()}: ${html.slice(html.indexOf('<main>'), html.indexOf('<main>') + 1500)} (${String(error)})`);
  });
  return page.$eval('#flash', (el) => el.textContent ?? '');
}

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
  const browser = await puppeteer.launch({ executablePath, headless: true, args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`], userDataDir: profile });
  t.teardown(async () => {
    await browser.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  });
  return browser;
}

/** A page that records what it sees into `seen`. */
export async function watchedPage(context: BrowserContext | Browser, seen: Seen): Promise<Page> {
  const page = await context.newPage();
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

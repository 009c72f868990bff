// The browser tests' driver: one headless Debian Chromium, driven with playwright-core, behind
// a JSON-lines protocol on standard input and output. Started once per test binary by
// `browser.rs`; every request names a browser context (one page each), and requests are
// served concurrently, so the tests of a binary share the browser and run in parallel.
//
//   request:  {"id": 7, "op": "goto", "ctx": "c1", "url": "http://127.0.0.1:4000/login"}
//   answer:   {"id": 7, "ok": {"status": 200}}   or   {"id": 7, "error": "…"}
//
// The first line written is {"ready": {"version": "156.0…"}} (or {"fatal": "…"}). When
// standard input closes (the test binary exited, whatever the reason) the browser is closed
// and the driver exits: no browser outlives its tests.
//
// Environment: CORDON_CHROMIUM (the browser binary), CORDON_BROWSER_NODE_MODULES (where
// scripts/test-env-browser.sh installed playwright-core and axe-core).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const modules = process.env.CORDON_BROWSER_NODE_MODULES;
const { chromium } = require(path.join(modules, 'playwright-core'));
const axeSource = fs.readFileSync(path.join(modules, 'axe-core', 'axe.min.js'), 'utf8');

// Debian's Chromium as a test browser: headless, no sandbox (the tests run as root), no GPU,
// and nothing that calls home (the machine's network is closed; those attempts only slow the
// start and fill the log). Playwright adds --headless and a fresh, throw-away --user-data-dir.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

// How long an action waits for its element before failing (Playwright's default is 30 s; a
// server on loopback answers in milliseconds, so a missing element should fail fast).
const ACTION_TIMEOUT_MS = 5000;

const contexts = new Map(); // ctx id -> { context, page, console: [] }
let nextContext = 1;
let browser;

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function entry(ctx) {
  const e = contexts.get(ctx);
  if (!e) throw new Error(`no browser context ${ctx} (closed already?)`);
  return e;
}

const ops = {
  async newContext({ locale, acceptLanguage }) {
    const options = { javaScriptEnabled: true };
    if (locale) options.locale = locale;
    if (acceptLanguage) options.extraHTTPHeaders = { 'Accept-Language': acceptLanguage };
    const context = await browser.newContext(options);
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS * 2);
    const page = await context.newPage();
    const e = { context, page, console: [] };
    // Console errors and uncaught exceptions: a CSP violation shows up here.
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      // The browser asks every site for /favicon.ico on its own; a 404 there is no page's fault.
      const where = m.location().url || '';
      if (new URL(where, 'http://x').pathname === '/favicon.ico') return;
      e.console.push(where ? `${m.text()} (${where})` : m.text());
    });
    page.on('pageerror', (err) => e.console.push(`uncaught: ${err.message}`));
    const id = `c${nextContext++}`;
    contexts.set(id, e);
    return { ctx: id };
  },

  async closeContext({ ctx }) {
    const e = contexts.get(ctx);
    if (e) {
      contexts.delete(ctx);
      await e.context.close();
    }
    return {};
  },

  // Holds back the page's requests whose path ends with `suffix` until `release` (a slow
  // network for one address: what a page does before its stream opens).
  // With `answers`, the request reaches the server at once and only its answer is held (a
  // slow answer).
  async hold({ ctx, suffix, answers }) {
    const e = entry(ctx);
    e.held = e.held || [];
    await e.context.route((u) => u.pathname.endsWith(suffix), async (route) => {
      if (e.released) return route.continue();
      if (!answers) { e.held.push(() => route.continue()); return; }
      const response = await route.fetch();
      if (e.released) return route.fulfill({ response });
      e.held.push(() => route.fulfill({ response }));
    });
    return {};
  },

  async release({ ctx }) {
    const e = entry(ctx);
    e.released = true;
    for (const go of e.held || []) await go();
    e.held = [];
    return {};
  },

  async goto({ ctx, url }) {
    const res = await entry(ctx).page.goto(url);
    return { status: res ? res.status() : null };
  },

  async fill({ ctx, label, name, value }) {
    const { page } = entry(ctx);
    const field = label !== undefined
      ? page.getByLabel(label, { exact: true })
      : page.locator(`[name="${cssString(name)}"]`);
    await field.fill(value);
    return {};
  },

  async select({ ctx, label, option }) {
    const { page } = entry(ctx);
    await page.getByLabel(label, { exact: true }).selectOption({ label: option });
    return {};
  },

  async click({ ctx, role, name, selector }) {
    const { page } = entry(ctx);
    const target = selector !== undefined
      ? page.locator(selector)
      : page.getByRole(role, { name, exact: true });
    await target.click();
    return {};
  },

  async press({ ctx, key }) {
    await entry(ctx).page.keyboard.press(key);
    return {};
  },

  async text({ ctx, selector }) {
    return { text: await entry(ctx).page.locator(selector).first().innerText() };
  },

  async texts({ ctx, selector }) {
    return { texts: await entry(ctx).page.locator(selector).allInnerTexts() };
  },

  async value({ ctx, selector }) {
    return { value: await entry(ctx).page.locator(selector).first().inputValue() };
  },

  async attribute({ ctx, selector, name }) {
    return { value: await entry(ctx).page.locator(selector).first().getAttribute(name) };
  },

  async count({ ctx, selector }) {
    return { count: await entry(ctx).page.locator(selector).count() };
  },

  async waitForText({ ctx, selector, text, timeoutMs }) {
    const started = performance.now();
    await entry(ctx)
      .page.locator(selector)
      .filter({ hasText: text })
      .first()
      .waitFor({ state: 'visible', timeout: timeoutMs });
    return { elapsedMs: performance.now() - started };
  },

  async url({ ctx }) {
    return { url: entry(ctx).page.url() };
  },

  async title({ ctx }) {
    return { title: await entry(ctx).page.title() };
  },

  async content({ ctx }) {
    return { html: await entry(ctx).page.content() };
  },

  async cookies({ ctx }) {
    return { cookies: await entry(ctx).context.cookies() };
  },

  async consoleErrors({ ctx }) {
    return { errors: entry(ctx).console.slice() };
  },

  // axe-core evaluated in the page through the DevTools protocol, which the page's
  // Content-Security-Policy does not govern, so the policy under test stays as served.
  async axe({ ctx }) {
    const { page } = entry(ctx);
    const loaded = await page.evaluate('typeof window.axe === "object"');
    if (!loaded) await page.evaluate(axeSource);
    const results = await page.evaluate(() =>
      window.axe.run(document, { resultTypes: ['violations'] }));
    return {
      violations: results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        targets: v.nodes.map((n) => n.target.join(' ')),
      })),
    };
  },

  async screenshot({ ctx, path: file }) {
    await entry(ctx).page.screenshot({ path: file, fullPage: true });
    return {};
  },
};

// A CSS attribute value in double quotes.
function cssString(s) {
  return String(s).replace(/["\\]/g, '\\$&');
}

async function serve(line) {
  let id = null;
  try {
    const req = JSON.parse(line);
    id = req.id;
    const op = ops[req.op];
    if (!op) throw new Error(`unknown op ${req.op}`);
    send({ id, ok: await op(req) });
  } catch (err) {
    send({ id, error: String((err && err.message) || err) });
  }
}

async function main() {
  try {
    browser = await chromium.launch({
      executablePath: process.env.CORDON_CHROMIUM,
      headless: true,
      args: ARGS,
    });
  } catch (err) {
    send({ fatal: String((err && err.message) || err) });
    process.exit(1);
  }
  send({ ready: { version: browser.version() } });
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    serve(line);
  });
  lines.on('close', async () => {
    await browser.close().catch(() => {});
    process.exit(0);
  });
}

main();

// What the console's end-to-end scenarios share: Debian's Chromium driven by
// playwright-core (never a downloaded browser), a network guard, steps that
// leave a screenshot and the page's HTML behind when they fail, and a runner
// that exits non-zero with a clear message on any failure.
//
//   const { scenario, step, screenshot } = require('./lib');
//   scenario('labels', async ({ page }) => {
//     await step('open the console', () => page.goto(process.env.SKYLINE_CONSOLE_URL));
//     await screenshot(page, 'labels');
//   });
//
// The guard: the console must work with no network, so every request whose
// host is not loopback (127.0.0.1, localhost, ::1) is aborted and fails the
// scenario. Uncaught page errors, console errors and failed requests are
// logged (to stderr); `pageErrors` holds the uncaught ones for assertions.
//
// Environment: SKYLINE_CHROMIUM (default /usr/bin/chromium),
// SKYLINE_SCREENSHOTS (a directory, created; default
// <workspace>/target/console-screenshots).
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these Chromium phones home at start; on a closed network the
  // refused connections slow it down and clutter the logs.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Requests the guard refused: `{ url, page }`. Any fails the scenario. */
const violations = [];
/** Contexts `launch` opened and nobody closed yet (closed on SIGTERM). */
const open = new Set();
/** Uncaught exceptions thrown in pages: `{ message, page }`. */
const pageErrors = [];
let currentPage = null;

function log(...parts) {
  console.error('e2e:', ...parts);
}

function screenshotsDir() {
  const dir =
    process.env.SKYLINE_SCREENSHOTS || path.resolve(__dirname, '..', '..', 'target', 'console-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function isLoopback(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
  return LOOPBACK.has(u.hostname);
}

function watchPage(page) {
  currentPage = page;
  page.on('close', () => {
    if (currentPage === page) currentPage = null;
  });
  page.on('pageerror', (err) => {
    pageErrors.push({ message: String(err && err.stack ? err.stack : err), page: page.url() });
    log(`page error on ${page.url()}: ${err && err.message ? err.message : err}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') log(`console error on ${page.url()}: ${msg.text()}`);
  });
  page.on('requestfailed', (req) => {
    const why = req.failure() ? req.failure().errorText : 'failed';
    log(`request failed: ${req.method()} ${req.url()} (${why})`);
  });
  page.on('websocket', (ws) => {
    if (!isLoopback(ws.url())) {
      violations.push({ url: ws.url(), page: page.url() });
      log(`off-host WebSocket (not allowed): ${ws.url()}`);
    }
  });
  page.on('crash', () => {
    violations.push({ url: '(the page crashed)', page: page.url() });
    log(`page crashed: ${page.url()}`);
  });
}

/**
 * Launches headless Chromium with a fresh temporary profile and returns its
 * (persistent) BrowserContext, guarded: `context.newPage()`, and
 * `context.close()` also removes the profile.
 */
async function launch(options = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skyline-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.SKYLINE_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 800 },
      ...options,
    });
  } catch (err) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  await context.route('**/*', (route) => {
    const req = route.request();
    if (isLoopback(req.url())) return route.continue();
    violations.push({ url: req.url(), page: req.frame() ? req.frame().url() : '' });
    log(`off-host request (not allowed): ${req.method()} ${req.url()}`);
    return route.abort('blockedbyclient');
  });
  context.pages().forEach(watchPage);
  context.on('page', watchPage);
  const close = context.close.bind(context);
  context.close = async (...a) => {
    open.delete(context);
    try {
      await close(...a);
    } finally {
      fs.rmSync(userDataDir, { recursive: true, force: true });
    }
  };
  open.add(context);
  return context;
}

function fileName(name) {
  return String(name)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Saves a full-page PNG `<name>.png` in SKYLINE_SCREENSHOTS; returns its path. */
async function screenshot(page, name) {
  const base = fileName(name).replace(/\.png$/i, '');
  const file = path.join(screenshotsDir(), `${base}.png`);
  await page.screenshot({ path: file, fullPage: true });
  // After a full-page capture Chromium (156, headless) keeps hit-testing
  // against the stretched capture layout, so the next click lands on the
  // wrong element. Resizing the viewport and back restores it.
  const size = page.viewportSize();
  if (size) {
    await page.setViewportSize({ width: size.width, height: size.height + 1 });
    await page.setViewportSize(size);
  }
  log(`screenshot ${file}`);
  return file;
}

function checkViolations() {
  if (violations.length) {
    const urls = [...new Set(violations.map((v) => v.url))];
    throw new Error(`requests to non-loopback hosts (the console must work with no network): ${urls.join(', ')}`);
  }
}

/**
 * Runs one named step: logs it, and when it throws (or a non-loopback
 * request happened during it) saves `failure-<step>.png` and
 * `failure-<step>.html` of the current page and rethrows with the step name.
 */
async function step(name, fn) {
  const started = Date.now();
  log(`step: ${name}`);
  try {
    const result = await fn();
    checkViolations();
    log(`  ok (${Date.now() - started} ms)`);
    return result;
  } catch (err) {
    const page = currentPage;
    const saved = [];
    if (page && !page.isClosed()) {
      const base = `failure-${fileName(name)}`;
      try {
        saved.push(await screenshot(page, base));
      } catch (e) {
        log(`  (no screenshot: ${e.message})`);
      }
      try {
        const file = path.join(screenshotsDir(), `${base}.html`);
        fs.writeFileSync(file, await page.content());
        saved.push(file);
      } catch (e) {
        log(`  (no HTML: ${e.message})`);
      }
    }
    const message = err && err.message ? err.message : String(err);
    const wrapped = new Error(
      `step "${name}" failed: ${message}` + (saved.length ? `\n  saved: ${saved.join(', ')}` : ''),
      { cause: err },
    );
    wrapped.stepFailure = true;
    throw wrapped;
  }
}

/**
 * Runs a scenario: launches the browser, opens a page, runs `fn({ context,
 * page })`, closes the browser; on any failure prints `e2e <name>: FAILED:
 * ...` and exits with status 1.
 */
async function scenario(name, fn) {
  const started = Date.now();
  let context;
  let failed = null;
  try {
    context = await launch();
    const page = context.pages()[0] || (await context.newPage());
    await fn({ context, page });
    checkViolations();
  } catch (err) {
    failed = err;
  }
  if (context) {
    try {
      await context.close();
    } catch (err) {
      log(`closing the browser: ${err.message}`);
    }
  }
  if (failed) {
    const detail = failed.stepFailure ? failed.message : (failed && failed.stack) || String(failed);
    console.error(`e2e ${name}: FAILED: ${detail}`);
    process.exit(1);
  }
  console.error(`e2e ${name}: ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

// Killed from outside (the Rust harness's timeout sends SIGTERM first): close
// the browsers, remove their profiles, and say so.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    console.error(`e2e: FAILED: terminated by ${signal}`);
    const closing = [...open].map((c) => c.close().catch(() => {}));
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 3000))]);
    process.exit(1);
  });
}

process.on('unhandledRejection', (err) => {
  console.error(`e2e: FAILED: unhandled rejection: ${(err && err.stack) || err}`);
  process.exit(1);
});

/** How many drawn series (polylines of more than 20 points) `scope` holds;
 * the axes and the mean/3-sigma lines are polylines of two points. */
async function seriesLines(scope) {
  return scope.locator('.graph svg polyline').evaluateAll((lines) =>
    lines.filter((l) => (l.getAttribute('points') || '').trim().split(/\s+/).length > 20).length,
  );
}

/** Reloads `page` until `selector` is on it, for `seconds` at most. */
async function reloadUntil(page, selector, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await page.locator(selector).count()) return;
    if (Date.now() > deadline) throw new Error(`${selector} did not appear within ${seconds} s`);
    await page.waitForTimeout(500);
    await page.reload();
  }
}

/** Logs in through the login form at `base` and waits for the anomalies. */
async function logIn(page, base, user, password) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await page.click('#login button[type=submit]');
  await page.waitForURL(/\/anomalies$/);
}

module.exports = {
  launch, screenshot, screenshotsDir, step, scenario, seriesLines, reloadUntil, logIn, pageErrors, violations, isLoopback, ARGS,
};

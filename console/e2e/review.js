// Later: the operator sees that a similar anomaly was deflected, reviews
// the profile's matches, and disables the profile (with its learnt
// progeny). SKYLINE_PROFILE is the profile's path (/profiles/<id>).
// Saves deflected.png, matches.png and disabled.png.
'use strict';

const { scenario, step, screenshot, seriesLines, logIn, pageErrors } = require('./lib');

const base = process.env.SKYLINE_CONSOLE_URL;
const user = process.env.SKYLINE_USER;
const password = process.env.SKYLINE_PASSWORD;
const profile = process.env.SKYLINE_PROFILE;

scenario('review', async ({ page }) => {
  await step('log in', () => logIn(page, base, user, password));

  await step('a later similar anomaly shows as deflected', async () => {
    const deflected = page.locator('tr[data-anomaly] .state.deflected_by_profile, tr[data-anomaly] .state.deflected_by_layer, tr[data-anomaly] .state.motif');
    const deadline = Date.now() + 90_000;
    while (!(await deflected.count())) {
      if (Date.now() > deadline) throw new Error('no anomaly shows as deflected');
      await page.waitForTimeout(1000);
      await page.reload();
    }
    await screenshot(page, 'deflected');
    // The filter finds the same ones.
    await page.selectOption('select[name=state]', 'deflected_by_profile');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/state=deflected_by_profile/);
    if (!(await page.locator('tr[data-anomaly]').count())) throw new Error('the state filter lists no deflected anomaly');
  });

  await step('the matches page shows both series', async () => {
    await page.goto(`${base}/matches?matched=1`);
    const first = page.locator('article.match-row').first();
    await first.waitFor();
    if ((await seriesLines(first)) !== 2) throw new Error('a match does not show both series');
    await screenshot(page, 'matches');
  });

  await step('disable the profile, warned about its progeny', async () => {
    await page.goto(`${base}${profile}`);
    await page.locator('p.warning', { hasText: 'descendant' }).waitFor();
    let warned = '';
    page.once('dialog', async (d) => {
      warned = d.message();
      await d.accept();
    });
    await page.click('#disable');
    await page.waitForURL(/done=disabled/);
    if (!/descendant/.test(warned)) throw new Error(`the confirmation did not mention the descendants: ${JSON.stringify(warned)}`);
  });

  await step('the profile shows as disabled', async () => {
    const deadline = Date.now() + 60_000;
    while (!(await page.locator('dl.facts .flag.disabled').count())) {
      if (Date.now() > deadline) throw new Error('the profile never shows as disabled');
      await page.waitForTimeout(1000);
      await page.goto(`${base}${profile}`);
    }
    await screenshot(page, 'disabled');
  });

  await step('no page errors', async () => {
    if (pageErrors.length) throw new Error(`uncaught page errors: ${pageErrors.map((e) => e.message).join('; ')}`);
  });
});

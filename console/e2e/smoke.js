// The harness end to end (console/tests/browser_smoke.rs serves the page):
// open SKYLINE_SMOKE_URL, fill the form, click, see the text change, take
// smoke.png.
'use strict';

const { scenario, step, screenshot, pageErrors } = require('./lib');

scenario('smoke', async ({ page }) => {
  const url = process.env.SKYLINE_SMOKE_URL;
  if (!url) throw new Error('SKYLINE_SMOKE_URL is not set');

  await step('open the page', async () => {
    await page.goto(url);
    await page.locator('#status').waitFor();
    const text = await page.locator('#status').textContent();
    if (text !== 'waiting') throw new Error(`#status reads ${JSON.stringify(text)} before the click`);
  });

  await step('fill the form and click', async () => {
    await page.fill('#name', 'skyline');
    await page.click('#go');
  });

  await step('the text changed', async () => {
    await page.waitForFunction(
      () => document.querySelector('#status').textContent === 'hello, skyline',
      null,
      { timeout: 10_000 },
    );
  });

  await step('no page errors', async () => {
    if (pageErrors.length) throw new Error(`uncaught page errors: ${pageErrors.map((e) => e.message).join('; ')}`);
  });

  await screenshot(page, 'smoke');
});

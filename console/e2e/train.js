// An operator trains skyline (tests/console_e2e.rs runs the services):
// log in, open the anomaly SKYLINE_ANOMALY from the list, see its graph and
// the last datapoints, fill an E layer, submit "Not anomalous and LEARN"
// and see the profile appear on the training page, then open it.
// Saves anomalies.png, training.png and profile.png.
'use strict';

const { scenario, step, screenshot, seriesLines, reloadUntil, pageErrors } = require('./lib');

const base = process.env.SKYLINE_CONSOLE_URL;
const anomaly = process.env.SKYLINE_ANOMALY;
const user = process.env.SKYLINE_USER;
const password = process.env.SKYLINE_PASSWORD;

scenario('train', async ({ page }) => {
  for (const [k, v] of Object.entries({ SKYLINE_CONSOLE_URL: base, SKYLINE_ANOMALY: anomaly, SKYLINE_USER: user, SKYLINE_PASSWORD: password })) {
    if (!v) throw new Error(`${k} is not set`);
  }

  await step('an anonymous visitor is sent to the login page', async () => {
    await page.goto(`${base}/anomalies`);
    await page.waitForURL(/\/login\?next=/);
  });

  await step('a wrong password is refused', async () => {
    await page.fill('input[name=username]', user);
    await page.fill('input[name=password]', 'not the password');
    await page.click('#login button[type=submit]');
    await page.locator('p.error', { hasText: 'Wrong name or password' }).waitFor();
  });

  await step('log in', async () => {
    await page.fill('input[name=username]', user);
    await page.fill('input[name=password]', password);
    await page.click('#login button[type=submit]');
    await page.waitForURL(/\/anomalies$/);
    await page.locator('header .user', { hasText: user }).waitFor();
  });

  await step('the anomaly is listed', async () => {
    await page.locator(`tr[data-anomaly="${anomaly}"]`).waitFor();
    await screenshot(page, 'anomalies');
  });

  await step('open its training page and see the graph', async () => {
    await page.click(`tr[data-anomaly="${anomaly}"] td.metric a`);
    await page.waitForURL(new RegExp(`/anomalies/${anomaly}$`));
    const graph = page.locator('#judged .graph svg');
    await graph.waitFor();
    if ((await seriesLines(page.locator('#judged'))) !== 1) throw new Error('the judged series is not drawn');
    if ((await seriesLines(page.locator('#longer'))) !== 4) throw new Error('the 7h, 24h, 7d and 30d graphs are not drawn');
    if ((await graph.locator('circle').count()) !== 1) throw new Error('the anomalous datapoint is not marked once');
    const rows = await page.locator('#last-datapoints tbody tr').count();
    if (rows !== 30) throw new Error(`the layers form shows ${rows} datapoints, not the last 30`);
    const fired = await page.locator('#algorithms li.fired').count();
    if (fired < 1) throw new Error('no algorithm shows as triggered');
  });

  await step('the layers are checked before submit', async () => {
    await page.check('input[name=layers]');
    await page.fill('input[name=d_boundary]', '1000');
    await page.fill('input[name=e_boundary]', '100');
    await page.fill('input[name=e_times]', '0');
    const before = page.url();
    await page.click('button[value=learn]');
    // The browser's own check (min=1) or ours stops it: still here, nothing sent.
    await page.waitForTimeout(500);
    if (page.url() !== before) throw new Error('a times_in_row of 0 was submitted');
  });

  await step('submit "Not anomalous and LEARN" with an E layer', async () => {
    await page.fill('input[name=description]', 'e2e: the evening dip');
    await page.selectOption('select[name=d_condition]', '>');
    await page.selectOption('select[name=e_condition]', '<=');
    await page.fill('input[name=e_times]', '5');
    await screenshot(page, 'training');
    await page.click('button[value=learn]');
    await page.waitForURL(/labelled=/);
    await page.locator('p.notice', { hasText: 'Label saved' }).waitFor();
  });

  let profileHref;
  await step('the profile appears on the training page', async () => {
    await reloadUntil(page, '#resulting-profile a', 90);
    profileHref = await page.locator('#resulting-profile a').first().getAttribute('href');
  });

  await step('open the profile', async () => {
    await page.goto(`${base}${profileHref}`);
    if ((await seriesLines(page)) < 1) throw new Error("the profile's series is not drawn");
    await page.locator('dd', { hasText: 'e2e: the evening dip' }).waitFor();
    await page.locator('span.layers', { hasText: 'E: expected when any of the last 5 values <= 100' }).waitFor();
    await screenshot(page, 'profile');
  });

  await step('no page errors', async () => {
    if (pageErrors.length) throw new Error(`uncaught page errors: ${pageErrors.map((e) => e.message).join('; ')}`);
  });
  console.log(`profile ${profileHref}`);
});

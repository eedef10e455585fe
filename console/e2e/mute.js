// Mutes in the browser (console/tests/browser_mutes.rs serves them): the
// anomaly page shows each alerter's delivery outcome; an operator mutes the
// metric from the anomaly page's Mute form (pattern prefilled), sees the
// page say the metric is muted once the mute is folded, finds it on the
// mutes page and ends it with Unmute (confirming the dialog). Then the
// metrics page's "Mute…" opens a form prefilled with the metric.
// SKYLINE_ANOMALY, SKYLINE_METRIC. Saves mute-anomaly-alerts.png,
// mute-muted.png, mute-mutes-page.png, mute-unmuted.png, mute-metrics.png.
'use strict';

const { scenario, step, screenshot, reloadUntil, logIn } = require('./lib');

const base = process.env.SKYLINE_CONSOLE_URL;
const anomaly = process.env.SKYLINE_ANOMALY;
const metric = process.env.SKYLINE_METRIC;
const user = process.env.SKYLINE_USER;
const password = process.env.SKYLINE_PASSWORD;

scenario('mute', async ({ page }) => {
  for (const [k, v] of Object.entries({ SKYLINE_CONSOLE_URL: base, SKYLINE_ANOMALY: anomaly, SKYLINE_METRIC: metric, SKYLINE_USER: user, SKYLINE_PASSWORD: password })) {
    if (!v) throw new Error(`${k} is not set`);
  }
  page.on('dialog', (d) => d.accept());

  await step('log in', () => logIn(page, base, user, password));

  await step('the anomaly page shows each alerter\'s delivery outcome', async () => {
    await page.goto(`${base}/anomalies/${anomaly}`);
    const rows = await page.locator('#deliveries tbody tr').evaluateAll((trs) =>
      trs.map((tr) => `${tr.dataset.alerter}:${tr.dataset.outcome}:${tr.querySelector('td.num').textContent}`));
    if (rows.join(' ') !== 'ops-hook:delivered:3 ops-mail:gave_up:1') throw new Error(`delivery rows: ${rows.join(' ')}`);
    await page.locator('#alerts').scrollIntoViewIfNeeded();
    await screenshot(page, 'mute-anomaly-alerts');
  });

  await step('mute the metric from the anomaly page', async () => {
    const form = page.locator('#alerts form.mute');
    const pattern = await form.locator('input[name=pattern]').inputValue();
    if (pattern !== metric) throw new Error(`the pattern is prefilled with ${JSON.stringify(pattern)}`);
    await form.locator('input[name=duration]').fill('3h');
    await form.locator('input[name=reason]').fill('replacing the disk');
    await form.locator('button[type=submit]').click();
    await page.waitForURL(/\/anomalies\/[^?]+\?muted=/);
    await page.locator('p.notice[role=status]').waitFor();
    await reloadUntil(page, '#muted-by', 30);
    const said = await page.locator('#muted-by').textContent();
    if (!said.includes('replacing the disk')) throw new Error(`the page says: ${said}`);
    await screenshot(page, 'mute-muted');
  });

  await step('the mutes page lists it; Unmute ends it', async () => {
    await page.click('header.top nav a[href="/mutes"]');
    await page.waitForURL(/\/mutes$/);
    const row = page.locator('#active-mutes tbody tr');
    if ((await row.count()) !== 1) throw new Error(`${await row.count()} mutes in force`);
    await screenshot(page, 'mute-mutes-page');
    await row.locator('button', { hasText: 'Unmute' }).click();
    await page.waitForURL(/\/mutes\?unmuted=/);
    await reloadUntil(page, '#ended-mutes tbody tr', 30);
    const ended = await page.locator('#ended-mutes tbody tr').first().textContent();
    if (!ended.includes(`unmuted by ${user}`)) throw new Error(`the ended mute reads: ${ended}`);
    await screenshot(page, 'mute-unmuted');
  });

  await step('the metrics page offers a Mute form prefilled with the metric', async () => {
    await page.goto(`${base}/metrics`);
    const row = page.locator(`tr[data-metric="${metric}"]`);
    await row.locator('details.mute summary').click();
    const pattern = await row.locator('input[name=pattern]').inputValue();
    if (pattern !== metric) throw new Error(`the pattern is prefilled with ${JSON.stringify(pattern)}`);
    await screenshot(page, 'mute-metrics');
  });
});

// The training page of an anomaly a week older than its metric's newest
// data (console/tests/browser_training.rs serves it): its four graphs
// (7 h, 24 h, 7 d, 30 d) contain and mark the anomaly, with axis text of at
// least 11 px, time labels and the unit; the "now" link moves them to the
// newest data. Then an operator labels it "Not anomalous" WITHOUT layers
// and sees the profile appear, and labels a second anomaly with layers
// (LEARN) and sees that profile appear too.
// SKYLINE_ANOMALY (a week old), SKYLINE_ANOMALY_LAYERS (the second),
// SKYLINE_UNIT (the unit the axis must name). Saves training-week-old.png
// (and its graphs alone, training-week-old-graphs.png), training-now.png,
// labelled-without-layers.png and learn-profile.png.
'use strict';

const { scenario, step, screenshot, screenshotsDir, seriesLines, reloadUntil, logIn, pageErrors } = require('./lib');

const base = process.env.SKYLINE_CONSOLE_URL;
const anomaly = process.env.SKYLINE_ANOMALY;
const withLayers = process.env.SKYLINE_ANOMALY_LAYERS;
const unit = process.env.SKYLINE_UNIT;
const user = process.env.SKYLINE_USER;
const password = process.env.SKYLINE_PASSWORD;

/**
 * What each graph of `scope` shows: its duration, the x extent of its
 * drawn series, where its mark is, the smallest axis text as rendered (its
 * font size times the SVG's on-screen scale) and its texts.
 */
async function graphs(scope) {
  return scope.locator('figure[data-duration]').evaluateAll((figures) =>
    figures.map((f) => {
      const svg = f.querySelector('.graph svg');
      const scale = svg.getBoundingClientRect().width / Number(svg.getAttribute('width'));
      const xs = [];
      for (const line of svg.querySelectorAll('polyline')) {
        const points = (line.getAttribute('points') || '').trim().split(/\s+/);
        if (points.length > 20) for (const p of points) xs.push(Number(p.split(',')[0]));
      }
      const dots = [...svg.querySelectorAll('circle')].map((c) => Number(c.getAttribute('cx')));
      const texts = [...svg.querySelectorAll('text')];
      const sizes = texts.map((t) => parseFloat(t.getAttribute('font-size') || getComputedStyle(t).fontSize) * scale);
      return {
        duration: f.dataset.duration,
        caption: f.querySelector('figcaption').textContent,
        first: Math.min(...xs),
        last: Math.max(...xs),
        dots,
        smallest: Math.min(...sizes),
        texts: texts.map((t) => t.textContent.trim()),
      };
    }),
  );
}

scenario('label', async ({ page }) => {
  for (const [k, v] of Object.entries({ SKYLINE_CONSOLE_URL: base, SKYLINE_ANOMALY: anomaly, SKYLINE_ANOMALY_LAYERS: withLayers, SKYLINE_UNIT: unit, SKYLINE_USER: user, SKYLINE_PASSWORD: password })) {
    if (!v) throw new Error(`${k} is not set`);
  }

  await step('log in', () => logIn(page, base, user, password));

  await step('the four graphs of a week-old anomaly contain and mark it', async () => {
    await page.goto(`${base}/anomalies/${anomaly}`);
    const shown = await graphs(page.locator('#longer'));
    const durations = shown.map((g) => g.duration).join(' ');
    if (durations !== '7h 24h 7d 30d') throw new Error(`the graphs are ${durations}`);
    for (const g of shown) {
      if (g.dots.length !== 1) throw new Error(`${g.duration}: ${g.dots.length} marks, not 1 (${g.caption})`);
      const at = g.dots[0];
      // Contains it: drawn data on both sides for the centred graphs, up
      // to it for the ones ending at it (1 px for rounding).
      const centred = /centred on the anomaly/.test(g.caption);
      if (!(g.first < at && at <= g.last + 1)) throw new Error(`${g.duration}: the mark at x=${at} is outside the data (${g.first}..${g.last})`);
      if (centred && !(g.last > at + 20)) throw new Error(`${g.duration}: nothing drawn after the anomaly (${g.caption})`);
      if (!centred && !/ending at the anomaly/.test(g.caption)) throw new Error(`${g.duration}: ${g.caption}`);
      if (g.smallest < 11) throw new Error(`${g.duration}: axis text of ${g.smallest.toFixed(1)} px`);
      if (!g.texts.includes(unit)) throw new Error(`${g.duration}: no "${unit}" on the value axis: ${g.texts.join('|')}`);
      if (!g.texts.some((t) => /^(\d\d:\d\d|\d\d-\d\d( \d\d:\d\d)?)$/.test(t))) throw new Error(`${g.duration}: no time labels: ${g.texts.join('|')}`);
    }
    const judged = await page.locator('#judged .graph svg').evaluate((svg) => {
      const scale = svg.getBoundingClientRect().width / Number(svg.getAttribute('width'));
      return Math.min(...[...svg.querySelectorAll('text')].map((t) => parseFloat(t.getAttribute('font-size')) * scale));
    });
    if (judged < 11) throw new Error(`the judged graph's axis text is ${judged.toFixed(1)} px`);
    if ((await seriesLines(page.locator('#judged'))) !== 1) throw new Error('the judged series is not drawn');
    await screenshot(page, 'training-week-old');
    // The four graphs alone, at full size.
    await page.locator('#longer').screenshot({ path: `${screenshotsDir()}/training-week-old-graphs.png` });
  });

  await step('"now" moves the graphs to the newest data and back', async () => {
    await page.click('#graphs-now');
    await page.waitForURL(/graphs=now/);
    const now = await graphs(page.locator('#longer'));
    if (!now.every((g) => /ending at the newest data/.test(g.caption))) throw new Error(`captions: ${now.map((g) => g.caption).join(' | ')}`);
    // More than a week back, the anomaly is in the 30 d graph only.
    const marked = now.filter((g) => g.dots.length).map((g) => g.duration).join(' ');
    if (marked !== '30d') throw new Error(`now, the anomaly is marked on: ${marked}`);
    await screenshot(page, 'training-now');
    await page.click('#graphs-anomaly');
    await page.waitForURL(new RegExp(`/anomalies/${anomaly}$`));
  });

  await step('without "With layers", the layer inputs are neither required nor enabled', async () => {
    if (await page.isChecked('input[name=layers]')) throw new Error('"With layers" starts ticked');
    for (const name of ['d_boundary', 'e_boundary', 'e_times']) {
      const input = page.locator(`input[name=${name}]`);
      if (await input.evaluate((i) => i.required)) throw new Error(`${name} is required without layers`);
      if (await input.isEnabled()) throw new Error(`${name} is enabled without layers`);
    }
  });

  await step('label "Not anomalous" without layers: the profile appears', async () => {
    await page.fill('input[name=description]', 'e2e: no layers');
    await page.click('button[value=not_anomalous]');
    await page.waitForURL(/labelled=/);
    await page.locator('p.notice', { hasText: 'Label saved' }).waitFor();
    // The projections fold the label and the profile table by table.
    await reloadUntil(page, '#resulting-profile a', 60);
    await reloadUntil(page, '#labels li', 30);
    await page.locator('#labels li', { hasText: 'not anomalous' }).waitFor();
    if (await page.locator('#labels li', { hasText: 'with layers' }).count()) throw new Error('the label has layers');
    await screenshot(page, 'labelled-without-layers');
  });

  await step('with "With layers" ticked, the layer inputs are required, checked and sent', async () => {
    await page.goto(`${base}/anomalies/${withLayers}`);
    await page.check('input[name=layers]');
    for (const name of ['d_boundary', 'e_boundary', 'e_times']) {
      const input = page.locator(`input[name=${name}]`);
      if (!(await input.evaluate((i) => i.required))) throw new Error(`${name} is not required with layers`);
    }
    // Empty boundaries: the browser refuses the form.
    const before = page.url();
    await page.click('button[value=learn]');
    await page.waitForTimeout(300);
    if (page.url() !== before) throw new Error('a layers form without boundaries was submitted');
    await page.fill('input[name=d_boundary]', '1000');
    await page.fill('input[name=e_boundary]', '100');
    await page.fill('input[name=e_times]', '5');
    await page.click('button[value=learn]');
    await page.waitForURL(/labelled=/);
    await reloadUntil(page, '#resulting-profile a', 60);
    await reloadUntil(page, '#labels li', 30);
    await page.locator('#labels li', { hasText: 'with layers' }).waitFor();
  });

  await step('the LEARN profile says when, and from what, it learns', async () => {
    await page.click('#resulting-profile a');
    await page.waitForURL(/\/profiles\//);
    const learning = await page.locator('#learning').textContent();
    if (!/Learning at 30 d — (waits until|due since) \d{4}-\d\d-\d\d/.test(learning)) throw new Error(`#learning reads ${JSON.stringify(learning)}`);
    // The metric's 14 days cannot give the 30 days before the anomaly.
    if (!/will skip it/.test(learning)) throw new Error(`#learning reads ${JSON.stringify(learning)}`);
    await screenshot(page, 'learn-profile');
  });

  await step('no page errors', async () => {
    if (pageErrors.length) throw new Error(`uncaught page errors: ${pageErrors.map((e) => e.message).join('; ')}`);
  });
});

/**
 * The HTML report in a real browser: headless Chromium (Debian's `chromium`, or CHROMIUM=path)
 * driven by playwright-core. No request leaves the page, no console error, every address lspci
 * printed is in the DOM, a click opens a fix ladder, the target switch recolours the verdicts,
 * and axe-core finds no serious or critical accessibility violation. A screenshot of each page
 * goes to $ASSIGNABLE_ARTIFACTS (default: a temporary directory). Skips when Chromium is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, fixture } from './helpers.js';
import { DL380E, HOSTILE, P6T6, hostileInputs, htmlOf, lspciAddresses } from './html-inputs.js';

// The page's own globals, for the functions page.evaluate runs there (the tests compile without the DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare function getComputedStyle(e: any): { fill: string };

const CHROMIUM = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => p !== undefined && p !== '' && existsSync(p));
const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

const artifacts = process.env.ASSIGNABLE_ARTIFACTS ? (mkdirSync(process.env.ASSIGNABLE_ARTIFACTS, { recursive: true }), process.env.ASSIGNABLE_ARTIFACTS) : mkdtempSync(join(tmpdir(), 'assignable-artifacts-'));

interface Opened {
  page: Page;
  requests: string[];
  errors: string[];
}

describe('the HTML report in headless Chromium', { skip: CHROMIUM ? false : 'no Chromium (apt-get install chromium, or set CHROMIUM=path)', timeout: 300_000 }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  });
  after(async () => {
    await browser?.close();
  });

  async function open(html: string): Promise<Opened> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    // Any request at all (http, https, file, ws…) is recorded and refused.
    await context.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setContent(html, { waitUntil: 'load' });
    return { page, requests, errors };
  }

  for (const [name, args, lspciFile, shot] of [
    ['DL380e Gen8 example', DL380E, join(ROOT, 'examples/hp-proliant-dl380e-gen8/lspci-vvnn.txt'), 'html-report-dl380e-gen8.png'],
    ['pciutils dump (ASUS P6T6)', P6T6, fixture('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt'), 'html-report-asus-p6t6.png'],
  ] as const) {
    it(`${name}: no request, no console error, every address, a fix ladder on click, colours per target, no serious axe violation`, async () => {
      const { page, requests, errors } = await open(await htmlOf([...args]));
      try {
        // Every function lspci printed is in the DOM: its section and its node in the picture.
        // Counted in the page in one evaluation, not one round trip to the browser per selector.
        const addresses = lspciAddresses(lspciFile);
        const counts = await page.evaluate((ids: string[]) => ids.map((id) => [document.querySelectorAll(`details[id="${id}"]`).length, document.querySelectorAll(`svg a[href="#${id}"]`).length]), addresses.map((a) => `dev-${a.replace(/[:.]/g, '-')}`));
        assert.ok(addresses.length > 0);
        for (const [i, a] of addresses.entries()) {
          assert.equal(counts[i]![0], 1, a);
          assert.equal(counts[i]![1], 1, a);
        }

        // A click on a device opens its fix ladder (and script is not needed for it: <details>).
        const withLadder = page.locator('details.dev:has(ol.ladder)').first();
        const ladder = withLadder.locator('ol.ladder').first();
        assert.equal(await ladder.isVisible(), false, 'closed at first');
        await withLadder.locator('summary').click();
        assert.equal(await ladder.isVisible(), true, 'open after the click');

        // The target switch: a device whose vfio and dda verdicts differ changes colour.
        const node = page.locator('svg a.node:not([data-vfio="bridge"])').filter({ has: page.locator('rect.vc') });
        const differing = await page.evaluate(() => {
          const n = [...document.querySelectorAll('svg a.node')].find((e) => e.getAttribute('data-vfio') !== e.getAttribute('data-dda') || e.getAttribute('data-vfio') !== e.getAttribute('data-esxi'));
          return n ? n.getAttribute('href') : null;
        });
        assert.ok((await node.count()) > 0);
        if (differing === null) assert.fail('no device whose verdict differs between targets');
        const fill = () => page.evaluate((href) => getComputedStyle(document.querySelector(`svg a[href="${href}"] rect.vc`)!).fill, differing);
        const attrs = await page.evaluate((href) => Object.fromEntries(['vfio', 'dda', 'esxi'].map((t) => [t, document.querySelector(`svg a[href="${href}"]`)!.getAttribute(`data-${t}`)])), differing);
        const seen: Record<string, string> = {};
        for (const t of ['vfio', 'dda', 'esxi']) {
          await page.locator(`label[for="tgt-${t}"]`).click();
          assert.equal(await page.locator(`#tgt-${t}`).isChecked(), true);
          seen[t] = await fill();
        }
        // Same verdict, same colour; different verdict, different colour.
        for (const a of ['vfio', 'dda', 'esxi']) for (const b of ['vfio', 'dda', 'esxi']) assert.equal(seen[a] === seen[b], attrs[a] === attrs[b], `${differing}: ${JSON.stringify(attrs)} → ${JSON.stringify(seen)}`);
        await page.locator('label[for="tgt-vfio"]').click();

        // axe-core, injected through the DevTools protocol (the page's CSP allows no other script).
        await page.evaluate(axeSource);
        const result = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(o: unknown): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
          const r = await axe.run({ resultTypes: ['violations'] });
          return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, first: JSON.stringify(v.nodes[0]?.target) }));
        });
        const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));

        const path = join(artifacts, shot);
        await page.screenshot({ path, fullPage: true });
        console.log(`# screenshot: ${path}`);

        assert.deepEqual(requests, [], 'no request leaves the page');
        assert.deepEqual(errors, [], 'no console error');
      } finally {
        await page.context().close();
      }
    });
  }

  it('hostile names: no element is injected, no handler runs, the text shows as written', async () => {
    const { page, requests, errors } = await open(await htmlOf(hostileInputs()));
    try {
      assert.equal(await page.locator('img').count(), 0);
      assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
      const summary = await page.locator('details[id="dev-0000-02-00-0"] > summary').textContent();
      assert.ok(summary?.includes(HOSTILE), summary ?? '');
      const json = await page.evaluate(() => JSON.parse(document.getElementById('survey-json')!.textContent!) as { devices: Array<{ address: string; name: string }> });
      assert.equal(json.devices.find((d) => d.address === '0000:02:00.0')!.name, HOSTILE);
      assert.deepEqual(requests, []);
      assert.deepEqual(errors, []);
    } finally {
      await page.context().close();
    }
  });
});

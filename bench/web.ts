// The web page's budget: bytes transferred on a first load (compressed, empty cache) and the time until live
// printer state is on screen, in headless Chromium with its CPU slowed 4× (roughly a mid-range phone).
import { launchBrowser, watchErrors } from '../test/helpers/browser.js';
import { startServe } from './serve-process.js';

export interface WebBench {
  transferredKb: number;
  requests: number;
  interactiveMs: number;
  interactiveThrottledMs: number;
}

export async function benchWeb(dir: string): Promise<WebBench> {
  const serve = await startServe(dir, ['--serial', 'virtual', '--camera', 'testsrc']);
  const browser = await launchBrowser();
  try {
    const setup = await browser.newContext();
    const res = await setup.request.post(`${serve.url}/api/gantry/setup`, { data: { name: 'bench', password: 'bench-password' } });
    if (!res.ok()) throw new Error(`setup failed: ${res.status()}`);
    const cookies = await setup.cookies();
    // measured on a running appliance: the printer connected, the server past its start-up
    for (let i = 0; i < 100; i++) {
      const r = await setup.request.get(`${serve.url}/api/printer`, { headers: { 'X-Api-Key': serve.apiKey } });
      if (r.ok()) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await setup.close();
    const load = async (throttle: number) => {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      await context.addCookies(cookies);
      const page = await context.newPage();
      const errors = watchErrors(page);
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
      // a browser that is already running, as on a phone: the new tab's renderer has started before the page loads
      await page.goto('about:blank');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await page.goto(serve.url);
      const ms = await page
        .waitForFunction(() => performance.getEntriesByName('gantry-interactive')[0]?.startTime, undefined, { timeout: 30_000 })
        .catch((err: Error) => {
          throw new Error(`the page never went live: ${err.message}; page errors: ${errors.join('; ') || 'none'}`);
        });
      const interactive = (await ms.jsonValue()) as number;
      await page.waitForLoadState('networkidle').catch(() => undefined);
      // Resource Timing's transferSize: compressed bodies plus headers, as they came over the wire
      const sizes = (await page.evaluate(`performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
        .filter((e) => !/\\/webcam\\/|\\/sockjs\\//.test(e.name)).map((e) => e.transferSize)`)) as number[];
      await context.close();
      return { bytes: sizes.reduce((a, b) => a + b, 0), requests: sizes.length, interactive };
    };
    const runs = async (n: number, rate: number) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await load(rate));
      return out.sort((a, b) => a.interactive - b.interactive)[Math.floor(n / 2)]!;
    };
    await load(1); // the server's first requests compile its code paths once
    const fast = await runs(3, 1);
    const slow = await runs(3, 4);
    return { transferredKb: slow.bytes / 1024, requests: slow.requests, interactiveMs: fast.interactive, interactiveThrottledMs: slow.interactive };
  } finally {
    await browser.close();
    await serve.stop();
  }
}

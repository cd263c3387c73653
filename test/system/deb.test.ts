// `make deb`'s package, built for real (image/build-deb.sh, ≈ 20 s: npm ci of the production dependencies and xz)
// and taken apart with dpkg-deb: control fields, paths (nothing of the tests, dev tools or page sources), owners, the
// maintainer scripts (sh -n), the unit and rules as in the repo; then the unpacked tree runs: `gantry serve` answers
// with only the production node_modules, and serialport's prebuilt binding loads for this machine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TEST_KEY } from '../helpers/gantry-rig.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('make deb', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let deb: string;
  let contents: { mode: string; owner: string; path: string; link?: string }[];

  before(async () => {
    work = await tempDir();
    const { stdout } = await run('nice', ['-n', '10', join(ROOT, 'image/build-deb.sh'), join(work.dir, 'out')], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    deb = stdout.trim().split('\n').at(-1)!;
    const listing = (await run('dpkg-deb', ['-c', deb], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    contents = listing
      .trim()
      .split('\n')
      .map((l) => {
        const [mode, owner, , , , ...rest] = l.split(/\s+/);
        const [path, link] = rest.join(' ').split(' -> ');
        return { mode: mode!, owner: owner!, path: path!.replace(/^\.\//, '/'), ...(link ? { link } : {}) };
      });
    await run('dpkg-deb', ['-x', deb, join(work.dir, 'root')]);
    await run('dpkg-deb', ['-e', deb, join(work.dir, 'control')]);
  });
  after(() => work?.cleanup());

  test('named gantry_<version>_all.deb, with the control fields apt needs', async () => {
    assert.equal(deb, join(work.dir, 'out', `gantry_${version}_all.deb`));
    const field = async (f: string) => (await run('dpkg-deb', ['-f', deb, f])).stdout.trim();
    assert.equal(await field('Package'), 'gantry');
    assert.equal(await field('Version'), version);
    assert.equal(await field('Architecture'), 'all');
    const depends = await field('Depends');
    for (const d of ['nodejs (>= 20.19)', 'ffmpeg', 'polkitd']) assert.ok(depends.split(', ').includes(d), `Depends: ${depends}`);
    assert.doesNotMatch(depends, /python3|avahi/, 'python3 (the virtual printer) and avahi are recommended, not required');
    assert.deepEqual((await field('Recommends')).split(', ').sort(), ['avahi-daemon', 'avahi-utils', 'python3']);
    assert.match(await field('Installed-Size'), /^\d+$/);
  });

  test('what it installs: the server, the page as built, production modules, the unit, udev and polkit rules; root-owned', () => {
    const paths = new Set(contents.map((c) => c.path));
    for (const p of [
      '/opt/gantry/dist/src/cli.js',
      '/opt/gantry/bin/gantry',
      '/opt/gantry/package.json',
      '/opt/gantry/public/index.html',
      '/opt/gantry/public/js/app.js',
      '/opt/gantry/public/js/app.js.br',
      '/opt/gantry/node_modules/hono/package.json',
      '/opt/gantry/node_modules/tar/package.json',
      '/opt/gantry/node_modules/@serialport/bindings-cpp/prebuilds/linux-arm64/@serialport+bindings-cpp.armv8.glibc.node',
      '/opt/gantry/node_modules/@serialport/bindings-cpp/prebuilds/linux-arm/@serialport+bindings-cpp.armv7.glibc.node',
      '/opt/gantry/node_modules/@serialport/bindings-cpp/prebuilds/linux-x64/@serialport+bindings-cpp.glibc.node',
      '/usr/lib/systemd/system/gantry.service',
      '/usr/lib/udev/rules.d/99-gantry.rules',
      '/usr/lib/modules-load.d/gantry.conf',
      '/usr/share/polkit-1/rules.d/50-gantry.rules',
    ]) {
      assert.ok(paths.has(p), `${p} is in the package`);
    }
    assert.equal(contents.find((c) => c.path === '/usr/bin/gantry')?.link, '/opt/gantry/bin/gantry');
    const unwanted = [/^\/opt\/gantry\/dist\/(test|bench)\//, /\/node_modules\/(typescript|esbuild|playwright-core|@types\/busboy|sockjs-client)\//, /^\/opt\/gantry\/public\/src\//, /\.musl\.node$/, /prebuilds\/(darwin|win32|android)/, /^\/var\//, /^\/etc\//];
    for (const re of unwanted) assert.deepEqual(contents.filter((c) => re.test(c.path)).map((c) => c.path).slice(0, 3), [], `nothing matching ${re}`);
    assert.deepEqual(contents.filter((c) => c.owner !== 'root/root').map((c) => c.path).slice(0, 3), []);
  });

  test('maintainer scripts: executable, pass sh -n; the unit and rules are the repo’s own', async () => {
    const control = join(work.dir, 'control');
    for (const s of ['postinst', 'prerm', 'postrm']) {
      const st = await stat(join(control, s));
      assert.ok((st.mode & 0o111) !== 0, `${s} is executable`);
      await run('sh', ['-n', join(control, s)]);
    }
    const postinst = await readFile(join(control, 'postinst'), 'utf8');
    assert.match(postinst, /useradd --system/);
    assert.match(postinst, /usermod -a -G dialout,video gantry/);
    assert.match(postinst, /systemctl enable gantry\.service/);
    assert.match(await readFile(join(control, 'postrm'), 'utf8'), /purge/);
    const root = join(work.dir, 'root');
    for (const [inDeb, inRepo] of [
      ['usr/lib/systemd/system/gantry.service', 'systemd/gantry.service'],
      ['usr/lib/udev/rules.d/99-gantry.rules', 'udev/99-gantry.rules'],
      ['usr/lib/modules-load.d/gantry.conf', 'systemd/modules-load.conf'],
      ['usr/share/polkit-1/rules.d/50-gantry.rules', 'image/polkit/50-gantry.rules'],
    ] as const) {
      assert.equal(await readFile(join(root, inDeb), 'utf8'), await readFile(join(ROOT, inRepo), 'utf8'), inDeb);
    }
  });

  test('the unpacked tree runs: gantry serve answers with the production modules alone; the serial binding loads', async () => {
    const opt = join(work.dir, 'root/opt/gantry');
    const req = createRequire(join(opt, 'package.json'));
    const nodeGypBuild = req('node-gyp-build') as { path(dir: string): string };
    assert.match(nodeGypBuild.path(join(opt, 'node_modules/@serialport/bindings-cpp')), /prebuilds\/linux-(x64|arm64|arm)\//);
    const binding = req('@serialport/bindings-cpp/dist/load-bindings.js') as Record<string, unknown>;
    assert.equal(typeof binding['asyncOpen'], 'function');

    const data = join(work.dir, 'data');
    const child = spawn(join(opt, 'bin/gantry'), ['serve', '--data-dir', data, '--host', '127.0.0.1', '--port', '0', '--serial', 'none', '--camera', 'none', '--api-key', TEST_KEY], {
      env: { ...process.env, GANTRY_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d));
    try {
      const url = await waitFor('listening', () => /listening on (http:\S+)/.exec(err)?.[1], 20_000);
      const v = (await (await fetch(`${url}/api/version`, { headers: { 'X-Api-Key': TEST_KEY } })).json()) as { text: string };
      assert.match(v.text, new RegExp(`Gantry ${version.replace(/\./g, '\\.')}`));
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      // the backup route loads node-tar from the package's modules
      assert.equal((await fetch(`${url}/api/gantry/backup`, { headers: { 'X-Api-Key': TEST_KEY } })).status, 200);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0, err);
      assert.ok((await readdir(data)).includes('settings.json'));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

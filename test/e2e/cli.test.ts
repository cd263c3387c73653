// `gantry serve` as a real process, the way systemd and `make run` start it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_ENV, NODE_FLAGS } from '../../src/node-flags.js';
import { VirtualPrinterProcess } from '../../src/sim/launcher.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { GANTRY_CLI, runGantry } from '../helpers/gantry-cli.js';


test('serve starts over a corrupt settings file, prints the URL and key, connects the virtual printer, and stops on SIGTERM', async () => {
  const { dir, cleanup } = await tempDir();
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  await writeFile(join(dataDir, 'settings.json'), '\x00\x00garbage');
  const child = spawn(process.execPath, [...NODE_FLAGS, GANTRY_CLI, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--serial', 'auto', '--virtual-fallback', '--print-api-key'], {
    env: { ...process.env, GANTRY_LOG_LEVEL: 'info' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  try {
    const [, url, key] = await waitFor('URL and key printed', () => /running: (http:\S+)\s+API key: (\S+)/.exec(out) ?? undefined);
    assert.match(key!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(err, /settings\.json is corrupt/);
    assert.ok((await readdir(dataDir)).some((n) => n.startsWith('settings.json.corrupt-')));
    const printer = await waitFor('virtual printer connected', async () => {
      const res = await fetch(`${url}/api/printer`, { headers: { 'X-Api-Key': key! } });
      return res.status === 200 ? ((await res.json()) as { state: { text: string } }) : undefined;
    }, 15_000);
    assert.equal(printer.state.text, 'Operational');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await cleanup();
  }
});

test('serve --printer a=PORT --printer b=PORT brings up both printers at /printers/a/ and /printers/b/, each on its port', async () => {
  const { dir, cleanup } = await tempDir();
  const sims = ['a', 'b'].map((id) => new VirtualPrinterProcess(join(dir, `ttyUSB-${id}`), ['--speed', '200']));
  let child: ReturnType<typeof spawn> | undefined;
  try {
    const [linkA, linkB] = await Promise.all(sims.map((s) => s.ensure()));
    child = spawn(process.execPath, [...NODE_FLAGS, GANTRY_CLI, 'serve', '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--serial', 'none', '--printer', `a=${linkA}`, '--printer', `b=${linkB}`, '--print-api-key'], {
      env: { ...process.env, ...NODE_ENV, GANTRY_LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    const [, url, key] = await waitFor('URL and key printed', () => /running: (http:\S+)\s+API key: (\S+)/.exec(out) ?? undefined, 15_000);
    const get = async (path: string) => (await fetch(`${url}${path}`, { headers: { 'X-Api-Key': key! } })).json();
    for (const [id, link] of [['a', linkA], ['b', linkB]]) {
      const current = await waitFor(`printer ${id} operational`, async () => {
        const c = ((await get(`/printers/${id}/api/connection`)) as { current: { state: string; port: string | null } }).current;
        return c.state === 'Operational' ? c : undefined;
      }, 20_000, 100);
      assert.equal(current.port, link, `printer ${id} is on its own port`);
      assert.match(((await get(`/printers/${id}/api/version`)) as { text: string }).text, /^OctoPrint/);
    }
    const list = ((await get('/api/gantry/printers')) as { printers: { id: string; path: string }[] }).printers;
    assert.deepEqual(list.map((p) => [p.id, p.path]), [['printer', '/printers/printer/'], ['a', '/printers/a/'], ['b', '/printers/b/']]);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(sims.map((s) => s.stop()));
    await cleanup();
  }
});

test('a bad flag exits with status 2 and a message, not a stack trace', async () => {
  const child = spawn(process.execPath, [...NODE_FLAGS, GANTRY_CLI, 'serve', '--port', 'nope']);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  assert.match(err, /--port must be a TCP port number/);
  assert.doesNotMatch(err, /at .*\.js:\d+/);
});

test('the gantry command, the systemd unit, make run and make bench all start Node with the flags and environment the benchmarks measured', async () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const flags = NODE_FLAGS.join(' ');
  const unit = await readFile(join(root, 'systemd/gantry.service'), 'utf8');
  assert.match(unit, new RegExp(`^ExecStart=/usr/bin/node ${flags} /opt/gantry/dist/src/cli\\.js serve$`, 'm'));
  const makefile = await readFile(join(root, 'Makefile'), 'utf8');
  assert.match(makefile, new RegExp(`^NODE_FLAGS := ${flags}$`, 'm'));
  assert.match(makefile, /^\t\$\(NODE\) \$\(NODE_FLAGS\) dist\/src\/cli\.js serve/m);
  assert.match(makefile, /^\t\$\(NODE\) \$\(NODE_FLAGS\) --expose-gc dist\/bench\/run\.js$/m);
  // the package's own command, run for real
  const child = spawn(join(root, 'bin/gantry'), ['--version']);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.match(out, /^\d+\.\d+\.\d+/);
  const bin = await readFile(join(root, 'bin/gantry'), 'utf8');
  assert.match(bin, new RegExp(`exec node ${flags} "`));
  for (const [name, value] of Object.entries(NODE_ENV)) {
    assert.match(unit, new RegExp(`^Environment=${name}=${value}$`, 'm'));
    assert.match(makefile, new RegExp(`^export ${name} := ${value}$`, 'm'));
    assert.match(bin, new RegExp(`^export ${name}=${value}$`, 'm'));
  }
});

test('a mistyped command line gets its message and exit code 2, not a stack trace; --help shows the options', async () => {
  const run = runGantry;
  const unknown = await run(['serve', '--prot', '80']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^gantry: Unknown option '--prot'.*\(gantry serve --help lists the options\)\n$/);
  assert.doesNotMatch(unknown.err, /\n\s+at /);
  for (const [command, first] of [['serve', 'gantry serve [options]'], ['reset-access', 'gantry reset-access'], ['virtual-printer', 'gantry virtual-printer']] as const) {
    const help = await run([command, '--help']);
    assert.equal(help.code, 0, `${command} --help`);
    assert.ok(help.out.startsWith(first), `${command} --help prints its options: ${help.out.slice(0, 80)}`);
  }
});

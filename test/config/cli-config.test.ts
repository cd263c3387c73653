import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseServeArgs } from '../../src/config/cli-config.js';

function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('defaults, environment variables, and flags winning over them', () => {
  const d = parseServeArgs([]);
  assert.equal(d.port, 8197);
  assert.equal(d.host, '0.0.0.0');
  assert.equal(d.serial, undefined);
  const e = withEnv({ GANTRY_PORT: '9000', GANTRY_SERIAL: 'virtual', GANTRY_BAUD: 'auto', GANTRY_DATA_DIR: '/tmp/g' }, () => parseServeArgs([]));
  assert.deepEqual([e.port, e.serial, e.baud, e.dataDir], [9000, 'VIRTUAL', 0, '/tmp/g']);
  const f = withEnv({ GANTRY_PORT: '9000' }, () => parseServeArgs(['--port', '8080', '--serial', '/dev/ttyACM0', '--baud', '115200']));
  assert.deepEqual([f.port, f.serial, f.baud], [8080, '/dev/ttyACM0', 115200]);
});

test('bad values are refused with a message that says what is expected', () => {
  assert.throws(() => parseServeArgs(['--port', 'eighty']), (e: Error) => e instanceof ConfigError && /TCP port/.test(e.message));
  assert.throws(() => parseServeArgs(['--baud', 'fast']), /number or "auto"/);
  assert.throws(() => parseServeArgs(['--api-key', 'short']), /32 to 43 characters/);
  assert.throws(() => parseServeArgs(['--frobnicate']), /Unknown option/);
});

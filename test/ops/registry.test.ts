// Operations are checked once, whatever surface calls them: unknown → not-found, missing permission → forbidden,
// bad parameters → invalid, each before anything runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { type OpCall, type OpFarm, type OpPrinter, operation } from '../../src/ops/operation.js';
import { numberParam, oneOf, stringParam } from '../../src/ops/params.js';
import { Operations } from '../../src/ops/registry.js';
import { builtinOperations } from '../../src/ops/builtin/index.js';
import { ServiceError } from '../../src/service-error.js';

const kindOf = (err: unknown) => (err instanceof ServiceError ? err.kind : String(err));

test('permission, unknown names and bad parameters are refused before the operation runs', async () => {
  const ops = new Operations();
  const ran: number[] = [];
  ops.register(operation({ name: 'x.move', permission: 'CONTROL', summary: 'test', parse: (i) => ({ d: numberParam(i, 'd', -10, 10) }), run: (_c, p) => void ran.push(p.d) }));
  assert.throws(() => ops.register(operation({ name: 'x.move', permission: 'CONTROL', summary: 'again', parse: () => ({}), run: () => undefined })), /already/);
  const call = (permissions: OpCall['permissions']): OpCall => ({ user: 'u', permissions, target: {} as OpPrinter, farm: {} as OpFarm, log: createLogger('silent') });
  await assert.rejects(ops.call('x.nope', call(['CONTROL'])), (e) => kindOf(e) === 'not-found');
  await assert.rejects(ops.call('x.move', call(['STATUS']), { d: 1 }), (e) => kindOf(e) === 'forbidden' && /CONTROL/.test((e as Error).message));
  await assert.rejects(ops.call('x.move', call(['CONTROL']), { d: 11 }), (e) => kindOf(e) === 'invalid' && /d must be between -10 and 10/.test((e as Error).message));
  await assert.rejects(ops.call('x.move', call(['CONTROL']), { d: { toString: 1 } }), (e) => kindOf(e) === 'invalid');
  assert.deepEqual(ran, []);
  await ops.call('x.move', call(['CONTROL']), { d: '2.5' });
  assert.deepEqual(ran, [2.5], 'a numeric string (a form field, an MQTT payload) is a number');
});

test('parameter readers name what is wrong', () => {
  assert.equal(stringParam({ a: 'x' }, 'a', {}), 'x');
  assert.equal(stringParam({}, 'a', { optional: true }), undefined);
  assert.throws(() => stringParam({ a: 5 }, 'a', {}), /a must be a non-empty string/);
  assert.equal(oneOf({}, 'k', ['p', 'q'] as const, 'p'), 'p');
  assert.throws(() => oneOf({ k: 'z' }, 'k', ['p', 'q'] as const, 'p'), /one of p, q/);
});

test('the built-in operations each declare a permission, and none is registered twice', () => {
  const list = builtinOperations().list();
  assert.ok(list.length >= 10);
  for (const op of list) assert.match(op.name, /^[a-z]+\.[a-zA-Z]+$/);
  const perm = (name: string) => list.find((o) => o.name === name)?.permission;
  for (const name of ['job.start', 'job.restart', 'job.pause', 'job.resume', 'job.toggle', 'job.cancel', 'job.print', 'queue.add']) assert.equal(perm(name), 'PRINT', name);
  assert.equal(perm('job.select'), 'FILES_SELECT');
  for (const name of ['printer.setTarget', 'printer.jog', 'printer.fan', 'printer.gcode', 'printer.emergencyStop']) assert.equal(perm(name), 'CONTROL', name);
});

test("an operation-backed route needs what its operations declare, nothing the route table repeats", async () => {
  const { permissionFor, unknownRouteOps } = await import('../../src/api/permission-map.js');
  const real = builtinOperations();
  assert.deepEqual(unknownRouteOps(real), [], 'every operation the table names is declared');
  assert.deepEqual(permissionFor('POST', '/api/printer/printhead', real), ['CONTROL']);
  assert.deepEqual(permissionFor('POST', '/api/job', real), ['PRINT']);
  // declare the printer's operations with another permission: the OctoPrint routes follow
  const moved = { get: (name: string) => (name.startsWith('printer.') ? { permission: 'SYSTEM' as const } : real.get(name)) };
  assert.deepEqual(permissionFor('POST', '/api/printer/printhead', moved), ['SYSTEM']);
  assert.deepEqual(permissionFor('POST', '/api/printer/tool', moved), ['SYSTEM']);
  // a route naming an operation no one declares is for the admin only
  assert.deepEqual(permissionFor('POST', '/api/job', { get: () => undefined }), ['ADMIN']);
  // routes not backed by operations keep their permission
  assert.deepEqual(permissionFor('GET', '/api/printer', real), ['STATUS']);
  assert.equal(permissionFor('GET', '/api/gantry/health', real), 'PUBLIC');
});

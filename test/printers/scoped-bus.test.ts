// A printer's bus: its emits carry its id, its listeners hear only its own printer's events and every global one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus, type GantryEvents } from '../../src/events.js';

test('a unit bus stamps its printer id and hears only its own printer events, plus the global ones', () => {
  const bus = new EventBus();
  const a = bus.scope('a');
  const b = bus.scope('b');
  const heardA: string[] = [];
  const heardB: string[] = [];
  const all: GantryEvents['job.started'][] = [];
  a.on('job.started', (e) => heardA.push(`${e.printerId}:${e.path}`));
  b.on('job.started', (e) => heardB.push(`${e.printerId}:${e.path}`));
  bus.on('job.started', (e) => all.push(e));
  a.emit('job.started', { path: 'one.gcode', fromQueue: false });
  b.emit('job.started', { path: 'two.gcode', fromQueue: true });
  assert.deepEqual(heardA, ['a:one.gcode']);
  assert.deepEqual(heardB, ['b:two.gcode']);
  assert.deepEqual(all.map((e) => e.printerId), ['a', 'b'], 'the whole-Gantry listener hears both, each named');
  // a global event (files, settings) reaches every unit
  let settings = 0;
  a.on('settings.updated', () => settings++);
  b.on('settings.updated', () => settings++);
  bus.emit('settings.updated', {});
  assert.equal(settings, 2);
});

test('an id the producer already gave is kept; unsubscribing stops delivery and counts listeners right', () => {
  const bus = new EventBus();
  const a = bus.scope('a');
  const seen: string[] = [];
  const off = a.on('printer.log', (e) => seen.push(e.line));
  assert.equal(a.listeners('printer.log'), 1);
  assert.equal(bus.scope('b').listeners('printer.log'), 0, 'nobody listens to printer b: its link can skip building log events');
  a.emit('printer.log', { printerId: 'a', line: 'ok' });
  off();
  a.emit('printer.log', { printerId: 'a', line: 'after' });
  assert.deepEqual(seen, ['ok']);
  assert.equal(a.listeners('printer.log'), 0);
});

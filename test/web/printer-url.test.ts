// The page's choice of printer and its URLs (public/src/printer-url.ts), in Node: the default printer stays at /,
// every other at /printers/<id>/, and nothing but a printer id is taken from the address or from storage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PRINTER, choosePrinter, farmPollMs, pageFor, printerBase, printerPath } from '../../public/src/printer-url.js';

test('the printer to open: the address first, then the last choice, else the default', () => {
  assert.equal(choosePrinter('two', 'three'), 'two');
  assert.equal(choosePrinter(null, 'three'), 'three');
  assert.equal(choosePrinter(null, null), DEFAULT_PRINTER);
  assert.equal(choosePrinter('', 'three'), 'three');
  // not a printer id (the registry's slug rule): ignored, never put into a URL
  assert.equal(choosePrinter('../api', 'three'), 'three');
  assert.equal(choosePrinter('Two', null), DEFAULT_PRINTER);
  assert.equal(choosePrinter('a'.repeat(33), null), DEFAULT_PRINTER);
  assert.equal(choosePrinter('ender-3_v2', null), 'ender-3_v2');
});

test("a printer's paths: the default one's at /, as before; every other under /printers/<id>", () => {
  assert.equal(printerBase(DEFAULT_PRINTER), '');
  assert.equal(printerPath(printerBase(DEFAULT_PRINTER), '/api/job'), '/api/job');
  assert.equal(printerBase('two'), '/printers/two');
  assert.equal(printerPath(printerBase('two'), '/api/job'), '/printers/two/api/job');
  assert.equal(printerPath(printerBase('two'), 'webcam/?action=snapshot'), '/printers/two/webcam/?action=snapshot');
  assert.equal(printerPath(printerBase('two'), '/sockjs/websocket'), '/printers/two/sockjs/websocket');
});

test('the page for a printer keeps the section', () => {
  assert.equal(pageFor('two'), '/?printer=two');
  assert.equal(pageFor('two', '#files'), '/?printer=two#files');
  assert.equal(pageFor(DEFAULT_PRINTER, '#dashboard'), '/?printer=printer#dashboard');
});

test('the farm view asks every 5 s, less often with many printers', () => {
  assert.equal(farmPollMs(1), 5000);
  assert.equal(farmPollMs(10), 5000);
  assert.equal(farmPollMs(12), 6000);
  assert.equal(farmPollMs(40), 20000);
});

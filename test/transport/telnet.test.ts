import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TelnetFilter, rfc2217Hello } from '../../src/transport/telnet.js';
import { LineSplitter } from '../../src/transport/line-splitter.js';
import { parseNetworkUrl } from '../../src/transport/tcp.js';

test('telnet negotiation is stripped and answered; doubled 0xFF is data', () => {
  const replies: Buffer[] = [];
  const f = new TelnetFilter((b) => replies.push(b));
  const input = Buffer.concat([Buffer.from('ok'), Buffer.from([255, 251, 1]), Buffer.from('\nT:'), Buffer.from([255, 250, 44, 101, 0, 255, 240]), Buffer.from([255, 255]), Buffer.from('\n')]);
  // split at every byte boundary: negotiation may straddle TCP segments
  for (let cut = 0; cut <= input.length; cut++) {
    const g = new TelnetFilter(() => undefined);
    const out = Buffer.concat([g.filter(input.subarray(0, cut)), g.filter(input.subarray(cut))]);
    assert.deepEqual(out, Buffer.concat([Buffer.from('ok\nT:'), Buffer.from([255]), Buffer.from('\n')]), `cut at ${cut}`);
  }
  f.filter(input);
  assert.deepEqual(replies[0], Buffer.from([255, 254, 1]), 'refuses the ECHO option the server offered');
  const hello = rfc2217Hello(250000);
  assert.deepEqual([...hello.subarray(0, 3)], [255, 251, 44]);
});

test('lines are split on LF, CR stripped, partial lines kept across chunks', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  s.push(Buffer.from('ok\r\nT:20'));
  s.push(Buffer.from('.0 /0\nwa'));
  s.push(Buffer.from('it\n'));
  assert.deepEqual(lines, ['ok', 'T:20.0 /0', 'wait']);
});

test('network URLs', () => {
  assert.deepEqual(parseNetworkUrl('socket://192.168.1.5:23'), { kind: 'socket', host: '192.168.1.5', port: 23 });
  assert.deepEqual(parseNetworkUrl('rfc2217://printer.local:2217'), { kind: 'rfc2217', host: 'printer.local', port: 2217 });
  assert.deepEqual(parseNetworkUrl('socket://[::1]:8888'), { kind: 'socket', host: '::1', port: 8888 });
  assert.equal(parseNetworkUrl('http://x:1'), undefined);
  assert.equal(parseNetworkUrl('socket://x:99999'), undefined);
});

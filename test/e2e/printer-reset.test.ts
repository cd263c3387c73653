// A printer that reboots while connected (its reset button, a watchdog, a brown-out) sends `start` again. It lost
// every line number, its position and its heaters, so the print it ran is over; the link is not, and OctoPrint
// clients expect the printer to stay Operational (OctoPrint's PrinterReset) and the next print to work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { jobCommand, signedInPush, waitJobState } from '../helpers/job-control.js';
import { waitFor } from '../helpers/wait.js';

const FILE = ['G90', 'M83', ...Array.from({ length: 800 }, (_, i) => `G1 X${10 + (i % 90)} Y10 E0.1 F6000`), ''].join('\n');

test('a printer reset mid-print fails the print with the reason, keeps the printer Operational, and the next print works', async () => {
  // the simulator reboots at the 300th command it receives (the handshake's included): mid-print
  const rig = await gantryRig({}, {}, ['--reset-at', '300']);
  const push = await signedInPush(rig);
  try {
    await waitOperational(rig);
    assert.equal((await uploadGcode(rig, 'long.gcode', FILE, { print: 'true' })).status, 201);
    const history = async () => ((await (await rig.api('/api/gantry/history?limit=1')).json()) as { jobs: { result: string; reason: string | null }[] }).jobs[0];
    await waitFor('the print to end', async () => (await history())?.result === 'failed', 30_000);
    assert.match((await history())!.reason ?? '', /reset/i, 'the history says why');
    const events = () => push.events();
    await waitFor('PrintFailed pushed', () => events().includes('PrintFailed'));
    const reset = push.of('event').map((m) => m.msg['event'] as { type: string; payload: { idle?: boolean } }).find((e) => e.type === 'PrinterReset');
    assert.deepEqual(reset?.payload, { idle: false });
    await waitJobState(rig, 'Operational');
    const connection = (await (await rig.api('/api/connection')).json()) as { current: { state: string } };
    assert.equal(connection.current.state, 'Operational', 'still connected');

    assert.equal((await jobCommand(rig, { command: 'start' })).status, 204, 'the same file prints again');
    await waitFor('the second print', async () => (await history())?.result === 'success', 60_000);
  } finally {
    push.close();
    await rig.close();
  }
});

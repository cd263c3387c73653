// Pause, resume and cancel during a blocking heat-up (the start G-code's M190/M109), against the virtual printer at
// real speed, where the heat-up takes minutes. Every command answers at once; with an emergency parser M108 ends
// the heat-up now, without one the command takes effect when it returns; a cancel always ends with every heater
// off, and Operational is only reported once the printer has done that.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig, uploadGcode, waitOperational } from '../helpers/gantry-rig.js';
import { after, jobCommand, jobState, pushedStates, signedInPush, waitJobState } from '../helpers/job-control.js';
import { waitFor } from '../helpers/wait.js';

interface PrinterView {
  temperature: { tool0: { actual: number; target: number }; bed: { actual: number; target: number } };
}
const temps = async (rig: GantryRig) => ((await (await rig.api('/api/printer')).json()) as PrinterView).temperature;

// at --speed 1 the virtual bed needs well over a minute from room temperature to 110 °C
const SLOW_BED = ['M140 S110', 'M104 S150', 'M190 S110 ; start G-code: wait for the bed', 'G1 X10 Y10 F3000', 'G1 X20 Y10 E1 F1200', ''].join('\n');

describe('heat-up with an emergency parser (M108 ends it at once)', () => {
  test('pause during M190 answers at once, ends the heat-up and pauses; resume runs the heat-up again; cancel during that heat-up turns every heater off', async () => {
    const rig = await gantryRig({}, {}, ['--speed', '1']);
    const push = await signedInPush(rig).catch(async (err: Error) => {
      await rig.close();
      throw err;
    });
    try {
      await waitOperational(rig);
      assert.equal((await uploadGcode(rig, 'slow-bed.gcode', SLOW_BED, { print: 'true' })).status, 201);
      await waitFor('the M190 running', () => rig.gantry.printer.heating === 'M190 S110', 15_000);

      const pause = await jobCommand(rig, { command: 'pause', action: 'pause' });
      const bedAtAnswer = rig.gantry.printer.temperatures.bed?.actual ?? 0;
      assert.equal(pause.status, 204);
      assert.ok(bedAtAnswer < 60, `the answer came while the bed was at ${bedAtAnswer} °C, far from 110`);
      await waitJobState(rig, 'Paused');
      let executed = await rig.executed();
      const afterHeat = after(executed, 'M190 S110');
      assert.equal(afterHeat[0], 'M108', 'the heat-up was ended with M108');
      assert.deepEqual(afterHeat.slice(1, 3), ['M400', 'M114'], 'then where the head is');
      assert.deepEqual(afterHeat.slice(3, 6), ['M83', 'G1 E-2 F2700', 'G90'], 'then the pause script');
      assert.ok(!executed.includes('G1 X10 Y10 F3000'), 'the file did not go on');
      assert.equal((await temps(rig)).bed.target, 110, 'M108 ends the wait, not the heating');
      assert.deepEqual(pushedStates(push).slice(-2), ['PAUSING', 'PAUSED']);

      assert.equal((await jobCommand(rig, { command: 'pause', action: 'resume' })).status, 204);
      await waitJobState(rig, 'Resuming');
      await waitFor('the heat-up started again', async () => (await rig.executed()).filter((c) => c === 'M190 S110').length === 2, 10_000);
      assert.equal(await jobState(rig), 'Resuming', 'resume waits for the bed before the file goes on');

      const cancel = await jobCommand(rig, { command: 'cancel' });
      assert.equal(cancel.status, 204);
      assert.ok((rig.gantry.printer.temperatures.bed?.actual ?? 0) < 100, 'cancelled long before the bed could be hot');
      await waitJobState(rig, 'Operational');
      executed = await rig.executed();
      const second = executed.lastIndexOf('M190 S110');
      assert.equal(executed[second + 1], 'M108', 'the second heat-up was ended with M108 too');
      assert.ok(executed.slice(second).includes('M104 S0') && executed.slice(second).includes('M140 S0'), 'heaters off');
      assert.ok(!executed.includes('G1 X10 Y10 F3000'), 'the file never went on');
      await waitFor('the printer reports both targets at 0', async () => {
        const t = await temps(rig);
        return t.bed.target === 0 && t.tool0.target === 0;
      });
      const states = pushedStates(push);
      assert.deepEqual(states.slice(states.lastIndexOf('PAUSED')), ['PAUSED', 'RESUMING', 'CANCELLING', 'OPERATIONAL']);
      const history = (await (await rig.api('/api/gantry/history?limit=1')).json()) as { jobs: { result: string }[] };
      assert.equal(history.jobs[0]!.result, 'cancelled');
    } finally {
      push.close();
      await rig.close();
    }
  });

  test('cancel during M190: at once, M108, then the cancel script with every heater off (even when the script forgets them); Operational only after that', async () => {
    const rig = await gantryRig({}, {}, ['--speed', '1', '--chamber']);
    try {
      await waitOperational(rig);
      // a user's cancel script that leaves heaters on: Gantry adds what it lacks
      await rig.gantry.settings.update((s) => {
        s.scripts.cancel = ['G91', 'G1 Z2 F600', 'G90'];
        s.printerProfile.heatedChamber = true;
      });
      const push = await signedInPush(rig);
      try {
        assert.equal((await uploadGcode(rig, 'slow-bed.gcode', 'M141 S40\n' + SLOW_BED, { print: 'true' })).status, 201);
        await waitFor('the M190 running', () => rig.gantry.printer.heating === 'M190 S110', 15_000);
        let heatersOffAtOperational: string[] = [];
        const off = rig.gantry.bus.on('printer.state', (s) => {
          if (s.state === 'OPERATIONAL') void rig.executed().then((e) => (heatersOffAtOperational = e.filter((c) => /^M1(04|40|41) /.test(c))));
        });
        try {
          assert.equal((await jobCommand(rig, { command: 'cancel' })).status, 204);
          assert.ok((rig.gantry.printer.temperatures.bed?.actual ?? 0) < 60);
          assert.equal(await jobState(rig), 'Cancelling');
          await waitJobState(rig, 'Operational');
          await waitFor('executed list read', () => heatersOffAtOperational.length > 0);
        } finally {
          off();
        }
        const tail = after(await rig.executed(), 'M190 S110');
        assert.equal(tail[0], 'M108');
        assert.deepEqual(
          tail.filter((c) => c !== 'M108'),
          ['G91', 'G1 Z2 F600', 'G90', 'M104 T0 S0', 'M140 S0', 'M141 S0'],
        );
        assert.deepEqual(heatersOffAtOperational.slice(-3), ['M104 T0 S0', 'M140 S0', 'M141 S0'], 'the printer had them before Gantry said Operational');
        const states = pushedStates(push);
        assert.deepEqual(states.slice(states.lastIndexOf('PRINTING')), ['PRINTING', 'CANCELLING', 'OPERATIONAL']);
      } finally {
        push.close();
      }
    } finally {
      await rig.close();
    }
  });
});

// the hot end from room temperature to 40 °C takes about 13 s at --speed 1: long enough to act during it
const SHORT_HEAT = ['M104 S40', 'M109 S40', 'G1 X10 Y10 F3000', 'G1 X20 Y10 F3000', 'G1 X30 Y10 F3000', ''].join('\n');

describe('heat-up without an emergency parser (commands take effect when it returns)', () => {
  test('pause during M109 stays Pausing until the heat-up returns; a resume meanwhile is applied after the pause completes', async () => {
    const rig = await gantryRig({}, {}, ['--speed', '1', '--no-emergency-parser']);
    const push = await signedInPush(rig);
    try {
      await waitOperational(rig);
      assert.equal((await uploadGcode(rig, 'short-heat.gcode', SHORT_HEAT, { print: 'true' })).status, 201);
      await waitFor('the M109 running', () => rig.gantry.printer.heating === 'M109 S40', 15_000);
      assert.equal((await jobCommand(rig, { command: 'pause', action: 'pause' })).status, 204);
      assert.equal(await jobState(rig), 'Pausing');
      assert.equal((await jobCommand(rig, { command: 'pause', action: 'pause' })).status, 204, 'pause again: nothing to do');
      assert.equal((await jobCommand(rig, { command: 'start' })).status, 409);
      assert.equal((await jobCommand(rig, { command: 'restart' })).status, 409);
      assert.equal((await jobCommand(rig, { command: 'pause', action: 'resume' })).status, 204, 'resume while pausing: remembered');
      assert.ok(rig.gantry.printer.heating === 'M109 S40' && (rig.gantry.printer.temperatures.tools.get(0)?.actual ?? 99) < 39, 'still heating');
      assert.equal(await jobState(rig), 'Pausing');
      assert.ok(!(await rig.executed()).includes('M108'), 'no M108 for a firmware that would only queue it');

      await waitJobState(rig, 'Operational', 60_000);
      const tail = after(await rig.executed(), 'M109 S40');
      assert.deepEqual(tail.slice(0, 2), ['M400', 'M114'], 'the pause went ahead once the heat-up returned');
      const resumeAt = tail.indexOf('G1 X5 Y215 F6000') + 1;
      assert.ok(resumeAt > 0, 'the pause script ran');
      assert.equal(tail[resumeAt], 'G90', 'then the remembered resume put the head back');
      assert.deepEqual(tail.slice(-4), ['G1 X10 Y10 F3000', 'G1 X20 Y10 F3000', 'G1 X30 Y10 F3000', 'M400'], 'and the file ran to its end (then the M400 of Finishing)');
      const states = pushedStates(push);
      assert.deepEqual(states.slice(states.indexOf('PAUSING')), ['PAUSING', 'PAUSED', 'RESUMING', 'PRINTING', 'FINISHING', 'OPERATIONAL']);
    } finally {
      push.close();
      await rig.close();
    }
  });

  test('cancel during M109 answers at once and takes effect when the heat-up returns; heaters end off', async () => {
    const rig = await gantryRig({}, {}, ['--speed', '1', '--no-emergency-parser']);
    try {
      await waitOperational(rig);
      assert.equal((await uploadGcode(rig, 'short-heat.gcode', SHORT_HEAT, { print: 'true' })).status, 201);
      await waitFor('the M109 running', () => rig.gantry.printer.heating === 'M109 S40', 15_000);
      assert.equal((await jobCommand(rig, { command: 'cancel' })).status, 204);
      assert.equal(await jobState(rig), 'Cancelling');
      assert.equal((await jobCommand(rig, { command: 'cancel' })).status, 204, 'cancel again: already cancelling');
      assert.equal((await jobCommand(rig, { command: 'pause', action: 'pause' })).status, 204, 'a pause of a job that is ending is taken and does nothing (as OctoPrint)');
      assert.equal(await jobState(rig), 'Cancelling');
      await waitJobState(rig, 'Operational', 60_000);
      const tail = after(await rig.executed(), 'M109 S40');
      assert.ok(!tail.includes('M108'));
      assert.deepEqual(tail.slice(-4), ['M104 S0', 'M140 S0', 'M106 S0', 'M84'], 'the default cancel script');
      assert.ok(!tail.includes('G1 X10 Y10 F3000'));
      await waitFor('targets 0 reported', async () => (await temps(rig)).tool0.target === 0);
    } finally {
      await rig.close();
    }
  });
});

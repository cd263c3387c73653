// The print job's state machine as data: for every job state, what each API command and each firmware event
// does. The job runner asks `decide()` and does what the cell says; the API answers 409 from the same cells, so
// the rules are written once. Why it is a table: pause, resume and cancel used to be checked in several places
// with slightly different rules, and a resume that arrived while pausing was lost.
//
// Outcomes:
//   run X    accepted; step X starts now in the background (it replaces a running step: a cancel during a pause)
//   defer X  accepted (204); X is remembered and applied when the running step completes
//   M108     a blocking heat-up is cut short (when the firmware has an emergency parser); the state stays
//   noop     accepted (204), nothing changes ("clear": also forgets a deferred request the other way)
//   409      refused: the state forbids it
//
// Commands (POST /api/job, MQTT, the page):
//
//   state       | start     | pause        | resume       | toggle       | cancel       | restart
//   ------------+-----------+--------------+--------------+--------------+--------------+-------------
//   idle        | run start | 409          | 409          | 409          | 409          | 409
//   starting    | 409       | defer pause  | noop         | defer pause  | defer cancel | 409
//   printing    | 409       | run pause    | noop         | run pause    | run cancel   | 409
//   pausing     | 409       | noop (clear) | defer resume | defer resume | run cancel   | 409
//   paused      | 409       | noop         | run resume   | run resume   | run cancel   | run restart
//   resuming    | 409       | defer pause  | noop (clear) | defer pause  | run cancel   | 409
//   cancelling  | 409       | noop         | noop         | noop         | noop         | 409
//   finishing   | 409       | noop         | noop         | noop         | run cancel   | 409
//
// Firmware events (`//action:…` host actions, host prompts, the heat-up the printer model sees in flight, the
// end of the file, a fatal error or a lost link):
//
//   state       | pause        | paused   | resume       | resumed      | cancel       | prompt shown | prompt ended | heat-up | stream done  | error
//   ------------+--------------+----------+--------------+--------------+--------------+--------------+--------------+---------+--------------+---------
//   idle        | noop         | noop     | noop         | noop         | noop         | noop         | noop         | noop    | noop         | noop
//   starting    | defer pause  | noop     | noop         | noop         | defer cancel | noop         | noop         | noop    | noop         | run fail
//   printing    | run pause    | run hold | noop         | noop         | run cancel   | noop         | noop         | noop    | run finish   | run fail
//   pausing     | noop         | run hold | defer resume | noop         | run cancel   | run hold     | noop         | M108    | defer finish | run fail
//   paused      | noop         | noop     | run resume   | run release  | run cancel   | noop         | noop         | noop    | defer finish | run fail
//   resuming    | defer pause  | run hold | noop         | noop         | run cancel   | noop         | noop         | noop    | defer finish | run fail
//   cancelling  | noop         | noop     | noop         | noop         | noop         | noop         | noop         | M108    | noop         | run fail
//   finishing   | noop         | noop     | noop         | noop         | run cancel   | noop         | noop         | noop    | noop         | run fail
//
// Steps:
//   start    open the file and stream it (starting → printing)
//   pause    hold the file; a heat-up in flight gets M108 (emergency parser) and is redone on resume, else the
//            pause waits for it; then position, targets, the pause script (pausing → paused). While the firmware
//            waits for the user (a prompt is open) there is nothing to wait for: it ends as a hold.
//   hold     the firmware holds the print itself (M600, runout, M0 waiting for the user): paused at once, no script
//   resume   back where the pause left (targets, position, modes, an aborted heat-up), then the file again
//            (paused → resuming → printing); after a hold nothing is restored: the firmware put things back
//   release  the firmware resumed by itself (`//action:resumed`): printing at once, nothing restored
//   cancel   stop the file, M108 (emergency parser: a heat-up, M0 or filament-change wait ends at once), wait for
//            the line in flight, then the cancel script and every heater off (cancelling → idle). While finishing
//            too, as OctoPrint (Finishing is one of its printing states): the last moves still run out (the M400
//            in flight), but the job ends cancelled, with the cancel script, not as a success
//   restart  end the paused job and start the same file from its beginning
//   finish   the file is done (finishing → idle); deferred while paused, so a pause is honoured to the end
//   fail     the printer failed or went away: the job ends as failed

export const JOB_STATES = ['idle', 'starting', 'printing', 'pausing', 'paused', 'resuming', 'cancelling', 'finishing'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const JOB_COMMANDS = ['start', 'pause', 'resume', 'toggle', 'cancel', 'restart'] as const;
export type JobCommand = (typeof JOB_COMMANDS)[number];

export const FIRMWARE_EVENTS = ['action:pause', 'action:paused', 'action:resume', 'action:resumed', 'action:cancel', 'prompt-shown', 'prompt-ended', 'heatup', 'stream-done', 'error'] as const;
export type FirmwareEvent = (typeof FIRMWARE_EVENTS)[number];

export type Step = 'start' | 'pause' | 'hold' | 'resume' | 'release' | 'cancel' | 'restart' | 'finish' | 'fail';
export type Deferred = 'pause' | 'resume' | 'cancel' | 'finish';

export type Outcome =
  | { kind: 'run'; step: Step }
  | { kind: 'defer'; step: Deferred }
  | { kind: 'abort-heatup' }
  | { kind: 'noop'; clear?: true }
  | { kind: 'reject'; reason: string };

const run = (step: Step): Outcome => ({ kind: 'run', step });
const defer = (step: Deferred): Outcome => ({ kind: 'defer', step });
const noop: Outcome = { kind: 'noop' };
const clear: Outcome = { kind: 'noop', clear: true };
const abortHeatup: Outcome = { kind: 'abort-heatup' };
const reject = (reason: string): Outcome => ({ kind: 'reject', reason });

const NOT_ACTIVE = reject('Printer is neither printing nor paused');
const BUSY = reject('Printer is already printing; did you mean "restart"?');
const NOT_PAUSED = reject('Printer is not paused');

export const COMMAND_TABLE: Readonly<Record<JobState, Readonly<Record<JobCommand, Outcome>>>> = {
  idle: { start: run('start'), pause: NOT_ACTIVE, resume: NOT_ACTIVE, toggle: NOT_ACTIVE, cancel: NOT_ACTIVE, restart: NOT_PAUSED },
  starting: { start: BUSY, pause: defer('pause'), resume: noop, toggle: defer('pause'), cancel: defer('cancel'), restart: NOT_PAUSED },
  printing: { start: BUSY, pause: run('pause'), resume: noop, toggle: run('pause'), cancel: run('cancel'), restart: NOT_PAUSED },
  pausing: { start: BUSY, pause: clear, resume: defer('resume'), toggle: defer('resume'), cancel: run('cancel'), restart: NOT_PAUSED },
  paused: { start: BUSY, pause: noop, resume: run('resume'), toggle: run('resume'), cancel: run('cancel'), restart: run('restart') },
  resuming: { start: BUSY, pause: defer('pause'), resume: clear, toggle: defer('pause'), cancel: run('cancel'), restart: NOT_PAUSED },
  // a job that is ending takes a pause or a resume and does nothing with it, as OctoPrint answers 204 there (its
  // Cancelling and Finishing are printing states, in which its pause and resume do nothing)
  cancelling: { start: BUSY, pause: noop, resume: noop, toggle: noop, cancel: noop, restart: NOT_PAUSED },
  finishing: { start: BUSY, pause: noop, resume: noop, toggle: noop, cancel: run('cancel'), restart: NOT_PAUSED },
};

const ALL_NOOP: Record<FirmwareEvent, Outcome> = {
  'action:pause': noop,
  'action:paused': noop,
  'action:resume': noop,
  'action:resumed': noop,
  'action:cancel': noop,
  'prompt-shown': noop,
  'prompt-ended': noop,
  heatup: noop,
  'stream-done': noop,
  error: noop,
};

export const EVENT_TABLE: Readonly<Record<JobState, Readonly<Record<FirmwareEvent, Outcome>>>> = {
  idle: ALL_NOOP,
  starting: { ...ALL_NOOP, 'action:pause': defer('pause'), 'action:cancel': defer('cancel'), error: run('fail') },
  printing: { ...ALL_NOOP, 'action:pause': run('pause'), 'action:paused': run('hold'), 'action:cancel': run('cancel'), 'stream-done': run('finish'), error: run('fail') },
  pausing: {
    ...ALL_NOOP,
    'action:paused': run('hold'),
    'action:resume': defer('resume'),
    'action:cancel': run('cancel'),
    'prompt-shown': run('hold'),
    heatup: abortHeatup,
    'stream-done': defer('finish'),
    error: run('fail'),
  },
  paused: { ...ALL_NOOP, 'action:resume': run('resume'), 'action:resumed': run('release'), 'action:cancel': run('cancel'), 'stream-done': defer('finish'), error: run('fail') },
  resuming: { ...ALL_NOOP, 'action:pause': defer('pause'), 'action:paused': run('hold'), 'action:cancel': run('cancel'), 'stream-done': defer('finish'), error: run('fail') },
  cancelling: { ...ALL_NOOP, heatup: abortHeatup, error: run('fail') },
  finishing: { ...ALL_NOOP, 'action:cancel': run('cancel'), error: run('fail') },
};

/** What `input` does in `state`: one cell of the tables above. */
export function decide(state: JobState, input: JobCommand | FirmwareEvent): Outcome {
  return isCommand(input) ? COMMAND_TABLE[state][input] : EVENT_TABLE[state][input];
}

export function isCommand(input: JobCommand | FirmwareEvent): input is JobCommand {
  return (JOB_COMMANDS as readonly string[]).includes(input);
}

/** The OctoPrint printer state each job state shows as (GET /api/job `state`, push `current`, MQTT). */
export const PRINTER_STATE_OF = {
  idle: 'OPERATIONAL',
  starting: 'STARTING',
  printing: 'PRINTING',
  pausing: 'PAUSING',
  paused: 'PAUSED',
  resuming: 'RESUMING',
  cancelling: 'CANCELLING',
  finishing: 'FINISHING',
} as const satisfies Record<JobState, string>;

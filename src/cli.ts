#!/usr/bin/env node
// gantry serve | gantry reset-access | gantry virtual-printer
import { parseArgs } from 'node:util';
import { ConfigError, SERVE_HELP, parseServeArgs } from './config/cli-config.js';
import type { SimOptions } from './sim/options.js';
import { GANTRY_VERSION } from './version.js';

const SIM_HELP = `gantry virtual-printer --link PATH [options]
  --link PATH               symlink to create for the pseudo-terminal (the "device" to connect to)
  --tcp PORT                also/instead listen on 127.0.0.1:PORT (for socket:// and rfc2217://)
  --speed F                 motion, dwell and heating F times faster than real (default 1)
  --advanced-ok             answer ok N<line> P<planner> B<buffer> (Marlin ADVANCED_OK)
  --no-emergency-parser     do not report EMERGENCY_PARSER (M108, M410 and M876 then wait their turn in the queue)
  --no-host-prompts         no host prompts: M0/M1 and M600 wait for M108 without //action:prompt_* dialogs
  --extruders N             number of extruders (default 1)
  --chamber                 heated chamber
  --checksum-error-rate R   reject this fraction of numbered lines with a checksum error
  --line-error-rate R       reject this fraction with a line-number error
  --busy-rate R             send "busy: processing" before this fraction of oks
  --lost-ok-rate R          drop this fraction of oks
  --reset-at N              reset (send "start") at the Nth command
  --fatal-at N              thermal runaway + kill() at the Nth command
  --disconnect-at N         unplug at the Nth command
  --replug-after MS         after an unplug, plug back in after MS milliseconds
  --seed N                  seed for the fault pattern
  --record FILE             append every executed command to FILE
  --ok-only                 answer "ok" to every line and nothing else (benchmarks)
  --stale-reports           auto-report the old targets just before each heater command runs
  --volume WxDxH            report this machine volume after the caps (Marlin's area:{full:…})
  --no-target-reports       temperature reports without targets (T:24.8 B:23.1)
  --repetier                Repetier-Firmware: TargetExtr0:/TargetBed: lines, ok N for numbered lines
  --wait-bursts             when idle, say wait four times a second (Marlin NO_TIMEOUTS after a stall)
  --ok-before-output        answer ok before M105's temperatures and M114's position
  --klipper                 Klipper: its M115, no M155, klippy's error form and STATUS/FIRMWARE_RESTART
  --klipper-shutdown        start shut down (with --klipper), until FIRMWARE_RESTART
  --garbled-ok-rate R       merge this fraction of ADVANCED_OK oks into the temperature report before them
  --exit-with-parent        exit when stdin closes (Gantry holds it open: its simulator dies with it, even on kill -9)`;

async function serveCommand(argv: string[]): Promise<void> {
  const cfg = parseServeArgs(argv);
  // each command loads only its own code: the server never carries the simulator, nor the simulator the server
  const { startGantry } = await import('./main.js');
  const { systemdNotifier } = await import('./system/sd-notify.js');
  const { createLogger } = await import('./log.js');
  const gantry = await startGantry(cfg);
  // under systemd (Type=notify): started once the server listens, and a watchdog ping from the event loop
  const notify = systemdNotifier({ log: createLogger(cfg.logLevel, 'systemd') });
  notify.ready();
  if (cfg.printApiKey) {
    process.stdout.write(`\n  Gantry is running: ${gantry.url}\n  API key: ${gantry.apiKey}\n\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: shutting down\n`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void Promise.all([notify.stopping(), gantry.stop()]).then(() => process.exit());
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function virtualPrinterCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      link: { type: 'string' },
      tcp: { type: 'string' },
      speed: { type: 'string' },
      'advanced-ok': { type: 'boolean' },
      'no-emergency-parser': { type: 'boolean' },
      'no-host-prompts': { type: 'boolean' },
      extruders: { type: 'string' },
      chamber: { type: 'boolean' },
      'checksum-error-rate': { type: 'string' },
      'line-error-rate': { type: 'string' },
      'busy-rate': { type: 'string' },
      'lost-ok-rate': { type: 'string' },
      'reset-at': { type: 'string' },
      'fatal-at': { type: 'string' },
      'disconnect-at': { type: 'string' },
      'replug-after': { type: 'string' },
      seed: { type: 'string' },
      record: { type: 'string' },
      'ok-only': { type: 'boolean' },
      'stale-reports': { type: 'boolean' },
      'exit-with-parent': { type: 'boolean' },
      volume: { type: 'string' },
      'no-target-reports': { type: 'boolean' },
      repetier: { type: 'boolean' },
      'wait-bursts': { type: 'boolean' },
      'ok-before-output': { type: 'boolean' },
      klipper: { type: 'boolean' },
      'klipper-shutdown': { type: 'boolean' },
      'garbled-ok-rate': { type: 'string' },
    },
  });
  if (!values.link && !values.tcp) throw new ConfigError('virtual-printer needs --link PATH (or --tcp PORT)');
  const num = (name: string, v: string | undefined, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  const opts: Partial<SimOptions> = {};
  const set = <K extends keyof SimOptions>(k: K, v: SimOptions[K] | undefined) => {
    if (v !== undefined) opts[k] = v;
  };
  set('speedFactor', num('speed', values.speed, 0.01, 1e6));
  set('advancedOk', values['advanced-ok']);
  if (values['no-emergency-parser']) opts.emergencyParser = false;
  if (values['no-host-prompts']) opts.hostPrompts = false;
  set('extruders', num('extruders', values.extruders, 1, 8));
  set('heatedChamber', values.chamber);
  set('checksumErrorRate', num('checksum-error-rate', values['checksum-error-rate'], 0, 1));
  set('lineErrorRate', num('line-error-rate', values['line-error-rate'], 0, 1));
  set('busyRate', num('busy-rate', values['busy-rate'], 0, 1));
  set('lostOkRate', num('lost-ok-rate', values['lost-ok-rate'], 0, 1));
  set('resetAtLine', num('reset-at', values['reset-at'], 0, 1e9));
  set('fatalAtLine', num('fatal-at', values['fatal-at'], 0, 1e9));
  set('disconnectAtLine', num('disconnect-at', values['disconnect-at'], 0, 1e9));
  set('replugAfter', num('replug-after', values['replug-after'], 0, 1e7));
  set('seed', num('seed', values.seed, 0, 2 ** 32));
  set('recordPath', values.record);
  set('okOnly', values['ok-only']);
  set('staleReports', values['stale-reports']);
  if (values.volume !== undefined) {
    const v = /^(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)$/.exec(values.volume);
    if (!v) throw new ConfigError('--volume must be WxDxH in mm, e.g. 200x200x200');
    opts.volume = { x: Number(v[1]), y: Number(v[2]), z: Number(v[3]) };
  }
  set('noTargetReports', values['no-target-reports']);
  set('repetier', values.repetier);
  set('waitBursts', values['wait-bursts']);
  set('okBeforeOutput', values['ok-before-output']);
  set('klipper', values.klipper || values['klipper-shutdown']);
  set('klipperShutdown', values['klipper-shutdown']);
  set('garbledOkRate', num('garbled-ok-rate', values['garbled-ok-rate'], 0, 1));

  // a stop is taken from the first moment, before the PTY exists: a Gantry that stops while its simulator is still
  // starting must not leave a link behind it (nor a simulator), and it waits for our exit as the sign that both are gone
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  let started = Promise.resolve();
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void started.catch(() => undefined).then(() => Promise.all(stops.map((s) => s()))).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (values['exit-with-parent']) {
    // the pipe closes when the process that started us exits, however it exits: a SIGKILLed Gantry sends no
    // SIGTERM, and an orphaned simulator would hold its PTY (and a CPU share) until the next reboot
    process.stdin.on('end', stop).on('error', stop).on('close', stop).resume();
  }
  started = (async () => {
    const { startVirtualPrinter, startVirtualPrinterTcp } = await import('./sim/run.js');
    if (values.link && !stopping) stops.push((await startVirtualPrinter(values.link, opts)).stop);
    if (values.tcp && !stopping) {
      const tcp = await startVirtualPrinterTcp(num('tcp', values.tcp, 0, 65535)!, opts);
      stops.push(tcp.stop);
      process.stdout.write(`TCP 127.0.0.1:${tcp.port}\n`);
    }
  })();
  await started;
  if (!stopping) process.stdout.write(`READY ${values.link ?? ''}\n`);
}

const RESET_HELP = `gantry reset-access [--data-dir DIR] [--api-key KEY]
  removes every account and API key (keys.json is kept as keys.json.bak-<time>) and makes a new admin key;
  first-run setup is then open again. Stop the service first (sudo systemctl stop gantry). With --api-key the
  new admin key is yours and setup asks for it.`;

async function resetAccessCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: { 'data-dir': { type: 'string' }, 'api-key': { type: 'string' } } });
  const cfg = parseServeArgs([...(values['data-dir'] ? ['--data-dir', values['data-dir']] : []), ...(values['api-key'] ? ['--api-key', values['api-key']] : [])]);
  const { resetAccess, runningServer } = await import('./accounts/reset-access.js');
  const { createLogger } = await import('./log.js');
  const pid = await runningServer(cfg.dataDir);
  if (pid !== undefined) throw new ConfigError(`Gantry is running on ${cfg.dataDir} (pid ${pid}); stop it first (sudo systemctl stop gantry)`);
  const r = await resetAccess(cfg.dataDir, createLogger(cfg.logLevel), cfg.apiKey);
  process.stdout.write(
    `All accounts and API keys of ${cfg.dataDir} are removed${r.backup ? ` (the old file is ${r.backup})` : ''}.\n` +
      `New admin API key: ${r.apiKey}\n` +
      (cfg.apiKey ? 'Start Gantry and create the first account in the page with this key.\n' : 'Start Gantry and create the first account in the page right away: until then anyone on this network may.\n'),
  );
}

const COMMAND_HELP: Record<string, string> = { serve: SERVE_HELP, 'virtual-printer': SIM_HELP, 'reset-access': RESET_HELP };

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const help = command === undefined ? undefined : COMMAND_HELP[command];
  if (help && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${help}\n`);
    return;
  }
  switch (command) {
    case 'serve':
      return serveCommand(rest);
    case 'virtual-printer':
      return virtualPrinterCommand(rest);
    case 'reset-access':
      return resetAccessCommand(rest);
    case '--version':
    case 'version':
      process.stdout.write(`${GANTRY_VERSION}\n`);
      return;
    default:
      process.stdout.write(`Gantry ${GANTRY_VERSION}: a lean 3D-printer host\n\n${SERVE_HELP}\n\n${RESET_HELP}\n\n${SIM_HELP}\n`);
      if (command !== undefined && command !== 'help' && command !== '--help') process.exitCode = 2;
  }
}

/** A mistyped command line (an unknown option, a missing value): the message, not a stack trace. */
const isUsageError = (err: Error): boolean =>
  err instanceof ConfigError || String((err as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS_');

main().catch((err: Error) => {
  const usage = isUsageError(err);
  const hint = usage && !(err instanceof ConfigError) ? ` (gantry ${process.argv[2] ?? ''} --help lists the options)` : '';
  process.stderr.write(`gantry: ${usage ? err.message : (err.stack ?? err.message)}${hint}\n`);
  process.exit(usage ? 2 : 1);
});

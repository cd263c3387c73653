// Composition: config → stores → printer → API → server; and a clean shutdown of all of it.
import { mkdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generateApiKey } from './accounts/api-keys.js';
import { AppKeys } from './accounts/app-keys.js';
import { Sessions } from './accounts/sessions.js';
import { Accounts, type AccountsFile, defaultAccounts } from './accounts/users.js';
import { spawn } from 'node:child_process';
import { createApi } from './api/app.js';
import { createHttpServer } from './api/http-server.js';
import type { ServeConfig } from './config/cli-config.js';
import { type Settings, defaultSettings, migrateSystemCommands } from './config/settings.js';
import { EventBus } from './events.js';
import { type Logger, createLogger } from './log.js';
import { Printer } from './printer/printer.js';
import { FileStorage } from './files/storage.js';
import { History } from './jobs/history.js';
import { JobRunner } from './jobs/job-runner.js';
import { AnalysisQueue } from './files/analysis/analysis-queue.js';
import { PrintQueue, type QueueFile, defaultQueue } from './jobs/print-queue.js';
import type { CheckpointFile } from './jobs/checkpoint.js';
import { PushServer } from './push/push-server.js';
import type { MqttBridge } from './mqtt/bridge.js';
import { Camera } from './camera/camera.js';
import { detectCameras } from './camera/detect.js';
import { TimelapseService, timelapseConfigView } from './timelapse/timelapse.js';
import { VirtualPrinterProcess } from './sim/launcher.js';
import { JsonStore } from './store/json-store.js';
import { listCandidatePorts } from './transport/discovery.js';
import { isNetworkTarget } from './transport/open.js';
import { GANTRY_VERSION } from './version.js';
import { writeAvahiService } from './system/avahi-service.js';
import { SystemHealthReader } from './system/health.js';
import { applyPendingRestore, removeRestoreLeftovers } from './system/backup.js';
import { IdleCollector } from './system/idle-gc.js';

export interface Gantry {
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  readonly printer: Printer;
  readonly bus: EventBus;
  readonly settings: JsonStore<Settings>;
  readonly jobs: JobRunner;
  readonly analysis: AnalysisQueue;
  readonly sessions: Sessions;
  readonly queue: PrintQueue;
  readonly push: PushServer;
  readonly mqtt: () => MqttBridge | undefined;
  /** Resolves once every MQTT settings change so far has been applied. For tests. */
  mqttSettled(): Promise<void>;
  readonly camera: Camera;
  readonly timelapse: TimelapseService;
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Extra flags for the virtual printer process (tests use a speed factor and faults). */
  virtualPrinterArgs?: string[];
  /** What POST /api/system/commands/core/restart does (default: under systemd, settings.system.restartCommand, and a
   * failing exit if that fails, which Restart=on-failure answers; elsewhere a clean exit). */
  onRestart?: () => void;
  /** Settings overrides applied at start (tests: short timeouts). Not saved. */
  serialOverrides?: Partial<Settings['serial']>;
  /** where system health finds /proc and /sys (tests: a fake Raspberry Pi tree); default / */
  systemRoot?: string;
}

export async function startGantry(cfg: ServeConfig, opts: StartOptions = {}): Promise<Gantry> {
  const log = opts.log ?? createLogger(cfg.logLevel);
  await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 });
  await mkdir(join(cfg.dataDir, 'run'), { recursive: true });
  // a restored backup is swapped in now, before any of its files is opened (src/system/backup.ts)
  await removeRestoreLeftovers(cfg.dataDir);
  await applyPendingRestore(cfg.dataDir, log);
  // `gantry reset-access` refuses to run under a live server (which would write its old accounts back)
  await writeFile(join(cfg.dataDir, 'run', 'gantry.pid'), `${process.pid}\n`);

  const settings = await JsonStore.open<Settings>(join(cfg.dataDir, 'settings.json'), defaultSettings(), log.child('store'));
  // first run: persist defaults (and the install's stable UUID); on a full disk Gantry still starts, so space
  // can be freed through the page
  await settings
    .update((s) => {
      if (!s.camera.token) s.camera.token = generateApiKey(); // the camera link's token, made once per install
      if (migrateSystemCommands(s)) log.info('system commands: the old sudo defaults replaced by systemctl through polkit');
    })
    .catch((err: Error) => log.warn(`settings not saved at start: ${err.message}`));
  const keys = await JsonStore.open<AccountsFile>(join(cfg.dataDir, 'keys.json'), defaultAccounts(), log.child('store'));
  const accounts = new Accounts(keys);
  const bus = new EventBus();
  const sessions = new Sessions({ rolesOf: (user) => accounts.identity(user)?.roles, onEnded: (ids) => bus.emit('sessions.ended', { ids }) });
  if (cfg.apiKey && (keys.data.admin?.key !== cfg.apiKey || keys.data.admin.source !== 'operator')) {
    // an operator's key: this install is taken, so keyless first-run setup is closed (Accounts.setupOpen)
    await keys.update((k) => (k.admin = { key: cfg.apiKey!, user: 'admin', app: null, created: Date.now(), source: 'operator' }));
    log.info('admin API key set from --api-key');
  } else if (!keys.data.admin) {
    await keys.update((k) => (k.admin = { key: generateApiKey(), user: 'admin', app: null, created: Date.now(), source: 'generated' }));
    log.info(`generated an admin API key (stored in ${join(cfg.dataDir, 'keys.json')})`);
  }

  const serial = { ...settings.data.serial, ...opts.serialOverrides };
  const virtual = new VirtualPrinterProcess(join(cfg.dataDir, 'run', 'virtual-printer'), opts.virtualPrinterArgs ?? []);
  const printer = new Printer(
    {
      id: 'printer',
      portGlobs: serial.portGlobs,
      virtualFallback: cfg.virtualFallback,
      autoReconnect: serial.autoReconnect,
      detectTimeout: serial.timeouts.detection,
      streamLayer: serial.streamLayer,
      protocol: {
        alwaysChecksum: serial.alwaysChecksum,
        windowed: serial.windowed,
        maxWindow: serial.maxWindow,
        communicationTimeout: serial.timeouts.communication,
        busyTimeout: serial.timeouts.busy,
        connectionTimeout: serial.timeouts.connection,
      },
    },
    { bus, log: log.child('printer'), virtual: () => virtual.ensure() },
  );

  const storage = await FileStorage.open(join(cfg.dataDir, 'files'), join(cfg.dataDir, 'files.json'), log.child('files'));
  const history = new History(join(cfg.dataDir, 'history.jsonl'));
  const thumbnailDir = join(cfg.dataDir, 'thumbnails');
  const analysis = new AnalysisQueue(storage, thumbnailDir, () => ({ filamentDiameter: 1.75 }), bus, log.child('analysis'));
  const checkpoints = await JsonStore.open<CheckpointFile>(join(cfg.dataDir, 'checkpoint.json'), { checkpoint: null }, log.child('store'));
  if (checkpoints.data.checkpoint) {
    const cp = checkpoints.data.checkpoint;
    log.warn(`the print of ${cp.path} was interrupted at layer ${cp.layer} (Z ${cp.z}); resume it with POST /api/gantry/recovery {"command":"resume"}`);
  }
  const jobs = new JobRunner({
    checkpoints,
    printer,
    storage,
    history,
    bus,
    log: log.child('jobs'),
    scripts: () => settings.data.scripts,
    profile: () => settings.data.printerProfile.volume,
    heaters: () => {
      const p = settings.data.printerProfile;
      return { tools: p.extruder.count, bed: p.heatedBed, chamber: p.heatedChamber };
    },
  });

  // memory back after a print, an upload or an analysis: one full collection once it is quiet (idle-gc.ts)
  const idleGc = new IdleCollector({ bus, printing: () => jobs.active });

  const queueStore = await JsonStore.open<QueueFile>(join(cfg.dataDir, 'queue.json'), defaultQueue(), log.child('store'));
  const queue = new PrintQueue(queueStore, jobs, printer, bus, () => settings.data.queue, log.child('queue'));

  // the camera: --camera for this run, else the saved setting; swapped live when the settings change
  const camera = new Camera(log.child('camera'));
  const cameraWanted = () => {
    const c = settings.data.camera;
    return { source: cfg.camera ?? c.source, width: c.width, height: c.height, fps: c.fps };
  };
  await camera.apply(cameraWanted());
  const timelapse = await TimelapseService.open({
    dir: join(cfg.dataDir, 'timelapse'),
    bus,
    jobs,
    printer,
    camera: () => camera.capture,
    settings: () => settings.data.timelapse,
    cameraSettings: () => settings.data.camera,
    volume: () => settings.data.printerProfile.volume,
    log: log.child('timelapse'),
  });

  const runSystemCommand = (argv: string[]) =>
    new Promise<number>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      child.once('error', () => resolve(127));
      child.once('exit', (code) => resolve(code ?? 1));
    });
  const restartService = async () => {
    // INVOCATION_ID: systemd started us. A clean exit would not be restarted (Restart=on-failure), so ask systemd
    if (!process.env['INVOCATION_ID']) return process.kill(process.pid, 'SIGTERM');
    const argv = settings.data.system.restartCommand;
    const code = argv.length > 0 ? await runSystemCommand(argv) : 1;
    if (code === 0) return; // systemd stops us now and starts us again
    log.warn(`restart: ${argv.join(' ')} failed (${code}); exiting with a failure so systemd starts Gantry again`);
    process.exitCode = 1;
    process.kill(process.pid, 'SIGTERM');
  };

  const health = new SystemHealthReader(cfg.dataDir, opts.systemRoot);
  const startedAt = Date.now();
  const app = createApi({
    printer,
    bus,
    storage,
    jobs,
    history,
    analysis,
    thumbnailDir,
    queue,
    camera: () => camera.relay,
    timelapse: () => timelapse,
    listCameras: detectCameras,
    settings,
    accounts,
    sessions,
    appKeys: new AppKeys(accounts, {
      requested: (r) => bus.emit('appkeys.request', { id: r.id, app: r.app, user: r.user, remoteAddress: r.remoteAddress }),
      decided: (r) => bus.emit('appkeys.decided', { id: r.id, user: r.user }),
    }),
    runSystemCommand,
    systemHealth: () => health.read(),
    dataDir: cfg.dataDir,
    restart: opts.onRestart ?? (() => void restartService()),
    log: log.child('api'),
    version: GANTRY_VERSION,
    startedAt,
    // what the globs find, plus the port this Gantry was started with or saved (a path outside /dev, a PTY link):
    // after "Offline after error" the page and the API can connect to it again
    listPorts: async () => {
      const found = await listCandidatePorts(settings.data.serial.portGlobs);
      for (const p of [cfg.serial, settings.data.serial.port]) {
        if (p && !/^(AUTO|VIRTUAL|NONE)$/i.test(p) && !isNetworkTarget(p) && !found.includes(p)) found.push(p);
      }
      return found;
    },
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = createHttpServer(app.fetch, cfg.host, log.child('http'));
    s.listen(cfg.port, cfg.host);
    s.once('listening', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `Port ${cfg.port} is already in use (another Gantry or OctoPrint?); choose one with --port` : err.message)),
    );
  });
  // MQTT: off until a broker URL is configured; restarted when its settings change
  let bridge: MqttBridge | undefined;
  let mqttApplied = Promise.resolve();
  // one change at a time: two quick settings saves must not each start a bridge and leave one running
  const applyMqtt = (removeFromHomeAssistant = false) =>
    (mqttApplied = mqttApplied.then(() => restartMqtt(removeFromHomeAssistant)).catch((err: Error) => log.warn(`mqtt: ${err.message}`)));
  const restartMqtt = async (removeFromHomeAssistant: boolean) => {
    if (removeFromHomeAssistant) await bridge?.removeDiscovery();
    await bridge?.stop();
    bridge = undefined;
    const m = { ...settings.data.mqtt, ...(cfg.mqtt !== undefined ? { url: cfg.mqtt } : {}) };
    if (!m.url) return;
    // loaded only when a broker is configured: most installs never pay for it
    const { MqttBridge, deviceName, pageUrl } = await import('./mqtt/bridge.js');
    bridge = new MqttBridge(m, {
      printer,
      jobs,
      queue,
      storage,
      bus,
      log: log.child('mqtt'),
      version: GANTRY_VERSION,
      systemHealth: () => health.read(),
      discovery: () => {
        const p = settings.data.printerProfile;
        const hasCamera = camera.capture !== undefined && settings.data.mqtt.cameraInterval > 0;
        return {
          hostId: settings.data.server.uuid.replace(/-/g, ''),
          printerId: 'printer',
          // the printer's name, or one from the host name while it is the default: not "Gantry" for every install
          name: deviceName(settings.data.appearance.name),
          version: GANTRY_VERSION,
          tools: p.extruder.count,
          bed: p.heatedBed,
          chamber: p.heatedChamber,
          camera: hasCamera,
          pageUrl: pageUrl(cfg.host, (server.address() as AddressInfo).port),
        };
      },
      snapshot: () => camera.capture?.nextFrame(5_000),
      // what Gantry connects to at start: --serial, else the saved port (AUTO by default)
      connectTarget: () => ({
        port: cfg.serial !== undefined && cfg.serial !== 'NONE' ? cfg.serial : settings.data.serial.port,
        baudrate: cfg.baud ?? settings.data.serial.baudrate,
      }),
      settings: () => ({ ...settings.data.mqtt, ...(cfg.mqtt !== undefined ? { url: cfg.mqtt } : {}) }),
    });
    bridge.start();
  };
  await applyMqtt();
  let mqttConfig = JSON.stringify(settings.data.mqtt);
  bus.on('settings.updated', () => {
    // windowed mode and its window take effect on the running connection, no restart
    printer.configureProtocol({ windowed: settings.data.serial.windowed, maxWindow: settings.data.serial.maxWindow });
    printer.configureLink({ streamLayer: settings.data.serial.streamLayer });
    void camera.apply(cameraWanted()).then(() => bridge?.refreshDiscovery());
    if (JSON.stringify(settings.data.mqtt) === mqttConfig) return;
    mqttConfig = JSON.stringify(settings.data.mqtt);
    // MQTT switched off: take the printer out of Home Assistant too (empty retained discovery)
    void applyMqtt(settings.data.mqtt.url === '');
  });

  // mDNS through avahi (the appliance): the name and this install's UUID, kept current
  const announce = async () => {
    if (!cfg.avahiService) return;
    const info = { name: settings.data.appearance.name, port: (server.address() as AddressInfo).port, uuid: settings.data.server.uuid, version: GANTRY_VERSION };
    await writeAvahiService(cfg.avahiService, info).catch((err: Error) => log.warn(`zeroconf: cannot write ${cfg.avahiService}: ${err.message}`));
  };
  await announce();
  let announced = settings.data.appearance.name;
  bus.on('settings.updated', () => {
    if (settings.data.appearance.name === announced) return;
    announced = settings.data.appearance.name;
    void announce();
  });

  const push = new PushServer(server, {
    printer,
    jobs,
    storage,
    sessions,
    bus,
    log: log.child('push'),
    version: GANTRY_VERSION,
    timelapseConfig: () => (camera.capture ? timelapseConfigView(settings.data.timelapse) : null),
    systemHealth: () => health.read(),
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = cfg.host === '0.0.0.0' || cfg.host === '::' ? 'localhost' : cfg.host;
  const url = `http://${shownHost}:${port}`;
  log.info(`Gantry ${GANTRY_VERSION} listening on ${url} (data in ${cfg.dataDir})`);

  const wanted = cfg.serial ?? settings.data.serial.port;
  const baud = cfg.baud ?? settings.data.serial.baudrate;
  if (cfg.serial === 'NONE') log.info('not connecting to a printer (--serial none)');
  else if (cfg.serial !== undefined || settings.data.serial.autoconnect) {
    printer.connect(wanted, baud).catch((err: Error) => log.warn(`printer not connected: ${err.message}`));
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    apiKey: keys.data.admin!.key,
    printer,
    bus,
    settings,
    jobs,
    analysis,
    sessions,
    queue,
    push,
    mqtt: () => bridge,
    mqttSettled: () => mqttApplied,
    camera,
    timelapse,
    stop() {
      stopping ??= (async () => {
        await mqttApplied;
        await bridge?.stop();
        await timelapse.stop();
        await camera.close();
        await push.close();
        queue.stop();
        idleGc.stop();
        jobs.stop();
        await analysis.stop();
        await printer.close();
        await virtual.stop();
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return stopping;
    },
  };
}

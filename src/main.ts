// Composition: config → stores → printer → API → server; and a clean shutdown of all of it.
import { mkdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { generateApiKey } from './accounts/api-keys.js';
import { ensureAdminKey } from './accounts/admin-key.js';
import { AppKeys } from './accounts/app-keys.js';
import { Sessions } from './accounts/sessions.js';
import { Accounts, type AccountsFile, defaultAccounts } from './accounts/users.js';
import { createHttpServer } from './api/http-server.js';
import type { ServeConfig } from './config/cli-config.js';
import { type Settings, defaultSettings, migrateSystemCommands } from './config/settings.js';
import { EventBus } from './events.js';
import { type Logger, createLogger } from './log.js';
import type { Printer } from './printer/printer.js';
import { FileStorage } from './files/storage.js';
import { uploadsInProgress } from './files/upload.js';
import { History } from './jobs/history.js';
import type { JobRunner } from './jobs/job-runner.js';
import { AnalysisQueue } from './files/analysis/analysis-queue.js';
import type { PushServer } from './push/push-server.js';
import type { PrintQueue } from './jobs/print-queue.js';
import type { MqttBridge } from './mqtt/bridge.js';
import { pageUrl } from './mqtt/discovery.js';
import { MqttService } from './mqtt/service.js';
import type { Camera } from './camera/camera.js';
import { detectCameras } from './camera/detect.js';
import type { TimelapseService } from './timelapse/timelapse.js';
import { JsonStore } from './store/json-store.js';
import { GANTRY_VERSION } from './version.js';
import { SystemHealthReader } from './system/health.js';
import { applyPendingRestore, removeRestoreLeftovers } from './system/backup.js';
import { IdleCollector } from './system/idle-gc.js';
import { Zeroconf } from './system/zeroconf.js';
import { restartService, runSystemCommand } from './system/service-control.js';
import { type PrintersFile, defaultPrintersFile } from './printers/printers-file.js';
import { PrinterRegistry } from './printers/registry.js';
import { builtinOperations } from './ops/builtin/index.js';
import type { Operations } from './ops/registry.js';
import { frontRequest, frontUpgrade } from './printers/http-front.js';
import { recoverCommit, settingsJournal } from './store/commit.js';
import { type MqttRemovalsFile, defaultMqttRemovals } from './mqtt/removals.js';
import { type FarmFile, FarmQueue, defaultFarmFile } from './farm/farm-queue.js';
import { PortFinder } from './printers/port-finder.js';
import { probePort } from './printers/port-probe.js';

/** How long a stop waits for answers that must go out first (answerBeforeStop) before closing every connection. */
const ANSWER_GRACE_MS = 3000;

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
  /** the operations every surface runs (src/ops/) */
  readonly ops: Operations;
  /** Resolves once every MQTT settings change so far has been applied. For tests. */
  mqttSettled(): Promise<void>;
  readonly camera: Camera;
  readonly timelapse: TimelapseService;
  /** every printer; the fields above are the default one's */
  readonly printers: PrinterRegistry;
  readonly farm: FarmQueue;
  /** the idle collector: its runs and skips */
  readonly idleGc: IdleCollector;
  readonly found: PortFinder;
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Extra flags for each printer's virtual printer process (tests use a speed factor, faults, a record file). */
  virtualPrinterArgs?: (printerId: string) => string[];
  /** What POST /api/system/commands/core/restart does (default: under systemd, settings.system.restartCommand, and a
   * failing exit if that fails, which Restart=on-failure answers; elsewhere a clean exit). */
  onRestart?: () => void;
  /** Settings overrides applied at start (tests: short timeouts). Not saved. */
  serialOverrides?: Partial<Settings['serial']>;
  /** where system health finds /proc and /sys (tests: a fake Raspberry Pi tree); default / */
  systemRoot?: string;
  /** the idle collector's quiet time and what it runs (tests: a short delay, a counted collection) */
  idleGc?: { delayMs?: number; collect?: () => void };
}

export async function startGantry(cfg: ServeConfig, opts: StartOptions = {}): Promise<Gantry> {
  const log = opts.log ?? createLogger(cfg.logLevel);
  await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 });
  await mkdir(join(cfg.dataDir, 'run'), { recursive: true });
  // a save of settings.json and printers.json together that a crash cut short after its commit point: finished now,
  // before either is read (src/store/commit.ts), and before a restore pending since replaces them
  await recoverCommit(settingsJournal(cfg.dataDir), log.child('store'));
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
  await ensureAdminKey(keys, cfg.apiKey, cfg.dataDir, log);

  const storage = await FileStorage.open(join(cfg.dataDir, 'files'), join(cfg.dataDir, 'files.json'), log.child('files'));
  const history = new History(join(cfg.dataDir, 'history.jsonl'));
  const thumbnailDir = join(cfg.dataDir, 'thumbnails');
  const analysis = new AnalysisQueue(storage, thumbnailDir, () => ({ filamentDiameter: 1.75 }), bus, log.child('analysis'));

  const health = new SystemHealthReader(cfg.dataDir, opts.systemRoot);
  const startedAt = Date.now();
  const ops = builtinOperations();
  const printersFile = await JsonStore.open<PrintersFile>(join(cfg.dataDir, 'printers.json'), defaultPrintersFile(), log.child('store'));
  // the farm queue and the port finder work over every printer: they reach them through the registry, built next
  const farm = new FarmQueue({
    store: await JsonStore.open<FarmFile>(join(cfg.dataDir, 'farm-queue.json'), defaultFarmFile(), log.child('store')),
    bus,
    storage,
    analysis,
    printers: () => registry.all(),
    log: log.child('farm'),
  });
  const finder = new PortFinder({
    printers: () => registry.all(),
    globs: () => registry.defaultUnit.printer.config.portGlobs,
    probe: (port) => probePort(port, log.child('probe'), registry.defaultUnit.printer.config.detectTimeout),
    hold: (device, done) => registry.hold(device, done),
    bus,
    log: log.child('ports'),
  });
  const answersBeforeStop = new Set<Promise<void>>();
  const registry = new PrinterRegistry(
    {
      bus,
      log,
      dataDir: cfg.dataDir,
      host: cfg.host,
      version: GANTRY_VERSION,
      startedAt,
      storage,
      history,
      analysis,
      thumbnailDir,
      accounts,
      sessions,
      appKeys: new AppKeys(accounts, {
        requested: (r) => bus.emit('appkeys.request', { id: r.id, app: r.app, user: r.user, remoteAddress: r.remoteAddress }),
        decided: (r) => bus.emit('appkeys.decided', { id: r.id, user: r.user }),
      }),
      ops,
      listCameras: detectCameras,
      systemHealth: () => health.read(),
      runSystemCommand,
      answerBeforeStop: (res) => {
        if (res.writableFinished || res.destroyed) return;
        const sent = new Promise<void>((resolve) => {
          res.once('finish', resolve);
          res.once('close', resolve);
        });
        answersBeforeStop.add(sent);
        void sent.then(() => answersBeforeStop.delete(sent));
      },
      restart: opts.onRestart ?? (() => void restartService(() => settings.data.system.restartCommand, log)),
      virtualPrinterArgs: opts.virtualPrinterArgs ?? (() => []),
      serialOverrides: opts.serialOverrides ?? {},
      virtualFallback: cfg.virtualFallback,
      farm,
      found: finder,
    },
    settings,
    printersFile,
  );
  await registry.open({ serial: cfg.serial, baud: cfg.baud, camera: cfg.camera });
  for (const [id, port] of cfg.printers) {
    // --printer ID=PORT: added (and kept) when new, its port set when it has another; the default printer is --serial's
    const known = registry.get(id);
    const wantedPort = /^(auto|virtual|none)$/i.test(port) ? port.toUpperCase() : port;
    const change = known ? (known.settings.data.serial.port === wantedPort ? undefined : registry.update(id, { serial: { port: wantedPort } })) : registry.add({ id, serial: { port: wantedPort } });
    await change?.catch((err: Error) => log.error(`--printer ${id}=${port}: ${err.message}`));
  }
  const unit = registry.defaultUnit;
  const { printer, jobs, queue, camera, timelapse } = unit;
  // memory back after a print, an upload or an analysis: one full collection once it is quiet (idle-gc.ts)
  // quiet means no printer of this process streams lines (a paused print does not: a pause there harms nothing) and
  // no upload streams in
  const idleGc = new IdleCollector({
    bus,
    printing: () => registry.all().some((u) => u.jobs.active && u.printer.state !== 'PAUSED'),
    uploading: () => uploadsInProgress() > 0,
    ...(opts.idleGc ?? {}),
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = createHttpServer(frontRequest(registry));
    s.on('upgrade', frontUpgrade(registry));
    s.listen(cfg.port, cfg.host);
    s.once('listening', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `Port ${cfg.port} is already in use (another Gantry or OctoPrint?); choose one with --port` : err.message)),
    );
  });
  // MQTT: off until a broker URL is configured; a Home Assistant device per printer
  const mqtt = new MqttService({
    printers: registry,
    bus,
    settings,
    url: cfg.mqtt,
    storage,
    ops,
    removals: await JsonStore.open<MqttRemovalsFile>(join(cfg.dataDir, 'mqtt-removals.json'), defaultMqttRemovals(), log.child('store')),
    farm: { queue: farm, printerIds: () => registry.list().map((p) => p.id), items: () => farm.view().items, onChange: (fn) => bus.on('farm.changed', fn) },
    log: log.child('mqtt'),
    version: GANTRY_VERSION,
    systemHealth: () => health.read(),
    pageUrl: () => pageUrl(cfg.host, (server.address() as AddressInfo).port),
  });
  await mqtt.start();

  // mDNS through avahi (the appliance): one OctoPrint instance per printer, kept current (system/zeroconf.ts)
  const zeroconf = new Zeroconf(
    { serviceFile: cfg.avahiService, port: () => (server.address() as AddressInfo).port, uuid: () => settings.data.server.uuid, version: GANTRY_VERSION, log },
    hostname(),
  );
  const announce = () => zeroconf.update(registry.list().map((p) => ({ id: p.id, name: p.name, path: p.default ? '/' : p.path, default: p.default })));
  await announce();
  bus.on('settings.updated', () => void announce());
  bus.on('printers.changed', () => void announce());

  const push = unit.push;
  const port = (server.address() as AddressInfo).port;
  const shownHost = cfg.host === '0.0.0.0' || cfg.host === '::' ? 'localhost' : cfg.host;
  const url = `http://${shownHost}:${port}`;
  log.info(`Gantry ${GANTRY_VERSION} listening on ${url} (data in ${cfg.dataDir})`);

  registry.start();
  await farm.start();
  finder.start();

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
    ops,
    mqtt: () => mqtt.current,
    mqttSettled: () => mqtt.settled(),
    camera,
    timelapse,
    printers: registry,
    farm,
    found: finder,
    idleGc,
    stop() {
      stopping ??= (async () => {
        await mqtt.stop();
        idleGc.stop();
        health.close();
        zeroconf.stop();
        // before the printers: a print cut short by the stop stays the farm's, attributed, not counted as failed
        await farm.stop();
        await finder.stop();
        await registry.stop();
        await analysis.stop();
        // the answer to the shutdown that stops us, still being written (bounded: a client that never reads it)
        if (answersBeforeStop.size) await Promise.race([Promise.all(answersBeforeStop), new Promise((r) => setTimeout(r, ANSWER_GRACE_MS).unref())]);
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return stopping;
    },
  };
}

// One printer and everything that is its own: the link, its jobs and queue, its camera and timelapse, its push
// socket and its OctoPrint-compatible API (the same routes at / for the default printer and at /printers/<id>/ for
// every printer). Built and torn down at run time by the registry; the Gantry-wide services come in `UnitGlobals`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Hono } from 'hono/tiny';
import type { AppKeys } from '../accounts/app-keys.js';
import type { Sessions } from '../accounts/sessions.js';
import type { Accounts } from '../accounts/users.js';
import { createApi } from '../api/app.js';
import type { ApiDeps, ApiEnv, PrintersApi } from '../api/context.js';
import { Camera } from '../camera/camera.js';
import type { DetectedCamera } from '../camera/detect.js';
import type { SettingsStore } from '../config/settings-store.js';
import type { EventBus, PrinterBus } from '../events.js';
import type { AnalysisQueue } from '../files/analysis/analysis-queue.js';
import type { FileStorage } from '../files/storage.js';
import type { CheckpointFile } from '../jobs/checkpoint.js';
import type { History } from '../jobs/history.js';
import { JobRunner } from '../jobs/job-runner.js';
import { PrintQueue, type QueueFile, defaultQueue } from '../jobs/print-queue.js';
import type { Logger } from '../log.js';
import { Printer } from '../printer/printer.js';
import { PushServer } from '../push/push-server.js';
import { VirtualPrinterProcess } from '../sim/launcher.js';
import { JsonStore } from '../store/json-store.js';
import type { SystemHealth } from '../system/health.js';
import { TimelapseService, timelapseConfigView } from '../timelapse/timelapse.js';
import { listCandidatePorts } from '../transport/discovery.js';
import { isNetworkTarget } from '../transport/open.js';
import type { Settings } from '../config/settings.js';
import { requestListener } from '../api/http-server.js';
import { DEFAULT_PRINTER_ID } from './printers-file.js';
import { PrinterStatusModel } from '../status/status.js';
import type { Operations } from '../ops/registry.js';
import type { OpPrinter } from '../ops/operation.js';

/** What every unit shares: the whole Gantry's services. */
export interface UnitGlobals {
  bus: EventBus;
  log: Logger;
  dataDir: string;
  host: string;
  version: string;
  startedAt: number;
  storage: FileStorage;
  history: History;
  analysis: AnalysisQueue;
  thumbnailDir: string;
  accounts: Accounts;
  sessions: Sessions;
  appKeys: AppKeys;
  printers: PrintersApi;
  /** the operations every surface calls */
  ops: Operations;
  farm: ApiDeps['farm'];
  found: ApiDeps['found'];
  listCameras(): Promise<DetectedCamera[]>;
  systemHealth(): Promise<SystemHealth>;
  runSystemCommand(argv: string[]): Promise<number>;
  answerBeforeStop(res: ServerResponse): void;
  restart(): void;
  /** devices other printers are bound to (autodetection leaves them alone) */
  claimedBy(printerId: string): Promise<string[]>;
  /** extra flags for a printer's virtual printer process (tests) */
  virtualPrinterArgs: (printerId: string) => string[];
  serialOverrides: Partial<Settings['serial']>;
  /** --virtual-fallback */
  virtualFallback: boolean;
}

/** What this run was told on the command line about this printer (the default one: --serial, --baud, --camera). */
export interface UnitRunOptions {
  serial?: string | undefined;
  baud?: number | undefined;
  camera?: string | undefined;
}

export class PrinterUnit implements OpPrinter {
  readonly bus: PrinterBus;
  readonly printer: Printer;
  readonly jobs: JobRunner;
  readonly queue: PrintQueue;
  readonly camera: Camera;
  readonly push: PushServer;
  readonly timelapse: TimelapseService;
  /** the one status model every surface of this printer translates */
  readonly status: PrinterStatusModel;
  private readonly api: Hono<ApiEnv>;
  private readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  private readonly offs: (() => void)[] = [];
  private stopping: Promise<void> | undefined;
  /** its own files (checkpoint, queue): a stop waits for their last save, so nothing writes after it */
  private readonly stores: { settled(): Promise<void> }[];
  /** the camera's last settings change, applied (MQTT discovery waits for it to say whether there is a camera) */
  cameraApplied: Promise<void> = Promise.resolve();

  private constructor(
    readonly id: string,
    readonly settings: SettingsStore,
    private readonly g: UnitGlobals,
    private readonly run: UnitRunOptions,
    private readonly virtual: VirtualPrinterProcess,
    parts: { printer: Printer; jobs: JobRunner; queue: PrintQueue; camera: Camera; timelapse: TimelapseService; bus: PrinterBus; log: Logger; stores: { settled(): Promise<void> }[] },
  ) {
    this.bus = parts.bus;
    this.printer = parts.printer;
    this.jobs = parts.jobs;
    this.queue = parts.queue;
    this.camera = parts.camera;
    this.timelapse = parts.timelapse;
    this.stores = parts.stores;
    const log = parts.log;
    this.status = new PrinterStatusModel({
      printer: this.printer,
      jobs: this.jobs,
      storage: g.storage,
      queue: this.queue,
      bus: this.bus,
      name: () => settings.data.appearance.name,
      layout: () => {
        const p = settings.data.printerProfile;
        return { tools: p.extruder.count, bed: p.heatedBed, chamber: p.heatedChamber };
      },
      camera: () => this.camera.capture !== undefined,
    });
    this.api = createApi({
      printer: this.printer,
      status: this.status,
      ops: g.ops,
      unit: this,
      basePath: id === DEFAULT_PRINTER_ID ? '' : `/printers/${id}`,
      bus: this.bus,
      storage: g.storage,
      jobs: this.jobs,
      history: g.history,
      analysis: g.analysis,
      thumbnailDir: g.thumbnailDir,
      queue: this.queue,
      camera: () => this.camera.relay,
      timelapse: () => this.timelapse,
      listCameras: g.listCameras,
      settings,
      accounts: g.accounts,
      sessions: g.sessions,
      appKeys: g.appKeys,
      printers: g.printers,
      farm: g.farm,
      found: g.found,
      runSystemCommand: g.runSystemCommand,
      answerBeforeStop: g.answerBeforeStop,
      systemHealth: g.systemHealth,
      dataDir: g.dataDir,
      restart: g.restart,
      log: log.child('api'),
      version: g.version,
      startedAt: g.startedAt,
      listPorts: () => this.listPorts(),
    });
    this.listener = requestListener(this.api.fetch, g.host, log.child('http'));
    this.push = new PushServer({
      printer: this.printer,
      status: this.status,
      jobs: this.jobs,
      storage: g.storage,
      sessions: g.sessions,
      bus: this.bus,
      log: log.child('push'),
      version: g.version,
      timelapseConfig: () => (this.camera.capture ? timelapseConfigView(settings.data.timelapse) : null),
      systemHealth: g.systemHealth,
    });
    this.offs.push(
      this.bus.on('settings.updated', () => {
        const s = settings.data.serial;
        // windowed mode, its window and checksums on every line take effect on the running connection, no restart
        this.printer.configureProtocol({ windowed: s.windowed, maxWindow: s.maxWindow, alwaysChecksum: s.alwaysChecksum });
        this.printer.configureLink({ streamLayer: s.streamLayer });
        this.cameraApplied = this.camera.apply(this.cameraWanted()).catch((err: Error) => log.warn(`camera: ${err.message}`));
      }),
    );
  }

  get isDefault(): boolean {
    return this.id === DEFAULT_PRINTER_ID;
  }

  /** Builds a unit: its stores (the default printer's where a single-printer Gantry kept them), its services. */
  static async open(id: string, settings: SettingsStore, g: UnitGlobals, run: UnitRunOptions = {}): Promise<PrinterUnit> {
    const isDefault = id === DEFAULT_PRINTER_ID;
    const own = isDefault ? g.dataDir : join(g.dataDir, 'printers', id);
    await mkdir(own, { recursive: true });
    const log = isDefault ? g.log : g.log.child(id);
    const bus = g.bus.scope(id);
    const serial = { ...settings.data.serial, ...g.serialOverrides };
    const virtual = new VirtualPrinterProcess(join(g.dataDir, 'run', isDefault ? 'virtual-printer' : `virtual-printer-${id}`), g.virtualPrinterArgs(id));
    const printer = new Printer(
      {
        portGlobs: serial.portGlobs,
        virtualFallback: g.virtualFallback && isDefault,
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
      { bus, log: log.child('printer'), virtual: () => virtual.ensure(), claimedElsewhere: () => g.claimedBy(id) },
    );
    const checkpoints = await JsonStore.open<CheckpointFile>(join(own, 'checkpoint.json'), { checkpoint: null }, log.child('store'));
    if (checkpoints.data.checkpoint) {
      const cp = checkpoints.data.checkpoint;
      const at = isDefault ? '' : `/printers/${id}`;
      log.warn(`the print of ${cp.path} was interrupted at layer ${cp.layer} (Z ${cp.z}); resume it with POST ${at}/api/gantry/recovery {"command":"resume"}`);
    }
    const jobs = new JobRunner({
      checkpoints,
      printer,
      storage: g.storage,
      history: g.history,
      bus,
      log: log.child('jobs'),
      scripts: () => settings.data.scripts,
      profile: () => settings.data.printerProfile.volume,
      heaters: () => {
        const p = settings.data.printerProfile;
        return { tools: p.extruder.count, bed: p.heatedBed, chamber: p.heatedChamber };
      },
    });
    const queueStore = await JsonStore.open<QueueFile>(join(own, 'queue.json'), defaultQueue(), log.child('store'));
    const queue = new PrintQueue(queueStore, jobs, printer, bus, () => settings.data.queue, log.child('queue'));
    const camera = new Camera(log.child('camera'));
    const timelapse = await TimelapseService.open({
      dir: join(own, 'timelapse'),
      bus,
      jobs,
      printer,
      camera: () => camera.capture,
      settings: () => settings.data.timelapse,
      cameraSettings: () => settings.data.camera,
      volume: () => settings.data.printerProfile.volume,
      log: log.child('timelapse'),
    });
    const unit = new PrinterUnit(id, settings, g, run, virtual, { printer, jobs, queue, camera, timelapse, bus, log, stores: [checkpoints, queueStore] });
    await camera.apply(unit.cameraWanted());
    return unit;
  }

  /** Connects as configured: the port this run was given, else the saved one when autoconnect is on. */
  start(): void {
    const s = this.settings.data.serial;
    const wanted = this.run.serial ?? s.port;
    const baud = this.run.baud ?? s.baudrate;
    if (this.run.serial === 'NONE') {
      this.g.log.info(`${this.id}: not connecting to a printer (--serial none)`);
      return;
    }
    if (this.run.serial === undefined && !s.autoconnect) return;
    this.printer.connect(wanted, baud).catch((err: Error) => this.g.log.warn(`${this.id}: printer not connected: ${err.message}`));
  }

  /** Where this printer connects when asked to without a port (MQTT's connect, the page's button). */
  connectTarget(): { port: string; baudrate: number } {
    return {
      port: this.run.serial !== undefined && this.run.serial !== 'NONE' ? this.run.serial : this.settings.data.serial.port,
      baudrate: this.run.baud ?? this.settings.data.serial.baudrate,
    };
  }

  fileKind(path: string): Promise<'file' | 'folder' | undefined> {
    return this.g.storage.exists(path);
  }

  /** The port this printer is bound to, when it names one device (not AUTO, VIRTUAL or NONE). */
  boundPort(): string | undefined {
    const p = this.run.serial ?? this.settings.data.serial.port;
    return /^(AUTO|VIRTUAL|NONE)$/i.test(p) ? undefined : p;
  }

  /** The HTTP side of this printer's base URL: SockJS first, then the API. `path` is the request's path under it. */
  handleRequest(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (!this.push.handleRequest(req, res, path)) this.listener(req, res);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean {
    return this.push.handleUpgrade(req, socket, head, path);
  }

  /** the printer's API, for tests that call it without a server */
  get app(): Hono<ApiEnv> {
    return this.api;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const off of this.offs) off();
      this.status.stop();
      await this.timelapse.stop();
      await this.camera.close();
      await this.push.close();
      this.queue.stop();
      await this.jobs.stop();
      await this.printer.close();
      await this.virtual.close();
      await Promise.all(this.stores.map((s) => s.settled()));
    })();
    return this.stopping;
  }

  private cameraWanted() {
    const c = this.settings.data.camera;
    return { source: this.run.camera ?? c.source, width: c.width, height: c.height, fps: c.fps };
  }

  // what the globs find, plus the port this printer was started with or saved (a path outside /dev, a PTY link):
  // after "Offline after error" the page and the API can connect to it again
  private async listPorts(): Promise<string[]> {
    const found = await listCandidatePorts(this.settings.data.serial.portGlobs);
    for (const p of [this.run.serial, this.settings.data.serial.port]) {
      if (p && !/^(AUTO|VIRTUAL|NONE)$/i.test(p) && !isNetworkTarget(p) && !found.includes(p)) found.push(p);
    }
    return found;
  }
}

// Command-line flags and environment variables for `gantry serve`; flags win over the environment.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LogLevel } from '../log.js';

export interface ServeConfig {
  dataDir: string;
  host: string;
  port: number;
  /** undefined: use the saved setting */
  serial: string | undefined;
  baud: number | undefined;
  apiKey: string | undefined;
  /** MQTT broker URL (overrides the setting for this run) */
  mqtt: string | undefined;
  /** camera source for this run: auto | none | testsrc | rpicam[:N] | /dev/videoN */
  camera: string | undefined;
  /** an avahi service file Gantry keeps current, so slicers and Home Assistant find it by mDNS */
  avahiService: string | undefined;
  virtualFallback: boolean;
  /** --printer ID=PORT (repeatable): printers besides the default one, added (and kept) at start */
  printers: [id: string, port: string][];
  printApiKey: boolean;
  logLevel: LogLevel;
}

export class ConfigError extends Error {}

const env = (name: string): string | undefined => {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
};

function defaultDataDir(): string {
  const xdg = env('XDG_DATA_HOME');
  return join(xdg ?? join(homedir(), '.local', 'share'), 'gantry');
}

export const SERVE_HELP = `gantry serve [options]
  --data-dir DIR      settings, keys and files (GANTRY_DATA_DIR; default ~/.local/share/gantry)
  --host ADDR         listen address (GANTRY_HOST; default 0.0.0.0)
  --port N            HTTP port (GANTRY_PORT; default 8197)
  --serial PORT       auto | virtual | none | /dev/ttyUSB0 | rfc2217://host:port | socket://host:port (GANTRY_SERIAL)
  --baud N|auto       baud rate (GANTRY_BAUD; default auto)
  --api-key KEY       set the admin API key, 32-43 characters of A-Z a-z 0-9 _ - (GANTRY_API_KEY)
  --mqtt URL          MQTT broker, mqtt://user:pass@host:1883 or mqtts://… (GANTRY_MQTT_URL; off by default)
  --camera SOURCE     auto | none | testsrc | rpicam[:N] | /dev/videoN (GANTRY_CAMERA; default: settings)
  --printer ID=PORT   another printer (repeatable): its id (a-z 0-9 - _) and port, as --serial; kept once added
  --virtual-fallback  use the virtual printer when --serial auto finds none (GANTRY_VIRTUAL_FALLBACK=1)
  --print-api-key     print the admin API key on stdout at start (for make run)
  --log-level LEVEL   debug | info | warn | error (GANTRY_LOG_LEVEL)
  (GANTRY_AVAHI_SERVICE=FILE: an avahi service file kept current, so slicers and Home Assistant find Gantry)`;

export function parseServeArgs(argv: string[]): ServeConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      serial: { type: 'string' },
      baud: { type: 'string' },
      'api-key': { type: 'string' },
      mqtt: { type: 'string' },
      camera: { type: 'string' },
      'virtual-fallback': { type: 'boolean' },
      printer: { type: 'string', multiple: true },
      'print-api-key': { type: 'boolean' },
      'log-level': { type: 'string' },
    },
    strict: true,
  });
  const portText = values.port ?? env('GANTRY_PORT') ?? '8197';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a TCP port number, not "${portText}"`);
  const serialRaw = values.serial ?? env('GANTRY_SERIAL');
  const serial = serialRaw === undefined ? undefined : /^(auto|virtual|none)$/i.test(serialRaw) ? serialRaw.toUpperCase() : serialRaw;
  const baudText = values.baud ?? env('GANTRY_BAUD');
  let baud: number | undefined;
  if (baudText !== undefined) {
    baud = baudText.toLowerCase() === 'auto' ? 0 : Number(baudText);
    if (!Number.isInteger(baud) || baud < 0) throw new ConfigError(`--baud must be a number or "auto", not "${baudText}"`);
  }
  const apiKey = values['api-key'] ?? env('GANTRY_API_KEY');
  if (apiKey !== undefined && !/^[A-Za-z0-9_-]{32,43}$/.test(apiKey)) {
    throw new ConfigError('--api-key must be 32 to 43 characters of A-Z a-z 0-9 _ - (the form OctoPrint clients accept)');
  }
  const level = (values['log-level'] ?? env('GANTRY_LOG_LEVEL') ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new ConfigError(`--log-level must be debug, info, warn or error`);
  const printers: [string, string][] = [];
  for (const p of values.printer ?? []) {
    const i = p.indexOf('=');
    if (i < 1 || i === p.length - 1) throw new ConfigError(`--printer must be ID=PORT (for example ender3=/dev/serial/by-id/usb-…), not "${p}"`);
    printers.push([p.slice(0, i), p.slice(i + 1)]);
  }
  const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v);
  return {
    dataDir: resolve(values['data-dir'] ?? env('GANTRY_DATA_DIR') ?? defaultDataDir()),
    host: values.host ?? env('GANTRY_HOST') ?? '0.0.0.0',
    port,
    serial,
    baud,
    apiKey,
    mqtt: values.mqtt ?? env('GANTRY_MQTT_URL'),
    camera: values.camera ?? env('GANTRY_CAMERA'),
    avahiService: env('GANTRY_AVAHI_SERVICE'),
    virtualFallback: values['virtual-fallback'] ?? truthy(env('GANTRY_VIRTUAL_FALLBACK')),
    printers,
    printApiKey: values['print-api-key'] ?? false,
    logLevel: level,
  };
}

import { openNetwork, parseNetworkUrl } from './tcp.js';
import { openSerial } from './serial.js';
import type { Transport, TransportHandlers } from './transport.js';

export function isNetworkTarget(target: string): boolean {
  return parseNetworkUrl(target) !== undefined;
}

/** Opens a device path (serial, PTY) or a socket:// / rfc2217:// URL. */
export function openTransport(target: string, baudRate: number, on: TransportHandlers, opts: { streamLayer?: boolean } = {}): Promise<Transport> {
  return isNetworkTarget(target) ? openNetwork(target, baudRate, on) : openSerial(target, baudRate, on, { stream: opts.streamLayer });
}

// The firmware error taxonomy: what a host does when the firmware says `Error:`, `!!` or `fatal:`.

export type ErrorClass =
  /** a transmission error; a `Resend:` follows, handled there */
  | 'resend'
  /** a line thrown away with no `Resend:` and no `ok` after it (Marlin 1.x, OctoPrint's virtual printer:
   * `No Line Number with checksum, Last Line: 109`): the host must resend without being asked */
  | 'discarded'
  /** SD-card chatter and the like: log only */
  | 'ignore'
  | 'unknown-command'
  /** the command failed, the printer is fine (Klipper `!! Move out of range` + `ok`) */
  | 'command'
  /** the printer halted or will: stop everything */
  | 'fatal'
  /** Marlin 1.x splits some errors over two lines (`Error:0` then the text); wait for the second */
  | 'join-next';

export type ErrorReason = 'firmware' | 'connection' | 'timeout' | 'resend' | 'resend_loop' | 'reset' | 'emergency' | 'disconnect' | 'autodetect';

const DISCARDED_HINTS = ['no line number with checksum', 'missing linenumber'];
const RESEND_HINTS = ['checksum', 'line number', 'linenumber', 'expected line', 'format error', 'no line number', 'missing linenumber'];
const SD_HINTS = ['volume.init', 'openroot', 'workdir', 'error writing to file', 'cannot open', 'open failed', 'cannot enter', 'sd init fail'];
const FATAL_HINTS = [
  'kill() called', 'printer halted', 'mintemp', 'maxtemp', 'thermal runaway', 'heating failed', 'killed', 'emergency shutdown',
  'watchdog', 'lost communication with mcu', 'shutdown due to', 'printer is shutdown', 'system stopped',
];

/** Returns the text after the error prefix, or undefined when the line is not an error line. */
export function errorText(line: string): { text: string; bang: boolean; fatalPrefix: boolean } | undefined {
  if (line.startsWith('Error:')) return { text: line.slice(6).trim(), bang: false, fatalPrefix: false };
  if (line.startsWith('!!')) return { text: line.slice(2).trim(), bang: true, fatalPrefix: false };
  if (line.startsWith('fatal:')) return { text: line.slice(6).trim(), bang: false, fatalPrefix: true };
  return undefined;
}

/**
 * `!! message` is Klipper's (and Smoothieware's) error form. Klipper follows it with `ok` and keeps running, so
 * unless the text names a halt it is a failed command. A bare `!!` is Smoothieware's halt state.
 */
export function classifyError(text: string, opts: { bang: boolean; fatalPrefix: boolean }): ErrorClass {
  if (opts.fatalPrefix) return 'fatal';
  const t = text.toLowerCase();
  if (/^\d+$/.test(t)) return 'join-next';
  if (FATAL_HINTS.some((h) => t.includes(h))) return 'fatal';
  if (opts.bang && t === '') return 'fatal'; // Smoothieware's bare `!!` = halted
  if (DISCARDED_HINTS.some((h) => t.includes(h))) return 'discarded';
  if (RESEND_HINTS.some((h) => t.includes(h))) return 'resend';
  if (SD_HINTS.some((h) => t.includes(h))) return 'ignore';
  if (t.includes('unknown command')) return 'unknown-command';
  return 'command';
}

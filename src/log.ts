// A small leveled logger to stderr (journald adds timestamps under systemd; we add them for the terminal).
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(component: string): Logger;
}

/**
 * A string from outside (an app name, a user name, a file name) as it may appear in a log line: control
 * characters, DEL and Unicode line separators escaped, so nobody can forge a line of their own.
 */
export function printable(s: string): string {
  return JSON.stringify(s).slice(1, -1).replace(/[\u007f-\u009f\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Every message, whatever it holds: other control characters escaped, and a line break (a stack trace) followed
 * by an indent, so a continuation can never pass for a line of its own. */
function oneEntry(msg: string): string {
  return msg.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/\n/g, '\n    ');
}

export function createLogger(level: LogLevel = 'info', component = 'gantry', sink: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const min = ORDER[level];
  const at = (lvl: LogLevel) => (msg: string) => {
    if (ORDER[lvl] >= min) sink(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} [${component}] ${oneEntry(msg)}`);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (c) => createLogger(level, c, sink),
  };
}

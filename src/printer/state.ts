// OctoPrint's printer states, their strings and flags. Clients match these exactly (Cura indexes every flag,
// FDM Monster watches `finishing`), so this is the single source for the API, the push channel and MQTT.

export type PrinterStateId =
  | 'OFFLINE'
  | 'OPEN_SERIAL'
  | 'DETECT_SERIAL'
  | 'CONNECTING'
  | 'OPERATIONAL'
  | 'STARTING'
  | 'PRINTING'
  | 'PAUSING'
  | 'PAUSED'
  | 'RESUMING'
  | 'CANCELLING'
  | 'FINISHING'
  | 'ERROR'
  | 'CLOSED_WITH_ERROR';

const TEXT: Record<PrinterStateId, string> = {
  OFFLINE: 'Offline',
  OPEN_SERIAL: 'Opening serial connection',
  DETECT_SERIAL: 'Detecting serial connection',
  CONNECTING: 'Connecting',
  OPERATIONAL: 'Operational',
  STARTING: 'Starting',
  PRINTING: 'Printing',
  PAUSING: 'Pausing',
  PAUSED: 'Paused',
  RESUMING: 'Resuming',
  CANCELLING: 'Cancelling',
  FINISHING: 'Finishing',
  ERROR: 'Error',
  CLOSED_WITH_ERROR: 'Offline after error',
};

export function stateText(id: PrinterStateId): string {
  return TEXT[id];
}

export interface StateFlags {
  operational: boolean;
  printing: boolean;
  cancelling: boolean;
  pausing: boolean;
  resuming: boolean;
  finishing: boolean;
  closedOrError: boolean;
  error: boolean;
  paused: boolean;
  ready: boolean;
  sdReady: boolean;
}

const OPERATIONAL = new Set<PrinterStateId>(['OPERATIONAL', 'STARTING', 'PRINTING', 'PAUSING', 'PAUSED', 'RESUMING', 'CANCELLING', 'FINISHING']);
const PRINTING = new Set<PrinterStateId>(['STARTING', 'PRINTING', 'CANCELLING', 'PAUSING', 'RESUMING', 'FINISHING']);

export function isOperational(id: PrinterStateId): boolean {
  return OPERATIONAL.has(id);
}

export function isPrinting(id: PrinterStateId): boolean {
  return PRINTING.has(id);
}

/** All eleven flags, always present. */
export function stateFlags(id: PrinterStateId, sdReady = false): StateFlags {
  const error = id === 'ERROR' || id === 'CLOSED_WITH_ERROR';
  return {
    operational: OPERATIONAL.has(id),
    printing: PRINTING.has(id),
    cancelling: id === 'CANCELLING',
    pausing: id === 'PAUSING',
    resuming: id === 'RESUMING',
    finishing: id === 'FINISHING',
    closedOrError: error || id === 'OFFLINE',
    error,
    paused: id === 'PAUSED',
    ready: id === 'OPERATIONAL',
    sdReady,
  };
}

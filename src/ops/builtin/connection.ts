// Connecting and disconnecting a printer, and the emergency stop.
import { stateFlags } from '../../printer/state.js';
import { ServiceError } from '../../service-error.js';
import { operation } from '../operation.js';
import { noParams } from '../params.js';

export const connectionOps = [
  operation({
    name: 'connection.connect',
    permission: 'CONNECTION',
    summary: 'connect where the printer is configured to (from Offline or an error)',
    parse: noParams,
    run: (c) => {
      const { printer } = c.target;
      // only from Offline, Error or Offline after error: a repeated command must not restart a connect under way
      if (!stateFlags(printer.state).closedOrError) throw new ServiceError(409, `The printer is ${printer.stateText.toLowerCase()}, not offline`);
      const { port, baudrate } = c.target.connectTarget();
      c.log.info(`${c.target.id}: connecting to ${port}`);
      // answered now; the outcome (and its error) shows in the state, as OctoPrint does it
      printer.connect(port, baudrate).catch((err: Error) => c.log.warn(`${c.target.id}: connect to ${port} failed: ${err.message}`));
    },
  }),
  operation({ name: 'connection.disconnect', permission: 'CONNECTION', summary: 'close the connection', parse: noParams, run: (c) => c.target.printer.disconnect() }),
  operation({
    name: 'printer.emergencyStop',
    permission: 'CONTROL',
    summary: 'M112: halt the printer at once',
    parse: noParams,
    run: (c) => {
      if (!c.target.printer.operational) throw new ServiceError(409, 'Printer is not operational');
      c.target.printer.emergencyStop();
    },
  }),
];

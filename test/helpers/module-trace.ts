// Preloaded with `--import`: every ES module the process loads is appended to the file named by
// GANTRY_MODULE_TRACE, one URL a line, so a test can see what a process has (and has not) loaded.
import { register } from 'node:module';

register('./module-trace-hooks.js', import.meta.url, { data: { file: process.env['GANTRY_MODULE_TRACE'] } });

// Runs in a worker thread: analysis never blocks the event loop that serves the printer.
import { parentPort } from 'node:worker_threads';
import { type AnalysisOptions, analyzeFile } from './analyze.js';

export interface AnalysisRequest {
  id: number;
  path: string;
  options: AnalysisOptions;
}

parentPort!.on('message', (req: AnalysisRequest) => {
  analyzeFile(req.path, req.options).then(
    (analysis) => parentPort!.postMessage({ id: req.id, analysis }),
    (err: Error) => parentPort!.postMessage({ id: req.id, error: err.message }),
  );
});

// The analysis process's own code (forked by analysis-child.ts): analyses the files it is sent, one message each,
// and exits when Gantry lets go of it. Analysis never shares the event loop that serves the printer.
import { type AnalysisOptions, analyzeFile } from './analyze.js';

export interface AnalysisRequest {
  id: number;
  path: string;
  options: AnalysisOptions;
}

process.on('message', (req: AnalysisRequest) => {
  analyzeFile(req.path, req.options).then(
    (analysis) => process.send!({ id: req.id, analysis }),
    (err: Error) => process.send!({ id: req.id, error: err.message }),
  );
});
// Gantry disconnects when it has no more files for us, and the channel closes if Gantry itself dies: either way
// there is nobody to answer
process.on('disconnect', () => process.exit(0));

// OctoPrint's action_command_prompt plugin API: the host prompt the firmware shows (M0/M1, M600, runout) and its
// answer. GET answers `{}` when no prompt is open, else `{text, choices}`; POST {"command":"select","choice":N}
// sends `M876 S<N>`, which jumps the queue (emergency parser) so it reaches a firmware that waits in M0 or M600.
import { Hono } from 'hono/tiny';
import type { ApiDeps, ApiEnv } from '../context.js';
import { HttpError, badRequest, readCommand } from '../http.js';

export const PROMPT_PATH = '/api/plugin/action_command_prompt';

export function promptRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { printer } = deps;

  app.get(PROMPT_PATH, (c) => {
    const p = printer.prompt;
    return c.json(p ? { text: p.text, choices: p.choices } : {});
  });

  app.post(PROMPT_PATH, async (c) => {
    const { body } = await readCommand(c, ['select'] as const);
    const choice = body['choice'];
    const p = printer.prompt;
    if (!p) throw new HttpError(409, 'No prompt is open');
    if (typeof choice !== 'number' || !Number.isInteger(choice) || choice < 0 || choice >= p.choices.length) {
      throw badRequest(p.choices.length ? `choice must be a whole number from 0 to ${p.choices.length - 1}` : 'This prompt has no choices');
    }
    if (!printer.answerPrompt(choice)) throw new HttpError(409, 'No prompt is open');
    return c.body(null, 204);
  });

  return app;
}

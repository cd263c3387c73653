// Which blocking heat-up (M109, M190, M191, M116) the firmware is running, if any. The firmware answers nothing
// while it waits, so a pause or a cancel has to know: with an emergency parser an M108 ends the wait at once;
// without one, nothing else can run until it returns. Tracked from the lines written and the oks that come back:
// the heat-up is done at the ok that answers it, after the oks of the lines that went out before it.
import { M, commandKey, stripComment } from './gcode.js';

/** The commands the firmware blocks on until a heater reaches its target. Every one is in LONG_RUNNING: the
 * printer looks into long-running lines alone (tested). */
export const HEAT_WAITS: ReadonlySet<number> = new Set([M(109), M(190), M(191), M(116)]);

export class HeatWaitTracker {
  private current: { command: string; ahead: number } | undefined;

  /** The heat-up command the firmware is waiting on (as sent, without line number), or undefined. */
  get command(): string | undefined {
    return this.current?.command;
  }

  /**
   * A line went out; `ahead` is how many lines were already in flight before it. Returns true when it starts a
   * heat-up (a resent heat-up line starts it again).
   */
  sent(data: string, ahead: number): boolean {
    // every heat-up command starts "M1": most lines (moves) are ruled out without taking them apart
    if (data.indexOf('M1') < 0 && data.indexOf('m1') < 0) return false;
    const cmd = bareCommand(data);
    if (!HEAT_WAITS.has(commandKey(cmd))) return false;
    this.current = { command: cmd, ahead };
    return true;
  }

  /** One ok arrived. Returns true when it ended the heat-up. */
  ok(): boolean {
    const c = this.current;
    if (!c) return false;
    if (c.ahead > 0) {
      c.ahead--;
      return false;
    }
    this.current = undefined;
    return true;
  }

  /** The link closed or the firmware reset: nothing waits any more. Returns true when a heat-up was forgotten. */
  reset(): boolean {
    const had = this.current !== undefined;
    this.current = undefined;
    return had;
  }
}

/** `N12 M190 S60*93\n` → `M190 S60`. */
export function bareCommand(data: string): string {
  let s = data.trim();
  if (s.length > 1 && (s[0] === 'N' || s[0] === 'n')) {
    const sp = s.indexOf(' ');
    if (sp > 0 && /^\d+$/.test(s.slice(1, sp))) s = s.slice(sp + 1);
    const star = s.lastIndexOf('*');
    if (star >= 0 && /^\d+$/.test(s.slice(star + 1))) s = s.slice(0, star);
  }
  return stripComment(s);
}

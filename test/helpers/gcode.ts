/** What the printer should execute for a file: its commands without comments, blank lines or host housekeeping. */
export function commandsOf(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/;.*$/, '').trim())
    .filter((l) => l && !/^M(105|110|115|155)\b/.test(l));
}

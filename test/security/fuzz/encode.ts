// Percent-encoding for generated text, which may hold anything, lone surrogates included.

/** encodeURIComponent that also takes lone surrogates (it throws on them): they become their WTF-8 bytes,
 * which is invalid UTF-8 the server must refuse, a useful input in itself. */
export function encodeComponent(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) out += [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    else out += encodeURIComponent(ch);
  }
  return out;
}

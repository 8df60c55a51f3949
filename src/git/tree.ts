/**
 * The entries of a raw tree object (as `cat-file --batch` returns it):
 * "<mode> <name>\0<binary id>" repeated. Names are handed out as byte
 * ranges, so that a caller can look at them before making strings.
 * `idBytes` is 20 (SHA-1) or 32 (SHA-256). A truncated entry ends the walk
 * with an error: a tree that does not parse is never taken as empty.
 */
export function forEachTreeEntry(
  data: Buffer,
  idBytes: number,
  onEntry: (mode: string, nameStart: number, nameEnd: number, oid: string) => void,
): void {
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const nul = space < 0 ? -1 : data.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 1 + idBytes > data.length) throw new Error(`malformed tree object at byte ${at}`);
    const mode = data.toString('latin1', at, space);
    const oid = data.toString('hex', nul + 1, nul + 1 + idBytes);
    onEntry(mode, space + 1, nul, oid);
    at = nul + 1 + idBytes;
  }
}

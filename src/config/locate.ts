import { isMap, isNode, isScalar, isSeq, type Document, type LineCounter } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

/**
 * Line and column of the YAML node at `path`: the key for a mapping entry,
 * the item for a list entry. When the path goes deeper than the file (a
 * required key that is missing), the deepest node that exists.
 */
export function locate(doc: Document, path: readonly PropertyKey[], lines: LineCounter): Position | undefined {
  let node: unknown = doc.contents;
  let offset = isNode(node) ? node.range?.[0] : undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === String(segment));
      if (pair === undefined) break;
      offset = isNode(pair.key) ? pair.key.range?.[0] : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (!isNode(item)) break;
      offset = item.range?.[0];
      node = item;
    } else {
      break;
    }
  }
  if (offset === undefined) return undefined;
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/**
 * A commit object's header and message, as `git cat-file` gives its bytes.
 * Written here because no kept library parses git's raw commit format
 * without also wanting to read the object store itself (isomorphic-git
 * cannot see a push's quarantine: see notes/stack.md).
 */

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch, as written; NaN when the line does not parse. */
  time: number;
  /** `+0200` as written. */
  zone: string;
}

export interface CommitObject {
  oid: string;
  tree: string;
  parents: string[];
  author: Signature | null;
  committer: Signature | null;
  /** The text after the header, as UTF-8. */
  message: string;
  /**
   * The signature in the `gpgsig` header (SHA-1 repositories) or
   * `gpgsig-sha256` (SHA-256), and the payload it signs: the object with
   * that header removed, as git itself rebuilds it to verify.
   */
  signature: { armor: string; payload: Buffer } | null;
}

const PERSON = /^(.*?) ?<([^<>]*)> (-?\d+) ([+-]\d{4})$/;

function person(value: string): Signature | null {
  const match = PERSON.exec(value);
  if (match === null) return null;
  return { name: match[1]!, email: match[2]!, time: Number(match[3]), zone: match[4]! };
}

const SIGNATURE_FIELDS = new Set(['gpgsig', 'gpgsig-sha256']);

export function parseCommitObject(oid: string, data: Buffer): CommitObject {
  const blank = data.indexOf('\n\n');
  const headerEnd = blank < 0 ? data.length : blank;
  const commit: CommitObject = { oid, tree: '', parents: [], author: null, committer: null, message: blank < 0 ? '' : data.subarray(blank + 2).toString('utf8'), signature: null };
  // The payload is the object with the signature header (and its continuation lines) cut out, byte for byte.
  const kept: Buffer[] = [];
  let offset = 0;
  let armor: string[] | null = null;
  let inSignature = false;
  while (offset < headerEnd) {
    const newline = data.indexOf(0x0a, offset);
    const end = newline < 0 || newline > headerEnd ? headerEnd : newline;
    const raw = data.subarray(offset, Math.min(end + 1, data.length));
    const line = data.toString('utf8', offset, end);
    offset = end + 1;
    if (line.startsWith(' ')) {
      if (inSignature) armor!.push(line.slice(1));
      else kept.push(raw);
      continue;
    }
    inSignature = false;
    const space = line.indexOf(' ');
    const field = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? '' : line.slice(space + 1);
    if (SIGNATURE_FIELDS.has(field) && armor === null) {
      armor = [value];
      inSignature = true;
      continue;
    }
    kept.push(raw);
    if (field === 'tree' && commit.tree === '') commit.tree = value;
    else if (field === 'parent') commit.parents.push(value);
    else if (field === 'author' && commit.author === null) commit.author = person(value);
    else if (field === 'committer' && commit.committer === null) commit.committer = person(value);
  }
  if (armor !== null) {
    kept.push(data.subarray(Math.min(offset, data.length)));
    commit.signature = { armor: `${armor.join('\n')}\n`, payload: Buffer.concat(kept) };
  }
  return commit;
}

import type { CatFileBatch, GitObject } from '../git/cat-file.js';
import type { LineFilter } from '../git/diff-parser.js';
import { streamObject, type NewObject } from '../git/objects.js';
import { forEachTreeEntry } from '../git/tree.js';
import type { ContentChecker, TextSource } from '../policy/content.js';
import { PrintableRuns, printableRuns } from '../scan/strings.js';

/**
 * What a diff of the new commits shows line by line is checked as the diff
 * streams. Everything else a push makes reachable is checked here, whole:
 * blobs the diff did not show as text (binary files, blobs reached only
 * through a tree, a tag or any other ref), every tree's entry names, every
 * commit's header and message, every annotated tag's header and annotation.
 */
export interface ObjectCheck {
  gitDir: string;
  env: NodeJS.ProcessEnv;
  catFile: CatFileBatch;
  check: ContentChecker;
  secretsEnabled: boolean;
  /** The same cheap first look the diff's lines get (lineMayHoldSecret). */
  mayHold: LineFilter;
  /** Blobs whose new lines the diff showed and the checker scanned. */
  scannedAsLines: ReadonlySet<string>;
  /** Blobs the diff showed as binary: where (commit, path) the diff saw them. */
  diffedBinary: ReadonlyMap<string, { commit: string; path: string }>;
  /** Counts every byte read; throws (BudgetExceeded) when the budget is spent. */
  spend(bytes: number): void;
  /** Throws when the time budget ran out. */
  checkTime(): void;
}

/** Objects up to this size are read through the long-lived `cat-file --batch`; larger blobs are streamed. */
const IN_MEMORY_BYTES = 8 * 1024 * 1024;
/** Reads in flight at once, by bytes and by count: enough to keep git busy, little enough to bound memory. */
const WINDOW_BYTES = 32 * 1024 * 1024;
const WINDOW_COUNT = 256;
/** Streamed blobs are scanned in pieces of this size. */
const STREAM_PIECE_BYTES = 4 * 1024 * 1024;
/** Tree entry names already scanned are remembered up to this many. */
const NAMES_REMEMBERED = 65536;

/** Thrown for an object that cannot be checked (a commit or tag larger than memory allows, a tree that does not parse). */
export class UncheckableObject extends Error {}

/**
 * The text of every new commit, annotated tag and tree (headers, messages,
 * annotations, entry names). Needs nothing from the diff, so it runs while
 * the diff streams.
 */
export async function checkObjectText(objects: readonly NewObject[], ctx: ObjectCheck): Promise<void> {
  if (!ctx.secretsEnabled) return;
  const texts = objects.filter((object) => object.type !== 'blob');
  for (const object of texts) {
    if (object.size > IN_MEMORY_BYTES) throw new UncheckableObject(`${object.type} ${object.oid} is ${object.size} bytes, more than can be checked`);
  }
  const names = new Set<string>();
  await readWindowed(texts, ctx, (object, data) => {
    if (object.type === 'commit') headerAndMessage(object.oid, data, '(commit header)', '(commit message)', ctx);
    else if (object.type === 'tag') headerAndMessage(object.oid, data, '(tag header)', '(tag annotation)', ctx);
    else treeNames(object, data, names, ctx);
  });
}

/**
 * Every new blob the diff did not show as text, whole: binary files, blobs
 * reached only through a tree, a tag or any other ref. Call once the diff
 * has been read (ctx.scannedAsLines and ctx.diffedBinary are complete).
 */
export async function checkUnshownBlobs(objects: readonly NewObject[], ctx: ObjectCheck): Promise<void> {
  const small: NewObject[] = [];
  const large: NewObject[] = [];
  for (const object of objects) {
    if (object.type !== 'blob' || ctx.scannedAsLines.has(object.oid)) continue;
    blobRules(object, ctx);
    if (!worthReading(object, ctx)) continue;
    (object.size > IN_MEMORY_BYTES ? large : small).push(object);
  }
  await readWindowed(small, ctx, (object, data) => printableRuns(data, runsTo(blobSource(object, ctx), ctx), { filter: ctx.mayHold }));
  for (const object of large) {
    ctx.checkTime();
    ctx.spend(object.size);
    const runs = new PrintableRuns(runsTo(blobSource(object, ctx), ctx), { filter: ctx.mayHold });
    // git writes 64 KiB at a time; larger pieces keep what a run carried over cheap to join.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    await streamObject(ctx.gitDir, object.oid, 'blob', (chunk) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < STREAM_PIECE_BYTES) return;
      runs.push(Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
      ctx.checkTime();
    }, ctx.env);
    runs.last(Buffer.concat(pending, pendingBytes));
  }
}

/** The path rules and the size limit for a blob the diff did not show as text. */
function blobRules(object: NewObject, ctx: ObjectCheck): void {
  const source = blobSource(object, ctx);
  const commit = ctx.diffedBinary.get(object.oid)?.commit ?? '';
  // Not shown as text by the diff: a name that only reports (`.env`) decides here.
  if (!source.pseudo) ctx.check.file({ commit, path: source.path, status: 'added', binary: true });
  ctx.check.blob(source.path, commit, object.size);
}

/** Where a blob's findings point: the diff's commit and path, else the path it was listed under, else the blob itself. */
function blobSource(object: NewObject, ctx: ObjectCheck): TextSource {
  const seen = ctx.diffedBinary.get(object.oid);
  const path = seen?.path ?? object.name;
  if (path === '') return { object: object.oid, path: `(blob ${object.oid.slice(0, 12)})`, pseudo: true };
  return { object: seen?.commit ?? object.oid, path, pseudo: false };
}

/** Whether reading a blob can find anything: not when its path is allowlisted or secrets are not scanned. */
function worthReading(object: NewObject, ctx: ObjectCheck): boolean {
  const source = blobSource(object, ctx);
  return source.pseudo ? ctx.secretsEnabled : ctx.check.scansPath(source.path);
}

function runsTo(source: TextSource, ctx: ObjectCheck): (buf: Buffer, start: number, end: number, line: number) => void {
  return (buf, start, end, line) => {
    if (ctx.mayHold(buf, start, end)) ctx.check.text(source, line, buf.toString('utf8', start, end));
  };
}

/** Header lines that name objects by id: git checks they are ids of objects that exist, so they hold no chosen text. */
const ID_LINE = /^(?:tree|parent|object) (?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** A header line's field name: "author ", "tagger ", "gpgsig "… */
const FIELD = /^[a-z][a-z0-9-]* /;

/** A commit or tag: its header lines and its message, each scanned as text with its own line numbers. */
function headerAndMessage(oid: string, data: Buffer, header: string, message: string, ctx: ObjectCheck): void {
  const blank = data.indexOf('\n\n');
  const headerEnd = blank < 0 ? data.length : blank;
  const headerRuns = runsTo({ object: oid, path: header, pseudo: true }, ctx);
  printableRuns(data.subarray(0, headerEnd), (buf, start, end, line) => {
    if (end - start <= 72 && ID_LINE.test(buf.toString('latin1', start, end))) return;
    // The field's own name is not the pusher's text ("author" would match the keyword "auth" in every commit).
    const field = FIELD.exec(buf.toString('latin1', start, Math.min(end, start + 32)));
    headerRuns(buf, field === null ? start : start + field[0].length, end, line);
  }, { filter: ctx.mayHold });
  if (blank >= 0) printableRuns(data.subarray(blank + 2), runsTo({ object: oid, path: message, pseudo: true }, ctx), { filter: ctx.mayHold });
}

/** Every entry name of a new tree: names of old objects under new trees are new text too. */
function treeNames(object: NewObject, data: Buffer, names: Set<string>, ctx: ObjectCheck): void {
  // Names are most of a tree's bytes: one look at all of them usually says there is nothing to scan.
  if (!ctx.mayHold(data, 0, data.length)) return;
  const idBytes = object.oid.length / 2;
  const prefix = object.name === '' ? '' : `${object.name}/`;
  try {
    forEachTreeEntry(data, idBytes, (_mode, start, end) => {
      if (!ctx.mayHold(data, start, end)) return;
      const path = prefix + data.toString('utf8', start, end);
      if (names.has(path)) return;
      if (names.size >= NAMES_REMEMBERED) names.clear();
      names.add(path);
      ctx.check.name(path, object.oid);
    });
  } catch (error) {
    throw new UncheckableObject(`tree ${object.oid}: ${(error as Error).message}`);
  }
}

/**
 * Reads objects through cat-file with a bounded number of bytes and
 * requests in flight, handing each to `handle` in order.
 */
async function readWindowed(objects: readonly NewObject[], ctx: ObjectCheck, handle: (object: NewObject, data: Buffer) => void): Promise<void> {
  const inFlight: { object: NewObject; read: Promise<GitObject | null> }[] = [];
  let flightBytes = 0;
  let next = 0;
  const fill = (): void => {
    while (next < objects.length && inFlight.length < WINDOW_COUNT && (inFlight.length === 0 || flightBytes + objects[next]!.size <= WINDOW_BYTES)) {
      const object = objects[next++]!;
      ctx.spend(object.size);
      const read = ctx.catFile.read(object.oid);
      read.catch(() => undefined);
      inFlight.push({ object, read });
      flightBytes += object.size;
    }
  };
  fill();
  while (inFlight.length > 0) {
    const { object, read } = inFlight.shift()!;
    const data = await read;
    flightBytes -= object.size;
    if (data === null) throw new UncheckableObject(`${object.type} ${object.oid} could not be read`);
    ctx.checkTime();
    handle(object, data.data);
    fill();
  }
}

import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** `20261124T020540296Z`: sortable, and free of characters file systems dislike. */
export function rotationStamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}

const STAMP = /^(\d{8}T\d{9}Z)(?:-(\d+))?$/;

/** The time a rotated file was rotated, read from its name; undefined for other names. */
export function rotatedAt(file: string, current: string): Date | undefined {
  const prefix = `${basename(current)}.`;
  const name = basename(file);
  if (!name.startsWith(prefix)) return undefined;
  const match = STAMP.exec(name.slice(prefix.length));
  if (!match) return undefined;
  const s = match[1]!;
  return new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 18)}Z`);
}

/** A free name for rotating `current` away at `date`. */
export function rotatedName(current: string, date: Date): string {
  const base = `${current}.${rotationStamp(date)}`;
  if (!existsSync(base)) return base;
  for (let n = 1; ; n++) if (!existsSync(`${base}-${n}`)) return `${base}-${n}`;
}

function order(name: string, prefix: string): [string, number] {
  const match = STAMP.exec(name.slice(prefix.length))!;
  return [match[1]!, Number(match[2] ?? 0)];
}

/** The rotated predecessors of `current`, oldest first. */
export function rotatedFiles(current: string): string[] {
  const dir = dirname(current);
  const prefix = `${basename(current)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.startsWith(prefix) && STAMP.test(name.slice(prefix.length)))
    .sort((a, b) => {
      const [sa, na] = order(a, prefix);
      const [sb, nb] = order(b, prefix);
      return sa < sb ? -1 : sa > sb ? 1 : na - nb;
    })
    .map((name) => join(dir, name));
}

/** Every file of the log, oldest first: the rotated ones, then `current` when it exists. */
export function logFiles(current: string): string[] {
  const files = rotatedFiles(current);
  if (existsSync(current)) files.push(current);
  return files;
}

import { readFileSync } from 'node:fs';
import { CliError } from './exit.js';

/** Reads a file the user named, turning I/O errors into a clear "could not run". */
export function readUserFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliError(`cannot read ${what} ${path}: ${reason}`);
  }
}

export function readUserFileBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

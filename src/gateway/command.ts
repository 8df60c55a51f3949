/**
 * The SSH command line a client asks for, parsed the way git-shell does:
 * one service from an allowlist and one single-quoted argument. Anything else
 * is refused, never handed to a shell. Reviewer commands (`queue …`) are
 * split into words for the queue CLI.
 */
import type { Permission } from '../config/index.js';

export const GIT_SERVICES = ['git-upload-pack', 'git-receive-pack', 'git-upload-archive'] as const;
export type GitService = (typeof GIT_SERVICES)[number];

/** Commands other than git that the gateway may hand to a handler. */
export const EXTRA_COMMANDS = ['queue'] as const;

export type ParsedCommand =
  | { kind: 'git'; service: GitService; path: string }
  | { kind: 'queue'; argv: string[] };

export interface CommandError {
  kind: 'error';
  code: 'command.empty' | 'command.unknown' | 'command.bad-argument' | 'command.too-long';
  message: string;
}

export const MAX_COMMAND_LENGTH = 4096;

/** C0, DEL, C1, bidi overrides and isolates, line separators, BOM: nothing a git path or queue argument needs. */
const CONTROL = /[\0-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;

export function permissionFor(service: GitService): Permission {
  return service === 'git-receive-pack' ? 'write' : 'read';
}

function isService(name: string): name is GitService {
  return (GIT_SERVICES as readonly string[]).includes(name);
}

function fail(code: CommandError['code'], message: string): CommandError {
  return { kind: 'error', code, message };
}

/**
 * git's sq_dequote: `'…'` with `'\''` and `'\!'` allowed between quoted
 * parts; null when the text is not exactly one such word.
 */
export function sqDequote(text: string): string | null {
  if (!text.startsWith("'")) return null;
  let out = '';
  let i = 1;
  for (;;) {
    if (i >= text.length) return null;
    const c = text[i]!;
    if (c !== "'") {
      out += c;
      i += 1;
      continue;
    }
    // Stepped out of the quotes.
    if (i + 1 === text.length) return out;
    if (text[i + 1] === '\\' && (text[i + 2] === "'" || text[i + 2] === '!') && text[i + 3] === "'") {
      out += text[i + 2];
      i += 4;
      continue;
    }
    return null;
  }
}

/** Splits reviewer command words: single quotes, double quotes (with \" and \\), backslash escapes; no expansions. */
export function splitWords(text: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
      i += 1;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return null;
      word = (word ?? '') + text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let part = '';
      for (;;) {
        if (j >= text.length) return null;
        const d = text[j]!;
        if (d === '"') break;
        if (d === '\\' && (text[j + 1] === '"' || text[j + 1] === '\\')) {
          part += text[j + 1];
          j += 2;
        } else {
          part += d;
          j += 1;
        }
      }
      word = (word ?? '') + part;
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 >= text.length) return null;
      word = (word ?? '') + text[i + 1];
      i += 2;
    } else {
      word = (word ?? '') + c;
      i += 1;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** Parses an SSH exec command line. */
export function parseCommand(line: string): ParsedCommand | CommandError {
  if (line.length > MAX_COMMAND_LENGTH) return fail('command.too-long', `the command is longer than ${MAX_COMMAND_LENGTH} characters`);
  if (CONTROL.test(line)) return fail('command.bad-argument', 'the command contains control characters');
  const trimmed = line.trim();
  if (trimmed === '') return fail('command.empty', 'no command given; this server runs git commands only');
  const space = trimmed.indexOf(' ');
  let name = space < 0 ? trimmed : trimmed.slice(0, space);
  let rest = space < 0 ? '' : trimmed.slice(space + 1);
  if (name === 'git') {
    // `git upload-pack '…'`, as git-shell accepts too.
    const next = rest.indexOf(' ');
    name = `git-${next < 0 ? rest : rest.slice(0, next)}`;
    rest = next < 0 ? '' : rest.slice(next + 1);
  }
  if (name === 'queue') {
    const words = splitWords(rest);
    if (words === null) return fail('command.bad-argument', 'unbalanced quotes in the queue command');
    return { kind: 'queue', argv: words };
  }
  if (!isService(name)) {
    return fail('command.unknown', `${JSON.stringify(name.slice(0, 64))} is not allowed here; this server runs ${GIT_SERVICES.join(', ')} and queue commands only`);
  }
  const path = sqDequote(rest.trim());
  if (path === null || path === '' || path.startsWith('-')) {
    return fail('command.bad-argument', `${name} takes one single-quoted repository path`);
  }
  return { kind: 'git', service: name, path };
}

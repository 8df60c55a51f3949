import type { z } from 'zod';
import { didYouMean } from './suggest.js';

/** `a list`, `a mapping`, `"abc"`, `5`, `nothing` — what was found where something else was expected. */
export function describeValue(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return String(value);
}

export function expected(what: string, value: unknown): string {
  return value === undefined ? 'required' : `expected ${what}, got ${describeValue(value)}`;
}

/** An error map for a schema's own type check only; its other checks keep their own messages. */
export function typeError(what: string): (issue: { code?: string; input?: unknown }) => string | undefined {
  return (issue) => (issue.code === 'invalid_type' ? expected(what, issue.input) : undefined);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** Messages for zod's generic issues, in the voice of the rest of the config errors. */
export const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return expected(TYPE_NAMES[issue.expected] ?? issue.expected, issue.input);
    case 'invalid_value': {
      const values = issue.values.map((value) => String(value));
      const hint = typeof issue.input === 'string' ? didYouMean(issue.input, values) : '';
      return `expected one of ${values.join(', ')}, got ${describeValue(issue.input)}${hint}`;
    }
    case 'too_small':
      if (issue.origin === 'array') return `expected at least ${String(issue.minimum)} ${issue.minimum === 1 ? 'entry' : 'entries'}`;
      return `expected a number ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}, got ${describeValue(issue.input)}`;
    case 'invalid_key':
      return issue.issues[0]?.message;
    default:
      return undefined;
  }
};

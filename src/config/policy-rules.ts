/**
 * The catalogue rules of `policy`: commit metadata (`policy.commit`), ref
 * names for creation (`policy.refNames`) and path rules (`policy.path`).
 *
 * One shape for every catalogue rule: a list of entries, each one what it
 * checks plus the same four scoping keys (`scoped()`):
 *
 *   refs:   [full ref patterns]  the updated refs it applies to (default every ref, "refs/**")
 *   roles:  [role names]         only pushers holding one of them (default [] = everyone)
 *   action: deny | park          what a finding does to the push (default deny)
 *   mode:   enforce | audit      audit: reported and logged as "would deny/park", never decides
 *
 * Each entry gives findings under one stable rule id (listed in
 * policy/rule-ids.ts), which `policy.rules` can still override. Patterns
 * over text (`require`, `forbid`) are JavaScript regular expressions
 * (Unicode mode), checked when the configuration loads.
 */
import { z } from 'zod';
import { list, pattern, positiveInt, roles, section, text } from './fields.js';

const refPattern = pattern.superRefine((value, ctx) => {
  if (!value.startsWith('refs/') && !value.startsWith('*')) {
    ctx.addIssue({ code: 'custom', message: `ref patterns are full ref names (did you mean "refs/heads/${value}"?)` });
  }
});

const regex = text('a regular expression').superRefine((value, ctx) => {
  try {
    new RegExp(value, 'u');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(error as Error).message}` });
  }
});

/** The scoping keys every catalogue rule entry has. */
export const ruleScope = {
  refs: list(refPattern, 'a list of ref patterns').min(1, { error: 'expected at least one pattern' }).default(['refs/**']),
  roles: roles.default([]),
  action: z.enum(['deny', 'park']).default('deny'),
  mode: z.enum(['enforce', 'audit']).default('enforce'),
};

/** A catalogue rule entry: its own keys plus ruleScope. */
export function scoped<S extends z.core.$ZodLooseShape>(shape: S) {
  return section({ ...shape, ...ruleScope });
}

/** `require` and/or `forbid`: a regular expression the text must match, one it must not. */
const textRule = scoped({
  require: regex.optional(),
  forbid: regex.optional(),
  description: text('a description').optional(),
}).superRefine((rule, ctx) => {
  if (rule.require === undefined && rule.forbid === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'a rule needs require or forbid (a regular expression)' });
});

const textRules = list(textRule, 'a list of rules').default([]);

/** Placeholders a pusher template may use. */
export const PUSHER_PLACEHOLDERS = ['principal'] as const;

const pusherTemplate = text('a template such as {{principal}}@agents.example.com').superRefine((value, ctx) => {
  const names = [...value.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1]!);
  for (const name of names) {
    if (!(PUSHER_PLACEHOLDERS as readonly string[]).includes(name)) ctx.addIssue({ code: 'custom', message: `unknown placeholder {{${name}}} (known: ${PUSHER_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})` });
  }
  if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'the template names no {{principal}}: every pusher would match the same address' });
});

const pusherRule = scoped({
  email: pusherTemplate,
  match: z.enum(['author', 'committer', 'either', 'both']).default('either'),
});

const extension = text('a file extension').transform((value) => value.replace(/^\./, '').toLowerCase()).refine((value) => value !== '' && !value.includes('/'), 'an extension is the part after the last dot, such as exe');

export const commitRules = section({
  message: textRules,
  authorEmail: textRules,
  committerEmail: textRules,
  pusher: list(pusherRule, 'a list of rules').default([]),
  linear: list(scoped({}), 'a list of rules').default([]),
  signature: list(scoped({}), 'a list of rules').default([]),
});

export const pathRules = section({
  maxLength: list(scoped({ max: positiveInt('a number of bytes') }), 'a list of rules').default([]),
  extensions: list(scoped({ forbid: list(extension, 'a list of extensions').min(1, { error: 'expected at least one extension' }) }), 'a list of rules').default([]),
  names: textRules,
});

export { textRules as refNameRules };

export type CommitRules = z.output<typeof commitRules>;
export type PathRules = z.output<typeof pathRules>;
export type TextRule = z.output<typeof textRule>;
export type PusherRule = z.output<typeof pusherRule>;
export type RuleScope = z.output<ReturnType<typeof scoped<Record<never, never>>>>;

import { randomInt } from 'node:crypto';

/** Lower-case letters and digits without the look-alikes 0/o and 1/i/l. */
export const ID_ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';
export const ID_LENGTH = 8;

const ID_PATTERN = new RegExp(`^[${ID_ALPHABET}]{${ID_LENGTH}}$`);

/** A fresh queue id: 8 characters, about 40 bits, easy to read aloud and type. */
export function newQueueId(): string {
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** Whether `text` is a queue id as typed by a person (case and surrounding spaces forgiven). */
export function normalizeQueueId(text: string): string | undefined {
  const id = text.trim().toLowerCase();
  return ID_PATTERN.test(id) ? id : undefined;
}

/**
 * Why `text` is not a queue id, in words that name what is actually wrong:
 * the length, the characters outside the alphabet, or both. Only called for
 * text that normalizeQueueId refused.
 */
export function queueIdProblem(text: string): string {
  const id = text.trim().toLowerCase();
  const chars = [...id];
  const foreign = [...new Set(chars.filter((c) => !ID_ALPHABET.includes(c)))];
  const problems: string[] = [];
  if (chars.length !== ID_LENGTH) problems.push(`it has ${chars.length} character${chars.length === 1 ? '' : 's'}, a queue id has ${ID_LENGTH}`);
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 8).map((c) => JSON.stringify(c)).join(', ') + (foreign.length > 8 ? ', …' : '');
    const lookAlike = foreign.some((c) => '01ilo'.includes(c)) ? ' (0, 1, i, l and o are never used: they look alike)' : '';
    problems.push(`${shown} ${foreign.length === 1 ? 'is' : 'are'} not in the id alphabet ${ID_ALPHABET}${lookAlike}`);
  }
  if (problems.length === 0) problems.push(`a queue id is ${ID_LENGTH} characters from ${ID_ALPHABET}`);
  return `${problems.join('; ')}; copy the id printed when the push parked (pushgate queue list shows it)`;
}

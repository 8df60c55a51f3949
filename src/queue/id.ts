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

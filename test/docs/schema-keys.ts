/**
 * Every key path of pushgate.yaml, read from the zod schema itself:
 * `ssh.limits.authTimeout`, `identity.issuers[].principal`, …
 */
import type { z } from 'zod';
import { configSchema } from '../../src/config/index.js';

type Schema = z.core.$ZodType;
const WRAPPERS = new Set(['default', 'prefault', 'nullable', 'optional', 'readonly', 'catch']);

function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as unknown as { type: string; innerType?: Schema; in?: Schema; out?: Schema };
    if (WRAPPERS.has(def.type)) current = def.innerType!;
    // A preprocess or a transform after a check: the shape is on whichever side has one.
    else if (def.type === 'pipe') current = ['object', 'array'].includes(unwrap(def.out!)._zod.def.type) ? def.out! : def.in!;
    else return current;
  }
}

export interface KeyPath {
  path: string;
  /** A mapping of fixed keys (documented by its keys) rather than a value. */
  section: boolean;
}

export function configKeyPaths(schema: Schema = configSchema): KeyPath[] {
  const out: KeyPath[] = [];
  const walk = (node: Schema, prefix: string): void => {
    const def = unwrap(node)._zod.def as unknown as { type: string; shape?: Record<string, Schema>; element?: Schema };
    if (def.type === 'object') {
      for (const [key, child] of Object.entries(def.shape!)) {
        const path = prefix === '' ? key : `${prefix}.${key}`;
        const inner = unwrap(child)._zod.def.type;
        out.push({ path, section: inner === 'object' });
        walk(child, path);
      }
    } else if (def.type === 'array') {
      walk(def.element!, `${prefix}[]`);
    }
  };
  walk(schema, '');
  return out;
}

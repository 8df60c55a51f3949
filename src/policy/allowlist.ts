/** What a repository's `.pushgate/allowlist.yaml` may hold. */
export interface RepoAllowlist {
  paths: string[];
  values: string[];
  fingerprints: string[];
}

export const EMPTY_ALLOWLIST: RepoAllowlist = { paths: [], values: [], fingerprints: [] };

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/**
 * Reads an allowlist file. It comes from the target branch as it was before
 * the push, so a malformed one is ignored (with a note), never fatal.
 */
export async function parseRepoAllowlist(text: string): Promise<{ allowlist: RepoAllowlist; problem?: string }> {
  // Loaded only when a repository has an allowlist: the YAML parser is the
  // largest module on the hook's path, and most pushes never need it.
  const { parse } = await import('yaml');
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    return { allowlist: EMPTY_ALLOWLIST, problem: `not YAML: ${(error as Error).message.split('\n')[0]}` };
  }
  if (data === null || data === undefined) return { allowlist: EMPTY_ALLOWLIST };
  if (typeof data !== 'object' || Array.isArray(data)) return { allowlist: EMPTY_ALLOWLIST, problem: 'expected a mapping with paths, values, fingerprints' };
  const record = data as Record<string, unknown>;
  return { allowlist: { paths: strings(record.paths), values: strings(record.values), fingerprints: strings(record.fingerprints) } };
}

export function mergeAllowlists(lists: readonly RepoAllowlist[]): RepoAllowlist {
  return {
    paths: lists.flatMap((l) => l.paths),
    values: lists.flatMap((l) => l.values),
    fingerprints: lists.flatMap((l) => l.fingerprints),
  };
}

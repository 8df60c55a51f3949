import { stringOption, stringOptionValue, type CertOption } from '../sshcert/index.js';

/**
 * pushgate's own certificate extensions. Their data is a string, the same
 * encoding `ssh-keygen -O extension:NAME=VALUE` writes, so an administrator
 * can mint compatible certificates with ssh-keygen alone.
 */
export const ROLES_EXTENSION = 'roles@pushgate';
export const SPONSOR_EXTENSION = 'sponsor@pushgate';

export function rolesExtension(roles: readonly string[]): CertOption {
  return stringOption(ROLES_EXTENSION, roles.join(','));
}

export function sponsorExtension(sponsor: string): CertOption {
  return stringOption(SPONSOR_EXTENSION, sponsor);
}

/** Roles named by a certificate's extension; an unreadable extension names none. */
export function rolesFromExtensions(extensions: readonly CertOption[], name = ROLES_EXTENSION): string[] {
  const option = extensions.find((e) => e.name === name);
  if (option === undefined) return [];
  try {
    return stringOptionValue(option).split(',').map((r) => r.trim()).filter((r) => r !== '');
  } catch {
    return [];
  }
}

export function sponsorFromExtensions(extensions: readonly CertOption[], name = SPONSOR_EXTENSION): string | undefined {
  const option = extensions.find((e) => e.name === name);
  if (option === undefined) return undefined;
  try {
    return stringOptionValue(option);
  } catch {
    return undefined;
  }
}

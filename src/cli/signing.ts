import { execFileSync } from 'node:child_process';
import { CliError, EXIT_ERROR } from './exit.js';

/** What `pushgate login --configure-signing` sets in a repository, in order. */
export function signingSettings(certificatePath: string): [string, string][] {
  return [
    ['gpg.format', 'ssh'],
    // The certificate, not the plain key: ssh-keygen -Y sign finds the private key next to it (<key>-cert.pub → <key>) and embeds the certificate, so the signature names the principal and the CA that vouched for it.
    ['user.signingKey', certificatePath],
    ['commit.gpgSign', 'true'],
    ['tag.gpgSign', 'true'],
  ];
}

/**
 * Configures the repository at `repo` (a work tree or any directory inside
 * one) to sign every commit and tag with the agent's certificate, so that
 * its commits stay attributable to the identity that made them after they
 * leave pushgate. Returns the lines to print, one per setting.
 */
export function configureSigning(repo: string, certificatePath: string): string[] {
  const git = (args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    git(['rev-parse', '--git-dir']);
  } catch {
    throw new CliError(`--configure-signing: ${repo} is not inside a git repository; run it in the agent's clone or give its path`, EXIT_ERROR);
  }
  return signingSettings(certificatePath).map(([key, value]) => {
    git(['config', '--local', key, value]);
    return `  git config ${key} ${value}`;
  });
}

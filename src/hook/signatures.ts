/**
 * Verifies commit signatures with OpenSSH's own `ssh-keygen -Y verify`,
 * never with the pushed content's word for it: an allowed-signers file
 * written from the server's trusted CAs (`cert-authority` lines, namespace
 * git), the pusher's principal as the signer identity, the commit's
 * committer time as the verification time (`-Overify-time`, as git
 * verify-commit does) and the configured KRL. Only when ssh-keygen says no
 * is the signature parsed here, to tell the pusher which of the refusals it
 * is. Bounded: a deadline stops every ssh-keygen, and the caller turns that
 * into an incomplete check, never a pass.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommitObject } from '../git/commit-object.js';
import type { SignatureVerdict } from '../policy/signature.js';
import { formatPublicKeyLine, isCertError, parseCertificate, verifyCertificate, type PublicKey } from '../sshcert/index.js';
import { SshReader } from '../sshcert/wire.js';

/** ssh-keygen processes at once: each is short (about 15 ms); more than the cores only adds switching. */
const PARALLEL = 4;

export class VerificationIncomplete extends Error {}

export interface VerifyContext {
  principal: string;
  trustedCAs: readonly PublicKey[];
  krlFile: string | null;
  deadline: number;
}

const ARMOR = /^-----BEGIN SSH SIGNATURE-----\n([A-Za-z0-9+/=\n]+)-----END SSH SIGNATURE-----\n?$/;

/** `-Overify-time=` in UTC: YYYYMMDDHHMMSSZ. */
function verifyTime(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/** The signer's key or certificate blob inside an SSHSIG (OpenSSH PROTOCOL.sshsig). */
function signerBlob(armor: string): Buffer | null {
  const match = ARMOR.exec(armor);
  if (match === null) return null;
  try {
    const reader = new SshReader(Buffer.from(match[1]!.replace(/\n/g, ''), 'base64'));
    if (reader.bytes(6, 'magic').toString('latin1') !== 'SSHSIG') return null;
    reader.uint32('version');
    return reader.string('public key');
  } catch {
    return null;
  }
}

/** Why ssh-keygen refused: told apart by checking the embedded certificate the way sshd would, at the commit time. */
function classify(commit: CommitObject, time: number, ctx: VerifyContext): SignatureVerdict {
  const blob = signerBlob(commit.signature!.armor);
  if (blob === null) return { kind: 'untrusted', detail: 'not an SSH signature (gpg.format=ssh)' };
  let type: string;
  try {
    type = new SshReader(blob).text('key type');
  } catch {
    return { kind: 'untrusted', detail: 'the signing key does not parse' };
  }
  if (!type.endsWith('-cert-v01@openssh.com')) return { kind: 'untrusted', detail: 'signed with a plain key, not a certificate' };
  try {
    const cert = parseCertificate(blob);
    verifyCertificate(cert, { trustedCAs: ctx.trustedCAs, now: new Date(time * 1000), principal: ctx.principal, clientAddress: '0.0.0.0' });
  } catch (error) {
    if (!isCertError(error)) return { kind: 'untrusted', detail: 'the certificate does not parse' };
    if (error.code === 'cert.principal') return { kind: 'other-principal', detail: error.message };
    if (error.code === 'cert.expired' || error.code === 'cert.not-yet-valid') return { kind: 'expired', detail: `${error.message}; the commit is dated ${new Date(time * 1000).toISOString()}` };
    return { kind: 'untrusted', detail: error.message };
  }
  return { kind: 'untrusted', detail: 'the signature does not verify (the commit was changed after signing, the certificate is revoked, or the namespace is not git)' };
}

function run(args: string[], input: Buffer, deadline: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const left = deadline - Date.now();
    if (left <= 0) {
      reject(new VerificationIncomplete('the time budget ran out before every signature was verified'));
      return;
    }
    const child = spawn('ssh-keygen', args, { stdio: ['pipe', 'ignore', 'ignore'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new VerificationIncomplete('ssh-keygen did not finish verifying a signature within the time budget'));
    }, left);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new VerificationIncomplete(`ssh-keygen could not run (${error.message}); is OpenSSH's ssh-keygen installed on the server?`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Verdicts for `commits`, each verified by ssh-keygen in a private temporary directory that is removed afterwards. */
export async function verifySignatures(commits: readonly CommitObject[], ctx: VerifyContext): Promise<Map<string, SignatureVerdict>> {
  const verdicts = new Map<string, SignatureVerdict>();
  const signed = commits.filter((commit) => {
    if (commit.signature === null) verdicts.set(commit.oid, { kind: 'missing' });
    return commit.signature !== null;
  });
  if (signed.length === 0) return verdicts;
  if (ctx.trustedCAs.length === 0) throw new VerificationIncomplete('no trusted CA key is configured to verify signatures with');
  const dir = await mkdtemp(join(tmpdir(), 'pushgate-verify-'));
  try {
    const signers = join(dir, 'allowed_signers');
    // "*" for every principal: which one must have signed is -I, which ssh-keygen compares exactly with the certificate's principals.
    await writeFile(signers, ctx.trustedCAs.map((ca) => `* cert-authority,namespaces="git" ${formatPublicKeyLine(ca)}\n`).join(''), { mode: 0o600 });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < signed.length) {
        const index = next++;
        const commit = signed[index]!;
        const time = commit.committer?.time ?? NaN;
        if (!Number.isFinite(time) || time < 0 || time > 253402300799) {
          verdicts.set(commit.oid, { kind: 'untrusted', detail: 'the commit has no readable committer time to verify the signature at' });
          continue;
        }
        if (signerBlob(commit.signature!.armor) === null) {
          verdicts.set(commit.oid, classify(commit, time, ctx));
          continue;
        }
        const sig = join(dir, `${index}.sig`);
        await writeFile(sig, commit.signature!.armor, { mode: 0o600 });
        const args = ['-Y', 'verify', '-f', signers, '-I', ctx.principal, '-n', 'git', '-s', sig, `-Overify-time=${verifyTime(time)}`, ...(ctx.krlFile === null ? [] : ['-r', ctx.krlFile])];
        const code = await run(args, commit.signature!.payload, ctx.deadline);
        verdicts.set(commit.oid, code === 0 ? { kind: 'valid' } : classify(commit, time, ctx));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, signed.length) }, worker));
    return verdicts;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

import type { Command } from 'commander';
import {
  CertError, fingerprint, keyLabel, parseCertificateText, parseKrl, parsePublicKeyLine, signatureAlgorithm,
  stringOptionValue, verifyCertificate, type CertOption, type Certificate, type PublicKey, type RevocationChecker,
} from '../sshcert/index.js';
import { CliError, EXIT_REFUSED } from './exit.js';
import { collect, readUserFile, readUserFileBytes } from './files.js';
import type { CommandResult } from './main.js';

function timeText(seconds: bigint): string {
  if (seconds >= 253402300800n) return 'forever';
  return new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

function validityText(cert: Certificate): string {
  const forever = cert.validBefore >= 253402300800n;
  if (cert.validAfter === 0n && forever) return 'forever';
  if (cert.validAfter === 0n) return `before ${timeText(cert.validBefore)}`;
  if (forever) return `after ${timeText(cert.validAfter)}`;
  return `from ${timeText(cert.validAfter)} to ${timeText(cert.validBefore)}`;
}

/** An option's value for display: its inner string, nothing for flags, a length for anything else. */
function optionValue(option: CertOption): string | null {
  if (option.data.length === 0) return null;
  try {
    return stringOptionValue(option);
  } catch {
    return `<${option.data.length} bytes>`;
  }
}

function certificateJson(cert: Certificate): Record<string, unknown> {
  const options = (list: readonly CertOption[]): Record<string, string | null> => Object.fromEntries(list.map((o) => [o.name, optionValue(o)]));
  return {
    certType: cert.certType,
    type: cert.type === 1 ? 'user' : cert.type === 2 ? 'host' : String(cert.type),
    publicKey: { type: cert.publicKey.type, fingerprint: fingerprint(cert.publicKey.blob) },
    signingCa: { type: cert.signatureKey.type, fingerprint: fingerprint(cert.signatureKeyBlob), algorithm: signatureAlgorithmOf(cert) },
    keyId: cert.keyId,
    serial: cert.serial.toString(),
    validAfter: timeText(cert.validAfter),
    validBefore: timeText(cert.validBefore),
    principals: cert.principals,
    criticalOptions: options(cert.criticalOptions),
    extensions: options(cert.extensions),
  };
}

function signatureAlgorithmOf(cert: Certificate): string {
  try {
    return signatureAlgorithm(cert.signature);
  } catch {
    return 'unknown';
  }
}

/** The layout of `ssh-keygen -L`, so people can compare the two at a glance. */
function certificateText(path: string, cert: Certificate): string {
  const indent = '        ';
  const list = (items: readonly string[]): string => (items.length === 0 ? ' (none)\n' : `\n${items.map((i) => `${indent}        ${i}\n`).join('')}`);
  const options = (opts: readonly CertOption[]): string[] => opts.map((o) => {
    const value = optionValue(o);
    return value === null ? o.name : `${o.name} ${value}`;
  });
  return [
    `${path}:\n`,
    `${indent}Type: ${cert.certType} ${cert.type === 1 ? 'user' : cert.type === 2 ? 'host' : 'unknown'} certificate\n`,
    `${indent}Public key: ${keyLabel(cert.publicKey.type)}-CERT ${fingerprint(cert.publicKey.blob)}\n`,
    `${indent}Signing CA: ${keyLabel(cert.signatureKey.type)} ${fingerprint(cert.signatureKeyBlob)} (using ${signatureAlgorithmOf(cert)})\n`,
    `${indent}Key ID: ${JSON.stringify(cert.keyId)}\n`,
    `${indent}Serial: ${cert.serial}\n`,
    `${indent}Valid: ${validityText(cert)}\n`,
    `${indent}Principals:${list(cert.principals)}`,
    `${indent}Critical Options:${list(options(cert.criticalOptions))}`,
    `${indent}Extensions:${list(options(cert.extensions))}`,
  ].join('');
}

/** Reads every key line of a TrustedUserCAKeys-style file. */
export function readTrustedCaFile(path: string): PublicKey[] {
  const lines = readUserFile(path, 'CA public key file').split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (lines.length === 0) throw new CliError(`${path} holds no public keys`);
  return lines.map((line, i) => parsePublicKeyLine(line, `${path} line ${i + 1}`));
}

function readCertificateFile(path: string): Certificate {
  try {
    return parseCertificateText(readUserFile(path, 'certificate'));
  } catch (error) {
    if (error instanceof CertError) throw new CliError(`${path}: ${error.code}: ${error.message}`, EXIT_REFUSED);
    throw error;
  }
}

function loadKrl(path: string): RevocationChecker {
  try {
    return parseKrl(readUserFileBytes(path, 'KRL'));
  } catch (error) {
    if (error instanceof CertError) throw new CliError(`${path}: ${error.message}`);
    throw error;
  }
}

interface VerifyCommandOptions {
  ca: string[];
  principal?: string;
  krl?: string[];
  at?: string;
  sourceAddress?: string;
  skew: string;
  format: string;
}

export function registerCertCommands(program: Command, result: CommandResult): void {
  const cert = program.command('cert').description('Inspect and verify OpenSSH user certificates.')
    .addHelpText('after', '\nExamples:\n  pushgate cert inspect ~/.pushgate/id_ed25519-cert.pub\n  pushgate cert verify ~/.pushgate/id_ed25519-cert.pub --ca /etc/pushgate/ca.pub');

  cert.command('inspect')
    .description('Show a certificate: what `ssh-keygen -L` shows, or JSON.')
    .argument('<file>', 'certificate file (…-cert.pub)')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', '\nExample:\n  pushgate cert inspect ~/.ssh/id_ed25519-cert.pub --format json')
    .action((file: string, options: { format: string }) => {
      const parsed = readCertificateFile(file);
      process.stdout.write(options.format === 'json' ? `${JSON.stringify(certificateJson(parsed), null, 2)}\n` : certificateText(file, parsed));
      result.code = 0;
    });

  cert.command('verify')
    .description('Check a certificate as the gateway does: trusted CA, signature, validity, principal, options, revocation.')
    .argument('<file>', 'certificate file')
    .requiredOption('--ca <file>', 'trusted CA public key file (repeatable; one key per line)', collect)
    .option('--principal <name>', 'require this principal')
    .option('--krl <file>', 'OpenSSH KRL to check revocation against (repeatable)', collect)
    .option('--at <time>', 'check validity at this ISO-8601 time instead of now')
    .option('--source-address <ip>', 'client address to check a source-address restriction against')
    .option('--skew <seconds>', 'tolerated clock difference', '0')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', '\nExit status: 0 valid, 1 invalid (reason on stderr), 2 could not run.\n\nExample:\n  pushgate cert verify id_ed25519-cert.pub --ca /etc/pushgate/ca.pub --principal alice --krl /etc/pushgate/revoked.krl')
    .action((file: string, options: VerifyCommandOptions) => {
      const trustedCAs = options.ca.flatMap(readTrustedCaFile);
      const revocation: RevocationChecker[] = (options.krl ?? []).map((path) => loadKrl(path));
      const now = options.at === undefined ? new Date() : new Date(options.at);
      if (Number.isNaN(now.getTime())) throw new CliError(`--at ${options.at}: expected an ISO-8601 time such as 2026-01-31T12:00:00Z`);
      const skew = Number(options.skew);
      if (!Number.isInteger(skew) || skew < 0) throw new CliError(`--skew ${options.skew}: expected a whole number of seconds`);
      const parsed = readCertificateFile(file);
      try {
        const verified = verifyCertificate(parsed, {
          trustedCAs, now, clockSkewSeconds: skew, revocation,
          ...(options.principal !== undefined ? { principal: options.principal } : {}),
          ...(options.sourceAddress !== undefined ? { clientAddress: options.sourceAddress } : {}),
        });
        if (options.format === 'json') {
          process.stdout.write(`${JSON.stringify({ valid: true, ...certificateJson(parsed), forceCommand: verified.forceCommand ?? null })}\n`);
        } else {
          process.stdout.write(`${file}: valid for ${verified.principals.join(',')} (key id ${JSON.stringify(parsed.keyId)}, serial ${parsed.serial}, until ${timeText(parsed.validBefore)})\n`);
        }
        result.code = 0;
      } catch (error) {
        if (!(error instanceof CertError)) throw error;
        if (options.format === 'json') process.stdout.write(`${JSON.stringify({ valid: false, code: error.code, reason: error.message })}\n`);
        process.stderr.write(`pushgate: ${file}: ${error.code}: ${error.message}\n`);
        result.code = EXIT_REFUSED;
      }
    });
}

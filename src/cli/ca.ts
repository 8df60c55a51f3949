import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { rolesExtension } from '../identity/extensions.js';
import { firstReservedPrincipal, reservedMessage } from '../identity/reserved.js';
import { escapeControl } from '../text/index.js';
import {
  formatCertificateLine, formatPrivateKey, formatPublicKeyLine, generatePrivateKey, parsePrivateKey, parsePublicKeyLine,
  signCertificate, stringOption, type CertOption, type GeneratedKeyType, type PrivateKey,
} from '../sshcert/index.js';
import { parseDurationSeconds } from './duration.js';
import { CliError, EXIT_REFUSED } from './exit.js';
import { collect, readUserFile } from './files.js';
import type { CommandResult } from './main.js';

/** Creates a key pair file and `.pub`, refusing to replace an existing key. */
export function writeNewKeyPair(path: string, key: PrivateKey): void {
  for (const target of [path, `${path}.pub`]) {
    if (existsSync(target)) throw new CliError(`${target} already exists; pushgate never overwrites a key`, EXIT_REFUSED);
  }
  writeFileSync(path, formatPrivateKey(key), { mode: 0o600, flag: 'wx' });
  writeFileSync(`${path}.pub`, `${formatPublicKeyLine(key.publicKey, key.comment)}\n`, { mode: 0o644, flag: 'wx' });
}

export function loadCaKey(path: string): PrivateKey {
  return parsePrivateKey(readUserFile(path, 'CA key'), `CA key ${path}`);
}

function randomSerial(): bigint {
  // 63 bits, so the serial also reads as a positive signed integer everywhere.
  return randomBytes(8).readBigUInt64BE() >> 1n;
}

function parseSerial(text: string): bigint {
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > 0xffffffffffffffffn) throw new CliError(`--serial ${text}: expected an unsigned 64-bit integer`);
  return BigInt(text);
}

function parseExtension(text: string): CertOption {
  const eq = text.indexOf('=');
  if (eq < 0) return { name: text, data: Buffer.alloc(0) };
  return stringOption(text.slice(0, eq), text.slice(eq + 1));
}

function defaultCertPath(pubkeyPath: string): string {
  return `${pubkeyPath.replace(/\.pub$/, '')}-cert.pub`;
}

interface SignOptions {
  ca: string;
  principal: string[];
  role?: string[];
  ttl: string;
  keyId?: string;
  serial?: string;
  sourceAddress?: string;
  forceCommand?: string;
  extension?: string[];
  out?: string;
}

export function registerCaCommands(program: Command, result: CommandResult): void {
  const ca = program.command('ca').description('Create a certificate authority key and sign user certificates offline.')
    .addHelpText('after', '\nExamples:\n  pushgate ca init --key ca\n  pushgate ca sign --ca ca --principal alice --role reviewer --ttl 8h ~/.ssh/id_ed25519.pub');

  ca.command('init')
    .description('Create a CA key pair: an OpenSSH private key (mode 0600) and FILE.pub.')
    .requiredOption('--key <file>', 'where to write the private key')
    .option('--type <type>', 'ed25519, ecdsa or rsa', 'ed25519')
    .option('--bits <n>', 'key size: ecdsa 256/384/521, rsa 2048-16384')
    .option('--comment <text>', 'comment stored with the key', 'pushgate-ca')
    .addHelpText('after', '\nExample:\n  pushgate ca init --key /etc/pushgate/ca --type ed25519')
    .action((options: { key: string; type: string; bits?: string; comment: string }) => {
      if (!['ed25519', 'ecdsa', 'rsa'].includes(options.type)) throw new CliError(`--type ${options.type}: expected ed25519, ecdsa or rsa`);
      const bits = options.bits === undefined ? undefined : Number(options.bits);
      const key = generatePrivateKey(options.type as GeneratedKeyType, { comment: options.comment, ...(bits !== undefined ? { bits } : {}) });
      writeNewKeyPair(options.key, key);
      process.stdout.write(`${formatPublicKeyLine(key.publicKey, key.comment)}\n`);
      process.stderr.write(`pushgate: wrote CA key ${options.key} and ${options.key}.pub\n`);
      result.code = 0;
    });

  ca.command('sign')
    .description('Sign a user certificate for a public key, valid for a short time.')
    .argument('<pubkey-file>', 'the public key to certify (e.g. id_ed25519.pub)')
    .requiredOption('--ca <file>', 'CA private key')
    .requiredOption('--principal <name>', 'principal the certificate is valid for (repeatable)', collect)
    .option('--role <role>', 'pushgate role carried in the certificate (repeatable)', collect)
    .option('--ttl <duration>', 'validity from now: 90s, 10m, 1h, 7d', '10m')
    .option('--key-id <id>', 'key id recorded in logs (default: first principal)')
    .option('--serial <n>', 'serial number (default: random)')
    .option('--source-address <cidr-list>', 'restrict use to these client addresses (comma-separated CIDRs)')
    .option('--force-command <command>', 'command run instead of the one the client asks for')
    .option('--extension <name[=value]>', 'add a certificate extension, e.g. permit-pty (repeatable)', collect)
    .option('--out <file>', 'where to write the certificate (default: <key>-cert.pub)')
    .addHelpText('after', '\nExample:\n  pushgate ca sign --ca ca --principal alice --role agent --ttl 15m ~/.ssh/id_ed25519.pub')
    .action((pubkeyFile: string, options: SignOptions) => {
      const reserved = firstReservedPrincipal(options.principal);
      if (reserved !== undefined) {
        throw new CliError(`--principal "${escapeControl(reserved)}": ${reservedMessage(reserved)}; the gateway would refuse this certificate`, EXIT_REFUSED);
      }
      const caKey = loadCaKey(options.ca);
      const subject = parsePublicKeyLine(readUserFile(pubkeyFile, 'public key'), `public key ${pubkeyFile}`);
      const ttl = parseDurationSeconds(options.ttl);
      if (ttl === undefined || ttl <= 0) throw new CliError(`--ttl ${options.ttl}: expected a duration such as 90s, 10m, 1h`);
      const now = BigInt(Math.floor(Date.now() / 1000));
      const criticalOptions: CertOption[] = [];
      if (options.forceCommand !== undefined) criticalOptions.push(stringOption('force-command', options.forceCommand));
      if (options.sourceAddress !== undefined) criticalOptions.push(stringOption('source-address', options.sourceAddress));
      const extensions = (options.extension ?? []).map(parseExtension);
      if (options.role?.length) extensions.push(rolesExtension(options.role));
      const cert = signCertificate(
        {
          publicKey: subject,
          keyId: options.keyId ?? options.principal[0]!,
          principals: options.principal,
          // Back-dated a minute, as ssh-keygen does, to absorb small clock differences.
          validAfter: now - 60n,
          validBefore: now + BigInt(ttl),
          serial: options.serial === undefined ? randomSerial() : parseSerial(options.serial),
          criticalOptions,
          extensions,
        },
        caKey,
      );
      const out = options.out ?? defaultCertPath(pubkeyFile);
      writeFileSync(out, `${formatCertificateLine(cert, subject.comment)}\n`, { mode: 0o644 });
      process.stderr.write(
        `pushgate: signed user certificate ${out}: id ${JSON.stringify(cert.keyId)} serial ${cert.serial} for ${cert.principals.join(',')} valid until ${new Date(Number(cert.validBefore) * 1000).toISOString()}\n`,
      );
      result.code = 0;
    });
}

import t from 'tap';
import { CertError, parseCertificateText, parsePublicKeyLine, verifyCertificate, type VerifyOptions } from '../../src/sshcert/index.js';
import { randomInt, seededRandom } from '../helpers/prng.js';
import { tempDir } from '../helpers/tools.js';
import { KEY_KINDS, keygen, readText, sshKeygen } from './fixtures.js';

const dir = tempDir(t);

function certificateFrom(caKind: typeof KEY_KINDS[number], subjectKind: typeof KEY_KINDS[number]): { blob: Buffer; options: VerifyOptions } {
  const ca = keygen(dir, `ca-${caKind.label}-${subjectKind.label}`, caKind);
  const user = keygen(dir, `user-${caKind.label}-${subjectKind.label}`, subjectKind);
  sshKeygen(['-q', '-s', ca, '-I', 'fuzz', '-n', 'alice,bob', '-z', '12345', '-V', '+1h',
    '-O', 'source-address=127.0.0.0/8', '-O', 'force-command=git-upload-pack x', `${user}.pub`]);
  const blob = parseCertificateText(readText(`${user}-cert.pub`)).blob;
  const options: VerifyOptions = { trustedCAs: [parsePublicKeyLine(readText(`${ca}.pub`))], principal: 'alice', clientAddress: '127.0.0.1' };
  return { blob, options };
}

/** Runs verification and reports what it threw: 'valid', a CertError code, or 'UNTYPED <error>'. */
function outcome(blob: Buffer, options: VerifyOptions): string {
  try {
    verifyCertificate(blob, options);
    return 'valid';
  } catch (error) {
    return error instanceof CertError ? error.code : `UNTYPED ${String(error)}`;
  }
}

const [ed25519, ecdsa256, , ecdsa521, rsa] = KEY_KINDS;

t.test('every single-byte change of an ed25519 certificate is refused with a typed error', async (t) => {
  const { blob, options } = certificateFrom(ed25519!, ed25519!);
  t.equal(outcome(blob, options), 'valid');
  const untyped: string[] = [];
  let accepted = 0;
  let tried = 0;
  for (let i = 0; i < blob.length; i++) {
    for (let value = 0; value < 256; value++) {
      if (value === blob[i]) continue;
      const mutated = Buffer.from(blob);
      mutated[i] = value;
      tried++;
      const result = outcome(mutated, options);
      if (result === 'valid') accepted++;
      else if (result.startsWith('UNTYPED')) untyped.push(`byte ${i}=${value}: ${result}`);
    }
  }
  t.equal(accepted, 0, `none of ${tried} single-byte changes verifies`);
  t.same(untyped.slice(0, 5), [], 'every refusal is a CertError');
});

t.test('single-byte changes of ecdsa and rsa certificates are refused', async (t) => {
  for (const [caKind, subjectKind] of [[ecdsa256!, rsa!], [rsa!, ecdsa521!], [ecdsa521!, ecdsa256!]] as const) {
    const { blob, options } = certificateFrom(caKind, subjectKind);
    t.equal(outcome(blob, options), 'valid');
    const bad: string[] = [];
    for (let i = 0; i < blob.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const mutated = Buffer.from(blob);
        mutated[i] = mutated[i]! ^ flip;
        const result = outcome(mutated, options);
        if (result === 'valid' || result.startsWith('UNTYPED')) bad.push(`byte ${i}^${flip}: ${result}`);
      }
    }
    t.same(bad.slice(0, 5), [], `${caKind.label} CA / ${subjectKind.label} key: every change refused with a CertError`);
  }
});

t.test('10,000 random mutations and truncations produce only typed errors', async (t) => {
  const { blob, options } = certificateFrom(ed25519!, ecdsa256!);
  const random = seededRandom(0x5eed);
  const counts = new Map<string, number>();
  const bad: string[] = [];
  let runs = 0;
  while (runs < 10_000) {
    let mutated = Buffer.from(blob);
    const edits = 1 + randomInt(random, 4);
    for (let e = 0; e < edits; e++) {
      const at = randomInt(random, mutated.length + 1);
      switch (randomInt(random, 5)) {
        case 0: mutated = mutated.subarray(0, at); break;
        case 1: if (at < mutated.length) mutated[at] = randomInt(random, 256); break;
        case 2: mutated = Buffer.concat([mutated.subarray(0, at), Buffer.from([randomInt(random, 256), randomInt(random, 256)]), mutated.subarray(at)]); break;
        case 3: mutated = Buffer.concat([mutated.subarray(0, at), mutated.subarray(Math.min(mutated.length, at + 1 + randomInt(random, 16)))]); break;
        default: {
          // Length fields are where parsers go wrong: write a big or boundary uint32.
          if (at + 4 <= mutated.length) mutated.writeUInt32BE([0xffffffff, 0x7fffffff, 0, mutated.length][randomInt(random, 4)]!, at);
        }
      }
    }
    if (mutated.equals(blob)) continue;
    runs++;
    const result = outcome(mutated, options);
    counts.set(result, (counts.get(result) ?? 0) + 1);
    if (result === 'valid' || result.startsWith('UNTYPED')) bad.push(result);
  }
  t.same(bad.slice(0, 5), [], 'only CertErrors');
  t.comment(`outcomes: ${JSON.stringify(Object.fromEntries(counts))}`);
});

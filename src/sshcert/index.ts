export { CertError, isCertError, type CertErrorCode } from './errors.js';
export {
  fingerprint, formatPublicKeyLine, keyLabel, parsePublicKeyBlob, parsePublicKeyLine, publicKeyFromKeyObject,
  type KeyType, type PublicKey,
} from './keys.js';
export { formatPrivateKey, generatePrivateKey, parsePrivateKey, type GeneratedKeyType, type PrivateKey } from './privatekey.js';
export { signatureAlgorithm, signData, verifySignature } from './signature.js';
export {
  FOREVER, HOST_CERT, USER_CERT, certTypeFor, formatCertificateLine, parseCertificate, parseCertificateText,
  signCertificate, stringOption, stringOptionValue, type CertOption, type Certificate, type CertificateRequest,
} from './certificate.js';
export { verifyCertificate, verifySessionSignature, type RevocationChecker, type VerifiedCertificate, type VerifyOptions } from './verify.js';
export { normalizeAddress, parseSourceAddressList } from './source-address.js';
export { Krl, parseKrl, type Revocation, type RevocationSubject } from './krl.js';

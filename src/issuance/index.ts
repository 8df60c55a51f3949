export { CertificateService, type CertificateRequestInput, type CertificateResponse, type CertificateServiceOptions } from './service.js';
export { issueCertificate, parseRequestKey, BACKDATE_SECONDS, type IssueRequest, type IssuedCertificate } from './sign.js';
export { certificateTtlSeconds } from './ttl.js';
export { trustedCaText } from './trusted.js';
export { IssuanceError, type IssuanceErrorCode } from './errors.js';

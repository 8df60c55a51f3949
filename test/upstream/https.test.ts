/**
 * Upstream mode in front of a smart-HTTPS server (git http-backend behind
 * nginx): pushgate forwards with a token in basic auth, trusting the server
 * only through the test CA in caFile; "directly upstream" is a developer's
 * push with a token of their own.
 */
import t from 'tap';
import { startHttpsUpstream } from '../helpers/upstream-https.js';
import { upstreamScenarios } from '../helpers/upstream-scenarios.js';
import { serverFixture } from '../helpers/upstream-server.js';

// pushgate runs with a CA bundle in GIT_SSL_CAINFO, as on many hosts (git lets that variable
// override http.sslCAInfo): the upstream's caFile must still be what it trusts.
process.env.GIT_SSL_CAINFO = '/etc/ssl/certs/ca-certificates.crt';
const https = await startHttpsUpstream(t);
await upstreamScenarios(t, serverFixture(t, 'https', https, { username: https.username, tokenFile: https.tokenFile, caFile: https.caFile }));

/**
 * Upstream mode in front of a smart-HTTPS server (git http-backend behind
 * nginx): pushgate forwards with a token in basic auth, trusting the server
 * only through the test CA in caFile. pushgate runs with this machine's
 * environment, whatever CA bundle variables it carries: caFile must win.
 */
import t from 'tap';
import { startHttpsUpstream } from '../helpers/upstream-https.js';
import { mustShow } from './must-show.js';

const https = await startHttpsUpstream(t);
await mustShow(t, https, 'https', { username: https.username, tokenFile: https.tokenFile, caFile: https.caFile }, { GIT_SSL_CAINFO: '/etc/ssl/certs/ca-certificates.crt' });

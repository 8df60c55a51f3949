/**
 * Upstream mode in front of gitolite3 over SSH: pushgate forwards with its
 * deploy key (RW+ in gitolite.conf) and the upstream's pinned host key; a
 * gitolite VREF plays the upstream's own refusal.
 */
import t from 'tap';
import { startGitoliteUpstream } from '../helpers/upstream-gitolite.js';
import { mustShow } from './must-show.js';

const gitolite = await startGitoliteUpstream(t);
await mustShow(t, gitolite, 'gitolite', { sshKeyFile: gitolite.sshKeyFile, knownHostsFile: gitolite.knownHostsFile });

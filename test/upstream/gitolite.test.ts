/**
 * Upstream mode in front of gitolite3 over SSH: pushgate forwards with its
 * deploy key (RW+ in gitolite.conf) against the upstream's pinned host key; a
 * gitolite VREF plays the upstream's own refusal; "directly upstream" is a
 * developer's push with a key of their own.
 */
import t from 'tap';
import { startGitoliteUpstream } from '../helpers/upstream-gitolite.js';
import { SCENARIO_REPOS, upstreamScenarios } from '../helpers/upstream-scenarios.js';
import { serverFixture } from '../helpers/upstream-server.js';

const gitolite = await startGitoliteUpstream(t);
gitolite.createRepos(...SCENARIO_REPOS);
await upstreamScenarios(t, serverFixture(t, 'gitolite', gitolite, { sshKeyFile: gitolite.sshKeyFile, knownHostsFile: gitolite.knownHostsFile }));

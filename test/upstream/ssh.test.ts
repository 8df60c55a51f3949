import t from 'tap';
import { sshFixture, startSshUpstream } from '../helpers/upstream-sshd.js';
import { upstreamScenarios } from '../helpers/upstream-scenarios.js';

// The upstream is OpenSSH sshd on loopback running git-shell for one deploy key, its host key pinned.
await upstreamScenarios(t, sshFixture(await startSshUpstream(t)));

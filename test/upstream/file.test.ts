import t from 'tap';
import { fileFixture, upstreamRepos } from '../helpers/upstream-sshd.js';
import { upstreamScenarios } from '../helpers/upstream-scenarios.js';

// The upstream is a directory of bare repositories reached by file://.
await upstreamScenarios(t, fileFixture(upstreamRepos(t)));

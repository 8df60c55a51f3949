/**
 * A refused argument is explained by what is actually wrong with it, not by
 * restating a rule it may already satisfy.
 */
import t from 'tap';
import { queueIdProblem } from '../../src/queue/index.js';
import { pushgateCli, testServer } from '../helpers/git-server.js';

t.test('an 8-character id with letters outside the alphabet is refused for its letters, not its length', async (t) => {
  const server = testServer(t);
  const result = pushgateCli(['queue', 'approve', 'abcd1234', '--config', server.configPath]);
  t.not(result.status, 0);
  t.match(result.stderr, /"abcd1234" is not a queue id/);
  t.match(result.stderr, /"1" is not in the id alphabet 23456789abcdefghjkmnpqrstuvwxyz/);
  t.notMatch(result.stderr, /8 characters|has 8/, 'does not blame the length');
});

t.test('a wrong length is refused for its length', async (t) => {
  const server = testServer(t);
  const result = pushgateCli(['queue', 'show', 'abcd234', '--config', server.configPath]);
  t.not(result.status, 0);
  t.match(result.stderr, /it has 7 characters, a queue id has 8/);
  t.notMatch(result.stderr, /alphabet/);
});

t.test('queueIdProblem names each fault that is there and no other', async (t) => {
  t.match(queueIdProblem('abcdefgo'), /"o" is not in the id alphabet.*look alike/);
  t.notMatch(queueIdProblem('abcdefgo'), /characters, a queue id/);
  t.match(queueIdProblem('ab_'), /it has 3 characters.*"_" is not in the id alphabet/);
  t.match(queueIdProblem('ABCD1234'), /"1" is not/, 'case is forgiven, as when the id is accepted');
  t.match(queueIdProblem(''), /it has 0 characters/);
});

t.test('a refused repository name says which part is wrong', async (t) => {
  const server = testServer(t);
  const hidden = pushgateCli(['repo', 'create', 'team/.hidden', '--config', server.configPath]);
  t.not(hidden.status, 0);
  t.match(hidden.stderr, /a part starts with "\."/);
  const spaced = pushgateCli(['repo', 'create', 'team/my app', '--config', server.configPath]);
  t.not(spaced.status, 0);
  t.match(spaced.stderr, /" " is not allowed/);
  const doubled = pushgateCli(['repo', 'create', 'team//app', '--config', server.configPath]);
  t.match(doubled.stderr, /empty part/);
});

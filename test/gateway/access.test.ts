import t from 'tap';
import { isAllowed, permissionsFor } from '../../src/gateway/access.js';
import type { AccessRule } from '../../src/config/index.js';

const rules: AccessRule[] = [
  { repos: ['team/**'], principals: [], roles: ['agent'], permissions: ['read', 'write'] },
  { repos: ['docs/*'], principals: ['*'], roles: [], permissions: ['read'] },
  { repos: ['secret/vault'], principals: ['ci:org/*'], roles: [], permissions: ['read'] },
  { repos: ['secret/vault'], principals: ['boss'], roles: [], permissions: ['write'] },
];

t.test('roles and principals × repository globs × permissions', async (t) => {
  t.ok(isAllowed({ principal: 'a', roles: ['agent'] }, 'team/app', 'write', rules));
  t.ok(isAllowed({ principal: 'a', roles: ['agent'] }, 'team/sub/app', 'read', rules), '** crosses folders');
  t.notOk(isAllowed({ principal: 'a', roles: ['agent'] }, 'secret/vault', 'read', rules));
  t.notOk(isAllowed({ principal: 'a', roles: [] }, 'team/app', 'read', rules));
  t.ok(isAllowed({ principal: 'anyone', roles: [] }, 'docs/guide', 'read', rules));
  t.notOk(isAllowed({ principal: 'anyone', roles: [] }, 'docs/guide', 'write', rules));
  t.notOk(isAllowed({ principal: 'anyone', roles: [] }, 'docs/a/b', 'read', rules), '* stays within a folder of repository names');
  t.ok(isAllowed({ principal: 'ci:org/repo', roles: [] }, 'secret/vault', 'read', rules), 'principal globs cross /');
  t.same([...permissionsFor({ principal: 'boss', roles: ['agent'] }, 'secret/vault', rules)].sort(), ['write'], 'permissions of matching rules add up');
  t.same([...permissionsFor({ principal: 'boss', roles: ['agent'] }, 'team/x', rules)].sort(), ['read', 'write']);
  t.same([...permissionsFor({ principal: 'x', roles: [] }, 'team/x', [])], [], 'no rules, no access');
});

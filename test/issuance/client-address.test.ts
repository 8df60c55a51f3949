import t from 'tap';
import { ClientAddressResolver, MAX_FORWARDED_HOPS, parseHop, rateLimitKey } from '../../src/http/index.js';

t.test('X-Forwarded-For hops', async (t) => {
  t.equal(parseHop(' 192.0.2.1 '), '192.0.2.1');
  t.equal(parseHop('192.0.2.1:4711'), '192.0.2.1');
  t.equal(parseHop('[2001:db8::1]:443'), '2001:db8::1');
  t.equal(parseHop('2001:db8::1'), '2001:db8::1');
  t.equal(parseHop('::ffff:192.0.2.9'), '192.0.2.9', 'IPv4-mapped shown as IPv4');
  for (const bad of ['', 'unknown', '_hidden', 'fe80::1%eth0', '192.0.2.1:port', '300.1.1.1', 'example.com']) t.equal(parseHop(bad), undefined, JSON.stringify(bad));
});

t.test('the right-most untrusted hop; never a value left of garbage', async (t) => {
  const resolver = new ClientAddressResolver(['10.0.0.0/8', '192.0.2.10']);
  t.same(resolver.resolve('203.0.113.5', ['198.51.100.1']), { address: '203.0.113.5' }, 'an untrusted peer is the client, whatever it says');
  t.same(resolver.resolve('::ffff:10.0.0.1', ['198.51.100.1']), { address: '198.51.100.1', via: '10.0.0.1' });
  t.same(resolver.resolve('10.0.0.1', ['6.6.6.6, 198.51.100.1, 192.0.2.10']), { address: '198.51.100.1', via: '10.0.0.1' });
  t.same(resolver.resolve('10.0.0.1', ['6.6.6.6, nonsense, 10.2.2.2']), { address: '10.2.2.2', via: '10.0.0.1' }, 'garbage stops at the last trusted hop');
  t.same(resolver.resolve('10.0.0.1', ['10.3.3.3, 10.2.2.2']), { address: '10.3.3.3', via: '10.0.0.1' }, 'all trusted: the left-most');
  t.same(resolver.resolve('10.0.0.1', undefined), { address: '10.0.0.1' });
  const long = Array.from({ length: MAX_FORWARDED_HOPS + 5 }, () => '10.1.1.1');
  t.same(resolver.resolve('10.0.0.1', [['6.6.6.6', ...long].join(',')]), { address: '10.1.1.1', via: '10.0.0.1' }, 'a chain longer than the cap ends at a trusted hop');
  t.same(new ClientAddressResolver([]).resolve('10.0.0.1', ['6.6.6.6']), { address: '10.0.0.1' }, 'no trusted proxies: the header is ignored');
});

t.test('rate-limit keys: an IPv6 client by its /64', async (t) => {
  t.equal(rateLimitKey('192.0.2.1'), '192.0.2.1');
  t.equal(rateLimitKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  t.equal(rateLimitKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  t.equal(rateLimitKey('2001:0db8:0001:0002::9'), '2001:db8:1:2::/64');
  t.equal(rateLimitKey('::1'), '0:0:0:0::/64');
});

import t from 'tap';
import { connectionRefusal, KeyedCounter } from '../../src/gateway/limits.js';

t.test('keyed counters', async (t) => {
  const counter = new KeyedCounter();
  t.ok(counter.tryAcquire('a', 2));
  t.ok(counter.tryAcquire('a', 2));
  t.notOk(counter.tryAcquire('a', 2));
  t.ok(counter.tryAcquire('b', 2));
  t.equal(counter.total, 3);
  t.equal(counter.count('a'), 2);
  counter.release('a');
  counter.release('a');
  counter.release('a');
  t.equal(counter.count('a'), 0, 'releasing more than was taken does not go negative');
  t.equal(counter.total, 1);
  const limits = { maxConnections: 2, maxConnectionsPerAddress: 1 };
  t.equal(connectionRefusal(counter, 'a', limits), null);
  t.equal(connectionRefusal(counter, 'b', limits), 'limit.connections-per-address');
  counter.tryAcquire('c', 5);
  t.equal(connectionRefusal(counter, 'a', limits), 'limit.connections');
});

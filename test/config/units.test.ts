import t from 'tap';
import { parseDuration, parseListen, parseSize, tryParseDuration, tryParseSize } from '../../src/config/index.js';

t.test('durations', async (t) => {
  const cases: [string, number][] = [
    ['500ms', 500], ['30s', 30_000], ['15m', 900_000], ['1h', 3_600_000], ['1h30m', 5_400_000],
    ['7d', 604_800_000], ['2w', 1_209_600_000], ['1.5s', 1_500], [' 10s ', 10_000], ['1m5ms', 60_005],
  ];
  for (const [text, ms] of cases) t.equal(parseDuration(text), ms, text);
  for (const bad of ['', '10', 's', '10x', '1h 30m', '-5s', '1e3s', '10S', '1.s']) {
    t.equal(tryParseDuration(bad), undefined, JSON.stringify(bad));
  }
  t.throws(() => parseDuration('soon'), { name: 'RangeError', message: /invalid duration "soon": expected a duration such as 30s/ });
});

t.test('sizes', async (t) => {
  const cases: [string | number, number][] = [
    ['500KB', 500_000], ['500kb', 500_000], ['10MiB', 10_485_760], ['1GiB', 1_073_741_824], ['2GB', 2_000_000_000],
    ['1TiB', 1024 ** 4], ['3TB', 3e12], ['1.5KiB', 1536], ['100', 100], ['100B', 100], ['5 MiB', 5_242_880], [4096, 4096], [0, 0],
  ];
  for (const [text, bytes] of cases) t.equal(parseSize(text), bytes, String(text));
  for (const bad of ['', 'MiB', '10XB', '-1KB', '1e9', 'ten']) t.equal(tryParseSize(bad), undefined, JSON.stringify(bad));
  for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER * 2]) t.equal(tryParseSize(bad), undefined, String(bad));
  t.equal(tryParseSize('99999999999TiB'), undefined, 'beyond a safe integer');
  t.throws(() => parseSize('huge'), { name: 'RangeError', message: /invalid size "huge"/ });
});

t.test('listen addresses', async (t) => {
  t.same(parseListen('127.0.0.1:2222'), { host: '127.0.0.1', port: 2222 });
  t.same(parseListen('[::1]:0'), { host: '::1', port: 0 });
  t.same(parseListen('git.example.com:22'), { host: 'git.example.com', port: 22 });
  t.same(parseListen('0.0.0.0:65535'), { host: '0.0.0.0', port: 65535 });
  for (const bad of ['127.0.0.1', ':2222', '127.0.0.1:', '127.0.0.1:65536', '::1:22', '[nothost]:22', 'bad host:22', '-x:22', 'host:2x']) {
    t.equal(parseListen(bad), undefined, bad);
  }
});

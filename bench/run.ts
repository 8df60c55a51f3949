import { benchTransport } from './gateway.js';
import { benchLargePush, benchSmallPush } from './hook.js';
import { benchScanCli } from './scan.js';
import { benchUpstream } from './upstream.js';

/**
 * `npm run bench`: every benchmark against its real baseline in the same
 * run, printed as a Markdown table (copied into bench/README.md).
 * `npm run bench -- hook`: the pre-receive hook's benchmarks only.
 * `npm run bench -- scan`: the scanner against secretlint only.
 * `npm run bench -- upstream`: the small push (for the hook's cost) and upstream mode only.
 */
async function main(): Promise<void> {
  const rows: string[] = ['| benchmark | pushgate | baseline | ratio / difference | target |', '|---|---|---|---|---|'];
  const print = (row: string): void => {
    rows.push(row);
    process.stderr.write(`${row}\n`);
  };
  const scanRows = async (): Promise<void> => {
    const cli = await benchScanCli();
    const mb = (cli.bytes / 1e6).toFixed(0);
    print(`| \`pushgate scan --files\` over ${mb} MB in ${cli.files} files, median of ${cli.runs} | ${(cli.pushgateMs / 1000).toFixed(2)} s, ${(cli.bytes / 1e6 / (cli.pushgateMs / 1000)).toFixed(1)} MB/s | ${(cli.secretlintMs / 1000).toFixed(2)} s, ${(cli.bytes / 1e6 / (cli.secretlintMs / 1000)).toFixed(1)} MB/s (secretlint ${cli.secretlintVersion}, recommended preset) | ${(cli.pushgateMs / cli.secretlintMs).toFixed(2)}× the time | ≤ 1× |`);
    print(`| the same, CPU time (user + system) | ${(cli.pushgateCpuMs / 1000).toFixed(2)} s | ${(cli.secretlintCpuMs / 1000).toFixed(2)} s (secretlint) | ${(cli.pushgateCpuMs / cli.secretlintCpuMs).toFixed(2)}× | |`);
    print(`| the same files: findings (credentials planted: ${cli.planted}) | ${cli.pushgateFindings} | ${cli.secretlintFindings} (secretlint) | | |`);
  };
  if (process.argv[2] === 'scan') {
    await scanRows();
    process.stdout.write(`${rows.join('\n')}\n`);
    return;
  }
  const small = benchSmallPush();
  print(`| one-commit, five-file push, median of ${small.runs} | ${small.withHookMs.toFixed(1)} ms | ${small.withoutHookMs.toFixed(1)} ms (no hook) | +${small.addedMs.toFixed(1)} ms | ≤ 150 ms added |`);
  print(`| the same, CPU time (user + system) of the whole push | ${small.withHookCpuMs.toFixed(0)} ms | ${small.withoutHookCpuMs.toFixed(0)} ms (no hook) | +${small.addedCpuMs.toFixed(0)} ms | |`);
  print(`| for reference: Node's own start (\`node -e 0\`, as the shims start it) in the same rounds | | ${small.nodeStartMs.toFixed(1)} ms | | |`);
  if (process.argv[2] === 'upstream') {
    upstreamRows(await benchUpstream({ log: (line) => process.stderr.write(`upstream: ${line}\n`) }), small.addedMs, print);
    process.stdout.write(`${rows.join('\n')}\n`);
    return;
  }
  const large = benchLargePush();
  print(`| pre-receive over ${(large.diffBytes / 1e6).toFixed(0)} MB of diff (${large.commits} commits), median of ${large.runs} | ${(large.hookMs / 1000).toFixed(2)} s | ${(large.gitLogMs / 1000).toFixed(2)} s (\`git log -p\`) | ${large.ratio.toFixed(2)}× | ≤ 1.3× |`);
  print(`| the same, against \`git log -p | wc -c\` (output read through a pipe) | ${(large.hookMs / 1000).toFixed(2)} s | ${(large.gitLogPipedMs / 1000).toFixed(2)} s | ${large.ratioPiped.toFixed(2)}× | ≤ 1.3× |`);
  print(`| the same, CPU time (user + system, git processes included) | ${(large.hookCpuMs / 1000).toFixed(2)} s | ${(large.gitLogCpuMs / 1000).toFixed(2)} s (\`git log -p\`) | ${(large.hookCpuMs / large.gitLogCpuMs).toFixed(2)}× | |`);
  print(`| \`pushgate scan\` (CLI) over the same range | ${(large.scanMs / 1000).toFixed(2)} s | ${(large.gitLogMs / 1000).toFixed(2)} s (\`git log -p\`) | ${(large.scanMs / large.gitLogMs).toFixed(2)}× | ≤ 1.2× |`);
  print(`| scan throughput over the same diff | ${(large.diffBytes / 1e6 / (large.hookMs / 1000)).toFixed(0)} MB/s | ${(large.diffBytes / 1e6 / (large.gitLogMs / 1000)).toFixed(0)} MB/s (\`git log -p\`) | | |`);
  if (process.argv[2] === 'hook') {
    process.stdout.write(`${rows.join('\n')}\n`);
    return;
  }
  await scanRows();
  const transport = await benchTransport({ log: (line) => process.stderr.write(`transport: ${line}\n`) });
  const mb = (transport.packBytes / 1e6).toFixed(0);
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  for (const variant of transport.variants) {
    const cipher = variant.cipher.gateway === variant.cipher.sshd ? variant.cipher.gateway : `${variant.cipher.gateway} / ${variant.cipher.sshd}`;
    const how = `${variant.forced !== undefined ? 'forced' : 'negotiated'} ${cipher}`;
    print(`| \`git clone --bare\` of a ${mb} MB pack over SSH (${how}), median of ${transport.runs} | ${seconds(variant.clone.gatewayMs)} (gateway) | ${seconds(variant.clone.sshdMs)} (OpenSSH sshd) | ${variant.clone.ratio.toFixed(2)}× | ≤ 1.05× |`);
    print(`| \`git push\` of the same history to an empty repository without hooks (transport only; ${how}), median of ${transport.runs} | ${seconds(variant.push.gatewayMs)} (gateway) | ${seconds(variant.push.sshdMs)} (OpenSSH sshd) | ${variant.push.ratio.toFixed(2)}× | ≤ 1.05× |`);
  }
  upstreamRows(await benchUpstream({ log: (line) => process.stderr.write(`upstream: ${line}\n`) }), small.addedMs, print);
  const m = transport.machine;
  process.stderr.write(`transport machine: nproc ${m.nproc}, node ${m.node}, ${m.git}, ${m.openssh}\n`);
  process.stdout.write(`${rows.join('\n')}\n`);
}

/** Upstream mode's rows; the push target is 1.5× the direct push plus the hook's added latency measured in the same run. */
function upstreamRows(result: Awaited<ReturnType<typeof benchUpstream>>, hookAddedMs: number, print: (row: string) => void): void {
  const mb = (result.packBytes / 1e6).toFixed(0);
  const { clone, push } = result;
  print(`| upstream mode: \`git clone --bare\` of a ${mb} MB repository through pushgate (warm mirror, fetchInterval ${result.fetchInterval}) against straight from the sshd + git-shell upstream, median of ${result.runs} | ${(clone.pushgateMs / 1000).toFixed(2)} s | ${(clone.directMs / 1000).toFixed(2)} s (upstream sshd) | ${clone.ratio.toFixed(2)}× | ≤ 1.1× |`);
  const budget = 1.5 * push.directMs + hookAddedMs;
  print(`| upstream mode: one-commit push through pushgate (decide, forward, apply) against straight to the upstream, median of ${result.runs} | ${push.pushgateMs.toFixed(0)} ms | ${push.directMs.toFixed(0)} ms (upstream sshd) | ${push.ratio.toFixed(2)}×; ${push.pushgateMs <= budget ? 'within' : 'over'} 1.5× + hook (${budget.toFixed(0)} ms) | ≤ 1.5× + hook cost (+${hookAddedMs.toFixed(0)} ms above) |`);
  print(`| the same push, from pushgate's audit log: the hook from start to decision (forward included) / the forward alone, medians | ${result.pushParts.hookMs.toFixed(0)} ms / ${result.pushParts.forwardMs.toFixed(0)} ms | | | |`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});

import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  AuditError, createHmacKey, decisionReport, followLog, formatAnchor, formatRecordText, parseAnchor, type Anchor, formatReportText, lastLines, logFiles, parseRecordLine,
  queryRecords, readHmacKey, verifyChain, type AuditRecord, type ReadStats, type RecordFilter, type VerifyResult,
} from '../audit/index.js';
import { escapeControl, terminalSafeJson } from '../text/index.js';
import { DEFAULT_CONFIG_PATH, findConfigPath, type PushgateConfig } from '../config/index.js';
import { CONFIG_OPTION_HELP, loadCliConfig } from './config-file.js';
import { parseDurationSeconds } from './duration.js';
import { CliError, EXIT_ERROR, EXIT_OK, EXIT_REFUSED } from './exit.js';
import { collect } from './files.js';
import type { CommandResult } from './main.js';

const FILE_OPTION_HELP = 'read this audit log (and its rotated files) instead of the configured one';

function format(value: string): 'text' | 'json' {
  if (value !== 'text' && value !== 'json') throw new CliError(`--format ${value}: expected text or json`);
  return value;
}

/** `7d`, `12h`, `30m` ago, or an ISO-8601 time. */
export function parseTimeArgument(option: string, text: string, now = Date.now()): Date {
  const seconds = parseDurationSeconds(text);
  if (seconds !== undefined) return new Date(now - seconds * 1000);
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) throw new CliError(`${option} ${text}: expected a duration such as 7d, 12h, 30m, or an ISO-8601 time such as 2026-01-31T12:00:00Z`);
  return new Date(time);
}

function auditError<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof AuditError) throw new CliError(error.message);
    throw error;
  }
}

/** The config to read, or none when the caller named files and no config is anywhere to be found. */
function optionalConfig(explicit: string | undefined): PushgateConfig | undefined {
  const path = findConfigPath(explicit);
  if (path === DEFAULT_CONFIG_PATH && !existsSync(path)) return undefined;
  return loadCliConfig(explicit);
}

function logFile(options: { file?: string; config?: string }): string {
  return options.file ?? loadCliConfig(options.config).audit.file;
}

const VERBOSE_OPTION_HELP = 'each identity with its key id, certificate serial and address (text format)';

function printRecord(record: AuditRecord, how: 'text' | 'json', verbose = false): void {
  process.stdout.write(`${how === 'json' ? terminalSafeJson(JSON.stringify(record)) : formatRecordText(record, { verbose })}\n`);
}

function warnSkipped(stats: ReadStats): void {
  if (stats.skipped > 0) process.stderr.write(`pushgate: ${stats.skipped} line(s) are not audit records and were skipped; run \`pushgate audit verify\`\n`);
}

function verifyText(result: VerifyResult, quiet: boolean): void {
  if (!quiet || !result.ok) for (const note of result.notes) process.stderr.write(`pushgate: note: ${escapeControl(note)}\n`);
  if (result.broken !== undefined) {
    const b = result.broken;
    const where = b.line > 0 ? `${b.file}:${b.line}${b.seq !== undefined ? ` (seq ${b.seq})` : ''}` : b.file;
    process.stderr.write(`pushgate: audit chain broken at ${escapeControl(where)}: ${b.reason}: ${escapeControl(b.message)}\n`);
    return;
  }
  if (quiet) return;
  const head = result.head === undefined ? 'no records yet' : `head ${escapeControl(result.head.file)} seq ${result.head.seq} hash ${result.head.hash} (anchor ${formatAnchor(result.head)})`;
  process.stdout.write(`ok: ${result.records} record(s) in ${result.files} file(s) form one chain; ${head}\n`);
}

interface VerifyCommandOptions {
  config?: string;
  keyFile?: string;
  anchor?: string[];
  anchorFile?: string;
  quiet?: boolean;
  format: string;
}

function anchorArgument(text: string): Anchor {
  const anchor = parseAnchor(text);
  if (anchor === undefined) throw new CliError(`--anchor ${escapeControl(text)}: expected SEQ:HASH or HASH (the 64 hex digits of a record's hash), as \`audit verify\` prints a head`);
  return anchor;
}

/** The anchor kept in `file` by an earlier run; undefined when there is none yet. */
function readAnchorFile(file: string): Anchor | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read the anchor file ${file}: ${(error as Error).message}`, EXIT_ERROR);
  }
  const anchor = parseAnchor(text);
  if (anchor === undefined) {
    throw new CliError(`the anchor file ${file} does not hold SEQ:HASH; it is written by \`audit verify --anchor-file\`: restore it, or remove it to start a new anchor (which forgets the old head)`, EXIT_ERROR);
  }
  return anchor;
}

/** Replaces the anchor file with the new head, atomically: a reader sees the old anchor or the new one. */
function writeAnchorFile(file: string, head: { seq: number; hash: string }): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `${formatAnchor(head)}\n`, { mode: 0o600 });
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new CliError(`cannot write the anchor file ${file}: ${(error as Error).message}`, EXIT_ERROR);
  }
}

interface ShowOptions {
  config?: string;
  verbose?: boolean;
  file?: string;
  session?: string;
  principal?: string;
  repo?: string;
  queue?: string;
  type?: string;
  since?: string;
  until?: string;
  format: string;
}

export function registerAuditCommands(program: Command, result: CommandResult): void {
  const audit = program.command('audit').description('Check and read the hash-chained audit trail: verify, show, tail, report.')
    .addHelpText('after', '\nExamples:\n  pushgate audit verify\n  pushgate audit show --repo team/app --since 1d');

  audit.command('verify')
    .description('Check that the audit log is one unbroken hash chain: no record changed, removed, added or moved.')
    .argument('[file...]', 'log files, oldest first (default: the configured log and its rotated files)')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .option('--key-file <file>', 'HMAC key the log was written with (default: audit.hmacKeyFile of the config)')
    .option('--anchor <seq:hash>', 'a record noted earlier (SEQ:HASH as printed, or its HASH) that must still be in the chain (repeatable)', collect)
    .option('--anchor-file <file>', 'keep the head here: the record it names must still be in the chain; on success it is replaced by the new head')
    .option('-q, --quiet', 'print nothing when the chain holds (for cron)')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', [
      '',
      'Prints the first broken record (file, line, seq) and why: hash-mismatch (changed), seq-gap (removed),',
      'reordered, prev-mismatch, not-canonical (reformatted), unparsable, anchor-missing (cut from the end).',
      'Records cut from the end of the log can only be detected against a head kept elsewhere: pass it',
      'with --anchor, or let --anchor-file keep it from one run to the next (a file the service user',
      'cannot write; see docs/operations.md for a cron line). /metrics and the operator log publish the head too.',
      '',
      'Exit status: 0 the chain holds, 1 it is broken, 2 could not run.',
      '',
      'Examples:',
      '  pushgate audit verify --config /etc/pushgate/pushgate.yaml',
      '  pushgate audit verify --anchor 1042:5f0c…e19a',
      '  pushgate audit verify --quiet --anchor-file /var/lib/pushgate-anchor/audit.anchor',
      '  pushgate audit verify --key-file audit.key audit.log.20260101T000000000Z audit.log',
    ].join('\n'))
    .action(async (files: string[], options: VerifyCommandOptions) => {
      const how = format(options.format);
      const anchors = (options.anchor ?? []).map(anchorArgument);
      const kept = options.anchorFile === undefined ? undefined : readAnchorFile(options.anchorFile);
      if (kept !== undefined) anchors.push(kept);
      for (const file of files) if (!existsSync(file)) throw new CliError(`cannot read audit log ${file}: no such file`);
      // Named files need the config only for the key, and only when there is one.
      let config: PushgateConfig | undefined;
      if (files.length === 0) config = loadCliConfig(options.config);
      else if (options.keyFile === undefined) config = optionalConfig(options.config);
      const keyFile = options.keyFile ?? config?.audit.hmacKeyFile ?? null;
      const key = keyFile === null ? null : auditError(() => readHmacKey(keyFile));
      const list = config !== undefined && files.length === 0 ? logFiles(config.audit.file) : files;
      const verified = await verifyChain(list, { key, anchors });
      // The anchor moves only when everything up to the new head checked out.
      if (verified.ok && options.anchorFile !== undefined && verified.head !== undefined) writeAnchorFile(options.anchorFile, verified.head);
      if (how === 'json') process.stdout.write(`${terminalSafeJson(JSON.stringify(verified))}\n`);
      else verifyText(verified, options.quiet === true);
      result.code = verified.ok ? EXIT_OK : EXIT_REFUSED;
    });

  audit.command('init-key')
    .description('Create a new audit HMAC key file (32 random bytes, hex, mode 0600) for audit.hmacKeyFile; never replaces one.')
    .argument('<file>', 'where to write the key')
    .addHelpText('after', [
      '',
      'With a key, whoever can write the audit log but not read the key can neither forge records nor',
      'recompute the chain after cutting records out. Point audit.hmacKeyFile at it before the first record',
      'is written: a log is verified with one key (pushgate init and install.sh do this for a new server).',
      '',
      'Exit status: 0 created, 1 the file exists (it is kept), 2 could not write it.',
      '',
      'Example:',
      '  pushgate audit init-key /etc/pushgate/audit.key',
    ].join('\n'))
    .action((file: string) => {
      const created = auditError(() => createHmacKey(file));
      if (!created) throw new CliError(`${file} exists; a key is never replaced (the log written with it could no longer be verified)`, EXIT_REFUSED);
      process.stdout.write(`created ${file}\n`);
      result.code = EXIT_OK;
    });

  audit.command('show')
    .description('Print the audit records that match the filters as a readable timeline, oldest first.')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .option('--file <file>', FILE_OPTION_HELP)
    .option('--session <id>', 'one SSH session: connection, command, decision, end')
    .option('--principal <name>', 'records where this principal acted or reviewed')
    .option('--repo <name>', 'one repository (team/app, /team/app.git, …)')
    .option('--queue <id>', 'one parked push: park, approvals, apply')
    .option('--type <type>', 'one event type (push.decision), or a whole area (queue, queue.*)')
    .option('--since <when>', 'from this long ago (7d, 12h, 30m) or this ISO-8601 time')
    .option('--until <when>', 'up to this long ago or this ISO-8601 time')
    .option('--format <format>', 'text, or json (one record per line, as stored)', 'text')
    .option('-v, --verbose', VERBOSE_OPTION_HELP)
    .addHelpText('after', '\nEach line: time, #sequence, who acted (the reviewer for an approval or rejection,\nthe pusher for a push, the principal for an SSH event), the event, then what it\nwas done to.\n\nExamples:\n  pushgate audit show --repo team/app --since 7d\n  pushgate audit show --queue k3x9p2 --format json')
    .action(async (options: ShowOptions) => {
      const how = format(options.format);
      const filter: RecordFilter = {
        ...(options.session !== undefined ? { session: options.session } : {}),
        ...(options.principal !== undefined ? { principal: options.principal } : {}),
        ...(options.repo !== undefined ? { repository: options.repo } : {}),
        ...(options.queue !== undefined ? { queueId: options.queue } : {}),
        ...(options.type !== undefined ? { type: options.type } : {}),
        ...(options.since !== undefined ? { since: parseTimeArgument('--since', options.since) } : {}),
        ...(options.until !== undefined ? { until: parseTimeArgument('--until', options.until) } : {}),
      };
      const stats: ReadStats = { skipped: 0 };
      for await (const record of queryRecords(logFile(options), filter, stats)) printRecord(record, how, options.verbose === true);
      warnSkipped(stats);
      result.code = EXIT_OK;
    });

  audit.command('tail')
    .description('Print the last audit records; with -f, keep printing new ones as they are written (across rotation).')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .option('--file <file>', FILE_OPTION_HELP)
    .option('-n, --lines <n>', 'how many records to print first', '10')
    .option('-f, --follow', 'keep following the log until interrupted')
    .option('--format <format>', 'text, or json (one record per line, as stored)', 'text')
    .option('-v, --verbose', VERBOSE_OPTION_HELP)
    .addHelpText('after', '\nExamples:\n  pushgate audit tail -n 50\n  pushgate audit tail -f --format json | jq .type')
    .action(async (options: { config?: string; file?: string; lines: string; follow?: boolean; format: string; verbose?: boolean }) => {
      const how = format(options.format);
      const count = Number(options.lines);
      if (!Number.isSafeInteger(count) || count < 0) throw new CliError(`--lines ${options.lines}: expected a whole number`);
      const file = logFile(options);
      const print = (line: string): void => {
        const parsed = parseRecordLine(line);
        if ('record' in parsed) printRecord(parsed.record, how, options.verbose === true);
        else process.stderr.write(`pushgate: skipped a line that is not an audit record (${escapeControl(parsed.error)})\n`);
      };
      const last = await lastLines(file, count);
      for (const line of last.lines) print(line);
      result.code = EXIT_OK;
      if (!options.follow) return;
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await followLog(file, print, { from: last.end, signal: stop.signal });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  audit.command('report')
    .description('Summarise, per rule, how often it denied or parked a push, and how often an audit-only rule would have.')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .option('--file <file>', FILE_OPTION_HELP)
    .option('--since <when>', 'from this long ago (7d, 12h) or this ISO-8601 time', '7d')
    .option('--until <when>', 'up to this long ago or this ISO-8601 time')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', [
      '',
      'Counts come from push.decision records: a rule counts once per push for each of deny, park,',
      'would deny and would park (audit mode); "findings" counts every finding.',
      '',
      'Example:',
      '  pushgate audit report --since 30d --format json',
    ].join('\n'))
    .action(async (options: { config?: string; file?: string; since: string; until?: string; format: string }) => {
      const how = format(options.format);
      const since = parseTimeArgument('--since', options.since);
      const until = options.until === undefined ? undefined : parseTimeArgument('--until', options.until);
      const stats: ReadStats = { skipped: 0 };
      const report = await decisionReport(queryRecords(logFile(options), { type: 'push.decision', since, ...(until ? { until } : {}) }, stats));
      const period = `since ${since.toISOString()}${until ? ` until ${until.toISOString()}` : ''}`;
      if (how === 'json') process.stdout.write(`${terminalSafeJson(JSON.stringify({ since: since.toISOString(), until: (until ?? new Date()).toISOString(), ...report }))}\n`);
      else process.stdout.write(`${formatReportText(report, period)}\n`);
      warnSkipped(stats);
      result.code = EXIT_OK;
    });
}

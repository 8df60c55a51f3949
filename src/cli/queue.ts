import type { Command } from 'commander';
import { minimatch } from 'minimatch';
import type { AuditSink } from '../audit/index.js';
import type { PushgateConfig } from '../config/index.js';
import { permissionsFor } from '../gateway/access.js';
import { pusherFromEnv } from '../hook/pusher.js';
import type { Pusher } from '../policy/index.js';
import {
  approveEntry, effectiveState, expireAll, fetchHints, findVisibleEntry, isQueueError, mayExpire, maySeeEntry, migrateLegacy, normalizeQueueId, queueIdProblem, notifyDetached,
  QUEUE_STATES, QueueError, readAllRecords, rejectEntry, remoteFetchCommand, repositoriesWithQueue, requirementsFor, waitForDecision, withoutServerPaths,
  type QueueContext, type QueueRecord, type Repository, type Viewer,
} from '../queue/index.js';
import { jsonText, listText, showText, statusText, summarize } from '../queue/describe.js';
import { safeLine } from '../text/index.js';
import { CONFIG_OPTION_HELP, loadCliConfig } from './config-file.js';
import { parseDurationSeconds } from './duration.js';
import { forwardedWords, parseRemoteUrl, remoteUrl, runOverSsh } from './queue-remote.js';
import { CliError, EXIT_ERROR, EXIT_OK, EXIT_REFUSED } from './exit.js';
import type { CommandResult } from './main.js';

interface CommonOptions {
  config?: string;
  format: string;
  repo?: string;
}

const STATE_FILTERS = ['open', 'all', ...QUEUE_STATES];

function out(text: string): void {
  process.stdout.write(text);
}

function json(value: unknown): void {
  out(jsonText(value));
}

/** Over SSH the gateway (or sshd's front end) sets PUSHGATE_PRINCIPAL; without it the caller is on the server's shell. */
function remote(): boolean {
  return Boolean(process.env.PUSHGATE_PRINCIPAL);
}

/** A message for the caller: over SSH it names no file on the server. */
function forCaller(message: string): string {
  return remote() ? withoutServerPaths(message) : message;
}

/** The server's config; over SSH a config that does not load is reported without its path. */
function loadQueueConfig(explicit: string | undefined): PushgateConfig {
  try {
    return loadCliConfig(explicit);
  } catch (error) {
    if (error instanceof CliError && remote()) throw new CliError('the server\'s configuration is not usable; an administrator must fix it', error.exitCode);
    throw error;
  }
}

function warn(message: string): void {
  process.stderr.write(`pushgate: warning: ${forCaller(message)}\n`);
}

function checkFormat(format: string): 'text' | 'json' {
  if (format !== 'text' && format !== 'json') throw new CliError(`--format ${format}: expected text or json`, EXIT_REFUSED);
  return format;
}

function parseId(text: string): string {
  const id = normalizeQueueId(text);
  if (id === undefined) throw new CliError(`${safeLine(JSON.stringify(text))} is not a queue id: ${safeLine(queueIdProblem(text))}`, EXIT_REFUSED);
  return id;
}

/**
 * Who runs the command: the identity the gateway put in PUSHGATE_* for a
 * command over SSH (the same variables the hook reads), else `local:<user>`
 * with the roles the config's identity.roles give it.
 */
function caller(config: PushgateConfig): Pusher {
  return pusherFromEnv(process.env, config);
}

/**
 * Over SSH (the gateway sets PUSHGATE_PRINCIPAL) a caller sees only entries
 * of repositories it may read; an entry elsewhere does not exist for it. On
 * the server's shell the files are readable anyway, so nothing is hidden.
 */
function readable(config: PushgateConfig): (repository: string) => boolean {
  if (!remote()) return () => true;
  const who = caller(config);
  return (repository) => permissionsFor(who, repository, config.access).has('read');
}

/** Who looks at entries: over SSH the caller (who sees only entries it reviews, pushed or sponsors); on the server's shell, an administrator. */
function viewer(config: PushgateConfig): Viewer {
  return remote() ? caller(config) : null;
}

async function openContext(config: PushgateConfig): Promise<{ ctx: QueueContext; close(): Promise<void> }> {
  const { openAudit } = await import('../audit/index.js');
  const audit = openAudit(config.audit, { stderr: false }) as AuditSink & { close?: () => Promise<void> };
  const ctx: QueueContext = {
    queue: config.queue,
    audit,
    notify: (event) => notifyDetached(config.queue.notify, event, config.log.file),
    warn,
    now: () => new Date(),
    ...(config.upstreams.length > 0 ? { upstream: (await import('../upstream/index.js')).upstreamQueueForwarder(config, audit, warn) } : {}),
  };
  return { ctx, close: async () => audit.close?.() };
}

/**
 * Queue refusals end the command with exit 1, failures with 2; with
 * --format json the reason is also on stdout. Over SSH no message names a
 * server path, and anything unexpected is reported without its details.
 */
async function guarded(result: CommandResult, format: 'text' | 'json', action: () => Promise<number>): Promise<void> {
  try {
    result.code = await action();
  } catch (error) {
    if (error instanceof CliError) throw new CliError(forCaller(error.message), error.exitCode);
    if (!isQueueError(error)) {
      if (!remote()) throw error;
      throw new CliError('the queue command failed on the server; an administrator can find why in the server\'s logs', EXIT_ERROR);
    }
    const message = forCaller(error.message);
    if (format === 'json') json({ ok: false, code: error.code, message });
    throw new CliError(`${error.code}: ${message}`, error.refused ? EXIT_REFUSED : EXIT_ERROR);
  }
}

async function loadEntry(config: PushgateConfig, idText: string, repo: string | undefined): Promise<{ repository: Repository; record: QueueRecord; legacy: boolean }> {
  const id = parseId(idText);
  const found = await findVisibleEntry(config.reposRoot, config.queue, viewer(config), id, repo, readable(config));
  return { repository: found.repository, record: found.stored.record, legacy: found.stored.legacy === true };
}

function stateMatches(filter: string, record: QueueRecord, now: Date): boolean {
  const state = effectiveState(record, now);
  if (filter === 'all') return true;
  if (filter === 'open') return state === 'pending' || state === 'approved';
  return state === filter;
}

const REMOTE_OPTION_HELP = 'run it on the server a git remote points at (a remote of the clone here, or a URL), through the SSH command git uses';

/**
 * With --remote, the command runs on the server over SSH (see queue-remote.ts)
 * instead of here; its output and exit status are the server's.
 */
function viaRemote<A extends unknown[]>(result: CommandResult, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const target = command.opts<{ remote?: string; config?: string }>();
    if (target.remote === undefined) return action(...args);
    if (remote()) throw new CliError('--remote cannot be given over SSH: the command already runs on the server', EXIT_REFUSED);
    if (target.config !== undefined) throw new CliError('--remote and --config exclude each other: --remote runs the command on the server, with its configuration', EXIT_REFUSED);
    const url = remoteUrl(target.remote);
    const parsed = parseRemoteUrl(url);
    if (parsed === undefined) throw new CliError(`--remote ${safeLine(JSON.stringify(target.remote))}: ${safeLine(url)} is not an SSH URL (ssh://user@host:port/path or user@host:path) nor a local path`, EXIT_REFUSED);
    // A remote on this machine: the server is here, so the command runs here.
    if (parsed.kind === 'local') return action(...args);
    result.code = await runOverSsh(parsed, forwardedWords(command));
  };
}

export function registerQueueCommands(program: Command, result: CommandResult): void {
  const queue = program.command('queue')
    .description('Review parked pushes: list, show, approve, reject, wait for a decision, expire overdue entries.')
    .addHelpText('after', `
The caller's identity comes from PUSHGATE_PRINCIPAL / PUSHGATE_ROLES (set by the
gateway for commands over SSH); on the server's shell it is local:<user>, with
the roles that identity.roles in the config gives it.

Example:
  pushgate queue list
  pushgate queue show k3m9qx2a
  pushgate queue approve k3m9qx2a --comment "workflow change reviewed"`);

  queue.command('list')
    .description('List queue entries across every repository under reposRoot.')
    .option('--repo <name>', 'only this repository (e.g. team/app)')
    .option('--state <state>', `${STATE_FILTERS.join(', ')}`, 'open')
    .option('--principal <glob>', 'only pushes by matching principals')
    .option('--format <format>', 'text or json', 'text')
    .option('--remote <name|url>', REMOTE_OPTION_HELP)
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', '\n"open" (the default) is pending and approved-but-not-yet-applied entries.\n\nExample:\n  pushgate queue list --repo team/app --state all --format json')
    .action(viaRemote(result, async (options: CommonOptions & { state: string; principal?: string }) => {
      const format = checkFormat(options.format);
      if (!STATE_FILTERS.includes(options.state)) throw new CliError(`--state ${options.state}: expected one of ${STATE_FILTERS.join(', ')}`, EXIT_REFUSED);
      const config = loadQueueConfig(options.config);
      await guarded(result, format, async () => {
        const now = new Date();
        const visible = readable(config);
        const who = viewer(config);
        const repos = repositoriesWithQueue(config.reposRoot).filter((r) => (options.repo === undefined || r.name === options.repo.replace(/\.git$/, '').replace(/^\/+/, '')) && visible(r.name));
        const entries = [];
        const legacy = new Set<string>();
        for (const repo of repos) {
          const { records, problems } = await readAllRecords(repo.gitDir);
          // An unreadable entry's id is only the administrator's business: it may be anyone's.
          if (who === null) for (const p of problems) warn(`${repo.name} entry ${p.id} is unreadable: ${p.message}`);
          for (const stored of records) {
            const { record } = stored;
            if (!maySeeEntry(who, record, config.queue)) continue;
            if (!stateMatches(options.state, record, now)) continue;
            if (options.principal !== undefined && !minimatch(record.pusher.principal, options.principal, { dot: true })) continue;
            if (stored.legacy === true) legacy.add(repo.name);
            entries.push(summarize(record, requirementsFor(record, config.queue), now, stored.legacy === true));
          }
        }
        if (who === null && legacy.size > 0) warn(`${[...legacy].join(', ')} still keep${legacy.size === 1 ? 's' : ''} queue entries inside the repository (the old layout, readable by every reader); run \`pushgate queue migrate --prune\``);
        if (format === 'json') json(entries);
        else out(listText(entries));
        return EXIT_OK;
      });
    }));

  queue.command('show')
    .description('Everything about one entry: refs, findings, commits, diff stat, approvals, history, and how to fetch the parked commits.')
    .argument('<id>', 'queue id')
    .option('--repo <name>', 'the repository, when the id is not unique')
    .option('--format <format>', 'text or json', 'text')
    .option('--remote <name|url>', REMOTE_OPTION_HELP)
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', '\nExample:\n  pushgate queue show k3m9qx2a --format json')
    .action(viaRemote(result, async (id: string, options: CommonOptions) => {
      const format = checkFormat(options.format);
      const config = loadQueueConfig(options.config);
      await guarded(result, format, async () => {
        const { repository, record, legacy } = await loadEntry(config, id, options.repo);
        const requirements = requirementsFor(record, config.queue);
        const now = new Date();
        if (format === 'json') {
          const local = remote() ? {} : { localGitDir: repository.gitDir };
          json({ ...record, effectiveState: effectiveState(record, now), requirements, fetch: { command: remoteFetchCommand(record), refs: fetchHints(record) }, ...(legacy ? { legacy: true } : {}), ...local });
        } else {
          out(showText(record, requirements, now, remote() || legacy ? {} : { localGitDir: repository.gitDir }));
        }
        return EXIT_OK;
      });
    }));

  queue.command('approve')
    .description('Approve a parked push; the approval that completes the count applies it (all refs at once) and runs post-receive.')
    .argument('<id>', 'queue id')
    .option('--comment <text>', 'recorded with the approval')
    .option('--repo <name>', 'the repository, when the id is not unique')
    .option('--format <format>', 'text or json', 'text')
    .option('--remote <name|url>', REMOTE_OPTION_HELP)
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', `
Refused (exit 1): the caller lacks a reviewer role, pushed it (or sponsors the
pusher's certificate), already approved it, or the entry is decided or
expired; a ref that moved since the push makes the entry stale (exit 1).
Exit 2: the queue could not do its work (retry).

Example:
  pushgate queue approve k3m9qx2a --comment "reviewed the workflow change"`)
    .action(viaRemote(result, async (id: string, options: CommonOptions & { comment?: string }) => {
      const format = checkFormat(options.format);
      const config = loadQueueConfig(options.config);
      const { ctx, close } = await openContext(config);
      try {
        await guarded(result, format, async () => {
          const { repository, record } = await loadEntry(config, id, options.repo);
          const approved = await approveEntry({ gitDir: repository.gitDir, id: record.id }, caller(config), options.comment, ctx);
          const shown = (text: string): string => safeLine(text);
          if (format === 'json') {
            json({ ok: true, id: record.id, repository: repository.name, state: approved.record.state, applied: approved.applied, approvals: approved.approvals, required: approved.required, postReceive: approved.postReceive ?? null });
          } else if (approved.applied) {
            const refs = approved.record.updates.map((u) => `${shown(u.ref)} -> ${u.new.slice(0, 12)}`).join(', ');
            const hook = approved.postReceive === null ? 'no post-receive hook' : `post-receive exited ${approved.postReceive}`;
            out(`approved and applied ${record.id} (${approved.approvals}/${approved.required}): ${refs}; ${hook}\n`);
          } else {
            out(`approved ${record.id} (${approved.approvals}/${approved.required}): waiting for ${approved.required - approved.approvals} more approval${approved.required - approved.approvals === 1 ? '' : 's'}\n`);
          }
          return EXIT_OK;
        });
      } finally {
        await close();
      }
    }));

  queue.command('reject')
    .description('Reject a parked push for good; the pusher sees the reason.')
    .argument('<id>', 'queue id')
    .requiredOption('--reason <text>', 'why, for the pusher')
    .option('--repo <name>', 'the repository, when the id is not unique')
    .option('--format <format>', 'text or json', 'text')
    .option('--remote <name|url>', REMOTE_OPTION_HELP)
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', '\nExample:\n  pushgate queue reject k3m9qx2a --reason "the workflow uploads secrets to a third party"')
    .action(viaRemote(result, async (id: string, options: CommonOptions & { reason: string }) => {
      const format = checkFormat(options.format);
      const config = loadQueueConfig(options.config);
      const { ctx, close } = await openContext(config);
      try {
        await guarded(result, format, async () => {
          const { repository, record } = await loadEntry(config, id, options.repo);
          const rejected = await rejectEntry({ gitDir: repository.gitDir, id: record.id }, caller(config), options.reason, ctx);
          if (format === 'json') json({ ok: true, id: record.id, repository: repository.name, state: rejected.state });
          else out(`rejected ${record.id}: ${safeLine(options.reason)}\n`);
          return EXIT_OK;
        });
      } finally {
        await close();
      }
    }));

  queue.command('status')
    .description('One line: the entry\'s state, approvals and expiry (or why it was refused).')
    .argument('<id>', 'queue id')
    .option('--repo <name>', 'the repository, when the id is not unique')
    .option('--format <format>', 'text or json', 'text')
    .option('--remote <name|url>', REMOTE_OPTION_HELP)
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', '\nExit status: 0 when the entry exists (whatever its state), 1 when it does not.\n\nExample:\n  pushgate queue status k3m9qx2a')
    .action(viaRemote(result, async (id: string, options: CommonOptions) => {
      const format = checkFormat(options.format);
      const config = loadQueueConfig(options.config);
      await guarded(result, format, async () => {
        const { record } = await loadEntry(config, id, options.repo);
        const requirements = requirementsFor(record, config.queue);
        const now = new Date();
        if (format === 'json') json(summarize(record, requirements, now));
        else out(statusText(record, requirements, now));
        return EXIT_OK;
      });
    }));

  queue.command('wait')
    .description('Block until the entry is decided.')
    .argument('<id>', 'queue id')
    .option('--timeout <duration>', 'give up after this long (90s, 10m, 1h; 0 waits for ever)', '10m')
    .option('--repo <name>', 'the repository, when the id is not unique')
    .option('--format <format>', 'text or json', 'text')
    .option('--remote <name|url>', REMOTE_OPTION_HELP)
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', `
Exit status: 0 approved and applied; 1 rejected, stale (a ref moved: rebase and
push again) or expired; 2 timed out or could not look.

Example:
  pushgate queue wait k3m9qx2a --timeout 30m && git pull`)
    .action(viaRemote(result, async (id: string, options: CommonOptions & { timeout: string }) => {
      const format = checkFormat(options.format);
      const seconds = parseDurationSeconds(options.timeout);
      if (seconds === undefined) throw new CliError(`--timeout ${options.timeout}: expected a duration such as 90s, 10m or 1h`, EXIT_REFUSED);
      const config = loadQueueConfig(options.config);
      await guarded(result, format, async () => {
        const { repository, record, legacy } = await loadEntry(config, id, options.repo);
        if (legacy) throw new QueueError('queue.legacy', `queue entry ${record.id} is kept in the old layout; an administrator must run \`pushgate queue migrate\` first`);
        const waited = await waitForDecision(repository.gitDir, record.id, { timeout: seconds * 1000 });
        const requirements = requirementsFor(waited.record, config.queue);
        if (format === 'json') json({ ...summarize(waited.record, requirements, new Date()), outcome: waited.outcome, detail: waited.record.events.at(-1)?.detail ?? null });
        else out(statusText(waited.record, requirements, new Date()));
        if (waited.outcome === 'timeout') {
          process.stderr.write(`pushgate: ${record.id} is still ${waited.state} after ${safeLine(options.timeout)}\n`);
          return EXIT_ERROR;
        }
        return waited.state === 'applied' ? EXIT_OK : EXIT_REFUSED;
      });
    }));

  queue.command('expire')
    .description('Mark overdue entries expired and delete their parked objects (run it from cron); also deletes what decided or never-published entries left. Reviewers and administrators only.')
    .option('--format <format>', 'text or json', 'text')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', '\nExample (cron, every 10 minutes):\n  */10 * * * * pushgate queue expire --config /etc/pushgate/pushgate.yaml')
    .action(async (options: CommonOptions) => {
      const format = checkFormat(options.format);
      const config = loadQueueConfig(options.config);
      if (!mayExpire(viewer(config), config.queue)) {
        const refusal = new QueueError('queue.not-reviewer', `${caller(config).principal} may not run queue expire: it is for reviewers (${config.queue.reviewerRoles.join(', ')}) and administrators on the server`);
        return guarded(result, format, () => Promise.reject(refusal));
      }
      const { ctx, close } = await openContext(config);
      try {
        await guarded(result, format, async () => {
          const all = await expireAll(config.reposRoot, caller(config), ctx);
          // Over SSH a reviewer hears only of repositories it may read.
          const visible = readable(config);
          const report = remote()
            ? { expired: all.expired.filter((r) => visible(r.repository)), swept: all.swept.filter((s) => visible(s.repository)), problems: all.problems.filter((p) => visible(p.split(' ')[0]!.replace(/:$/, ''))) }
            : all;
          if (format === 'json') {
            json({ expired: report.expired.map((r) => ({ id: r.id, repository: r.repository, expiresAt: r.expiresAt })), swept: report.swept, problems: report.problems });
          } else {
            for (const r of report.expired) out(`expired ${r.id} ${r.repository} (due ${r.expiresAt})\n`);
            for (const s of report.swept) out(`deleted the parked objects of ${s.id} in ${s.repository}: its entry is decided or was never published\n`);
            if (report.expired.length === 0 && report.swept.length === 0) out('nothing to expire\n');
          }
          for (const p of report.problems) process.stderr.write(`pushgate: ${forCaller(p)}\n`);
          return report.problems.length === 0 ? EXIT_OK : EXIT_ERROR;
        });
      } finally {
        await close();
      }
    });

  queue.command('migrate')
    .description('Move queue entries of the old layout (refs/pushgate/* inside each repository) beside the repository, masking their text; administrators on the server only.')
    .option('--prune', 'then drop the old parked objects from each repository\'s object store (git repack -a -d; git prune --expire=now): run it when nobody pushes')
    .option('--format <format>', 'text or json', 'text')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', '\nBefore pushgate kept parked pushes beside the repository, protocol v2 served them by id to every\nreader. Run this once after upgrading, with --prune while the gateway is stopped.\n\nExample:\n  pushgate queue migrate --prune --config /etc/pushgate/pushgate.yaml')
    .action(async (options: CommonOptions & { prune?: boolean }) => {
      const format = checkFormat(options.format);
      const config = loadQueueConfig(options.config);
      await guarded(result, format, async () => {
        if (remote()) throw new QueueError('queue.not-reviewer', 'queue migrate runs on the server\'s shell only');
        const report = await migrateLegacy(config.reposRoot, { prune: options.prune === true });
        if (format === 'json') json(report);
        else if (report.repositories.length === 0) out('nothing to migrate\n');
        else {
          for (const r of report.repositories) {
            out(`${r.name}: moved ${r.moved.length} entr${r.moved.length === 1 ? 'y' : 'ies'}${r.pruned ? '; old objects pruned' : ''}\n`);
            for (const p of r.problems) process.stderr.write(`pushgate: ${r.name} ${p}\n`);
          }
        }
        return report.repositories.some((r) => r.problems.length > 0) ? EXIT_ERROR : EXIT_OK;
      });
    });
}

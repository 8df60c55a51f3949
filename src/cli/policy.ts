import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { runGit } from '../git/run.js';
import { isZeroOid } from '../git/oid.js';
import { listPush } from '../git/objects.js';
import { evaluatePush } from '../hook/evaluate.js';
import { formatReport, jsonLine } from '../hook/message.js';
import { pusherFromEnv } from '../hook/pusher.js';
import { readRepositoryFacts } from '../hook/repository-facts.js';
import { repositoryName } from '../hook/repository-name.js';
import { pushOptionsFromEnv } from '../policy/decide.js';
import type { RefUpdate } from '../policy/types.js';
import { escapeControl, safeLine } from '../text/index.js';
import { CONFIG_OPTION_HELP, loadCliConfig } from './config-file.js';
import { CliError, EXIT_OK, EXIT_REFUSED } from './exit.js';
import type { CommandResult } from './main.js';

interface PolicyTestOptions {
  repo: string;
  as?: string;
  role: string[];
  ref?: string;
  pushOption: string[];
  format: string;
  config?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

async function git(gitDir: string, args: string[]): Promise<string | null> {
  const result = await runGit(args, { gitDir });
  return result.code === 0 ? result.stdout.trim() : null;
}

async function commitOf(gitDir: string, rev: string): Promise<string> {
  if (rev === '' || rev.startsWith('-') || /[\s\0]/.test(rev)) throw new CliError(`${JSON.stringify(rev)} is not a revision`, EXIT_REFUSED);
  const oid = await git(gitDir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]);
  if (oid === null) throw new CliError(`${JSON.stringify(rev)} names no commit in ${gitDir}`, EXIT_REFUSED);
  return oid;
}

/**
 * The ref update a push of REV-RANGE would make: `A..B` moves the ref from
 * A to B; a single `B` moves it from its value in this repository (creates
 * it when it has none). The ref is --ref, else the branch B names, else the
 * branch HEAD names.
 */
async function updateFor(gitDir: string, range: string, ref: string | undefined): Promise<{ update: RefUpdate; since: string[] }> {
  if (range.includes('...')) throw new CliError(`${JSON.stringify(range)}: use A..B (the commits a push of B onto a ref at A brings)`, EXIT_REFUSED);
  const dots = range.indexOf('..');
  const right = dots < 0 ? range : range.slice(dots + 2) || 'HEAD';
  let target = ref;
  if (target === undefined) {
    const named = await git(gitDir, ['rev-parse', '--symbolic-full-name', '--end-of-options', right]);
    const head = await git(gitDir, ['symbolic-ref', '--quiet', 'HEAD']);
    target = named?.startsWith('refs/heads/') ? named : head?.startsWith('refs/heads/') ? head : undefined;
    if (target === undefined) throw new CliError('name the ref the push would update with --ref (for example --ref refs/heads/main)', EXIT_REFUSED);
  }
  if (!target.startsWith('refs/')) throw new CliError(`--ref ${JSON.stringify(target)}: a full ref name, such as refs/heads/${target}`, EXIT_REFUSED);
  const newOid = await commitOf(gitDir, right);
  let oldOid: string;
  if (dots >= 0) oldOid = await commitOf(gitDir, range.slice(0, dots) || 'HEAD');
  else oldOid = (await git(gitDir, ['rev-parse', '--verify', '--quiet', `${target}^{commit}`])) ?? '0'.repeat(newOid.length);
  return { update: { oldOid, newOid, ref: target }, since: isZeroOid(oldOid) ? [] : [oldOid] };
}

export function registerPolicyCommands(program: Command, result: CommandResult): void {
  const policy = program.command('policy')
    .description('Try the push policy without pushing.')
    .addHelpText('after', [
      '',
      'Example:',
      '  pushgate policy test --repo . origin/main..HEAD --as agent-7 --role agent',
    ].join('\n'));
  policy.command('test')
    .description('Show the decision a push of REV-RANGE would get — allow, park or deny — finding by finding, without pushing. It runs the pre-receive hook\'s own checks (refs, secrets, paths, limits, dependency changes, external checks) and decision with this configuration, so the answer is the one a push would get.')
    .argument('<rev-range>', 'A..B: the commits a push of B onto a ref at A brings; or B: a push of B onto the ref as it is in this repository')
    .option('--repo <dir>', 'repository holding the commits (a bare repository on the server, or a clone)', '.')
    .option('--as <principal>', 'the pusher\'s principal (default: local:<your user>)')
    .option('--role <role>', 'a role of the pusher (repeatable)', collect, [])
    .option('--ref <ref>', 'the ref the push would update (default: the branch REV names, else the branch HEAD names)')
    .option('-o, --push-option <key=value>', 'a push option, as git push -o (repeatable)', collect, [])
    .option('--format <format>', 'text or json', 'text')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', [
      '',
      'Nothing is pushed, parked or recorded; external checks (policy.commands) do run.',
      'Exit status: 0 the push would be allowed, 1 parked or denied (or bad arguments), 2 could not run.',
      '',
      'Examples:',
      '  pushgate policy test --repo /srv/git/team/app.git main~5..main --as agent-7 --role agent',
      '  pushgate policy test --repo . origin/main..HEAD --ref refs/heads/main --format json',
    ].join('\n'))
    .action(async (range: string, options: PolicyTestOptions) => {
      if (options.format !== 'text' && options.format !== 'json') throw new CliError(`--format ${options.format}: expected text or json`, EXIT_REFUSED);
      const config = loadCliConfig(options.config);
      const found = await runGit(['rev-parse', '--absolute-git-dir'], { cwd: resolve(options.repo) });
      if (found.code !== 0) throw new CliError(`${options.repo} is not a git repository`, EXIT_REFUSED);
      const gitDir = found.stdout.trim();
      const bare = (await git(gitDir, ['rev-parse', '--is-bare-repository'])) === 'true';
      const { update, since } = await updateFor(gitDir, range, options.ref);
      const env: NodeJS.ProcessEnv = { ...process.env, GIT_DIR: gitDir };
      for (const name of Object.keys(env)) if (name.startsWith('PUSHGATE_') || name.startsWith('GIT_PUSH_OPTION') || /^GIT_(?:OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|QUARANTINE_PATH)$/.test(name)) delete env[name];
      if (options.as !== undefined) env.PUSHGATE_PRINCIPAL = options.as;
      if (options.role.length > 0) env.PUSHGATE_ROLES = options.role.join(',');
      env.GIT_PUSH_OPTION_COUNT = String(options.pushOption.length);
      options.pushOption.forEach((value, i) => { env[`GIT_PUSH_OPTION_${i}`] = value; });
      const updates = [update];
      const pusher = pusherFromEnv(env, config);
      // A clone's git directory is <work tree>/.git: the repository is named after the work tree.
      const repository = repositoryName(bare ? gitDir : dirname(gitDir), config);
      const { outcome } = await evaluatePush({
        gitDir, env, config, repository, updates, pusher, pushOptions: pushOptionsFromEnv(env),
        walk: listPush(gitDir, [update.newOid], env, { since }),
        // A clone's own git settings are not the server's: only a bare repository's are checked.
        facts: bare ? readRepositoryFacts(gitDir, updates, env) : null,
      });
      const report = { decision: outcome.decision, repository, findings: outcome.findings, ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}) };
      if (options.format === 'json') {
        const findings = JSON.parse(formatReport(report).split('\n').find((l) => l.startsWith('pushgate-result: '))!.slice('pushgate-result: '.length)).findings as unknown[];
        process.stdout.write(`${jsonLine({
          decision: outcome.decision, repository: escapeControl(repository),
          update: { ref: safeLine(update.ref), old: update.oldOid, new: update.newOid },
          pusher: { principal: escapeControl(pusher.principal), roles: pusher.roles.map(escapeControl) },
          findings,
        })}\n`);
      } else {
        process.stdout.write(`pushgate policy test: a push of ${update.oldOid.slice(0, 12)}..${update.newOid.slice(0, 12)} to ${safeLine(update.ref)} of ${escapeControl(repository)} by ${escapeControl(pusher.principal)}${pusher.roles.length > 0 ? ` (roles ${pusher.roles.map(escapeControl).join(', ')})` : ''}\n`);
        if (!bare) process.stdout.write('pushgate policy test: note: not a bare repository, so its own git settings (receive.fsckObjects) are not checked; the server\'s are\n');
        process.stdout.write(formatReport(report));
        if (outcome.decision === 'allow' && outcome.findings.length === 0) process.stdout.write('pushgate: push would be accepted: no findings\n');
      }
      result.code = outcome.decision === 'allow' ? EXIT_OK : EXIT_REFUSED;
    });
}

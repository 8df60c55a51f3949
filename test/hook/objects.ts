/**
 * Hand-made git objects for the fsck tests: trees with entry names no
 * working tree could hold (`.git`, `..`, `a/b`, `.g\u200cit`), written with
 * `git hash-object --literally` so git's own checks on the sending side
 * never see them.
 */
import { run } from '../helpers/tools.js';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Test Agent', GIT_AUTHOR_EMAIL: 'agent@example.test',
  GIT_COMMITTER_NAME: 'Test Agent', GIT_COMMITTER_EMAIL: 'agent@example.test',
};

export type Entry = [mode: '100644' | '100755' | '120000' | '40000' | '160000', name: string, oid: string];

export class ObjectWriter {
  constructor(readonly repo: string) {}

  blob(text: string): string {
    return run('git', ['-C', this.repo, 'hash-object', '-w', '--stdin'], { input: text }).trim();
  }

  /** A tree object exactly as given: no sorting, no name checks. */
  tree(entries: readonly Entry[]): string {
    const bytes = Buffer.concat(entries.map(([mode, name, oid]) => Buffer.concat([Buffer.from(`${mode} ${name}\0`, 'utf8'), Buffer.from(oid, 'hex')])));
    return run('git', ['-C', this.repo, 'hash-object', '-w', '-t', 'tree', '--literally', '--stdin'], { input: bytes }).trim();
  }

  commit(tree: string, message: string, parent?: string): string {
    return run('git', ['-C', this.repo, 'commit-tree', tree, '-m', message, ...(parent ? ['-p', parent] : [])], { env: { ...process.env, ...IDENTITY } }).trim();
  }

  /** A `hooks/post-checkout` that a checkout of a tree holding it as `.git/…` would run. */
  hooksDir(): string {
    const hook = this.blob('#!/bin/sh\necho pwned > /tmp/pushgate-pwned\n');
    return this.tree([['40000', 'hooks', this.tree([['100755', 'post-checkout', hook]])]]);
  }

  gitmodules(body: string): string {
    return this.blob(body);
  }
}

/**
 * Trees git's fsck refuses (as errors in strict mode), by the fsck message id
 * git reports: every spelling of `.git` a checkout on some file system would
 * honour, `.`/`..`, full paths, and `.gitmodules` that turn a clone or
 * `submodule update` into a command.
 */
export function hostileTrees(w: ObjectWriter): Array<{ name: string; message: RegExp; tree: string }> {
  const hooks = w.hooksDir();
  const plain = w.blob('plain\n');
  const sub = w.tree([['100644', 'f', plain]]);
  const module = (body: string): Entry => ['100644', '.gitmodules', w.gitmodules(body)];
  return [
    { name: '.git directory with hooks', message: /hasDotgit/, tree: w.tree([['40000', '.git', hooks]]) },
    { name: '.GIT', message: /hasDotgit/, tree: w.tree([['40000', '.GIT', hooks]]) },
    { name: '.Git', message: /hasDotgit/, tree: w.tree([['40000', '.Git', hooks]]) },
    { name: '.git. (NTFS drops the trailing dot)', message: /hasDotgit/, tree: w.tree([['40000', '.git.', hooks]]) },
    { name: '.git  (NTFS drops trailing spaces)', message: /hasDotgit/, tree: w.tree([['40000', '.git ', hooks]]) },
    { name: 'git~1 (NTFS 8.3 short name)', message: /hasDotgit/, tree: w.tree([['40000', 'git~1', hooks]]) },
    { name: '.git::$INDEX_ALLOCATION (NTFS stream)', message: /hasDotgit/, tree: w.tree([['40000', '.git::$INDEX_ALLOCATION', hooks]]) },
    { name: '.g\\u200cit (HFS+ ignores ZWNJ)', message: /hasDotgit/, tree: w.tree([['40000', '.g\u200cit', hooks]]) },
    { name: '.git\\u200d (HFS+ ignores ZWJ)', message: /hasDotgit/, tree: w.tree([['40000', '.git\u200d', hooks]]) },
    { name: 'symlink named .git', message: /hasDotgit/, tree: w.tree([['120000', '.git', w.blob('/etc')]]) },
    { name: 'file named .git', message: /hasDotgit/, tree: w.tree([['100644', '.git', w.blob('gitdir: /tmp/elsewhere\n')]]) },
    { name: '.git one level down', message: /hasDotgit/, tree: w.tree([['40000', 'src', w.tree([['40000', '.git', hooks]])]]) },
    { name: '..', message: /hasDotdot/, tree: w.tree([['40000', '..', sub]]) },
    { name: '.', message: /hasDot/, tree: w.tree([['40000', '.', sub]]) },
    { name: 'a name with a slash (../x)', message: /fullPathname/, tree: w.tree([['100644', '../x', plain]]) },
    { name: 'duplicate entries', message: /duplicateEntries/, tree: w.tree([['100644', 'a', plain], ['100644', 'a', plain]]) },
    { name: '.gitmodules url = -u./payload', message: /gitmodulesUrl/, tree: w.tree([module('[submodule "x"]\n\tpath = x\n\turl = -u./payload\n')]) },
    { name: '.gitmodules url = --upload-pack=…', message: /gitmodulesUrl/, tree: w.tree([module('[submodule "x"]\n\tpath = x\n\turl = --upload-pack=touch /tmp/pwned\n')]) },
    { name: '.gitmodules path = -x', message: /gitmodulesPath/, tree: w.tree([module('[submodule "x"]\n\tpath = -x\n\turl = https://example.test/x\n')]) },
    { name: '.gitmodules name = ../../x', message: /gitmodulesName/, tree: w.tree([module('[submodule "../../modules/x"]\n\tpath = x\n\turl = https://example.test/x\n')]) },
    { name: '.gitmodules update = !command', message: /gitmodulesUpdate/, tree: w.tree([module('[submodule "x"]\n\tpath = x\n\turl = https://example.test/x\n\tupdate = !sh -c pwned\n')]) },
    { name: '.gitmodules url with a newline', message: /gitmodulesUrl/, tree: w.tree([module('[submodule "x"]\n\tpath = x\n\turl = "https://a\\n.example.test/x"\n')]) },
    { name: '.GITMODULES (case-insensitive checkout)', message: /gitmodulesUrl/, tree: w.tree([['100644', '.GITMODULES', w.gitmodules('[submodule "x"]\n\tpath = x\n\turl = -u./payload\n')]]) },
    { name: 'gitmod~1 (NTFS short name of .gitmodules)', message: /gitmodulesUrl/, tree: w.tree([['100644', 'gitmod~1', w.gitmodules('[submodule "x"]\n\tpath = x\n\turl = -u./payload\n')]]) },
    { name: '.gitmodules as a symlink', message: /gitmodulesSymlink/, tree: w.tree([['120000', '.gitmodules', w.blob('../../etc/passwd')]]) },
  ];
}

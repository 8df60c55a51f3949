/**
 * Messages for a caller on the other side of SSH name no file on the
 * server: where repositories, configs and logs live is nobody's business
 * but the operator's. The queue's own messages are written without paths;
 * this catches what comes from elsewhere (git's stderr, the file system,
 * the config loader).
 */
const ABSOLUTE_PATH = /(^|[\s'"`(=:,[{<])\/(?!\/)[^\s'"`),:\]}>]*/g;

/** `message` with every absolute path replaced by `<server path>`; URLs (scheme://…) are left alone. */
export function withoutServerPaths(message: string): string {
  return message.replace(ABSOLUTE_PATH, (_match, before: string) => `${before}<server path>`);
}

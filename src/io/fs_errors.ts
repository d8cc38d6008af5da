// File-system errors in words: Node's messages ("EROFS: read-only file system, open '…'") name a code and a system
// call; a user needs the path and the cause.
const CAUSES: Record<string, string> = {
  ENOENT: 'no such file or folder', EACCES: 'permission denied', EPERM: 'permission denied', EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device', EDQUOT: 'disk quota exceeded', EISDIR: 'it is a folder', ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'it already exists', ENAMETOOLONG: 'the name is too long', EMFILE: 'too many open files', ELOOP: 'too many symbolic links',
};

/** The cause of a Node file-system error in words, or its message if the code is not one of the above. */
export function fsCause(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return (e?.code && CAUSES[e.code]) ?? e?.message ?? String(err);
}

/** A raw file-system error as one line "cannot write PATH: CAUSE"; other errors unchanged. */
export function describeFsError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!(e instanceof Error) || !e.code || !e.syscall || !CAUSES[e.code]) return err;
  const verb = ['open', 'write', 'rename', 'mkdir', 'copyfile', 'unlink', 'rmdir', 'fsync'].includes(e.syscall)
    ? (e.syscall === 'mkdir' ? 'cannot create folder' : 'cannot write') : 'cannot read';
  return new Error(`${verb} ${e.path ?? ''}: ${CAUSES[e.code]}`.replace(' :', ':'));
}

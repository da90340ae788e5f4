/**
 * libuv runs file system calls (open, write, fsync, rename) on a thread pool of 4 by default, so 32 small
 * uploads in flight would queue behind 4 fsyncs. The pool is sized on its first use; this module is
 * imported first by main.ts so the size is set before anything touches the file system.
 */
process.env.UV_THREADPOOL_SIZE ??= '32';

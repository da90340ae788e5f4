import { execFileSync } from 'node:child_process';
import { run, runOrThrow, type RunOptions, type RunResult } from '../support/processes.js';
import { spawnServer, type ServerProcess } from '../support/server-process.js';

/**
 * A private LAN of network namespaces, as /work/shared/ha-lab's netns demo builds it: namespace `<prefix>-sw`
 * holds a bridge, and every node namespace (`<prefix>-lb1`, ...) gets one veth whose switch end is created
 * inside `-sw` and whose other end goes straight into the node. Nothing is attached to the root namespace,
 * so no packet of the lab (VRRP adverts, gratuitous ARP) can leave the machine, and deleting the
 * namespaces removes every link with them. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and `ip netns`.
 *
 * Prefixes carry the PID of the test process that owns them (`bvt<pid>r<hex>`), so a later run can tell
 * the leftovers of a crashed run (owner gone) from a lab another process is using right now.
 */
const PREFIX_PATTERN = /^bvt(\d+)r[0-9a-f]+-[a-z0-9]+$/;

export interface LabNode {
  /** Short name: `lb1`, `be1`, ... The namespace is `<prefix>-<name>`. */
  readonly name: string;
  readonly address: string;
}

export interface NetnsLab {
  readonly prefix: string;
  /** The namespace of a node (or of the switch, `sw`). */
  ns(node: string): string;
  /** Runs a command inside a node's namespace to completion. */
  exec(node: string, cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Starts a long-running command inside a node's namespace; `ip netns exec` execs, so the PID is the command's. */
  spawn(node: string, cmd: string, args: readonly string[], logFile: string): ServerProcess;
  /** The IPv4 addresses on the node's eth0 (its own and, on a balancer, the VIP while it holds it). */
  addresses(node: string): Promise<string[]>;
  /** The MAC address of the node's eth0. */
  mac(node: string): Promise<string>;
  /** Kills every process in the lab's namespaces (TERM, then KILL) and deletes the namespaces. */
  destroy(): Promise<void>;
}

export function newLabPrefix(): string {
  return `bvt${process.pid}r${Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, '0')}`;
}

function ipNetns(args: readonly string[]): Promise<RunResult> {
  return runOrThrow('ip', ['netns', ...args], { timeoutMs: 10_000 });
}

async function listNamespaces(): Promise<string[]> {
  const listed = await ipNetns(['list']);
  return listed.stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.length > 0);
}

async function pidsIn(namespace: string): Promise<number[]> {
  const result = await run('ip', ['netns', 'pids', namespace], { timeoutMs: 10_000 });
  return result.stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills the processes of these namespaces (by PID, as `ip netns pids` lists them), then deletes them. */
async function removeNamespaces(namespaces: readonly string[]): Promise<void> {
  const present = new Set(await listNamespaces());
  const ours = namespaces.filter((name) => present.has(name));
  const collect = async () => (await Promise.all(ours.map(pidsIn))).flat();
  signal(await collect(), 'SIGTERM');
  // Up to 3 s for a graceful exit (keepalived removes the VIP, PostgreSQL shuts down), then SIGKILL.
  for (let i = 0; i < 30; i++) {
    const left = await collect();
    if (left.length === 0) break;
    if (i === 29) signal(left, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const name of ours) await run('ip', ['netns', 'del', name], { timeoutMs: 10_000 });
}

/**
 * Deletes the namespaces of earlier runs whose owning process is gone (a crashed or killed test run);
 * labs of live processes are left alone. Returns the namespaces it removed.
 */
export async function removeLeftoverLabs(): Promise<string[]> {
  const stale = (await listNamespaces()).filter((name) => {
    const match = PREFIX_PATTERN.exec(name);
    return match !== null && !isAlive(Number(match[1]));
  });
  await removeNamespaces(stale);
  return stale;
}

/**
 * Why the lab cannot run here, or undefined when it can: root is needed, and `ip netns add` must work
 * (it does not in an unprivileged container or without iproute2).
 */
export async function labUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root (network namespaces need CAP_NET_ADMIN)';
  const probe = `${newLabPrefix()}-probe`;
  const added = await run('ip', ['netns', 'add', probe], { timeoutMs: 10_000 }).catch(
    (error: Error) => error,
  );
  if (added instanceof Error) return `cannot run \`ip\` (install iproute2): ${added.message}`;
  if (added.code !== 0) return `\`ip netns add\` failed: ${added.stderr.trim()}`;
  await run('ip', ['netns', 'del', probe], { timeoutMs: 10_000 });
  return undefined;
}

export async function createLab(
  prefix: string,
  nodes: readonly LabNode[],
  prefixLength = 24,
): Promise<NetnsLab> {
  const ns = (node: string) => `${prefix}-${node}`;
  const all = [ns('sw'), ...nodes.map((node) => ns(node.name))];
  // If the test process dies without afterAll, its processes and namespaces still go (synchronously:
  // nothing async runs in 'exit'). A later run's removeLeftoverLabs covers a SIGKILL of the test itself.
  const onExit = () => {
    for (const name of all) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' });
        signal(pids.split('\n').filter(Boolean).map(Number), 'SIGKILL');
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // Not there (any more).
      }
    }
  };
  process.once('exit', onExit);

  const lab: NetnsLab = {
    prefix,
    ns,
    exec: (node, cmd, args, options) => run('ip', ['netns', 'exec', ns(node), cmd, ...args], options),
    spawn: (node, cmd, args, logFile) =>
      spawnServer('ip', ['netns', 'exec', ns(node), cmd, ...args], { logFile }),
    async addresses(node) {
      const shown = await runOrThrow('ip', ['-n', ns(node), '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      return [...shown.stdout.matchAll(/ inet (\d+\.\d+\.\d+\.\d+)\//g)].map((match) => match[1] ?? '');
    },
    async mac(node) {
      const shown = await runOrThrow('ip', ['-n', ns(node), '-o', 'link', 'show', 'dev', 'eth0']);
      const match = /link\/ether ([0-9a-f:]{17})/.exec(shown.stdout);
      if (match?.[1] === undefined) throw new Error(`no MAC address on ${ns(node)} eth0: ${shown.stdout}`);
      return match[1];
    },
    async destroy() {
      await removeNamespaces(all);
      process.removeListener('exit', onExit);
    },
  };

  try {
    const sw = ns('sw');
    await ipNetns(['add', sw]);
    const ip = (args: string[]) => runOrThrow('ip', args, { timeoutMs: 10_000 });
    await ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', sw, 'link', 'set', 'br0', 'up']);
    await ip(['-n', sw, 'link', 'set', 'lo', 'up']);
    for (const node of nodes) {
      const nodeNs = ns(node.name);
      await ipNetns(['add', nodeNs]);
      // The veth is created inside the switch namespace and its peer lands in the node's: the root
      // namespace never sees either end.
      const port = `p-${node.name}`;
      await ip(['-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nodeNs]);
      await ip(['-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
      await ip(['-n', nodeNs, 'link', 'set', 'lo', 'up']);
      await ip(['-n', nodeNs, 'addr', 'add', `${node.address}/${prefixLength}`, 'dev', 'eth0']);
      await ip(['-n', nodeNs, 'link', 'set', 'eth0', 'up']);
    }
  } catch (error) {
    await lab.destroy();
    throw error;
  }
  return lab;
}

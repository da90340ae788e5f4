import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { renderHaConfig } from './ha-config.render.js';
import { loadTopologyFile, TopologyError } from './ha-topology.load.js';
import { effectivePorts, masterOf, publicHost, type HaTopology } from './ha-topology.schema.js';

export interface HaConfigOptions {
  topology: string;
  out: string;
}

interface Output {
  write(text: string): unknown;
}

/** Exit status of `berth ha-config` when the topology is refused, as `config check` does for harbor.yml. */
export const EXIT_INVALID_TOPOLOGY = 2;

/**
 * `berth ha-config --topology FILE --out DIR`: validates the topology, writes haproxy and keepalived
 * configurations into DIR (created if missing; files of the same names are replaced), and prints what
 * goes where. Returns the exit status: 0 written, 2 topology refused (every problem listed), 1 when a
 * file cannot be written.
 */
export async function runHaConfig(options: HaConfigOptions, stdout: Output, stderr: Output): Promise<number> {
  let topology: HaTopology;
  try {
    topology = await loadTopologyFile(options.topology);
  } catch (error) {
    if (error instanceof TopologyError) {
      stderr.write(`${error.message}\n`);
      return EXIT_INVALID_TOPOLOGY;
    }
    throw error;
  }
  const files = renderHaConfig(topology, basename(options.topology));
  try {
    await mkdir(options.out, { recursive: true });
    for (const file of files) {
      const path = join(options.out, file.name);
      await writeFile(path, file.content, { mode: file.mode });
      // writeFile's mode applies to new files only; a replaced file keeps its old mode otherwise.
      await chmod(path, file.mode);
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    stderr.write(`berth ha-config: cannot write to ${options.out}: ${reason}\n`);
    return 1;
  }
  const { http, https } = effectivePorts(topology);
  const scheme = https !== undefined ? 'https' : 'http';
  const port = https ?? http;
  const defaultPort = scheme === 'https' ? 443 : 80;
  const url = `${scheme}://${publicHost(topology)}${port === defaultPort ? '' : `:${port}`}`;
  const lines = [
    `${options.topology}: OK (${topology.mode}, VIP ${topology.vip.address} on ${masterOf(topology).name} while healthy${topology.vrrp.nopreempt ? ', nopreempt' : ''})`,
    ...files.map((file) => `  wrote ${join(options.out, file.name)}  ->  ${file.installAs}`),
    `Set external_url: ${url} in every instance's harbor.yml (Berth builds token realms and Location headers from it).`,
  ];
  stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

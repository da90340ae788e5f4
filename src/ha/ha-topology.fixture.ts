import { TopologyError, topologyFromDocument } from './ha-topology.load.js';
import type { HaTopology } from './ha-topology.schema.js';

/** A topology document as tests edit it, into valid or invalid shapes alike. */
export interface TopologyDocument {
  [key: string]: unknown;
  vip: Record<string, unknown>;
  load_balancers: Record<string, unknown>[];
  instances: Record<string, unknown>[];
}

/** The seed deployment as a topology document, the smallest form: defaults fill the rest. */
export function seedDocument(): TopologyDocument {
  return {
    hostname: 'registry.example.com',
    vip: { address: '192.168.10.100', interface: 'ens192', virtual_router_id: 20, auth_pass: 'MYP@sswo' },
    load_balancers: [
      { name: 'lb1', address: '192.168.10.101', priority: 101 },
      { name: 'lb2', address: '192.168.10.102', priority: 100 },
    ],
    instances: [
      { name: 'berth1', address: '192.168.10.111:80' },
      { name: 'berth2', address: '192.168.10.112:80' },
    ],
  };
}

/** The seed document changed by `edit` (which may mutate it), validated. */
export function seedTopology(edit: (document: TopologyDocument) => void = () => {}): HaTopology {
  const document = seedDocument();
  edit(document);
  return topologyFromDocument(document);
}

/** The `path: message` lines a document is refused with; fails the test when it is accepted. */
export function refusal(edit: (document: TopologyDocument) => void): string[] {
  try {
    seedTopology(edit);
  } catch (error) {
    if (error instanceof TopologyError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  throw new Error('expected the topology to be refused');
}

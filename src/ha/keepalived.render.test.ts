import { describe, expect, it } from 'vitest';
import { checkCommand, initialState, renderKeepalived } from './keepalived.render.js';
import { seedTopology } from './ha-topology.fixture.js';
import type { HaTopology } from './ha-topology.schema.js';

function render(topology: HaTopology, lb: number): string {
  const balancer = topology.load_balancers[lb];
  if (balancer === undefined) throw new Error('no such balancer');
  return renderKeepalived(topology, balancer);
}

/** The directives of a `name {` block (at any depth), trimmed, without comments; nested blocks inline. */
function block(config: string, opening: string): string[] {
  const lines = config.split('\n');
  const start = lines.findIndex((line) => line.trim() === opening);
  expect(start, `block ${opening}`).toBeGreaterThanOrEqual(0);
  const body: string[] = [];
  let depth = 1;
  for (const line of lines.slice(start + 1)) {
    const text = line.trim();
    if (text.startsWith('#')) continue;
    if (text.endsWith('{')) depth += 1;
    if (text === '}') depth -= 1;
    if (depth === 0) break;
    body.push(text);
  }
  return body;
}

describe('renderKeepalived', () => {
  it('checks HAProxy through its monitor URI, with fall/rise and no weight, so a failure means FAULT', () => {
    const config = render(seedTopology(), 0);
    expect(block(config, 'vrrp_script chk_haproxy {')).toEqual([
      'script "/usr/bin/curl -fs -m 1 -o /dev/null http://127.0.0.1:8404/healthz"',
      'interval 1',
      'timeout 2',
      'fall 2',
      'rise 2',
    ]);
    const directives = config
      .split('\n')
      .filter((line) => !line.trim().startsWith('#'))
      .join('\n');
    expect(directives).not.toMatch(/\bweight\b|killall|pidof/);
    expect(block(config, 'global_defs {')).toEqual([
      'router_id berth-lb1',
      'script_user root',
      'enable_script_security',
    ]);
  });

  it('writes MASTER for the highest priority and BACKUP for the peer, with unicast peers', () => {
    const topology = seedTopology();
    expect(block(render(topology, 0), 'vrrp_instance VI_BERTH {')).toEqual([
      'state MASTER',
      'interface ens192',
      'virtual_router_id 20',
      'priority 101',
      'advert_int 1',
      'authentication {',
      'auth_type PASS',
      'auth_pass MYP@sswo',
      '}',
      'unicast_src_ip 192.168.10.101',
      'unicast_peer {',
      '192.168.10.102',
      '}',
      'virtual_ipaddress {',
      '192.168.10.100/24 dev ens192',
      '}',
      'track_script {',
      'chk_haproxy',
      '}',
    ]);
    const backup = block(render(topology, 1), 'vrrp_instance VI_BERTH {');
    expect(backup.slice(0, 4)).toEqual([
      'state BACKUP',
      'interface ens192',
      'virtual_router_id 20',
      'priority 100',
    ]);
    expect(backup).toContain('unicast_src_ip 192.168.10.102');
    expect(backup[backup.indexOf('unicast_peer {') + 1]).toBe('192.168.10.101');
  });

  it('lists every other balancer as a unicast peer, and omits peers in multicast mode', () => {
    const three = seedTopology((d) =>
      d.load_balancers.push({ name: 'lb3', address: '192.168.10.103', priority: 99 }),
    );
    const peers = block(render(three, 1), 'unicast_peer {');
    expect(peers).toEqual(['192.168.10.101', '192.168.10.103']);
    const multicast = render(
      seedTopology((d) => (d.vrrp = { unicast: false })),
      0,
    );
    expect(multicast).not.toMatch(/unicast_src_ip|unicast_peer/);
  });

  it('with nopreempt starts every balancer as BACKUP', () => {
    const topology = seedTopology((d) => (d.vrrp = { nopreempt: true }));
    for (const lb of [0, 1]) {
      const instance = block(render(topology, lb), 'vrrp_instance VI_BERTH {');
      expect(instance[0]).toBe('state BACKUP');
      expect(instance).toContain('nopreempt');
    }
    expect(topology.load_balancers.map((lb) => initialState(topology, lb))).toEqual(['BACKUP', 'BACKUP']);
  });

  it('honours preempt_delay, a per-balancer interface, the prefix length, check timings and script_user', () => {
    const topology = seedTopology((d) => {
      d.vrrp = {
        preempt_delay: 10,
        advert_int: 2,
        script_user: 'keepalived_script',
        check: { interval: 2, fall: 3, rise: 4 },
      };
      d.vip.prefix_length = 23;
      d.ports = { health: 9999 };
      d.load_balancers[1]!.interface = 'eth1';
    });
    const lb2 = render(topology, 1);
    const instance = block(lb2, 'vrrp_instance VI_BERTH {');
    expect(instance).toEqual(
      expect.arrayContaining([
        'interface eth1',
        'advert_int 2',
        'preempt_delay 10',
        '192.168.10.100/23 dev eth1',
      ]),
    );
    // keepalived ignores preempt_delay on a node that starts MASTER: every node starts BACKUP.
    expect(topology.load_balancers.map((lb) => initialState(topology, lb))).toEqual(['BACKUP', 'BACKUP']);
    expect(block(lb2, 'vrrp_script chk_haproxy {')).toEqual(
      expect.arrayContaining(['interval 2', 'fall 3', 'rise 4']),
    );
    expect(block(lb2, 'global_defs {')).toContain('script_user keepalived_script');
    expect(checkCommand(topology)).toBe('/usr/bin/curl -fs -m 1 -o /dev/null http://127.0.0.1:9999/healthz');
    expect(block(render(topology, 0), 'vrrp_instance VI_BERTH {')).toContain('interface ens192');
  });
});

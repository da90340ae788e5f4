import { MONITOR_URI } from './haproxy.render.js';
import { masterOf, type HaTopology, type LoadBalancer } from './ha-topology.schema.js';

/**
 * keepalived.conf for one balancer. Differences from the seed: the check asks this balancer's HAProxy
 * for its monitor URI (no `killall -0 haproxy`), and it has no `weight`, so a failing check puts the
 * instance in FAULT and the peer takes the VIP at once instead of after the master-down timer.
 */

export const VRRP_INSTANCE = 'VI_BERTH';
export const CHECK_SCRIPT = 'chk_haproxy';

export type VrrpState = 'MASTER' | 'BACKUP';

/**
 * MASTER for the highest priority, BACKUP for the others. With nopreempt or preempt_delay every node
 * starts BACKUP: keepalived ignores both on a node that starts MASTER (`preempt delay will not work with
 * initial state MASTER - clearing`); the highest priority still wins the first election.
 */
export function initialState(topology: HaTopology, lb: LoadBalancer): VrrpState {
  if (topology.vrrp.nopreempt || topology.vrrp.preempt_delay !== undefined) return 'BACKUP';
  return masterOf(topology).name === lb.name ? 'MASTER' : 'BACKUP';
}

/** The check: HAProxy's monitor URI on this balancer's own loopback; curl exits non-zero on non-2xx. */
export function checkCommand(topology: HaTopology): string {
  return `/usr/bin/curl -fs -m 1 -o /dev/null http://127.0.0.1:${topology.ports.health}${MONITOR_URI}`;
}

export function renderKeepalived(topology: HaTopology, lb: LoadBalancer): string {
  const { vrrp, vip } = topology;
  const iface = lb.interface ?? vip.interface;
  const lines = [
    'global_defs {',
    `    router_id berth-${lb.name}`,
    '    # Scripts run as this user, and keepalived refuses any that another user could replace.',
    ...(vrrp.script_user === 'root'
      ? [
          '    # root: keepalived 2.2.7 (Debian 12) kills its own `keepalived -t` when this names another user.',
        ]
      : []),
    `    script_user ${vrrp.script_user}`,
    '    enable_script_security',
    '}',
    '',
    "# Is THIS balancer's HAProxy serving, with at least one Berth instance up? Not `killall -0 haproxy`",
    '# or `pidof`: those see any haproxy process (another network namespace, a wedged one).',
    '# No `weight`: a failed check puts this node in FAULT; it sends a priority-0 advert and the peer takes',
    '# the VIP within a second, instead of after 3 adverts of master-down timer (4.6 s measured).',
    `vrrp_script ${CHECK_SCRIPT} {`,
    `    script "${checkCommand(topology)}"`,
    `    interval ${vrrp.check.interval}`,
    '    timeout 2',
    `    fall ${vrrp.check.fall}`,
    `    rise ${vrrp.check.rise}`,
    '}',
    '',
    `vrrp_instance ${VRRP_INSTANCE} {`,
    `    state ${initialState(topology, lb)}`,
    `    interface ${iface}`,
    `    virtual_router_id ${vip.virtual_router_id}`,
    `    priority ${lb.priority}`,
    `    advert_int ${vrrp.advert_int}`,
  ];
  if (vrrp.nopreempt) {
    lines.push(
      '    # A recovered balancer stays BACKUP: the VIP moves only when its holder fails.',
      '    nopreempt',
    );
  } else if (vrrp.preempt_delay !== undefined) {
    lines.push(
      '    # A recovered balancer waits before taking the VIP back, so its HAProxy has found the instances.',
      `    preempt_delay ${vrrp.preempt_delay}`,
    );
  }
  lines.push('    authentication {', '        auth_type PASS', `        auth_pass ${vip.auth_pass}`, '    }');
  if (vrrp.unicast) {
    const peers = topology.load_balancers.filter((other) => other.name !== lb.name);
    lines.push(
      '    # Unicast adverts to the peers: works where multicast VRRP is dropped (most clouds).',
      `    unicast_src_ip ${lb.address}`,
      '    unicast_peer {',
      ...peers.map((peer) => `        ${peer.address}`),
      '    }',
    );
  }
  lines.push(
    '    virtual_ipaddress {',
    `        ${vip.address}/${vip.prefix_length} dev ${iface}`,
    '    }',
    '    track_script {',
    `        ${CHECK_SCRIPT}`,
    '    }',
    '}',
  );
  return lines.join('\n');
}

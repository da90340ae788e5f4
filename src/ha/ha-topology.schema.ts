import * as z from 'zod';
import {
  choice,
  credential,
  flag,
  hostname,
  integer,
  list,
  nonEmptyText,
  port,
  section,
} from '../config/config.fields.js';
import {
  isNetworkOrBroadcast,
  isPrivateIpv4,
  parseIpv4,
  PRIVATE_RANGE_NAMES,
  sameSubnet,
  subnetOf,
} from './ipv4.js';

/**
 * The HA topology `berth ha-config` reads: the seed deployment (two HAProxy + Keepalived balancers
 * sharing a VIP, two or more Berth instances) in a few keys. Every string here ends up inside
 * haproxy.cfg or keepalived.conf, whose tokenizers treat whitespace, quotes, `#`, `!` and braces as
 * syntax, so each one is held to a character set that cannot change the meaning of the line it lands
 * in. Cross-field rules (unique addresses and priorities, the VIP's subnet, port clashes) come after
 * the shapes, each refusal naming the key path it is about.
 */

/** Names become HAProxy server names, file names (`keepalived-<lb>.conf`) and the VRRP router_id. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1); this set covers eth0, ens192, bond0.100. */
const INTERFACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
/**
 * Printable ASCII without space, quotes, backslash, the comment starters of both files (`#`, `!`),
 * keepalived's block braces and its `$PARAM` substitution.
 */
const CONFIG_TOKEN = /^[!-~]+$/;
const CONFIG_SYNTAX = /["'\\#!{}$]/;
/** An absolute path HAProxy can read as one token. */
const ABSOLUTE_PATH = /^\/[A-Za-z0-9_.\-/+@=,]*$/;

function name() {
  return nonEmptyText().regex(
    NAME,
    'expected letters, digits, `.`, `_` or `-` (at most 63, starting with a letter or digit)',
  );
}

function ipv4Address() {
  return nonEmptyText().refine(
    (value) => parseIpv4(value) !== undefined,
    'expected an IPv4 address such as 192.168.10.101 (VRRPv2 moves IPv4 addresses only)',
  );
}

/** Text that can sit in a config file as one bare token. */
function configToken(what: string, maxLength: number) {
  return credential({ nonEmpty: true })
    .pipe(z.string().max(maxLength, `${what} is at most ${maxLength} characters`))
    .refine(
      (value) => CONFIG_TOKEN.test(value) && !CONFIG_SYNTAX.test(value),
      `${what} must be printable ASCII without spaces, quotes, backslash, #, !, $, { or }`,
    );
}

/** `host:port` of a Berth instance: an IPv4 address, `[IPv6]` or a DNS name, and Berth's http.port. */
const INSTANCE_ADDRESS = /^(.+):(\d{1,5})$/;

export interface HostPort {
  host: string;
  port: number;
}

export function splitHostPort(value: string): HostPort | undefined {
  const match = INSTANCE_ADDRESS.exec(value);
  if (!match) return undefined;
  const [, host = '', portText = ''] = match;
  const portNumber = Number(portText);
  if (portNumber < 1 || portNumber > 65535) return undefined;
  if (!hostname().safeParse(host).success) return undefined;
  // A bare IPv6 literal would be ambiguous with its own colons; HAProxy wants it bracketed too.
  if (host.includes(':') && !host.startsWith('[')) return undefined;
  return { host, port: portNumber };
}

function instanceAddress() {
  return nonEmptyText().refine(
    (value) => splitHostPort(value) !== undefined,
    'expected host:port, e.g. 192.168.10.111:80, [fd00::11]:80 or berth1.internal:80 (the port is Berth’s http.port)',
  );
}

const vip = section({
  address: ipv4Address(),
  /** Prefix length of the VIP on the interface; the balancers' own addresses must be in that subnet. */
  prefix_length: integer({ min: 1, max: 32 }).default(24),
  interface: nonEmptyText().regex(INTERFACE, 'expected a network interface name such as eth0 or ens192'),
  virtual_router_id: integer({ min: 1, max: 255 }),
  /** VRRPv2 simple password: keepalived keeps only the first 8 characters, so more are refused. */
  auth_pass: configToken('auth_pass', 8),
  /** A VIP outside the RFC 1918 ranges is refused unless this says it is meant. */
  allow_public: flag().default(false),
});

const loadBalancer = section({
  name: name(),
  address: ipv4Address(),
  /** VRRP priority: the highest is MASTER. 255 is reserved for the address owner, 0 for "resigning". */
  priority: integer({ min: 1, max: 254 }),
  /** The interface on this balancer, when it differs from vip.interface. */
  interface: nonEmptyText()
    .regex(INTERFACE, 'expected a network interface name such as eth0 or ens192')
    .optional(),
});

const instance = section({
  name: name(),
  address: instanceAddress(),
});

const ports = section({
  /** Plain HTTP: the registry port without TLS; with TLS it only redirects to HTTPS (308). */
  http: port().optional(),
  /** HTTPS, where HAProxy terminates TLS; only with tls.certificate. */
  https: port().optional(),
  /** HAProxy's monitor URI on 127.0.0.1, which keepalived's check script calls. */
  health: port().default(8404),
});

const stats = section({
  /** HAProxy's read-only statistics page, bound to each balancer's own address (not the VIP). */
  port: port(),
  username: configToken('username', 64)
    .refine((value) => !value.includes(':'), 'username must not contain `:`')
    .optional(),
  password: configToken('password', 128).optional(),
});

const tls = section({
  /** PEM with the certificate chain and the private key, as HAProxy's `crt` reads it. */
  certificate: nonEmptyText().regex(
    ABSOLUTE_PATH,
    'expected an absolute path without spaces or quotes, e.g. /etc/haproxy/cert.pem',
  ),
});

const vrrp = section({
  /** unicast_src_ip/unicast_peer: for networks (clouds) that drop multicast VRRP. */
  unicast: flag().default(true),
  /** Seconds between adverts; VRRPv2 takes whole seconds only. The backup takes over after ~3 of them. */
  advert_int: integer({ min: 1, max: 255 }).default(1),
  /** Every balancer starts as BACKUP and a recovered one does not take the VIP back. */
  nopreempt: flag().default(false),
  /** Seconds a recovered higher-priority balancer waits before taking the VIP back. */
  preempt_delay: integer({ min: 0, max: 1000 }).optional(),
  /**
   * User keepalived runs the check as. root by default: keepalived 2.2.7 (Debian 12) kills its own
   * `keepalived -t` with SIGTERM when script_user names another user (fixed in 2.2.8).
   */
  script_user: nonEmptyText()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'expected a Unix user name such as root or keepalived_script')
    .default('root'),
  check: section({
    interval: integer({ min: 1, max: 60 }).default(1),
    fall: integer({ min: 1, max: 10 }).default(2),
    rise: integer({ min: 1, max: 10 }).default(2),
  }).prefault({}),
});

export const MODES = ['active-active', 'active-passive'] as const;
export type HaMode = (typeof MODES)[number];
export const BALANCE_ALGORITHMS = ['leastconn', 'roundrobin'] as const;

const topologyShape = section({
  /** The public name (the Host clients send, external_url of every instance). Defaults to the VIP. */
  hostname: hostname()
    .refine((value) => !value.includes(':'), 'expected a DNS name or IPv4 address')
    .optional(),
  vip,
  load_balancers: list(loadBalancer).min(2, 'at least two load balancers are needed to fail over'),
  instances: list(instance).min(2, 'at least two Berth instances are needed to fail over'),
  mode: choice(MODES).default('active-active'),
  /** active-active only; leastconn by default, since blob transfers last from milliseconds to hours. */
  balance: choice(BALANCE_ALGORITHMS).optional(),
  /** active-passive only: the instance that serves while it is up (default: the first one). */
  primary: name().optional(),
  ports: ports.prefault({}),
  stats: stats.optional(),
  tls: tls.optional(),
  vrrp: vrrp.prefault({}),
  /** HAProxy's global maxconn; each proxied connection uses two file descriptors. */
  maxconn: integer({ min: 100, max: 1_000_000 }).default(10000),
});

type Shape = z.output<typeof topologyShape>;
type Issue = { path: PropertyKey[]; message: string };

/** Host parts an instance may share with a balancer, where the balancer's own listeners would clash. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

function crossFieldIssues(t: Shape): Issue[] {
  const issues: Issue[] = [];
  const vipAddress = parseIpv4(t.vip.address) ?? 0;

  if (!t.vip.allow_public && !isPrivateIpv4(vipAddress)) {
    issues.push({
      path: ['vip', 'address'],
      message: `${t.vip.address} is not in a private range (${PRIVATE_RANGE_NAMES}); set vip.allow_public: true if a public VIP is meant`,
    });
  }
  if (isNetworkOrBroadcast(vipAddress, t.vip.prefix_length)) {
    issues.push({
      path: ['vip', 'address'],
      message: `${t.vip.address} is the network or broadcast address of ${subnetOf(vipAddress, t.vip.prefix_length)}`,
    });
  }

  const lbNames = new Map<string, number>();
  const lbAddresses = new Map<string, number>();
  const priorities = new Map<number, number>();
  t.load_balancers.forEach((lb, i) => {
    duplicate(issues, lbNames, lb.name, i, ['load_balancers', i, 'name'], 'load_balancers', 'name');
    duplicate(
      issues,
      lbAddresses,
      lb.address,
      i,
      ['load_balancers', i, 'address'],
      'load_balancers',
      'address',
    );
    const earlier = priorities.get(lb.priority);
    if (earlier !== undefined) {
      issues.push({
        path: ['load_balancers', i, 'priority'],
        message: `${lb.priority} is already the priority of load_balancers[${earlier}]; VRRP elects the MASTER by priority, so each balancer needs its own`,
      });
    } else {
      priorities.set(lb.priority, i);
    }
    const address = parseIpv4(lb.address) ?? 0;
    if (address === vipAddress) {
      issues.push({
        path: ['load_balancers', i, 'address'],
        message: 'is the VIP: each balancer needs its own address besides the VIP it may hold',
      });
    } else if (!sameSubnet(address, vipAddress, t.vip.prefix_length)) {
      issues.push({
        path: ['load_balancers', i, 'address'],
        message: `${lb.address} is not in the VIP's subnet ${subnetOf(vipAddress, t.vip.prefix_length)}: the balancer announces the VIP by gratuitous ARP on its own segment (check vip.prefix_length)`,
      });
    }
  });

  const instanceNames = new Map<string, number>();
  const instanceAddresses = new Map<string, number>();
  const lbAddressSet = new Set(t.load_balancers.map((lb) => lb.address));
  const boundPorts = balancerPorts(t);
  t.instances.forEach((instance, i) => {
    duplicate(issues, instanceNames, instance.name, i, ['instances', i, 'name'], 'instances', 'name');
    const hostPort = splitHostPort(instance.address);
    if (hostPort === undefined) return;
    const key = `${hostPort.host.toLowerCase()}:${hostPort.port}`;
    duplicate(issues, instanceAddresses, key, i, ['instances', i, 'address'], 'instances', 'address');
    if (hostPort.host === t.vip.address) {
      issues.push({
        path: ['instances', i, 'address'],
        message: 'is the VIP: the balancers would send requests to themselves',
      });
    } else if (lbAddressSet.has(hostPort.host) || LOOPBACK_HOSTS.has(hostPort.host.toLowerCase())) {
      const clash = boundPorts.find((bound) => bound.port === hostPort.port);
      if (clash !== undefined) {
        issues.push({
          path: ['instances', i, 'address'],
          message: `port ${hostPort.port} is HAProxy's own ${clash.key} port on that host; give Berth another http.port`,
        });
      }
    }
  });

  if (t.mode === 'active-passive') {
    if (t.balance !== undefined) {
      issues.push({
        path: ['balance'],
        message: 'applies to active-active only: in active-passive the primary takes every request',
      });
    }
    if (t.primary !== undefined && !t.instances.some((instance) => instance.name === t.primary)) {
      issues.push({
        path: ['primary'],
        message: `no instance is named ${JSON.stringify(t.primary)} (instances: ${t.instances.map((instance) => instance.name).join(', ')})`,
      });
    }
  } else if (t.primary !== undefined) {
    issues.push({
      path: ['primary'],
      message: 'applies to active-passive only: in active-active every instance is primary',
    });
  }

  issues.push(...portIssues(t));
  if ((t.stats?.username === undefined) !== (t.stats?.password === undefined)) {
    issues.push({ path: ['stats'], message: 'set both username and password, or neither' });
  }
  if (t.vrrp.nopreempt && t.vrrp.preempt_delay !== undefined) {
    issues.push({
      path: ['vrrp', 'preempt_delay'],
      message: 'has no effect with vrrp.nopreempt: true (a recovered balancer never takes the VIP back)',
    });
  }
  return issues;
}

function duplicate<K>(
  issues: Issue[],
  seen: Map<K, number>,
  value: K,
  index: number,
  path: PropertyKey[],
  list: string,
  key: string,
): void {
  const earlier = seen.get(value);
  if (earlier === undefined) {
    seen.set(value, index);
    return;
  }
  issues.push({ path, message: `duplicates ${list}[${earlier}].${key} (${String(value)})` });
}

interface BoundPort {
  key: string;
  port: number;
}

/** Every port HAProxy listens on, with the key that sets it. */
export function balancerPorts(t: Pick<Shape, 'ports' | 'stats' | 'tls'>): BoundPort[] {
  const bound: BoundPort[] = [];
  const { http, https } = effectivePorts(t);
  if (http !== undefined) bound.push({ key: 'ports.http', port: http });
  if (https !== undefined) bound.push({ key: 'ports.https', port: https });
  bound.push({ key: 'ports.health', port: t.ports.health });
  if (t.stats !== undefined) bound.push({ key: 'stats.port', port: t.stats.port });
  return bound;
}

/**
 * The registry ports after defaults: without TLS, HTTP on 80 unless set; with TLS, HTTPS on 443 unless
 * set, and HTTP only when asked for (it then redirects).
 */
export function effectivePorts(t: Pick<Shape, 'ports' | 'tls'>): { http?: number; https?: number } {
  if (t.tls === undefined) return { http: t.ports.http ?? 80 };
  return t.ports.http === undefined
    ? { https: t.ports.https ?? 443 }
    : { http: t.ports.http, https: t.ports.https ?? 443 };
}

function portIssues(t: Shape): Issue[] {
  const issues: Issue[] = [];
  if (t.tls === undefined && t.ports.https !== undefined) {
    issues.push({
      path: ['ports', 'https'],
      message: 'needs tls.certificate: HAProxy terminates TLS with that certificate',
    });
  }
  const seen = new Map<number, string>();
  for (const bound of balancerPorts(t)) {
    const earlier = seen.get(bound.port);
    if (earlier !== undefined) {
      issues.push({
        path: bound.key.split('.'),
        message: `${bound.port} is already ${earlier}: each listener needs its own port`,
      });
    } else {
      seen.set(bound.port, bound.key);
    }
  }
  return issues;
}

export const haTopologySchema = topologyShape.superRefine((value, ctx) => {
  for (const issue of crossFieldIssues(value)) ctx.addIssue({ code: 'custom', ...issue });
});

export type HaTopology = z.output<typeof haTopologySchema>;
export type LoadBalancer = HaTopology['load_balancers'][number];
export type BerthInstance = HaTopology['instances'][number];

/** The balancer that holds the VIP while all are healthy: the highest priority. */
export function masterOf(topology: HaTopology): LoadBalancer {
  return topology.load_balancers.reduce((best, lb) => (lb.priority > best.priority ? lb : best));
}

/** The name clients use: `hostname`, else the VIP. */
export function publicHost(topology: HaTopology): string {
  return topology.hostname ?? topology.vip.address;
}

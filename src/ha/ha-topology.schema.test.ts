import { describe, expect, it } from 'vitest';
import { parseTopologyText, TopologyError } from './ha-topology.load.js';
import { refusal, seedTopology } from './ha-topology.fixture.js';
import { effectivePorts, masterOf, publicHost } from './ha-topology.schema.js';

describe('HA topology: accepted documents', () => {
  it('fills the defaults: active-active, unicast VRRP, 1 s checks with fall 2, HTTP on 80', () => {
    const topology = seedTopology();
    expect(topology.mode).toBe('active-active');
    expect(topology.vip.prefix_length).toBe(24);
    expect(topology.vrrp).toEqual({
      unicast: true,
      advert_int: 1,
      nopreempt: false,
      script_user: 'root',
      check: { interval: 1, fall: 2, rise: 2 },
    });
    expect(topology.ports.health).toBe(8404);
    expect(effectivePorts(topology)).toEqual({ http: 80 });
    expect(masterOf(topology).name).toBe('lb1');
    expect(publicHost(topology)).toBe('registry.example.com');
  });

  it('with TLS serves HTTPS on 443, and HTTP only when asked (to redirect)', () => {
    const tls = { certificate: '/etc/haproxy/cert.pem' };
    expect(effectivePorts(seedTopology((d) => (d.tls = tls)))).toEqual({ https: 443 });
    expect(
      effectivePorts(
        seedTopology((d) => {
          d.tls = tls;
          d.ports = { http: 8080, https: 8443 };
        }),
      ),
    ).toEqual({ http: 8080, https: 8443 });
  });

  it('uses the VIP as the public host without a hostname, and finds the MASTER wherever it is listed', () => {
    const topology = seedTopology((d) => {
      delete d.hostname;
      d.load_balancers[1]!.priority = 150;
    });
    expect(publicHost(topology)).toBe('192.168.10.100');
    expect(masterOf(topology).name).toBe('lb2');
  });

  it('takes a numeric auth_pass as its text (YAML reads 12345678 as a number)', () => {
    expect(seedTopology((d) => (d.vip.auth_pass = 12345678)).vip.auth_pass).toBe('12345678');
  });

  it('accepts IPv6 and DNS instance addresses, and a public VIP when allow_public says so', () => {
    const topology = seedTopology((d) => {
      d.instances = [
        { name: 'a', address: '[fd00::11]:5000' },
        { name: 'b', address: 'berth2.internal:5000' },
      ];
      d.vip.address = '203.0.113.10';
      d.vip.allow_public = true;
      d.load_balancers[0]!.address = '203.0.113.11';
      d.load_balancers[1]!.address = '203.0.113.12';
    });
    expect(topology.instances.map((i) => i.address)).toEqual(['[fd00::11]:5000', 'berth2.internal:5000']);
  });
});

describe('HA topology: refusals name the key path', () => {
  it('refuses duplicate balancer names, addresses and priorities', () => {
    expect(
      refusal((d) => {
        d.load_balancers[1] = { name: 'lb1', address: '192.168.10.101', priority: 101 };
      }),
    ).toEqual([
      'load_balancers[1].name: duplicates load_balancers[0].name (lb1)',
      'load_balancers[1].address: duplicates load_balancers[0].address (192.168.10.101)',
      'load_balancers[1].priority: 101 is already the priority of load_balancers[0]; VRRP elects the MASTER by priority, so each balancer needs its own',
    ]);
  });

  it('refuses priorities outside 1-254 (255 belongs to the address owner)', () => {
    expect(refusal((d) => (d.load_balancers[0]!.priority = 255))).toEqual([
      'load_balancers[0].priority: must be <= 254',
    ]);
    expect(refusal((d) => (d.load_balancers[0]!.priority = 0))).toEqual([
      'load_balancers[0].priority: must be >= 1',
    ]);
  });

  it('refuses a VIP outside the private ranges, or one that is a network or broadcast address', () => {
    expect(
      refusal((d) => {
        d.vip.address = '8.8.8.8';
        d.load_balancers[0]!.address = '8.8.8.1';
        d.load_balancers[1]!.address = '8.8.8.2';
      }),
    ).toEqual([
      'vip.address: 8.8.8.8 is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16); set vip.allow_public: true if a public VIP is meant',
    ]);
    expect(refusal((d) => (d.vip.address = '192.168.10.255'))).toEqual([
      'vip.address: 192.168.10.255 is the network or broadcast address of 192.168.10.0/24',
    ]);
    expect(refusal((d) => (d.vip.address = '192.168.010.100'))[0]).toMatch(
      /^vip\.address: expected an IPv4 address/,
    );
  });

  it('refuses a balancer outside the VIP subnet, or one that uses the VIP as its own address', () => {
    expect(refusal((d) => (d.load_balancers[1]!.address = '192.168.11.102'))).toEqual([
      "load_balancers[1].address: 192.168.11.102 is not in the VIP's subnet 192.168.10.0/24: the balancer announces the VIP by gratuitous ARP on its own segment (check vip.prefix_length)",
    ]);
    expect(refusal((d) => (d.load_balancers[0]!.address = '192.168.10.100'))).toEqual([
      'load_balancers[0].address: is the VIP: each balancer needs its own address besides the VIP it may hold',
    ]);
  });

  it('refuses an auth_pass keepalived would cut, or one that could change the config around it', () => {
    expect(refusal((d) => (d.vip.auth_pass = 'MYP@ssword'))).toEqual([
      'vip.auth_pass: auth_pass is at most 8 characters',
    ]);
    expect(refusal((d) => (d.vip.auth_pass = 'a b'))).toEqual([
      'vip.auth_pass: auth_pass must be printable ASCII without spaces, quotes, backslash, #, !, $, { or }',
    ]);
    expect(refusal((d) => (d.vip.auth_pass = 'x}\n}'))).toHaveLength(1);
  });

  it('refuses names and interfaces that could inject configuration', () => {
    expect(refusal((d) => (d.instances[0]!.name = 'a\n    server evil 1.2.3.4:80'))[0]).toMatch(
      /^instances\[0\]\.name: expected letters, digits/,
    );
    expect(refusal((d) => (d.vip.interface = 'eth0 }'))[0]).toMatch(
      /^vip\.interface: expected a network interface/,
    );
    expect(refusal((d) => (d.tls = { certificate: '/etc/cert.pem crt /etc/other.pem' }))[0]).toMatch(
      /^tls\.certificate: expected an absolute path/,
    );
    expect(refusal((d) => (d.tls = { certificate: 'cert.pem' }))[0]).toMatch(
      /^tls\.certificate: expected an absolute/,
    );
  });

  it('refuses duplicate instances, bad addresses, and instances that point at the balancers', () => {
    expect(refusal((d) => (d.instances[1]!.address = '192.168.10.111:80'))).toEqual([
      'instances[1].address: duplicates instances[0].address (192.168.10.111:80)',
    ]);
    expect(refusal((d) => (d.instances[1]!.address = '192.168.10.112'))[0]).toMatch(
      /^instances\[1\]\.address: expected host:port/,
    );
    expect(refusal((d) => (d.instances[1]!.address = '192.168.10.112:70000'))[0]).toMatch(
      /^instances\[1\]\.address: expected host:port/,
    );
    expect(refusal((d) => (d.instances[1]!.address = 'fd00::1:80'))[0]).toMatch(
      /^instances\[1\]\.address: expected/,
    );
    expect(refusal((d) => (d.instances[1]!.address = '192.168.10.100:5000'))).toEqual([
      'instances[1].address: is the VIP: the balancers would send requests to themselves',
    ]);
    expect(refusal((d) => (d.instances[1]!.address = '192.168.10.101:80'))).toEqual([
      "instances[1].address: port 80 is HAProxy's own ports.http port on that host; give Berth another http.port",
    ]);
    expect(refusal((d) => (d.instances[1]!.address = '127.0.0.1:8404'))).toEqual([
      "instances[1].address: port 8404 is HAProxy's own ports.health port on that host; give Berth another http.port",
    ]);
    // Berth next to HAProxy on a balancer, on its own port, is fine.
    expect(seedTopology((d) => (d.instances[1]!.address = '192.168.10.101:5000')).instances).toHaveLength(2);
  });

  it('needs two balancers and two instances', () => {
    expect(
      refusal((d) => {
        d.load_balancers.pop();
        d.instances.pop();
      }),
    ).toEqual([
      'load_balancers: at least two load balancers are needed to fail over',
      'instances: at least two Berth instances are needed to fail over',
    ]);
  });

  it('refuses clashing ports and an HTTPS port without a certificate', () => {
    expect(
      refusal((d) => {
        d.ports = { http: 8404 };
      }),
    ).toEqual(['ports.health: 8404 is already ports.http: each listener needs its own port']);
    expect(
      refusal((d) => {
        d.stats = { port: 80 };
      }),
    ).toEqual(['stats.port: 80 is already ports.http: each listener needs its own port']);
    expect(refusal((d) => (d.ports = { https: 443 }))).toEqual([
      'ports.https: needs tls.certificate: HAProxy terminates TLS with that certificate',
    ]);
  });

  it('keeps balance to active-active and primary to active-passive', () => {
    expect(
      refusal((d) => {
        d.mode = 'active-passive';
        d.balance = 'roundrobin';
        d.primary = 'berth9';
      }),
    ).toEqual([
      'balance: applies to active-active only: in active-passive the primary takes every request',
      'primary: no instance is named "berth9" (instances: berth1, berth2)',
    ]);
    expect(refusal((d) => (d.primary = 'berth1'))).toEqual([
      'primary: applies to active-passive only: in active-active every instance is primary',
    ]);
    expect(refusal((d) => (d.mode = 'active-standby'))).toEqual([
      'mode: expected one of active-active, active-passive, got "active-standby"',
    ]);
  });

  it('refuses stats credentials given by halves, and preempt_delay with nopreempt', () => {
    expect(refusal((d) => (d.stats = { port: 7000, username: 'admin' }))).toEqual([
      'stats: set both username and password, or neither',
    ]);
    expect(refusal((d) => (d.vrrp = { nopreempt: true, preempt_delay: 5 }))).toEqual([
      'vrrp.preempt_delay: has no effect with vrrp.nopreempt: true (a recovered balancer never takes the VIP back)',
    ]);
  });

  it('refuses unknown keys by their full path, and missing ones', () => {
    expect(
      refusal((d) => {
        d.vip.weight = 2;
        delete d.vip.virtual_router_id;
      }),
    ).toEqual(['vip.virtual_router_id: required', 'vip.weight: unknown key']);
  });
});

describe('HA topology: YAML text', () => {
  it('parses a file and names the source in the error', () => {
    const text = [
      'vip: {address: 192.168.10.100, interface: eth0, virtual_router_id: 51, auth_pass: secret}',
      'load_balancers:',
      '  - {name: a, address: 192.168.10.1, priority: 100}',
      '  - {name: b, address: 192.168.10.2, priority: 100}',
      'instances: [{name: x, address: "192.168.10.5:80"}, {name: y, address: "192.168.10.6:80"}]',
    ].join('\n');
    expect(() => parseTopologyText(text, 'site.yml')).toThrow(
      'invalid HA topology in site.yml:\n  load_balancers[1].priority: 100 is already the priority of load_balancers[0]',
    );
  });

  it('refuses duplicate keys, and a document that is not a mapping', () => {
    expect(() => parseTopologyText('mode: active-active\nmode: active-passive\n')).toThrow(
      /YAML: Map keys must be unique/,
    );
    try {
      parseTopologyText('- a\n- b\n');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TopologyError);
      expect((error as TopologyError).issues).toEqual([
        { path: '', message: 'the file must be a mapping (vip, load_balancers, instances, ...), got list' },
      ]);
    }
  });
});

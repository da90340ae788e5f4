import { describe, expect, it } from 'vitest';
import { renderHaproxy } from './haproxy.render.js';
import { seedTopology, type TopologyDocument } from './ha-topology.fixture.js';
import type { HaTopology } from './ha-topology.schema.js';

/** The lines of a section (`frontend fe_berth`), trimmed, comments left out. */
function section(config: string, title: string): string[] {
  const lines = config.split('\n');
  const start = lines.indexOf(title);
  expect(start, `section ${title}`).toBeGreaterThanOrEqual(0);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith(' ')) break;
    if (!line.trim().startsWith('#')) body.push(line.trim());
  }
  return body;
}

function render(topology: HaTopology, lb = 0): string {
  const balancer = topology.load_balancers[lb];
  if (balancer === undefined) throw new Error('no such balancer');
  return renderHaproxy(topology, balancer);
}

const withTls = (d: TopologyDocument) => {
  d.tls = { certificate: '/etc/haproxy/cert.pem' };
  d.ports = { http: 80, https: 443 };
};

describe('renderHaproxy: backend', () => {
  it('active-active balances over every instance with fast HTTP health checks on /api/v2.0/ping', () => {
    const backend = section(render(seedTopology()), 'backend be_berth');
    expect(backend).toEqual([
      'balance leastconn',
      'option httpchk',
      'http-check send meth GET uri /api/v2.0/ping ver HTTP/1.1 hdr Host registry.example.com',
      'http-check expect status 200',
      'default-server check inter 1s fastinter 500ms downinter 2s fall 2 rise 2 init-addr libc,none',
      'server berth1 192.168.10.111:80',
      'server berth2 192.168.10.112:80',
    ]);
  });

  it('takes roundrobin when asked', () => {
    const backend = section(render(seedTopology((d) => (d.balance = 'roundrobin'))), 'backend be_berth');
    expect(backend[0]).toBe('balance roundrobin');
  });

  it('active-passive puts the primary first and marks the others backup', () => {
    const topology = seedTopology((d) => {
      d.mode = 'active-passive';
      d.primary = 'berth2';
      d.instances.push({ name: 'berth3', address: '192.168.10.113:80' });
    });
    const backend = section(render(topology), 'backend be_berth');
    expect(backend.filter((line) => line.startsWith('server '))).toEqual([
      'server berth2 192.168.10.112:80',
      'server berth1 192.168.10.111:80 backup',
      'server berth3 192.168.10.113:80 backup',
    ]);
    expect(backend.some((line) => line.startsWith('balance'))).toBe(false);
  });

  it('active-passive without primary keeps the first instance as primary', () => {
    const backend = section(render(seedTopology((d) => (d.mode = 'active-passive'))), 'backend be_berth');
    expect(backend.filter((line) => line.startsWith('server '))).toEqual([
      'server berth1 192.168.10.111:80',
      'server berth2 192.168.10.112:80 backup',
    ]);
  });
});

describe('renderHaproxy: frontends', () => {
  it('without TLS serves plain HTTP and sets the forwarded headers itself', () => {
    const frontend = section(render(seedTopology()), 'frontend fe_berth');
    expect(frontend).toEqual([
      'bind *:80',
      'http-request del-header X-Forwarded-For',
      'option forwardfor',
      'http-request set-header X-Forwarded-Proto http',
      'default_backend be_berth',
    ]);
  });

  it('with TLS terminates it, redirects HTTP with 308 to the public name, and says which scheme was used', () => {
    const config = render(seedTopology(withTls));
    const frontend = section(config, 'frontend fe_berth');
    expect(frontend).toEqual([
      'bind *:443 ssl crt /etc/haproxy/cert.pem alpn http/1.1',
      'bind *:80',
      'http-request redirect prefix https://registry.example.com code 308 unless { ssl_fc }',
      'http-request del-header X-Forwarded-For',
      'option forwardfor',
      'http-request set-header X-Forwarded-Proto https if { ssl_fc }',
      'http-request set-header X-Forwarded-Proto http unless { ssl_fc }',
      'default_backend be_berth',
    ]);
    expect(section(config, 'global')).toContain(
      'ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets',
    );
  });

  it('keeps a non-default HTTPS port in the redirect, and serves HTTPS alone when no HTTP port is set', () => {
    const custom = render(
      seedTopology((d) => {
        d.tls = { certificate: '/etc/haproxy/cert.pem' };
        d.ports = { http: 8080, https: 8443 };
      }),
    );
    expect(section(custom, 'frontend fe_berth')).toContain(
      'http-request redirect prefix https://registry.example.com:8443 code 308 unless { ssl_fc }',
    );
    const httpsOnly = section(
      render(seedTopology((d) => (d.tls = { certificate: '/c.pem' }))),
      'frontend fe_berth',
    );
    expect(httpsOnly.filter((line) => line.startsWith('bind'))).toEqual([
      'bind *:443 ssl crt /c.pem alpn http/1.1',
    ]);
    expect(httpsOnly.some((line) => line.includes('redirect'))).toBe(false);
  });

  it('gives keepalived a loopback monitor URI that fails while no instance is up', () => {
    expect(section(render(seedTopology((d) => (d.ports = { health: 9000 }))), 'frontend fe_health')).toEqual([
      'bind 127.0.0.1:9000',
      'monitor-uri /healthz',
      'monitor fail if { nbsrv(be_berth) lt 1 }',
    ]);
  });

  it("binds the stats page to each balancer's own address, with credentials when given", () => {
    const topology = seedTopology((d) => (d.stats = { port: 7000, username: 'ops', password: 's3cret' }));
    expect(section(render(topology, 0), 'listen stats')).toEqual([
      'bind 192.168.10.101:7000',
      'stats enable',
      'stats uri /',
      'stats refresh 5s',
      'stats show-legends',
      'stats auth ops:s3cret',
    ]);
    expect(section(render(topology, 1), 'listen stats')[0]).toBe('bind 192.168.10.102:7000');
    expect(render(seedTopology())).not.toContain('listen stats');
  });
});

describe('renderHaproxy: timeouts and limits', () => {
  it('keeps header timeouts short and data timeouts long, without buffering bodies', () => {
    const config = render(seedTopology((d) => (d.maxconn = 20000)));
    const defaults = section(config, 'defaults');
    expect(defaults).toEqual(
      expect.arrayContaining([
        'mode http',
        'timeout connect 3s',
        'timeout http-request 10s',
        'timeout client 5m',
        'timeout server 10m',
        'retries 3',
        'option redispatch 1',
      ]),
    );
    expect(section(config, 'global')).toContain('maxconn 20000');
    const directives = config
      .split('\n')
      .filter((line) => !line.trim().startsWith('#'))
      .join('\n');
    expect(directives).not.toMatch(/http-buffer-request|req\.body_size|tune\.bufsize|retry-on/);
    // The seed's TLS-only details stay out of a plain HTTP configuration.
    expect(directives).not.toContain('ssl');
  });
});

import { effectivePorts, publicHost, type HaTopology, type LoadBalancer } from './ha-topology.schema.js';

/**
 * haproxy.cfg for one balancer of the topology. The seed's file with what it left out: health checks on
 * Berth's /api/v2.0/ping, a monitor URI for keepalived, the client's address and scheme passed on,
 * timeouts that let multi-GB blobs through, and active-active or active-passive as chosen.
 * docs/ha.md explains every choice; the comments written into the file say the why in short.
 */

/** Berth's cheap liveness route; it answers 503 while an instance drains on SIGTERM. */
export const PING_PATH = '/api/v2.0/ping';
/** What keepalived's check script requests on the balancer's loopback. */
export const MONITOR_URI = '/healthz';
export const BACKEND = 'be_berth';

export function renderHaproxy(topology: HaTopology, lb: LoadBalancer): string {
  return [
    ...globalSection(topology),
    '',
    ...defaultsSection(),
    ...statsSection(topology, lb),
    '',
    ...healthFrontend(topology),
    '',
    ...registryFrontend(topology),
    '',
    ...backendSection(topology),
  ].join('\n');
}

function globalSection(t: HaTopology): string[] {
  const lines = [
    'global',
    '    log /dev/log local0',
    '    log /dev/log local1 notice',
    '    chroot /var/lib/haproxy',
    '    # `set server be_berth/<name> state drain` on this socket takes an instance out gently.',
    '    stats socket /run/haproxy/admin.sock mode 660 level admin',
    '    stats timeout 30s',
    '    user haproxy',
    '    group haproxy',
    '    daemon',
    `    maxconn ${t.maxconn}`,
  ];
  if (t.tls !== undefined) {
    lines.push(
      '    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets',
      '    tune.ssl.default-dh-param 2048',
    );
  }
  return lines;
}

function defaultsSection(): string[] {
  return [
    'defaults',
    '    mode http',
    '    log global',
    '    option httplog',
    '    option dontlognull',
    '    # A dead instance shows in the connect time: keep it short and try another one.',
    '    timeout connect 3s',
    '    # Request headers must come at once (slow-header clients hold connections); bodies are not',
    '    # held to this, since there is no `option http-buffer-request`.',
    '    timeout http-request 10s',
    '    timeout http-keep-alive 10s',
    '    timeout queue 30s',
    '    # Inactivity limits, not durations: a multi-GB blob never reaches them while bytes move. They',
    '    # cover the silences: a client pausing between writes, and Berth verifying the digest when an',
    '    # upload is committed (it re-reads the blob from the volume if another instance took the chunks).',
    '    timeout client 5m',
    '    timeout server 10m',
    '    timeout check 2s',
    '    # A refused connection (instance dying) is retried on another instance. Only connection',
    '    # failures are retried: nothing was sent, so even an upload chunk is safe to redispatch.',
    '    retries 3',
    '    option redispatch 1',
    '    # No body-size rule and no request buffering: layers stream through as they come.',
  ];
}

function statsSection(t: HaTopology, lb: LoadBalancer): string[] {
  if (t.stats === undefined) return [];
  const lines = [
    '',
    "# Read-only statistics, on this balancer's own address so each one can be looked at.",
    'listen stats',
    `    bind ${lb.address}:${t.stats.port}`,
    '    stats enable',
    '    stats uri /',
    '    stats refresh 5s',
    '    stats show-legends',
  ];
  if (t.stats.username !== undefined && t.stats.password !== undefined) {
    lines.push(`    stats auth ${t.stats.username}:${t.stats.password}`);
  }
  return lines;
}

function healthFrontend(t: HaTopology): string[] {
  return [
    "# keepalived's check script calls this on the balancer's loopback. It fails while no Berth instance",
    '# is up, so a balancer that could only answer 503 gives the VIP away.',
    'frontend fe_health',
    `    bind 127.0.0.1:${t.ports.health}`,
    `    monitor-uri ${MONITOR_URI}`,
    `    monitor fail if { nbsrv(${BACKEND}) lt 1 }`,
  ];
}

function registryFrontend(t: HaTopology): string[] {
  const { http, https } = effectivePorts(t);
  const lines = [
    'frontend fe_berth',
    '    # All addresses: the VIP comes and goes, and binding `*` needs no net.ipv4.ip_nonlocal_bind.',
  ];
  if (https !== undefined && t.tls !== undefined) {
    lines.push(
      '    # TLS ends here; HTTP/1.1 only, so uploads are not throttled by HTTP/2 flow-control windows.',
      `    bind *:${https} ssl crt ${t.tls.certificate} alpn http/1.1`,
    );
  }
  if (http !== undefined) lines.push(`    bind *:${http}`);
  if (https !== undefined && http !== undefined) {
    // 308 keeps the method and body (301/302 turn a PUT into a GET in some clients).
    const target = https === 443 ? publicHost(t) : `${publicHost(t)}:${https}`;
    lines.push(`    http-request redirect prefix https://${target} code 308 unless { ssl_fc }`);
  }
  lines.push(
    '    # Host goes through unchanged: Berth builds the token realm from it (or from external_url).',
    '    # X-Forwarded-For and -Proto are set here, never taken from the client.',
    '    http-request del-header X-Forwarded-For',
    '    option forwardfor',
  );
  if (https !== undefined) {
    lines.push(
      '    http-request set-header X-Forwarded-Proto https if { ssl_fc }',
      '    http-request set-header X-Forwarded-Proto http unless { ssl_fc }',
    );
  } else {
    lines.push('    http-request set-header X-Forwarded-Proto http');
  }
  lines.push(`    default_backend ${BACKEND}`);
  return lines;
}

function backendSection(t: HaTopology): string[] {
  const lines = [`backend ${BACKEND}`];
  if (t.mode === 'active-active') {
    lines.push(
      '    # active-active: every instance serves; any of them can continue an upload another started.',
      `    balance ${t.balance ?? 'leastconn'}`,
    );
  } else {
    lines.push('    # active-passive: the primary serves; the first backup only while it is down.');
  }
  lines.push(
    '    option httpchk',
    `    http-check send meth GET uri ${PING_PATH} ver HTTP/1.1 hdr Host ${publicHost(t)}`,
    '    http-check expect status 200',
    '    # Down after 2 failed checks (~1.5 s with fastinter); its open connections are cut so clients',
    '    # retry at once through a live instance. Names resolve at start, and a missing one only stays down.',
    '    default-server check inter 1s fastinter 500ms downinter 2s fall 2 rise 2 init-addr libc,none',
  );
  const primary = t.mode === 'active-passive' ? (t.primary ?? t.instances[0]?.name) : undefined;
  const ordered =
    primary === undefined
      ? t.instances
      : [...t.instances.filter((i) => i.name === primary), ...t.instances.filter((i) => i.name !== primary)];
  for (const instance of ordered) {
    const backup = primary !== undefined && instance.name !== primary ? ' backup' : '';
    lines.push(`    server ${instance.name} ${instance.address}${backup}`);
  }
  return lines;
}

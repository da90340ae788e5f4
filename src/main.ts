#!/usr/bin/env node
// First: sizes the libuv thread pool before any file system call.
import './app/threadpool.js';
import { Command } from 'commander';
import { pino } from 'pino';
import { composeBerth, openStore } from './app/compose.js';
import { gracefulShutdown } from './app/graceful-shutdown.js';
import { ConfigError } from './config/config.error.js';
import { checkConfigFile, loadConfig } from './config/config.loader.js';

/** The `berth` command line: serve, config check, migrate. */
const program = new Command('berth').description('Berth, a container registry in the class of Harbor');

async function load(file: string | undefined) {
  return loadConfig({ file: file ?? process.env.BERTH_CONFIG, env: process.env });
}

program
  .command('serve')
  .description('run the registry (embedded mode unless external_database is set)')
  .option('-c, --config <file>', 'a harbor.yml-style configuration file (default: $BERTH_CONFIG)')
  .action(async (options: { config?: string }) => {
    const { config, warnings, source } = await load(options.config);
    const logger = pino({
      level: config.log.level === 'warning' ? 'warn' : config.log.level,
      base: { svc: 'berth' },
    });
    for (const warning of warnings) logger.warn(warning);
    const berth = await composeBerth(config, { logger });
    const address = await berth.server.listen({ host: '::', port: config.http.port });
    logger.info({ address, config: source ?? '(defaults)' }, 'berth is listening');
    // Drain (ping 503) for berth.drain_seconds, then finish in-flight requests and exit; see graceful-shutdown.ts.
    const stop = gracefulShutdown({
      berth,
      drainMs: config.berth.drain_seconds * 1000,
      logger,
      exit: (code) => process.exit(code),
    });
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program
  .command('migrate')
  .description('bring the metadata schema to the latest version and exit')
  .option('-c, --config <file>', 'configuration file')
  .action(async (options: { config?: string }) => {
    const { config } = await load(options.config);
    const store = await openStore(config);
    await store.close();
    process.stdout.write('metadata schema is up to date\n');
  });

const configCommand = program.command('config').description('configuration tools');
configCommand
  .command('check <file>')
  .description('validate a harbor.yml-style file; prints what is wrong with each key path')
  .action(async (file: string) => {
    const result = await checkConfigFile(file, process.env);
    process.stdout.write(`${result.text}\n`);
    process.exitCode = result.ok ? 0 : 1;
  });

program
  .command('ha-config')
  .description('write haproxy.cfg and keepalived.conf for an HA topology (see docs/ha.md)')
  .requiredOption('--topology <file>', 'the topology YAML (example: deploy/ha/topology.example.yml)')
  .requiredOption('--out <dir>', 'directory to write the configurations into')
  .action(async (options: { topology: string; out: string }) => {
    // Loaded on demand: `serve` has no use for the generator.
    const { runHaConfig } = await import('./ha/ha-config.command.js');
    process.exitCode = await runHaConfig(options, process.stdout, process.stderr);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`berth: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

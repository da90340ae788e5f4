/**
 * Regenerates Berth's API document (src/http/api/openapi/berth-openapi.json) from Harbor's swagger.yaml
 * and the /api/v2.0 routes the app registers: the operations of Harbor's that have a route, every
 * parameter, response and definition they reference, and the Berth-only operations of
 * berth-extensions.json. Fails, writing nothing, when a route is in neither.
 *
 *   npx tsx scripts/openapi-sync.ts <harbor swagger.yaml>           rewrite the document
 *   npx tsx scripts/openapi-sync.ts <harbor swagger.yaml> --check   only say whether it is up to date
 *
 * The app is built in-process (startTestApp: an embedded Berth over a temporary data volume), so nothing
 * needs to be running.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';
import { startTestApp } from '../src/app/test-app.fixture.js';
import { apiRoutes, type ApiRoute } from '../src/http/api/openapi/api-routes.js';
import {
  buildBerthDocument,
  documentOperations,
  OpenApiSyncError,
  type BerthExtensions,
} from '../src/http/api/openapi/berth-document.js';
import type { SwaggerDocument } from '../src/http/api/openapi/swagger.types.js';

const DOCUMENT = fileURLToPath(new URL('../src/http/api/openapi/berth-openapi.json', import.meta.url));
const EXTENSIONS = fileURLToPath(new URL('../src/http/api/openapi/berth-extensions.json', import.meta.url));

async function readHarbor(file: string): Promise<SwaggerDocument> {
  const document = parse(await readFile(file, 'utf8')) as Partial<SwaggerDocument> | null;
  if (
    document?.swagger !== '2.0' ||
    typeof document.paths !== 'object' ||
    document.basePath !== '/api/v2.0'
  ) {
    throw new Error(`${file} is not Harbor's Swagger 2.0 document (swagger: '2.0', basePath: /api/v2.0)`);
  }
  return document as SwaggerDocument;
}

async function registeredRoutes(): Promise<ApiRoute[]> {
  const app = await startTestApp();
  try {
    return apiRoutes(app.berth.server);
  } finally {
    await app.close();
  }
}

function operationsOf(text: string): Set<string> {
  if (text === '') return new Set();
  const document = JSON.parse(text) as SwaggerDocument;
  return new Set(documentOperations(document).map((entry) => `${entry.method} ${entry.path}`));
}

async function main(args: string[]): Promise<number> {
  const source = args.find((arg) => !arg.startsWith('--'));
  const check = args.includes('--check');
  if (source === undefined) {
    process.stderr.write('usage: npx tsx scripts/openapi-sync.ts <harbor swagger.yaml> [--check]\n');
    return 2;
  }
  const harbor = await readHarbor(source);
  const extensions = JSON.parse(await readFile(EXTENSIONS, 'utf8')) as BerthExtensions;
  const routes = await registeredRoutes();
  const { document, unusedExtensions } = buildBerthDocument(harbor, routes, extensions);
  const text = await format(JSON.stringify(document), {
    ...(await resolveConfig(DOCUMENT)),
    filepath: DOCUMENT,
  });
  const previous = await readFile(DOCUMENT, 'utf8').catch(() => '');

  const before = operationsOf(previous);
  const after = operationsOf(text);
  for (const operation of after) if (!before.has(operation)) process.stdout.write(`+ ${operation}\n`);
  for (const operation of before) if (!after.has(operation)) process.stdout.write(`- ${operation}\n`);
  for (const operation of unusedExtensions) {
    process.stdout.write(
      `note: berth-extensions.json describes ${operation}, which has no route: left out\n`,
    );
  }
  const summary =
    `${after.size} operations, ${Object.keys(document.definitions ?? {}).length} definitions ` +
    `(${routes.length} /api/v2.0 routes)`;
  if (check) {
    if (text === previous) {
      process.stdout.write(`berth-openapi.json is up to date: ${summary}\n`);
      return 0;
    }
    process.stderr.write('berth-openapi.json is out of date: run without --check to regenerate it\n');
    return 1;
  }
  if (text === previous) {
    process.stdout.write(`berth-openapi.json unchanged: ${summary}\n`);
  } else {
    await writeFile(DOCUMENT, text);
    process.stdout.write(`wrote ${DOCUMENT}: ${summary}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof OpenApiSyncError ? error.message : String(error)}\n`);
    if (!(error instanceof OpenApiSyncError) && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
    process.exit(1);
  },
);

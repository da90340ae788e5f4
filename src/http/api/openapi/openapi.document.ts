import document from './berth-openapi.json' with { type: 'json' };
import type { SwaggerDocument } from './swagger.types.js';

/**
 * Berth's API document as committed (a JSON module, so the build carries it into dist/). Regenerate it
 * with scripts/openapi-sync.ts whenever /api/v2.0 routes change; openapi.sync.test.ts fails until then.
 */
export const BERTH_OPENAPI = document as unknown as SwaggerDocument;
